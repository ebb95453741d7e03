//! Tags on ECS resources: TagResources, UntagResources, ListTagResources, and `Tag.N.Key` /
//! `Tag.N.Value` on CreateInstance, RunInstances and CreateSecurityGroup. Tags are kept apart from
//! the resources they label ([`ResourceTags`] records keyed `<ResourceType>/<ResourceId>`), so one
//! set of rules serves every taggable type: `instance`, `disk` (an instance's system disk) and
//! `securitygroup`. A resource holds at most 20 tags; keys are 1 to 128 characters and values at
//! most 128, neither starting with `aliyun` or `acs:` nor containing `http://` or `https://`.

use serde_json::{json, Value};

use super::{region, Region};
use crate::handler::Ctx;
use crate::model::{Instance, ResourceTags, SecurityGroup};
use crate::params::Params;
use crate::store::Kind;
use crate::{Error, Result};

/// The resource types that take tags here.
pub const RESOURCE_TYPES: &[&str] = &["instance", "disk", "securitygroup"];
/// Tags per resource, and per call.
pub const MAX_TAGS: usize = 20;
/// Resources per TagResources / UntagResources call.
pub const MAX_RESOURCES: usize = 50;

fn bad_key(key: &str) -> Error {
    Error::service(400, "InvalidTagKey.Malformed", format!("The specified Tag.n.Key is not valid: \"{key}\" must be 1 to 128 characters, not start with aliyun or acs:, and not contain http:// or https://."))
}

fn bad_value(value: &str) -> Error {
    Error::service(400, "InvalidTagValue.Malformed", format!("The specified Tag.n.Value is not valid: \"{value}\" must be at most 128 characters, not start with aliyun or acs:, and not contain http:// or https://."))
}

fn reserved(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.starts_with("aliyun") || lower.starts_with("acs:") || lower.contains("http://") || lower.contains("https://")
}

/// The numbers N of a request's `Tag.N.Key` / `Tag.N.Value` parameters, in order (gaps end nothing).
pub fn tag_numbers(p: &Params) -> Vec<u32> {
    let mut numbers: Vec<u32> = p
        .iter()
        .filter_map(|(k, _)| {
            k.strip_prefix("Tag.")?.split_once('.').and_then(|(n, field)| (field == "Key" || field == "Value").then_some(n))
        })
        .filter_map(|n| n.parse().ok())
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

/// The `Tag.N.Key` / `Tag.N.Value` pairs of a request, checked: keys present and well formed, no
/// key twice (`Duplicate.TagKey`), at most [`MAX_TAGS`] (`InvalidTagCount`). A value without its
/// key is `InvalidTag.Mismatch`.
pub fn request_tags(p: &Params) -> Result<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for n in tag_numbers(p) {
        let key = p.get(&format!("Tag.{n}.Key")).unwrap_or("");
        let value = p.get(&format!("Tag.{n}.Value")).unwrap_or("");
        if key.is_empty() {
            if value.is_empty() {
                continue;
            }
            return Err(Error::service(
                400,
                "InvalidTag.Mismatch",
                format!("The specified Tag.n.Key and Tag.n.Value are not match: Tag.{n}.Value has no Tag.{n}.Key."),
            ));
        }
        if key.chars().count() > 128 || reserved(key) {
            return Err(bad_key(key));
        }
        if value.chars().count() > 128 || reserved(value) {
            return Err(bad_value(value));
        }
        if out.iter().any(|(k, _)| k == key) {
            return Err(Error::service(400, "Duplicate.TagKey", format!("The Tag.N.Key contain duplicate key: {key}.")));
        }
        out.push((key.to_string(), value.to_string()));
    }
    if out.len() > MAX_TAGS {
        return Err(Error::service(
            400,
            "InvalidTagCount",
            format!("The specified tags are beyond the permitted range: {} tags, at most {MAX_TAGS}.", out.len()),
        ));
    }
    Ok(out)
}

/// The tags of one resource (empty when it has none).
pub fn tags_of(ctx: &mut Ctx, resource_type: &str, resource_id: &str) -> Result<Vec<(String, String)>> {
    let account = ctx.account().to_string();
    Ok(ctx.tx.get_rec::<ResourceTags>(&account, &ResourceTags::key(resource_type, resource_id))?.map(|t| t.tags).unwrap_or_default())
}

/// The `Tags` field of Describe* responses: `{"Tag":[{"TagKey","TagValue"}]}`.
pub fn render(tags: &[(String, String)]) -> Value {
    json!({ "Tag": tags.iter().map(|(k, v)| json!({ "TagKey": k, "TagValue": v })).collect::<Vec<_>>() })
}

/// Whether a resource's tags carry every filter tag (a filter with an empty value matches any value).
pub fn matches(own: &[(String, String)], filter: &[(String, String)]) -> bool {
    filter.iter().all(|(k, v)| own.iter().any(|(ok, ov)| ok == k && (v.is_empty() || ov == v)))
}

/// Adds (or overwrites) tags on one resource; `OperationDenied.QuotaExceed` past [`MAX_TAGS`].
pub fn add(ctx: &mut Ctx, resource_type: &str, resource_id: &str, region_id: &str, new: &[(String, String)]) -> Result<()> {
    if new.is_empty() {
        return Ok(());
    }
    let account = ctx.account().to_string();
    let key = ResourceTags::key(resource_type, resource_id);
    let existing = ctx.tx.get_rec::<ResourceTags>(&account, &key)?;
    let mut rec = existing.clone().unwrap_or_else(|| ResourceTags {
        resource_type: resource_type.to_string(),
        resource_id: resource_id.to_string(),
        region_id: region_id.to_string(),
        tags: Vec::new(),
    });
    for (k, v) in new {
        match rec.tags.iter_mut().find(|(ek, _)| ek == k) {
            Some(slot) => slot.1 = v.clone(),
            None => rec.tags.push((k.clone(), v.clone())),
        }
    }
    if rec.tags.len() > MAX_TAGS {
        return Err(Error::service(
            400,
            "OperationDenied.QuotaExceed",
            format!(
                "The quota of tags on resource is beyond permitted range: {resource_id} would hold {} tags, at most {MAX_TAGS}.",
                rec.tags.len()
            ),
        ));
    }
    if existing.is_some() {
        ctx.tx.update_rec(&account, &key, &rec)?;
    } else {
        ctx.tx.insert_rec(&account, &key, &rec)?;
    }
    Ok(())
}

/// Forgets every tag of a resource (when the resource is deleted).
pub fn forget(ctx: &mut Ctx, resource_type: &str, resource_id: &str) -> Result<()> {
    let account = ctx.account().to_string();
    ctx.tx.delete(Kind::ResourceTags, &account, &ResourceTags::key(resource_type, resource_id))?;
    Ok(())
}

fn resource_type(p: &Params) -> Result<&str> {
    let t = p.required("ResourceType")?;
    if !RESOURCE_TYPES.contains(&t) {
        return Err(Error::service(
            404,
            "InvalidResourceType.NotFound",
            format!("The ResourceType provided does not exist in our records: {t}; use one of {}.", RESOURCE_TYPES.join(", ")),
        ));
    }
    Ok(t)
}

fn resource_not_found(id: &str) -> Error {
    Error::service(404, "InvalidResourceId.NotFound", format!("The specified ResourceIds are not found in our records: {id}."))
}

/// Whether a resource of `resource_type` exists in the region.
fn exists(ctx: &mut Ctx, region: &Region, resource_type: &str, id: &str) -> Result<bool> {
    let account = ctx.account().to_string();
    Ok(match resource_type {
        "instance" => ctx.tx.get_rec::<Instance>(&account, id)?.is_some_and(|i| i.region_id == region.id),
        "disk" => match super::disks::instance_of_disk(id) {
            Some(instance_id) => ctx.tx.get_rec::<Instance>(&account, &instance_id)?.is_some_and(|i| i.region_id == region.id),
            None => false,
        },
        "securitygroup" => ctx.tx.get_rec::<SecurityGroup>(&account, id)?.is_some_and(|g| g.region_id == region.id),
        _ => false,
    })
}

/// `ResourceId.N`, 1 to [`MAX_RESOURCES`], each existing.
fn resources(ctx: &mut Ctx, p: &Params, region: &Region, resource_type: &str) -> Result<Vec<String>> {
    let ids: Vec<String> = p.repeated("ResourceId").into_iter().map(|(_, v)| v.to_string()).collect();
    if ids.is_empty() {
        return Err(p.style().missing("ResourceId.1"));
    }
    if ids.len() > MAX_RESOURCES {
        return Err(Error::service(
            400,
            "NumberExceed.ResourceIds",
            format!("The ResourceIds parameter's number is exceed , Valid : {MAX_RESOURCES}; got {}.", ids.len()),
        ));
    }
    for id in &ids {
        if !exists(ctx, region, resource_type, id)? {
            return Err(resource_not_found(id));
        }
    }
    Ok(ids)
}

pub fn tag_resources(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let resource_type = resource_type(p)?;
    let tags = request_tags(p)?;
    if tags.is_empty() {
        return Err(p.style().missing("Tag.1.Key"));
    }
    for id in resources(ctx, p, region, resource_type)? {
        add(ctx, resource_type, &id, region.id, &tags)?;
    }
    Ok(json!({}))
}

pub fn untag_resources(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let resource_type = resource_type(p)?;
    let keys: Vec<String> = p.repeated("TagKey").into_iter().map(|(_, v)| v.to_string()).collect();
    let all = p.flag("All")?;
    if keys.len() > MAX_TAGS {
        return Err(Error::service(
            400,
            "NumberExceed.Tags",
            format!("The Tags parameter's number is exceed , Valid : {MAX_TAGS}; got {}.", keys.len()),
        ));
    }
    let account = ctx.account().to_string();
    for id in resources(ctx, p, region, resource_type)? {
        let key = ResourceTags::key(resource_type, &id);
        let Some(mut rec) = ctx.tx.get_rec::<ResourceTags>(&account, &key)? else { continue };
        // Without TagKey.N, `All=true` removes every tag; without either nothing is removed.
        rec.tags.retain(|(k, _)| if keys.is_empty() { !all } else { !keys.contains(k) });
        if rec.tags.is_empty() {
            ctx.tx.delete(Kind::ResourceTags, &account, &key)?;
        } else {
            ctx.tx.update_rec(&account, &key, &rec)?;
        }
    }
    Ok(json!({}))
}

/// ListTagResources: the tags of the named resources (`ResourceId.N`) or of every resource of the
/// type carrying all the given tags (`Tag.N.Key` with an optional `Tag.N.Value`); one entry per
/// resource and tag, paged by `NextToken` (50 per page).
pub fn list_tag_resources(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    const PAGE: usize = 50;
    let region = region(p)?;
    let resource_type = resource_type(p)?;
    let ids: Vec<&str> = p.repeated("ResourceId").into_iter().map(|(_, v)| v).collect();
    // Filters: `Tag.N.Key` with an optional `Tag.N.Value` (absent or empty: any value), parsed as
    // authorization parsed them.
    let filter_keys = request_tags(p)?;
    if ids.is_empty() && filter_keys.is_empty() {
        return Err(p.style().missing("ResourceId.1"));
    }
    let account = ctx.account().to_string();
    let mut records: Vec<ResourceTags> = ctx
        .tx
        .list_rec::<ResourceTags>(&account, &format!("{resource_type}/"), None, usize::MAX)?
        .into_iter()
        .filter(|r| r.region_id == region.id && r.resource_type == resource_type)
        .filter(|r| ids.is_empty() || ids.contains(&r.resource_id.as_str()))
        .filter(|r| matches(&r.tags, &filter_keys))
        .collect();
    records.sort_by(|a, b| a.resource_id.cmp(&b.resource_id));
    let entries: Vec<(String, String, String)> =
        records.into_iter().flat_map(|r| r.tags.into_iter().map(move |(k, v)| (r.resource_id.clone(), k, v))).collect();
    let start = match p.optional("NextToken") {
        None => 0,
        Some(t) => t.parse::<usize>().ok().filter(|n| *n <= entries.len()).ok_or_else(|| {
            Error::service(400, "InvalidParameter.NextToken", format!("The specified parameter NextToken is not valid: {t}."))
        })?,
    };
    let end = (start + PAGE).min(entries.len());
    let next = if end < entries.len() { end.to_string() } else { String::new() };
    let items: Vec<Value> = entries[start..end]
        .iter()
        .map(|(id, k, v)| json!({ "ResourceId": id, "ResourceType": resource_type, "TagKey": k, "TagValue": v }))
        .collect();
    Ok(json!({ "NextToken": next, "TagResources": { "TagResource": items } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_tags_are_checked() {
        let p = Params::from_pairs([("Tag.2.Key", "b"), ("Tag.1.Key", "a"), ("Tag.1.Value", "1")]);
        assert_eq!(request_tags(&p).unwrap(), vec![("a".to_string(), "1".to_string()), ("b".to_string(), String::new())]);
        let dup = Params::from_pairs([("Tag.1.Key", "a"), ("Tag.2.Key", "a")]);
        assert_eq!(request_tags(&dup).unwrap_err().code(), "Duplicate.TagKey");
        let reserved = Params::from_pairs([("Tag.1.Key", "aliyun:x")]);
        assert_eq!(request_tags(&reserved).unwrap_err().code(), "InvalidTagKey.Malformed");
        let orphan = Params::from_pairs([("Tag.1.Value", "v")]);
        assert_eq!(request_tags(&orphan).unwrap_err().code(), "InvalidTag.Mismatch");
        let many = Params::from_pairs((1..=21).map(|n| (format!("Tag.{n}.Key"), format!("k{n}"))));
        assert_eq!(request_tags(&many).unwrap_err().code(), "InvalidTagCount");
    }
}
