//! RAM roles: CreateRole, GetRole, ListRoles, UpdateRole, DeleteRole. A role's trust policy is
//! validated by the policy engine when it is written, so a role can never hold a document the
//! engine would later refuse to evaluate.

use serde_json::{json, Value};

use super::service_linked_roles::ensure_ordinary;
use super::{check_length, check_name, insert_within_quota, ok, page, paged, role_arn, tags, NameRule, ROLE_QUOTA};
use crate::documents::validate_trust_policy;
use crate::handler::Ctx;
use crate::ids;
use crate::model::Role;
use crate::params::Params;
use crate::store::Relation;
use crate::{Error, Result};

pub const MAX_SESSION_MIN: i64 = 3600;
pub const MAX_SESSION_MAX: i64 = 43200;

pub(crate) fn role_name(p: &Params) -> Result<&str> {
    let name = p.required("RoleName")?;
    check_name("RoleName", name, 64, NameRule::Role)?;
    Ok(name)
}

/// Loads a role or fails with `EntityNotExist.Role`.
pub fn load(ctx: &mut Ctx, name: &str) -> Result<Role> {
    let account = ctx.account().to_string();
    ctx.tx.get_rec::<Role>(&account, name)?.ok_or_else(|| Error::not_exist("Role", format!("The role does not exist: {name}.")))
}

fn render(account: &str, r: &Role, with_document: bool) -> Value {
    let mut v = json!({
        "RoleId": r.id,
        "RoleName": r.name,
        "Arn": role_arn(account, &r.name),
        "Description": r.description,
        "CreateDate": r.created,
        "UpdateDate": r.updated,
        "MaxSessionDuration": r.max_session_duration,
    });
    if with_document {
        v["AssumeRolePolicyDocument"] = json!(r.trust_policy);
        v["RolePrincipalName"] = json!(format!("{}@role.{account}.onaliyunservice.com", r.name));
        v["IsServiceLinkedRole"] = json!(r.service_linked.is_some());
    }
    if !r.tags.is_empty() || !with_document {
        v["Tags"] = tags::render(&r.tags);
    }
    v
}

fn max_session(p: &Params, name: &str) -> Result<Option<u32>> {
    Ok(p.int(name, MAX_SESSION_MIN, MAX_SESSION_MAX)?.map(|n| n as u32))
}

pub fn create_role(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = role_name(p)?;
    let doc = p.required("AssumeRolePolicyDocument")?;
    validate_trust_policy("AssumeRolePolicyDocument", doc)?;
    let description = p.optional("Description");
    check_length("Description", description, 1024)?;
    let tags = tags::request_tags(p)?.unwrap_or_default();
    let now = ctx.now();
    let role = Role {
        id: ids::entity_id(),
        name: name.to_string(),
        description: description.unwrap_or_default().to_string(),
        trust_policy: doc.to_string(),
        max_session_duration: max_session(p, "MaxSessionDuration")?.unwrap_or(MAX_SESSION_MIN as u32),
        created: now.clone(),
        updated: now,
        sessions_revoked_before: None,
        session_cutoffs: Default::default(),
        tags,
        service_linked: None,
    };
    let account = ctx.account().to_string();
    if !insert_within_quota(ctx.tx, &account, name, &role, ROLE_QUOTA)? {
        return Err(Error::already_exists("Role", format!("The role already exists: {name}.")));
    }
    Ok(json!({ "Role": render(&account, &role, true) }))
}

pub fn get_role(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let role = load(ctx, role_name(p)?)?;
    Ok(json!({ "Role": render(ctx.account(), &role, true) }))
}

pub fn list_roles(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let pg = page(p, 1000)?;
    let account = ctx.account().to_string();
    let tag_filter = tags::request_tags(p)?;
    // With a tag filter, every role is read and filtered before paging.
    let want = if tag_filter.is_some() { usize::MAX } else { pg.max + 1 };
    let mut roles = ctx.tx.list_rec::<Role>(&account, "", pg.after.as_deref(), want)?;
    if let Some(filter) = &tag_filter {
        roles.retain(|r| tags::matches(&r.tags, filter));
    }
    let (roles, mut body) = paged(roles, pg.max, |r| r.name.clone());
    let items: Vec<Value> = roles.iter().map(|r| render(&account, r, false)).collect();
    body.insert("Roles".into(), json!({ "Role": items }));
    Ok(Value::Object(body))
}

/// UpdateRole. The parameters are checked before the role is looked up, as RAM orders its checks
/// (docs/ram-errors.md): a malformed value is a 400 whether or not the role exists.
pub fn update_role(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = role_name(p)?;
    let trust = p.optional("NewAssumeRolePolicyDocument");
    if let Some(doc) = trust {
        validate_trust_policy("NewAssumeRolePolicyDocument", doc)?;
    }
    let description = p.get("NewDescription");
    check_length("NewDescription", description, 1024)?;
    let max_session = max_session(p, "NewMaxSessionDuration")?;
    let mut role = load(ctx, name)?;
    if trust.is_some() || description.is_some() {
        ensure_ordinary(&role, "its trust policy and description cannot be changed")?;
    }
    if let Some(doc) = trust {
        role.trust_policy = doc.to_string();
    }
    if let Some(d) = description {
        role.description = d.to_string();
    }
    if let Some(m) = max_session {
        role.max_session_duration = m;
    }
    role.updated = ctx.now();
    let account = ctx.account().to_string();
    ctx.tx.update_rec(&account, &role.name.clone(), &role)?;
    Ok(json!({ "Role": render(&account, &role, true) }))
}

pub fn delete_role(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = role_name(p)?;
    let role = load(ctx, name)?;
    ensure_ordinary(&role, "DeleteRole cannot delete it")?;
    let account = ctx.account().to_string();
    if !ctx.tx.links_from(Relation::Attachment, &account, &format!("role/{}", role.name))?.is_empty() {
        return Err(Error::delete_conflict(
            "Role.Policy",
            "The role cannot have any attached policies when you delete it. Detach its policies first (DetachPolicyFromRole).",
        ));
    }
    ctx.tx.delete(crate::store::Kind::Role, &account, &role.name)?;
    ok()
}
