//! Tags on RAM roles and custom policies: TagResources, UntagResources, ListTagResources, the
//! `Tag` parameter of CreateRole / CreatePolicy and the `Tag` filter of ListRoles / ListPolicies —
//! and the tag facts authorization reads: `acs:ResourceTag/<key>` (the tags of the resource a
//! request acts on) and `acs:RequestTag/<key>` (the tags a request sets).
//!
//! RAM 2015-05-01 tags exactly two resource types, `role` and `policy` (its TagResources page and
//! SDK enumerate no others); RAM users are not taggable through this API. Tags are kept inside the
//! role or policy record, so a rename or a read needs no second lookup.

use serde_json::{json, Value};

use super::ok;
use crate::handler::Ctx;
use crate::model::{ManagedPolicy, Role, Tag};
use crate::params::Params;
use crate::store::Tx;
use crate::{Error, Result};

/// Tags one resource may carry (UNVERIFIED; the common Alibaba Cloud limit).
pub const MAX_TAGS_PER_RESOURCE: usize = 20;
/// Tags and tag keys one request may name (SDK: "up to 20 tags").
pub const MAX_TAGS_PER_REQUEST: usize = 20;
/// Resource names one request may name (SDK: "up to 50 resource names").
pub const MAX_RESOURCES: usize = 50;

/// The two taggable kinds of RAM resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagResourceType {
    Role,
    Policy,
}

impl TagResourceType {
    pub fn parse(p: &Params) -> Result<Self> {
        match p.required("ResourceType")? {
            "role" => Ok(TagResourceType::Role),
            "policy" => Ok(TagResourceType::Policy),
            other => Err(Error::invalid(
                "InvalidParameter.ResourceType",
                format!("The parameter \"ResourceType\" must be role or policy, got \"{other}\"."),
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            TagResourceType::Role => "role",
            TagResourceType::Policy => "policy",
        }
    }
}

fn invalid_tag(why: impl std::fmt::Display) -> Error {
    Error::invalid("InvalidParameter.Tag", format!("The parameter \"Tag\" is not valid: {why}."))
}

/// Checks one tag key (1..128 characters, not starting with the reserved `acs:` / `aliyun`).
fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.chars().count() > 128 {
        return Err(invalid_tag(format_args!("a tag key must be 1 to 128 characters, got \"{key}\"")));
    }
    let lower = key.to_ascii_lowercase();
    if lower.starts_with("acs:") || lower.starts_with("aliyun") {
        return Err(invalid_tag(format_args!("the tag key \"{key}\" starts with a reserved prefix (acs: or aliyun)")));
    }
    Ok(())
}

/// The `Tag` parameter: a JSON array `[{"Key": "k", "Value": "v"}, ...]` (what the tea SDKs send;
/// the V1 flat form `Tag.N.Key=k&Tag.N.Value=v` is read too, every N in order, gaps ending
/// nothing). Both forms in one request are refused: which one RAM would apply is UNVERIFIED, and
/// authorization and the handler must see the same tags (docs/authorization.md). `None` when absent.
pub fn request_tags(p: &Params) -> Result<Option<Vec<Tag>>> {
    let mut tags = Vec::new();
    let numbers = crate::ecs::tags::tag_numbers(p);
    if let Some(raw) = p.optional("Tag") {
        if !numbers.is_empty() {
            return Err(invalid_tag("give the tags either as one JSON \"Tag\" or as Tag.N.Key / Tag.N.Value, not both"));
        }
        let items: Vec<serde_json::Map<String, Value>> = serde_json::from_str(raw)
            .map_err(|_| invalid_tag(format_args!("expected a JSON array such as [{{\"Key\":\"env\",\"Value\":\"prod\"}}], got {raw}")))?;
        for item in items {
            let key = item.get("Key").and_then(Value::as_str).unwrap_or_default().to_string();
            let value = item.get("Value").and_then(Value::as_str).unwrap_or_default().to_string();
            tags.push(Tag { key, value });
        }
    } else {
        for n in numbers {
            let key = p.get(&format!("Tag.{n}.Key")).unwrap_or_default();
            let value = p.get(&format!("Tag.{n}.Value")).unwrap_or_default();
            if key.is_empty() {
                if value.is_empty() {
                    continue;
                }
                return Err(invalid_tag(format_args!("Tag.{n}.Value has no Tag.{n}.Key")));
            }
            tags.push(Tag { key: key.to_string(), value: value.to_string() });
        }
        if tags.is_empty() {
            return Ok(None);
        }
    }
    if tags.len() > MAX_TAGS_PER_REQUEST {
        return Err(invalid_tag(format_args!("at most {MAX_TAGS_PER_REQUEST} tags per request, got {}", tags.len())));
    }
    for (i, t) in tags.iter().enumerate() {
        check_key(&t.key)?;
        // One value per key: with two, a condition on `acs:RequestTag/<key>` would see one value
        // and the resource keep the other (ECS refuses the same with `Duplicate.TagKey`).
        if tags[..i].iter().any(|earlier| earlier.key == t.key) {
            return Err(invalid_tag(format_args!("the tag key \"{}\" is given more than once", t.key)));
        }
        if t.value.chars().count() > 256 {
            return Err(invalid_tag(format_args!("the value of tag \"{}\" is longer than 256 characters", t.key)));
        }
    }
    Ok(Some(tags))
}

/// Sets `new` on `tags` (a key already present takes the new value), within the per-resource limit.
pub fn apply(tags: &mut Vec<Tag>, new: &[Tag]) -> Result<()> {
    for t in new {
        match tags.iter_mut().find(|x| x.key == t.key) {
            Some(x) => x.value = t.value.clone(),
            None => tags.push(t.clone()),
        }
    }
    if tags.len() > MAX_TAGS_PER_RESOURCE {
        return Err(Error::limit(
            "Tag",
            format!("A resource can have at most {MAX_TAGS_PER_RESOURCE} tags; this request would give it {}.", tags.len()),
        ));
    }
    Ok(())
}

/// RAM's rendering of a resource's tags: `{"Tag": [{"TagKey": ..., "TagValue": ...}]}`.
pub fn render(tags: &[Tag]) -> Value {
    json!({ "Tag": tags.iter().map(|t| json!({ "TagKey": t.key, "TagValue": t.value })).collect::<Vec<_>>() })
}

/// Whether a resource's tags include every tag of a `Tag` filter (ListRoles / ListPolicies).
pub fn matches(tags: &[Tag], filter: &[Tag]) -> bool {
    filter.iter().all(|f| tags.iter().any(|t| t.key == f.key && (f.value.is_empty() || t.value == f.value)))
}

fn names(p: &Params) -> Result<Vec<String>> {
    let raw = p.required("ResourceNames")?;
    let names: Vec<String> = serde_json::from_str(raw).map_err(|_| {
        Error::invalid(
            "InvalidParameter.ResourceNames",
            format!("The parameter \"ResourceNames\" must be a JSON array of names such as [\"role1\"], got {raw}."),
        )
    })?;
    if names.is_empty() || names.len() > MAX_RESOURCES {
        return Err(Error::invalid(
            "InvalidParameter.ResourceNames",
            format!("The parameter \"ResourceNames\" must name 1 to {MAX_RESOURCES} resources, got {}.", names.len()),
        ));
    }
    Ok(names)
}

/// A taggable resource loaded for change, and how to save it.
enum Taggable {
    Role(Role),
    Policy(ManagedPolicy),
}

impl Taggable {
    fn load(tx: &mut dyn Tx, account: &str, ty: TagResourceType, name: &str) -> Result<Taggable> {
        match ty {
            TagResourceType::Role => tx
                .get_rec::<Role>(account, name)?
                .map(Taggable::Role)
                .ok_or_else(|| Error::not_exist("Role", format!("The role does not exist: {name}."))),
            TagResourceType::Policy => tx
                .get_rec::<ManagedPolicy>(account, name)?
                .map(Taggable::Policy)
                .ok_or_else(|| Error::not_exist("Policy", format!("The policy does not exist: {name} (only custom policies carry tags)."))),
        }
    }
    fn tags(&mut self) -> &mut Vec<Tag> {
        match self {
            Taggable::Role(r) => &mut r.tags,
            Taggable::Policy(p) => &mut p.tags,
        }
    }
    fn save(&self, tx: &mut dyn Tx, account: &str) -> Result<()> {
        match self {
            Taggable::Role(r) => tx.update_rec(account, &r.name, r)?,
            Taggable::Policy(p) => tx.update_rec(account, &p.name, p)?,
        };
        Ok(())
    }
}

pub fn tag_resources(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let ty = TagResourceType::parse(p)?;
    let names = names(p)?;
    let tags = request_tags(p)?.ok_or_else(|| Error::MissingParameter("Tag".into()))?;
    let account = ctx.account().to_string();
    for name in &names {
        let mut r = Taggable::load(ctx.tx, &account, ty, name)?;
        apply(r.tags(), &tags)?;
        r.save(ctx.tx, &account)?;
    }
    ok()
}

pub fn untag_resources(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let ty = TagResourceType::parse(p)?;
    let names = names(p)?;
    let all = p.bool("All")?.unwrap_or(false);
    let keys: Vec<String> = match p.optional("TagKeys") {
        Some(raw) => serde_json::from_str(raw).map_err(|_| {
            Error::invalid("InvalidParameter.TagKeys", format!("The parameter \"TagKeys\" must be a JSON array of tag keys, got {raw}."))
        })?,
        None if all => Vec::new(),
        None => return Err(Error::MissingParameter("TagKeys".into())),
    };
    if keys.len() > MAX_TAGS_PER_REQUEST {
        return Err(Error::invalid("InvalidParameter.TagKeys", format!("At most {MAX_TAGS_PER_REQUEST} tag keys per request.")));
    }
    let account = ctx.account().to_string();
    for name in &names {
        let mut r = Taggable::load(ctx.tx, &account, ty, name)?;
        r.tags().retain(|t| !all && !keys.contains(&t.key));
        r.save(ctx.tx, &account)?;
    }
    ok()
}

pub fn list_tag_resources(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let ty = TagResourceType::parse(p)?;
    let size = p.int("PageSize", 1, 100)?.unwrap_or(100) as usize;
    let filter = request_tags(p)?.unwrap_or_default();
    let account = ctx.account().to_string();
    let wanted: Option<Vec<String>> = match p.optional("ResourceNames") {
        Some(_) => Some(names(p)?),
        None => None,
    };
    // Every (resource, tag) pair in name order; NextToken is the index of the next pair.
    let mut rows: Vec<(String, Tag)> = Vec::new();
    let resources: Vec<(String, Vec<Tag>)> = match ty {
        TagResourceType::Role => ctx.tx.list_rec::<Role>(&account, "", None, usize::MAX)?.into_iter().map(|r| (r.name, r.tags)).collect(),
        TagResourceType::Policy => {
            ctx.tx.list_rec::<ManagedPolicy>(&account, "", None, usize::MAX)?.into_iter().map(|r| (r.name, r.tags)).collect()
        }
    };
    for (name, tags) in resources {
        if wanted.as_ref().is_some_and(|w| !w.iter().any(|n| n.eq_ignore_ascii_case(&name))) || !matches(&tags, &filter) {
            continue;
        }
        rows.extend(tags.into_iter().map(|t| (name.clone(), t)));
    }
    let start = match p.optional("NextToken") {
        Some(t) => t.parse::<usize>().map_err(|_| {
            Error::invalid("InvalidParameter.NextToken", format!("The parameter \"NextToken\" was not issued by this service: {t}."))
        })?,
        None => 0,
    };
    let page: Vec<Value> = rows
        .iter()
        .skip(start)
        .take(size)
        .map(|(name, t)| json!({ "ResourceName": name, "ResourceType": ty.as_str(), "TagKey": t.key, "TagValue": t.value }))
        .collect();
    let mut body = json!({ "TagResources": page });
    if start + size < rows.len() {
        body["NextToken"] = json!((start + size).to_string());
    }
    Ok(body)
}

/// The tags of the resource an ARN names, for `acs:ResourceTag/<key>`: a RAM role or custom policy
/// (`acs:ram:*:<account>:role/<n>`, `.../policy/<n>`) or a tagged ECS resource
/// (`acs:ecs:<region>:<account>:instance/<id>`, `securitygroup/<id>`, ...); empty for anything else.
pub fn resource_tags(tx: &mut dyn Tx, account: &str, arn: &str) -> Result<Vec<Tag>> {
    let mut parts = arn.splitn(5, ':');
    let (Some(acs), Some(service), Some(region), Some(owner), Some(resource)) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Ok(Vec::new());
    };
    if !acs.eq_ignore_ascii_case("acs") || owner != account {
        return Ok(Vec::new());
    }
    // ECS resources (`instance/i-…`, `securitygroup/sg-…`, ...): their tags are stored under the
    // same `<type>/<id>` (TagResources); a key pair's ARN names it, its tags are kept by its id.
    if service.eq_ignore_ascii_case("ecs") {
        let record = match resource.split_once('/') {
            Some(("keypair", name)) => match crate::ecs::key_pairs::tags_record(tx, account, region, name)? {
                Some(record) => record,
                None => return Ok(Vec::new()),
            },
            _ => resource.to_string(),
        };
        let tags = tx.get_rec::<crate::model::ResourceTags>(account, &record)?.map(|t| t.tags).unwrap_or_default();
        return Ok(tags.into_iter().map(|(key, value)| Tag { key, value }).collect());
    }
    if !service.eq_ignore_ascii_case("ram") {
        return Ok(Vec::new());
    }
    Ok(match resource.split_once('/') {
        Some(("role", name)) => tx.get_rec::<Role>(account, name)?.map(|r| r.tags).unwrap_or_default(),
        Some(("policy", name)) => tx.get_rec::<ManagedPolicy>(account, name)?.map(|r| r.tags).unwrap_or_default(),
        _ => Vec::new(),
    })
}

/// The tags a request of `product` sets or filters by, parsed exactly as that product's handlers
/// parse them: RAM's `Tag` (JSON or flat, [`request_tags`]); every other product's `Tag.N.Key` /
/// `Tag.N.Value` ([`crate::ecs::tags::request_tags`]; a `Tag` parameter is no tag there). The one
/// parse authorization and handlers share, so the tags authorized are the tags applied.
pub fn product_request_tags(product: crate::catalog::Product, p: &Params) -> Result<Vec<Tag>> {
    Ok(match product {
        crate::catalog::Product::Ram => request_tags(p)?.unwrap_or_default(),
        _ => crate::ecs::tags::request_tags(p)?.into_iter().map(|(key, value)| Tag { key, value }).collect(),
    })
}

/// The condition keys a request carries itself, for authorization: `acs:RequestTag/<key>` for every
/// tag it sets or filters by ([`product_request_tags`]; on ECS and VPC also `ecs:tag/<key>` /
/// `vpc:tag/<key>`), and `ram:ServiceName` for the service-linked-role actions (the `ServiceName`
/// parameter, or the service of the role DeleteServiceLinkedRole names). Tags that do not parse add
/// nothing here: the handler's identical parse refuses the call.
pub fn request_context(
    tx: &mut dyn Tx,
    account: &str,
    action: &crate::catalog::ApiAction,
    p: &Params,
) -> Result<rolestack_policy::Context> {
    let mut ctx = rolestack_policy::Context::new();
    // The product's own parse, the one its handlers apply; the legacy `ecs:tag/<key>` /
    // `vpc:tag/<key>` carry the same tags for ECS and VPC calls (docs/authorization.md).
    let legacy = match action.product {
        crate::catalog::Product::Ecs => Some("ecs"),
        crate::catalog::Product::Vpc => Some("vpc"),
        _ => None,
    };
    if let Ok(tags) = product_request_tags(action.product, p) {
        for t in tags {
            if let Some(service) = legacy {
                ctx.insert(format!("{service}:tag/{}", t.key), t.value.clone());
            }
            ctx.insert(format!("acs:RequestTag/{}", t.key), t.value);
        }
    }
    if action.product == crate::catalog::Product::Ram {
        match action.name {
            "CreateServiceLinkedRole" | "GetServiceLinkedRoleTemplate" => {
                if let Some(s) = p.optional("ServiceName") {
                    ctx.set("ram:ServiceName", s.to_ascii_lowercase());
                }
            }
            "DeleteServiceLinkedRole" => {
                if let Some(s) =
                    p.optional("RoleName").map(|n| tx.get_rec::<Role>(account, n)).transpose()?.flatten().and_then(|r| r.service_linked)
                {
                    ctx.set("ram:ServiceName", s);
                }
            }
            _ => {}
        }
    }
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag { key: k.into(), value: v.into() }
    }

    #[test]
    fn tag_parameters() {
        let p = Params::from_pairs([("Tag", r#"[{"Key":"env","Value":"prod"}]"#)]);
        assert_eq!(request_tags(&p).unwrap(), Some(vec![tag("env", "prod")]));
        let flat = Params::from_pairs([("Tag.1.Key", "a"), ("Tag.1.Value", "1"), ("Tag.2.Key", "b")]);
        assert_eq!(request_tags(&flat).unwrap(), Some(vec![tag("a", "1"), tag("b", "")]));
        // Every Tag.N counts, gaps or not, as ECS reads them; JSON and flat together are refused.
        let gap = Params::from_pairs([("Tag.2.Key", "owner"), ("Tag.2.Value", "bob")]);
        assert_eq!(request_tags(&gap).unwrap(), Some(vec![tag("owner", "bob")]));
        let both = Params::from_pairs([("Tag", r#"[{"Key":"owner","Value":"alice"}]"#), ("Tag.1.Key", "owner"), ("Tag.1.Value", "bob")]);
        assert_eq!(request_tags(&both).unwrap_err().code(), "InvalidParameter.Tag");
        // Other products read only Tag.N: a JSON `Tag` beside them is no tag of theirs.
        let ecs = product_request_tags(crate::catalog::Product::Ecs, &both).unwrap();
        assert_eq!(ecs, vec![tag("owner", "bob")]);
        let twice = Params::from_pairs([("Tag.1.Key", "env"), ("Tag.1.Value", "dev"), ("Tag.2.Key", "env"), ("Tag.2.Value", "prod")]);
        assert!(request_tags(&twice).is_err());
        assert!(request_tags(&Params::from_pairs([("Tag", r#"[{"Key":"env","Value":"dev"},{"Key":"env","Value":"prod"}]"#)])).is_err());
        // Keys are case-sensitive: `Env` and `env` are two tags.
        assert_eq!(request_tags(&Params::from_pairs([("Tag.1.Key", "env"), ("Tag.2.Key", "Env")])).unwrap().unwrap().len(), 2);
        assert_eq!(request_tags(&Params::default()).unwrap(), None);
        let reserved = Params::from_pairs([("Tag", r#"[{"Key":"acs:x","Value":"1"}]"#)]);
        assert_eq!(request_tags(&reserved).unwrap_err().code(), "InvalidParameter.Tag");
    }

    #[test]
    fn apply_and_match() {
        let mut tags = vec![tag("env", "dev")];
        apply(&mut tags, &[tag("env", "prod"), tag("team", "a")]).unwrap();
        assert_eq!(tags, vec![tag("env", "prod"), tag("team", "a")]);
        assert!(matches(&tags, &[tag("env", "prod")]));
        assert!(matches(&tags, &[tag("team", "")]));
        assert!(!matches(&tags, &[tag("env", "dev")]));
        let many: Vec<Tag> = (0..MAX_TAGS_PER_RESOURCE).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert!(apply(&mut tags, &many).is_err());
    }
}
