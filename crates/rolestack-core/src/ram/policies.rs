//! Policies: custom policies and their versions (at most five, one default), the built-in system
//! policies, attaching policies to roles, users and groups, and the listings in both directions.

use serde_json::{json, Value};

use super::system_policies::{self, SYSTEM_POLICIES, SYSTEM_POLICY_DATE};
use super::{check_length, check_name, insert_within_quota, ok, page, paged, role_arn, tags, NameRule, CUSTOM_POLICY_QUOTA};
use crate::documents::validate_permission_policy;
use crate::handler::Ctx;
use crate::model::{Group, ManagedPolicy, PolicyType, PolicyVersion, Role, User};
use crate::params::Params;
use crate::store::{Kind, Relation, Tx};
use crate::{Error, Result};

/// RAM keeps at most this many versions of one custom policy.
pub const MAX_VERSIONS: usize = 5;

/// A policy of either type, resolved to its canonical name and current default document.
#[derive(Debug, Clone)]
pub struct ResolvedPolicy {
    pub ty: PolicyType,
    pub name: String,
    pub description: String,
    pub default_version: String,
    pub created: String,
    pub updated: String,
    /// A custom policy's tags (system policies have none).
    pub tags: Vec<crate::model::Tag>,
}

impl ResolvedPolicy {
    /// The name under which attachments refer to this policy: `System/<name>` or `Custom/<name>`.
    pub fn link_key(&self) -> String {
        format!("{}/{}", self.ty.as_str(), self.name)
    }
}

fn policy_name(p: &Params) -> Result<&str> {
    let name = p.required("PolicyName")?;
    check_name("PolicyName", name, 128, NameRule::Policy)?;
    Ok(name)
}

fn policy_type(p: &Params) -> Result<PolicyType> {
    let t = p.required("PolicyType")?;
    PolicyType::parse(t).ok_or_else(|| {
        Error::invalid("InvalidParameter.PolicyType", format!("The parameter \"PolicyType\" must be System or Custom, got \"{t}\"."))
    })
}

fn no_such_policy(ty: PolicyType, name: &str) -> Error {
    Error::not_exist("Policy", format!("The policy does not exist: {name} (PolicyType {}).", ty.as_str()))
}

fn system(name: &str) -> Option<ResolvedPolicy> {
    system_policies::find(name).map(|s| ResolvedPolicy {
        ty: PolicyType::System,
        name: s.name.to_string(),
        description: s.description.to_string(),
        default_version: "v1".into(),
        created: SYSTEM_POLICY_DATE.into(),
        updated: SYSTEM_POLICY_DATE.into(),
        tags: Vec::new(),
    })
}

fn custom(m: ManagedPolicy) -> ResolvedPolicy {
    ResolvedPolicy {
        ty: PolicyType::Custom,
        name: m.name,
        description: m.description,
        default_version: m.default_version,
        created: m.created,
        updated: m.updated,
        tags: m.tags,
    }
}

/// Finds a policy by type and name.
pub fn resolve(tx: &mut dyn Tx, account: &str, ty: PolicyType, name: &str) -> Result<Option<ResolvedPolicy>> {
    Ok(match ty {
        PolicyType::System => system(name),
        PolicyType::Custom => tx.get_rec::<ManagedPolicy>(account, name)?.map(custom),
    })
}

/// Resolves an attachment's right side (`System/<n>` or `Custom/<n>`).
pub fn resolve_link_key(tx: &mut dyn Tx, account: &str, key: &str) -> Result<Option<ResolvedPolicy>> {
    let Some((ty, name)) = key.split_once('/') else { return Ok(None) };
    let Some(ty) = PolicyType::parse(ty) else { return Ok(None) };
    resolve(tx, account, ty, name)
}

/// The document of a policy's default version.
pub fn default_document(tx: &mut dyn Tx, account: &str, p: &ResolvedPolicy) -> Result<String> {
    match p.ty {
        PolicyType::System => Ok(system_policies::find(&p.name).map(|s| s.document.to_string()).unwrap_or_default()),
        PolicyType::Custom => Ok(tx
            .get_rec::<PolicyVersion>(account, &PolicyVersion::key(&p.name, &p.default_version))?
            .map(|v| v.document)
            .unwrap_or_default()),
    }
}

fn attachment_count(tx: &mut dyn Tx, account: &str, p: &ResolvedPolicy) -> Result<usize> {
    Ok(tx.links_to(Relation::Attachment, account, &p.link_key())?.len())
}

fn render(p: &ResolvedPolicy, count: Option<usize>) -> Value {
    let mut v = json!({
        "PolicyName": p.name,
        "PolicyType": p.ty.as_str(),
        "Description": p.description,
        "DefaultVersion": p.default_version,
        "CreateDate": p.created,
        "UpdateDate": p.updated,
    });
    if let Some(n) = count {
        v["AttachmentCount"] = json!(n);
    }
    v
}

fn render_version(v: &PolicyVersion, default: &str) -> Value {
    json!({
        "VersionId": v.version_id,
        "IsDefaultVersion": v.version_id == default,
        "PolicyDocument": v.document,
        "CreateDate": v.created,
    })
}

fn load_custom(ctx: &mut Ctx, name: &str) -> Result<ManagedPolicy> {
    let account = ctx.account().to_string();
    match ctx.tx.get_rec::<ManagedPolicy>(&account, name)? {
        Some(m) => Ok(m),
        None if system_policies::find(name).is_some() => Err(Error::not_exist(
            "Policy",
            format!("The policy does not exist: {name} (PolicyType Custom). {name} is a system policy; system policies cannot be changed or deleted."),
        )),
        None => Err(no_such_policy(PolicyType::Custom, name)),
    }
}

/// The versions of a custom policy, oldest first (by number: v2 before v10).
fn versions(tx: &mut dyn Tx, account: &str, name: &str) -> Result<Vec<PolicyVersion>> {
    let mut all = tx.list_rec::<PolicyVersion>(account, &format!("{name}/"), None, usize::MAX)?;
    all.sort_by_key(|v| v.version_id.trim_start_matches('v').parse::<u32>().unwrap_or(0));
    Ok(all)
}

pub fn create_policy(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = policy_name(p)?;
    let doc = p.required("PolicyDocument")?;
    validate_permission_policy("PolicyDocument", doc)?;
    let description = p.optional("Description");
    check_length("Description", description, 1024)?;
    if system_policies::find(name).is_some() {
        return Err(Error::already_exists("Policy", format!("The policy already exists: {name} is the name of a system policy.")));
    }
    let tags = tags::request_tags(p)?.unwrap_or_default();
    let now = ctx.now();
    let policy = ManagedPolicy {
        name: name.to_string(),
        description: description.unwrap_or_default().to_string(),
        default_version: "v1".into(),
        next_version: 2,
        created: now.clone(),
        updated: now.clone(),
        tags,
    };
    let account = ctx.account().to_string();
    if !insert_within_quota(ctx.tx, &account, name, &policy, CUSTOM_POLICY_QUOTA)? {
        return Err(Error::already_exists("Policy", format!("The policy already exists: {name}.")));
    }
    let v1 = PolicyVersion { policy_name: name.into(), version_id: "v1".into(), document: doc.into(), created: now };
    ctx.tx.insert_rec(&account, &PolicyVersion::key(name, "v1"), &v1)?;
    Ok(json!({ "Policy": render(&custom(policy), None) }))
}

pub fn get_policy(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let ty = policy_type(p)?;
    let name = policy_name(p)?;
    let account = ctx.account().to_string();
    let policy = resolve(ctx.tx, &account, ty, name)?.ok_or_else(|| no_such_policy(ty, name))?;
    let document = default_document(ctx.tx, &account, &policy)?;
    let count = attachment_count(ctx.tx, &account, &policy)?;
    let mut body = render(&policy, Some(count));
    body["PolicyDocument"] = json!(document);
    let default = json!({
        "VersionId": policy.default_version,
        "IsDefaultVersion": true,
        "PolicyDocument": document,
        "CreateDate": policy.updated,
    });
    Ok(json!({ "Policy": body, "DefaultPolicyVersion": default }))
}

pub fn list_policies(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let pg = page(p, 1000)?;
    let filter = match p.optional("PolicyType") {
        None => None,
        Some(_) => Some(policy_type(p)?),
    };
    let account = ctx.account().to_string();
    // Pages walk the system policies first, then the custom ones; the marker names the last item
    // as `<Type>/<Name>` so either part can resume.
    let (after_type, after_name) = match pg.after.as_deref().and_then(|m| m.split_once('/')) {
        Some((t, n)) => (PolicyType::parse(t), Some(n)),
        None => (None, None),
    };
    let tag_filter = tags::request_tags(p)?;
    let mut items: Vec<ResolvedPolicy> = Vec::new();
    // System policies carry no tags: a tag filter skips them.
    if tag_filter.is_none() && filter != Some(PolicyType::Custom) && after_type != Some(PolicyType::Custom) {
        let mut sys: Vec<_> = SYSTEM_POLICIES.iter().filter_map(|s| system(s.name)).collect();
        sys.sort_by_key(|s| s.name.to_ascii_lowercase());
        items.extend(sys.into_iter().filter(|s| match (after_type, after_name) {
            (Some(PolicyType::System), Some(n)) => s.name.to_ascii_lowercase() > n.to_ascii_lowercase(),
            _ => true,
        }));
    }
    if filter != Some(PolicyType::System) && items.len() <= pg.max {
        let after = if after_type == Some(PolicyType::Custom) { after_name } else { None };
        // With a tag filter, every custom policy is read and filtered before paging.
        let want = if tag_filter.is_some() { usize::MAX } else { pg.max + 1 - items.len() };
        items.extend(ctx.tx.list_rec::<ManagedPolicy>(&account, "", after, want)?.into_iter().map(custom));
    }
    if let Some(filter) = &tag_filter {
        items.retain(|i| tags::matches(&i.tags, filter));
    }
    let (items, mut body) = paged(items, pg.max, |p| p.link_key());
    let mut rendered = Vec::with_capacity(items.len());
    for item in &items {
        let count = attachment_count(ctx.tx, &account, item)?;
        let mut v = render(item, Some(count));
        v["Tags"] = tags::render(&item.tags);
        rendered.push(v);
    }
    body.insert("Policies".into(), json!({ "Policy": rendered }));
    Ok(Value::Object(body))
}

pub fn delete_policy(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = policy_name(p)?;
    let policy = load_custom(ctx, name)?;
    let cascade = p.bool("CascadingDelete")?.unwrap_or(false);
    let account = ctx.account().to_string();
    let key = format!("Custom/{}", policy.name);
    let attached = ctx.tx.links_to(Relation::Attachment, &account, &key)?;
    let all_versions = versions(ctx.tx, &account, &policy.name)?;
    if !cascade {
        for (prefix, suffix, what) in
            [("user/", "Policy.User", "user"), ("group/", "Policy.Group", "group"), ("role/", "Policy.Role", "role")]
        {
            if attached.iter().any(|l| l.left.starts_with(prefix)) {
                return Err(Error::delete_conflict(
                    suffix,
                    format!(
                        "The policy CAN NOT been attached to any {what} while deleting the policy. Detach it first, or pass CascadingDelete=true."
                    ),
                ));
            }
        }
        if all_versions.len() > 1 {
            return Err(Error::delete_conflict(
                "Policy.Version",
                "The policy CAN NOT has any version except the default version. Delete the other versions first, or pass CascadingDelete=true.",
            ));
        }
    }
    for link in attached {
        ctx.tx.unlink(Relation::Attachment, &account, &link.left, &link.right)?;
    }
    for v in all_versions {
        ctx.tx.delete(Kind::PolicyVersion, &account, &PolicyVersion::key(&policy.name, &v.version_id))?;
    }
    ctx.tx.delete(Kind::Policy, &account, &policy.name)?;
    ok()
}

pub fn create_policy_version(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = policy_name(p)?;
    let doc = p.required("PolicyDocument")?;
    validate_permission_policy("PolicyDocument", doc)?;
    let set_default = p.bool("SetAsDefault")?.unwrap_or(false);
    let rotate = match p.optional("RotateStrategy").unwrap_or("None") {
        "None" => false,
        "DeleteOldestNonDefaultVersionWhenLimitExceeded" => true,
        other => {
            return Err(Error::invalid(
                "InvalidParameter.RotateStrategy",
                format!(
                    "The parameter \"RotateStrategy\" must be None or DeleteOldestNonDefaultVersionWhenLimitExceeded, got \"{other}\"."
                ),
            ))
        }
    };
    let mut policy = load_custom(ctx, name)?;
    let account = ctx.account().to_string();
    let existing = versions(ctx.tx, &account, &policy.name)?;
    if existing.len() >= MAX_VERSIONS {
        if !rotate {
            return Err(Error::limit(
                "Policy.Version",
                format!("The count of policy version beyond the current limits. A policy has at most {MAX_VERSIONS} versions: delete one, or pass RotateStrategy=DeleteOldestNonDefaultVersionWhenLimitExceeded."),
            ));
        }
        if let Some(oldest) = existing.iter().find(|v| v.version_id != policy.default_version) {
            ctx.tx.delete(Kind::PolicyVersion, &account, &PolicyVersion::key(&policy.name, &oldest.version_id))?;
        }
    }
    let now = ctx.now();
    let version = PolicyVersion {
        policy_name: policy.name.clone(),
        version_id: format!("v{}", policy.next_version),
        document: doc.to_string(),
        created: now.clone(),
    };
    ctx.tx.insert_rec(&account, &PolicyVersion::key(&policy.name, &version.version_id), &version)?;
    policy.next_version += 1;
    if set_default {
        policy.default_version = version.version_id.clone();
    }
    policy.updated = now;
    ctx.tx.update_rec(&account, &policy.name.clone(), &policy)?;
    Ok(json!({ "PolicyVersion": render_version(&version, &policy.default_version) }))
}

fn version_id(p: &Params) -> Result<&str> {
    let v = p.required("VersionId")?;
    let numeric = v.strip_prefix('v').is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !numeric {
        return Err(Error::invalid(
            "InvalidParameter.VersionId.Format",
            format!("The format of the parameter - \"VersionId\" is incorrect: expected v<number> such as v1, got \"{v}\"."),
        ));
    }
    Ok(v)
}

fn load_version(ctx: &mut Ctx, policy: &str, version: &str) -> Result<PolicyVersion> {
    let account = ctx.account().to_string();
    ctx.tx
        .get_rec::<PolicyVersion>(&account, &PolicyVersion::key(policy, version))?
        .ok_or_else(|| Error::not_exist("Policy.Version", format!("The policy version does not exist: {policy} {version}.")))
}

pub fn get_policy_version(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let ty = policy_type(p)?;
    let name = policy_name(p)?;
    let vid = version_id(p)?;
    if ty == PolicyType::System {
        let s = system(name).ok_or_else(|| no_such_policy(ty, name))?;
        if vid != "v1" {
            return Err(Error::not_exist("Policy.Version", format!("The policy version does not exist: {name} {vid}.")));
        }
        let doc = system_policies::find(&s.name).map(|x| x.document).unwrap_or_default();
        return Ok(
            json!({ "PolicyVersion": { "VersionId": "v1", "IsDefaultVersion": true, "PolicyDocument": doc, "CreateDate": s.created } }),
        );
    }
    let policy = load_custom(ctx, name)?;
    let v = load_version(ctx, &policy.name, vid)?;
    Ok(json!({ "PolicyVersion": render_version(&v, &policy.default_version) }))
}

pub fn list_policy_versions(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let ty = policy_type(p)?;
    let name = policy_name(p)?;
    if ty == PolicyType::System {
        let s = system(name).ok_or_else(|| no_such_policy(ty, name))?;
        let doc = system_policies::find(&s.name).map(|x| x.document).unwrap_or_default();
        return Ok(json!({ "PolicyVersions": { "PolicyVersion": [
            { "VersionId": "v1", "IsDefaultVersion": true, "PolicyDocument": doc, "CreateDate": s.created }
        ] } }));
    }
    let policy = load_custom(ctx, name)?;
    let account = ctx.account().to_string();
    let all = versions(ctx.tx, &account, &policy.name)?;
    let items: Vec<Value> = all.iter().map(|v| render_version(v, &policy.default_version)).collect();
    Ok(json!({ "PolicyVersions": { "PolicyVersion": items } }))
}

pub fn delete_policy_version(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = policy_name(p)?;
    let vid = version_id(p)?;
    let policy = load_custom(ctx, name)?;
    let v = load_version(ctx, &policy.name, vid)?;
    if v.version_id == policy.default_version {
        return Err(Error::delete_conflict(
            "Policy.Version.Default",
            "The default policy version CAN NOT been deleted directly. Set another version as default first (SetDefaultPolicyVersion).",
        ));
    }
    let account = ctx.account().to_string();
    ctx.tx.delete(Kind::PolicyVersion, &account, &PolicyVersion::key(&policy.name, &v.version_id))?;
    ok()
}

pub fn set_default_policy_version(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = policy_name(p)?;
    let vid = version_id(p)?;
    let mut policy = load_custom(ctx, name)?;
    let v = load_version(ctx, &policy.name, vid)?;
    policy.default_version = v.version_id;
    policy.updated = ctx.now();
    let account = ctx.account().to_string();
    ctx.tx.update_rec(&account, &policy.name.clone(), &policy)?;
    ok()
}

/// UpdatePolicyDescription: a custom policy's new description (1 to 1,024 characters).
pub fn update_policy_description(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = policy_name(p)?;
    let description = p.get("NewDescription").unwrap_or_default();
    check_length("NewDescription", Some(description), 1024)?;
    let mut policy = load_custom(ctx, name)?;
    policy.description = description.to_string();
    policy.updated = ctx.now();
    let account = ctx.account().to_string();
    ctx.tx.update_rec(&account, &policy.name.clone(), &policy)?;
    Ok(json!({ "Policy": render(&custom(policy), None) }))
}

/// The three kinds of principal a policy can be attached to.
#[derive(Clone, Copy)]
pub enum Holder {
    Role,
    User,
    Group,
}

impl Holder {
    fn param(self) -> &'static str {
        match self {
            Holder::Role => "RoleName",
            Holder::User => "UserName",
            Holder::Group => "GroupName",
        }
    }
    fn word(self) -> &'static str {
        match self {
            Holder::Role => "Role",
            Holder::User => "User",
            Holder::Group => "Group",
        }
    }
    /// Resolves the holder's canonical name, or `EntityNotExist.<Kind>`.
    fn canonical(self, ctx: &mut Ctx, name: &str) -> Result<String> {
        let account = ctx.account().to_string();
        let found = match self {
            Holder::Role => ctx.tx.get_rec::<Role>(&account, name)?.map(|r| r.name),
            Holder::User => ctx.tx.get_rec::<User>(&account, name)?.map(|u| u.name),
            Holder::Group => ctx.tx.get_rec::<Group>(&account, name)?.map(|g| g.name),
        };
        found.ok_or_else(|| Error::not_exist(self.word(), format!("The {} does not exist: {name}.", self.word().to_ascii_lowercase())))
    }
    pub fn link_left(self, name: &str) -> String {
        format!("{}/{}", self.word().to_ascii_lowercase(), name)
    }
}

fn holder_name(p: &Params, h: Holder) -> Result<&str> {
    let name = p.required(h.param())?;
    let rule = match h {
        Holder::Role => NameRule::Role,
        Holder::User => NameRule::User,
        Holder::Group => NameRule::Group,
    };
    check_name(h.param(), name, 64, rule)?;
    Ok(name)
}

/// The two ends of an Attach/Detach call: the holder's canonical name and the policy.
fn attachment_ends(ctx: &mut Ctx, p: &Params, h: Holder) -> Result<(String, ResolvedPolicy)> {
    let ty = policy_type(p)?;
    let name = policy_name(p)?;
    let holder = holder_name(p, h)?;
    let holder = h.canonical(ctx, holder)?;
    let account = ctx.account().to_string();
    let policy = resolve(ctx.tx, &account, ty, name)?.ok_or_else(|| no_such_policy(ty, name))?;
    if let Holder::Role = h {
        if let Some(role) = ctx.tx.get_rec::<Role>(&account, &holder)? {
            super::service_linked_roles::ensure_ordinary(&role, "policies cannot be attached to or detached from it")?;
        }
    }
    Ok((holder, policy))
}

/// How many policies of one type a user, a group or a role may hold: 20 system and 10 custom
/// policies (RAM's limits page; docs/ram-errors.md).
fn attachment_limit(ty: PolicyType) -> usize {
    match ty {
        PolicyType::System => 20,
        PolicyType::Custom => 10,
    }
}

/// `LimitExceeded.<Kind>.Policy` when `holder` already holds the most policies of the policy's
/// type (attaching one it already holds is `EntityAlreadyExists`, not this).
fn check_attachment_limit(ctx: &mut Ctx, account: &str, h: Holder, holder: &str, policy: &ResolvedPolicy) -> Result<()> {
    let prefix = format!("{}/", policy.ty.as_str());
    let held: Vec<String> = ctx.tx.links_from(Relation::Attachment, account, &h.link_left(holder))?.into_iter().map(|l| l.right).collect();
    let of_type = held.iter().filter(|key| key.starts_with(&prefix)).count();
    if of_type < attachment_limit(policy.ty) || held.contains(&policy.link_key()) {
        return Ok(());
    }
    let message = match h {
        Holder::Role => "The count of policies attached to the role beyond the current limits.",
        Holder::User => "The policy count of the user attached policies beyond the current limits.",
        Holder::Group => "The policy count of the group beyond the current limits.",
    };
    Err(Error::limit(
        format!("{}.Policy", h.word()),
        format!("{message} At most {} {} policies can be attached.", attachment_limit(policy.ty), policy.ty.as_str().to_ascii_lowercase()),
    ))
}

pub fn attach(ctx: &mut Ctx, p: &Params, h: Holder) -> Result<Value> {
    let (holder, policy) = attachment_ends(ctx, p, h)?;
    let account = ctx.account().to_string();
    check_attachment_limit(ctx, &account, h, &holder, &policy)?;
    let now = ctx.now();
    if !ctx.tx.link(Relation::Attachment, &account, &h.link_left(&holder), &policy.link_key(), &now)? {
        return Err(Error::already_exists(
            format!("{}.Policy", h.word()),
            format!("The policy {} is already attached to the {} {holder}.", policy.name, h.word().to_ascii_lowercase()),
        ));
    }
    ok()
}

pub fn detach(ctx: &mut Ctx, p: &Params, h: Holder) -> Result<Value> {
    let (holder, policy) = attachment_ends(ctx, p, h)?;
    let account = ctx.account().to_string();
    if !ctx.tx.unlink(Relation::Attachment, &account, &h.link_left(&holder), &policy.link_key())? {
        return Err(Error::not_exist(
            format!("{}.Policy", h.word()),
            format!("The policy {} is not attached to the {} {holder}.", policy.name, h.word().to_ascii_lowercase()),
        ));
    }
    ok()
}

/// The policies attached to one principal, with their attach dates.
pub fn attached_to(tx: &mut dyn Tx, account: &str, left: &str) -> Result<Vec<(ResolvedPolicy, String)>> {
    let mut out = Vec::new();
    for link in tx.links_from(Relation::Attachment, account, left)? {
        if let Some(policy) = resolve_link_key(tx, account, &link.right)? {
            out.push((policy, link.created));
        }
    }
    Ok(out)
}

pub fn list_for(ctx: &mut Ctx, p: &Params, h: Holder) -> Result<Value> {
    let holder = holder_name(p, h)?;
    let holder = h.canonical(ctx, holder)?;
    let account = ctx.account().to_string();
    let items: Vec<Value> = attached_to(ctx.tx, &account, &h.link_left(&holder))?
        .into_iter()
        .map(|(policy, date)| {
            let mut v = render(&policy, None);
            v["AttachDate"] = json!(date);
            v
        })
        .collect();
    Ok(json!({ "Policies": { "Policy": items } }))
}

pub fn list_entities_for_policy(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let ty = policy_type(p)?;
    let name = policy_name(p)?;
    let account = ctx.account().to_string();
    let policy = resolve(ctx.tx, &account, ty, name)?.ok_or_else(|| no_such_policy(ty, name))?;
    let (mut users, mut groups, mut roles) = (Vec::new(), Vec::new(), Vec::new());
    for link in ctx.tx.links_to(Relation::Attachment, &account, &policy.link_key())? {
        let Some((kind, who)) = link.left.split_once('/') else { continue };
        match kind {
            "user" => {
                if let Some(u) = ctx.tx.get_rec::<User>(&account, who)? {
                    users.push(json!({ "UserId": u.id, "UserName": u.name, "DisplayName": u.display_name, "AttachDate": link.created }));
                }
            }
            "group" => {
                if let Some(g) = ctx.tx.get_rec::<Group>(&account, who)? {
                    groups.push(json!({ "GroupName": g.name, "Comments": g.comments, "AttachDate": link.created }));
                }
            }
            "role" => {
                if let Some(r) = ctx.tx.get_rec::<Role>(&account, who)? {
                    roles.push(json!({ "RoleId": r.id, "RoleName": r.name, "Arn": role_arn(&account, &r.name), "Description": r.description, "AttachDate": link.created }));
                }
            }
            _ => {}
        }
    }
    Ok(json!({ "Users": { "User": users }, "Groups": { "Group": groups }, "Roles": { "Role": roles } }))
}

/// Whether a principal (`user/<n>`, `group/<n>`, `role/<n>`) has any policy attached.
pub fn has_attachments(tx: &mut dyn Tx, account: &str, left: &str) -> Result<bool> {
    Ok(!tx.links_from(Relation::Attachment, account, left)?.is_empty())
}
