//! Service-linked roles: CreateServiceLinkedRole, DeleteServiceLinkedRole,
//! GetServiceLinkedRoleTemplate.
//!
//! A service-linked role belongs to one cloud service: its name, trust policy (that service only)
//! and policy (a system policy) come from the service's template and cannot be changed —
//! UpdateRole may not touch its trust policy or description, policies cannot be attached to or
//! detached from it, and DeleteRole refuses it: only DeleteServiceLinkedRole removes it (and its
//! policy attachment), answering with a deletion task id as RAM does. rolestack models the
//! services it has templates for ([`TEMPLATES`]); no rolestack service is using such a role, so a
//! deletion always completes at once.

use serde_json::{json, Value};

use super::roles::{load, role_name, MAX_SESSION_MIN};
use super::{check_length, role_arn};
use crate::handler::Ctx;
use crate::ids;
use crate::model::Role;
use crate::params::Params;
use crate::store::{Kind, Relation};
use crate::{Error, Result};

/// One service's service-linked role.
pub struct Template {
    pub service: &'static str,
    /// The role's name (the prefix when the service allows several roles with suffixes).
    pub role_name: &'static str,
    /// The system policy attached to the role.
    pub policy: &'static str,
    pub description_en: &'static str,
    pub description_zh: &'static str,
    /// Whether `CustomSuffix` may make several roles (`<prefix>_<suffix>`).
    pub multiple_roles_allowed: bool,
}

/// The services rolestack has templates for. ECS archiving's role and policy are documented on the
/// ECS "Service-linked roles" page; ActionTrail's names are the published ones (its policy
/// document is UNVERIFIED, see `system_policies`). Neither allows several roles.
pub const TEMPLATES: &[Template] = &[
    Template {
        service: "actiontrail.aliyuncs.com",
        role_name: "AliyunServiceRoleForActionTrail",
        policy: "AliyunServiceRolePolicyForActionTrail",
        description_en: "The ActionTrail service will use this role to deliver events to your OSS bucket and Simple Log Service project.",
        description_zh: "操作审计（ActionTrail）使用此角色来访问您在其他云产品中的资源。",
        multiple_roles_allowed: false,
    },
    Template {
        service: "archiving.ecs.aliyuncs.com",
        role_name: "AliyunServiceRoleForECSArchiving",
        policy: "AliyunServiceRolePolicyForECSArchiving",
        description_en: "Cloud Assistant of ECS will use this role to deliver command and session records to OSS and Simple Log Service.",
        description_zh: "云服务器ECS云助手使用此角色将运维记录投递到对象存储OSS和日志服务SLS。",
        multiple_roles_allowed: false,
    },
];

pub fn template(service: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.service.eq_ignore_ascii_case(service))
}

fn unknown_service(service: &str) -> Error {
    Error::invalid(
        "InvalidParameter.ServiceName",
        format!(
            "The parameter \"ServiceName\" names no service with a service-linked role: \"{service}\". Known: {}.",
            TEMPLATES.iter().map(|t| t.service).collect::<Vec<_>>().join(", ")
        ),
    )
}

/// The trust policy of a service-linked role: the service, and nothing else.
pub fn trust_policy(service: &str) -> String {
    json!({ "Statement": [{ "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": { "Service": [service] } }], "Version": "1" })
        .to_string()
}

/// The refusal for every change RAM does not allow on a service-linked role.
pub fn immutable(role: &Role, what: &str) -> Error {
    Error::service(
        400,
        "NotSupported.ServiceLinkedRole",
        format!(
            "{} is a service-linked role of {}: {what}. Use DeleteServiceLinkedRole to remove it.",
            role.name,
            role.service_linked.as_deref().unwrap_or("a service")
        ),
    )
}

/// Refuses `what` when `role` is service-linked.
pub fn ensure_ordinary(role: &Role, what: &str) -> Result<()> {
    match role.service_linked {
        Some(_) => Err(immutable(role, what)),
        None => Ok(()),
    }
}

pub fn create_service_linked_role(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let service = p.required("ServiceName")?;
    let t = template(service).ok_or_else(|| unknown_service(service))?;
    let name = match p.optional("CustomSuffix") {
        Some(_) if !t.multiple_roles_allowed => {
            return Err(Error::invalid(
                "InvalidParameter.CustomSuffix",
                format!("The service {} allows one service-linked role only; CustomSuffix is not accepted.", t.service),
            ))
        }
        Some(suffix) => {
            // The suffix follows the role-name rules; `-` joins it to the template's prefix
            // (RAM's docs show `_`, which its own RoleName rule refuses; no modelled service takes one).
            super::check_name("CustomSuffix", suffix, 64 - t.role_name.len() - 1, super::NameRule::Role)?;
            format!("{}-{suffix}", t.role_name)
        }
        None => t.role_name.to_string(),
    };
    let description = match p.optional("Description") {
        Some(_) if !t.multiple_roles_allowed => {
            return Err(Error::invalid(
                "InvalidParameter.Description",
                format!("The description of {}'s service-linked role is preset and cannot be set.", t.service),
            ))
        }
        Some(d) => {
            check_length("Description", Some(d), 1024)?;
            d.to_string()
        }
        None => t.description_en.to_string(),
    };
    let now = ctx.now();
    let role = Role {
        id: ids::entity_id(),
        name: name.clone(),
        description,
        trust_policy: trust_policy(t.service),
        max_session_duration: MAX_SESSION_MIN as u32,
        created: now.clone(),
        updated: now.clone(),
        sessions_revoked_before: None,
        session_cutoffs: Default::default(),
        tags: Vec::new(),
        service_linked: Some(t.service.to_string()),
    };
    let account = ctx.account().to_string();
    if !super::insert_within_quota(ctx.tx, &account, &name, &role, super::ROLE_QUOTA)? {
        return Err(Error::already_exists("Role", format!("The role does already EXIST: {name}.")));
    }
    ctx.tx.link(Relation::Attachment, &account, &format!("role/{name}"), &format!("System/{}", t.policy), &now)?;
    Ok(json!({ "Role": {
        "RoleId": role.id, "RoleName": role.name, "Arn": role_arn(&account, &role.name), "Description": role.description,
        "AssumeRolePolicyDocument": role.trust_policy, "CreateDate": role.created, "IsServiceLinkedRole": true,
    } }))
}

pub fn delete_service_linked_role(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = role_name(p)?;
    let role = load(ctx, name)?;
    let Some(service) = role.service_linked.clone() else {
        return Err(Error::service(
            400,
            "NotSupported.ServiceLinkedRole",
            format!("{} is not a service-linked role; delete it with DeleteRole.", role.name),
        ));
    };
    let account = ctx.account().to_string();
    let holder = format!("role/{}", role.name);
    for link in ctx.tx.links_from(Relation::Attachment, &account, &holder)? {
        ctx.tx.unlink(Relation::Attachment, &account, &holder, &link.right)?;
    }
    ctx.tx.delete(Kind::Role, &account, &role.name)?;
    Ok(json!({ "DeletionTaskId": format!("task/acs-service-role.{}.{}.{}", service, role.name, uuid::Uuid::new_v4()) }))
}

pub fn get_service_linked_role_template(_ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let service = p.required("ServiceName")?;
    let t = template(service).ok_or_else(|| unknown_service(service))?;
    Ok(json!({ "ServiceLinkedRoleTemplate": {
        "ServiceName": t.service,
        "RoleNamePrefix": t.role_name,
        "SystemPolicyName": t.policy,
        "MultipleRolesAllowed": t.multiple_roles_allowed,
        "RoleDescriptions": { "RoleDescription": [
            { "Language": "en", "Description": t.description_en },
            { "Language": "zh-cn", "Description": t.description_zh },
        ] },
    } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_have_system_policies_and_valid_trust() {
        for t in TEMPLATES {
            assert!(super::super::system_policies::find(t.policy).is_some(), "{}", t.policy);
            let trust = rolestack_policy::TrustPolicy::parse(&trust_policy(t.service)).unwrap();
            assert!(trust.trusts_service(t.service));
        }
        assert!(template("ACTIONTRAIL.aliyuncs.com").is_some());
    }
}
