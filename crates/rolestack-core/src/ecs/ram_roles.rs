//! Instance RAM roles: AttachInstanceRamRole, DetachInstanceRamRole, DescribeInstanceRamRole, and
//! the checks CreateInstance/RunInstances share when given `RamRoleName`.
//!
//! ECS's rules: a role goes only on VPC instances (`InvalidNetworkType.MismatchRamRole`); an
//! instance holds one role at a time; the role must exist (`InvalidRamRole.NotFound`) and trust
//! `ecs.aliyuncs.com` (`InvalidRamRole.NotEcsRole`); and a RAM identity that passes a role to ECS
//! needs, besides the ECS action the gateway checked, `ram:PassRole` on the role
//! (`InvalidUser.PassRoleForbidden`). Detaching a role (or deleting the instance) forgets the
//! instance's metadata-service session, so no new credentials are issued for it.

use serde_json::{json, Value};

use super::{instance_ids_malformed, instance_not_found, page, region, string_list, Region};
use crate::diagnostics::AccessDeniedDetail;
use crate::documents::validate_permission_policy;
use crate::handler::Ctx;
use crate::model::{Instance, Role};
use crate::params::Params;
use crate::product::ErrorStyle;
use crate::store::Kind;
use crate::{Error, Result};

/// The service instance roles must trust.
pub const ECS_SERVICE: &str = "ecs.aliyuncs.com";
/// AttachInstanceRamRole's `Policy`: 1 to 1024 characters.
pub const POLICY_MAX: usize = 1024;
/// At most this many instances per Attach/DetachInstanceRamRole call.
pub const MAX_INSTANCE_IDS: usize = 100;
/// At most this many instances per DescribeInstanceRamRole call (the API's reference: up to 50).
pub const MAX_DESCRIBED_INSTANCE_IDS: usize = 50;

/// The ARN `ram:PassRole` is checked on.
pub fn pass_role_arn(account: &str, role: &str) -> String {
    format!("acs:ram:*:{account}:role/{role}")
}

/// The role's ARNs for a name as asked and as stored (both spellings must pass, see crate::names).
fn role_arns(account: &str, asked: &str, stored: &str) -> Vec<String> {
    let mut arns = vec![pass_role_arn(account, asked)];
    if stored != asked {
        arns.push(pass_role_arn(account, stored));
    }
    arns
}

/// `action` (`ecs:AttachInstanceRamRole` / `ecs:DetachInstanceRamRole`) on the role itself: the
/// API references list the role beside the instances as a resource of both, so a statement on
/// the role binds (`Forbidden.RAM`), and one on the instances alone is not enough.
fn authorize_on_role(ctx: &mut Ctx, action: &str, arns: &[String]) -> Result<()> {
    match ctx.authorize(action, arns)? {
        Ok(()) => Ok(()),
        Err(denial) => Err(ErrorStyle::Ecs.denied(denial, ctx.key)),
    }
}

/// A role the caller gives to ECS: it must exist (404 `InvalidRamRole.NotFound`), the caller must be
/// allowed `resource_action` on it when given (AttachInstanceRamRole's role resource), then
/// `ram:PassRole` (403 `InvalidUser.PassRoleForbidden`; the account root always is), and it must
/// trust ECS (`InvalidRamRole.NotEcsRole`: 404 for AttachInstanceRamRole, 401 for
/// CreateInstance/RunInstances, as the two API references say).
pub(crate) fn passable_role(ctx: &mut Ctx, name: &str, not_ecs_status: u16, resource_action: Option<&str>) -> Result<Role> {
    let account = ctx.account().to_string();
    let role = ctx
        .tx
        .get_rec::<Role>(&account, name)?
        .ok_or_else(|| Error::service(404, "InvalidRamRole.NotFound", format!("The specified RAMRoleName does not exist: {name}.")))?;
    let arns = role_arns(&account, name, &role.name);
    if let Some(action) = resource_action {
        authorize_on_role(ctx, action, &arns)?;
    }
    if let Err(denial) = ctx.authorize("ram:PassRole", &arns)? {
        let message = format!(
            "The RAM user does not have the privilege to pass a RAM role. Action: ram:PassRole, Resource: {}. {}",
            denial.resource, denial.reason
        );
        let detail = Box::new(AccessDeniedDetail::new(denial.verdict, ctx.key));
        return Err(Error::Denied { code: "InvalidUser.PassRoleForbidden", message, detail });
    }
    let trust = role.trust()?;
    if !trust.trusts_service(ECS_SERVICE) {
        return Err(Error::service(
            not_ecs_status,
            "InvalidRamRole.NotEcsRole",
            format!("The specified ram role is not authorized for ecs, please check your role policy: the trust policy of {} does not name the service {ECS_SERVICE}.", role.name),
        ));
    }
    Ok(role)
}

pub(crate) fn mismatch_ram_role(instance_id: &str) -> Error {
    Error::service(
        403,
        "InvalidNetworkType.MismatchRamRole",
        format!("Ram role cannot be applied to instances of Classic network type: {instance_id} is a classic-network instance."),
    )
}

/// Forgets an instance's role and its current metadata-service session.
pub(crate) fn clear_role(ctx: &mut Ctx, inst: &mut Instance) -> Result<()> {
    inst.ram_role_name = None;
    inst.ram_role_policy = None;
    inst.ram_role_attached_at = None;
    let account = ctx.account().to_string();
    ctx.tx.delete(Kind::InstanceSession, &account, &inst.id)?;
    Ok(())
}

/// The instances named by `InstanceIds` (required or not, at most `max`), each existing in `region`.
fn instances(ctx: &mut Ctx, p: &Params, region: &Region, required_param: bool, max: usize) -> Result<Option<Vec<Instance>>> {
    let ids = match string_list(p, "InstanceIds", max, instance_ids_malformed)? {
        Some(ids) => ids,
        None if required_param => return Err(super::missing("InstanceIds")),
        None => return Ok(None),
    };
    if required_param && ids.is_empty() {
        return Err(instance_ids_malformed("[]", "the list is empty"));
    }
    let account = ctx.account().to_string();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match ctx.tx.get_rec::<Instance>(&account, &id)? {
            Some(inst) if inst.region_id == region.id => out.push(inst),
            _ => return Err(instance_not_found(&id)),
        }
    }
    Ok(Some(out))
}

fn session_policy(p: &Params) -> Result<Option<String>> {
    let Some(doc) = p.optional("Policy") else { return Ok(None) };
    if doc.chars().count() > POLICY_MAX {
        return Err(Error::service(
            400,
            "InvalidParameter.Policy",
            format!(
                "The specified parameter \"Policy\" is not valid: it is {} characters long; at most {POLICY_MAX} are allowed.",
                doc.chars().count()
            ),
        ));
    }
    validate_permission_policy("Policy", doc).map_err(|e| {
        Error::service(400, "InvalidParameter.Policy", format!("The specified parameter \"Policy\" is not valid: {}", e.public_message()))
    })?;
    Ok(Some(doc.to_string()))
}

fn result(instance_id: &str, code: &str, message: &str) -> Value {
    json!({ "InstanceId": instance_id, "Code": code, "Message": message, "Success": code == "200" })
}

pub fn attach_instance_ram_role(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let role_name = p.required("RamRoleName")?;
    let policy = session_policy(p)?;
    let targets = instances(ctx, p, region, true, MAX_INSTANCE_IDS)?.unwrap_or_default();
    let role = passable_role(ctx, role_name, 404, Some("ecs:AttachInstanceRamRole"))?;
    if let Some(classic) = targets.iter().find(|i| i.network_type != "vpc") {
        return Err(mismatch_ram_role(&classic.id));
    }
    let now = ctx.clock.now().unix_timestamp();
    let account = ctx.account().to_string();
    let mut results = Vec::with_capacity(targets.len());
    let mut failed = 0;
    for mut inst in targets {
        if let Some(current) = &inst.ram_role_name {
            failed += 1;
            results.push(result(
                &inst.id,
                "InvalidRamRole.Attached",
                &format!("The instance already has the RAM role {current}; an instance holds one RAM role at a time. Detach it first (DetachInstanceRamRole)."),
            ));
            continue;
        }
        inst.ram_role_name = Some(role.name.clone());
        inst.ram_role_policy = policy.clone();
        inst.ram_role_attached_at = Some(now);
        ctx.tx.delete(Kind::InstanceSession, &account, &inst.id)?;
        ctx.tx.update_rec(&account, &inst.id.clone(), &inst)?;
        results.push(result(&inst.id, "200", "success"));
    }
    Ok(json!({
        "RamRoleName": role.name,
        "TotalCount": results.len(),
        "FailCount": failed,
        "AttachInstanceRamRoleResults": { "AttachInstanceRamRoleResult": results },
    }))
}

pub fn detach_instance_ram_role(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let targets = instances(ctx, p, region, true, MAX_INSTANCE_IDS)?.unwrap_or_default();
    let account = ctx.account().to_string();
    let wanted: Option<Role> =
        match p.optional("RamRoleName") {
            Some(name) => Some(ctx.tx.get_rec::<Role>(&account, name)?.ok_or_else(|| {
                Error::service(404, "InvalidRamRole.NotFound", format!("The specified RAMRoleName does not exist: {name}."))
            })?),
            None => None,
        };
    // The role is a resource of the call too: the one named, else each one the instances hold.
    let arns: Vec<String> = match (&wanted, p.optional("RamRoleName")) {
        (Some(role), Some(asked)) => role_arns(&account, asked, &role.name),
        _ => targets.iter().filter_map(|i| i.ram_role_name.as_deref()).map(|r| pass_role_arn(&account, r)).collect(),
    };
    if !arns.is_empty() {
        authorize_on_role(ctx, "ecs:DetachInstanceRamRole", &arns)?;
    }
    if let Some(classic) = targets.iter().find(|i| i.network_type != "vpc") {
        return Err(mismatch_ram_role(&classic.id));
    }
    let mut results = Vec::with_capacity(targets.len());
    let mut failed = 0;
    let mut detached_name: Option<String> = wanted.as_ref().map(|r| r.name.clone());
    for mut inst in targets {
        let current = inst.ram_role_name.clone();
        let matches = match (&current, &wanted) {
            (Some(cur), Some(w)) => cur.eq_ignore_ascii_case(&w.name),
            (Some(_), None) => true,
            (None, _) => false,
        };
        let Some(current) = current.filter(|_| matches) else {
            failed += 1;
            let message = match (&inst.ram_role_name, &wanted) {
                (Some(cur), Some(w)) => format!("The RAM role {} is not attached to the instance; it holds {cur}.", w.name),
                _ => "The instance has no RAM role attached.".to_string(),
            };
            let mut r = result(&inst.id, "InvalidRamRole.NotAttached", &message);
            r["InstanceRamRoleSets"] = json!({ "InstanceRamRoleSet": [] });
            results.push(r);
            continue;
        };
        clear_role(ctx, &mut inst)?;
        ctx.tx.update_rec(&account, &inst.id.clone(), &inst)?;
        detached_name.get_or_insert_with(|| current.clone());
        let mut r = result(&inst.id, "200", "Success");
        r["InstanceRamRoleSets"] = json!({ "InstanceRamRoleSet": [{ "InstanceId": inst.id, "RamRoleName": current }] });
        results.push(r);
    }
    Ok(json!({
        "RamRoleName": detached_name.unwrap_or_default(),
        "TotalCount": results.len(),
        "FailCount": failed,
        "DetachInstanceRamRoleResults": { "DetachInstanceRamRoleResult": results },
    }))
}

pub fn describe_instance_ram_role(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let pg = page(p, 50)?;
    let named = instances(ctx, p, region, false, MAX_DESCRIBED_INSTANCE_IDS)?;
    let account = ctx.account().to_string();
    let role: Option<Role> =
        match p.optional("RamRoleName") {
            Some(name) => Some(ctx.tx.get_rec::<Role>(&account, name)?.ok_or_else(|| {
                Error::service(404, "InvalidRamRole.NotFound", format!("The specified RAMRoleName does not exist: {name}."))
            })?),
            None => None,
        };
    let candidates: Vec<Instance> = match (named, &role) {
        (Some(list), _) => {
            if let Some(classic) = list.iter().find(|i| i.network_type != "vpc") {
                return Err(mismatch_ram_role(&classic.id));
            }
            list
        }
        (None, Some(_)) => {
            let mut all: Vec<Instance> = super::vpc::all_instances(ctx)?.into_iter().filter(|i| i.region_id == region.id).collect();
            all.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
            all
        }
        (None, None) => {
            return Err(Error::service(
                403,
                "InvalidParameter.AllEmpty",
                "At least one of the parameters InstanceIds and RamRoleName must be specified.",
            ))
        }
    };
    let sets: Vec<Value> = candidates
        .into_iter()
        .filter_map(|i| {
            let name = i.ram_role_name?;
            let keep = role.as_ref().is_none_or(|r| r.name.eq_ignore_ascii_case(&name));
            keep.then(|| json!({ "InstanceId": i.id, "RamRoleName": name }))
        })
        .collect();
    let total = sets.len();
    Ok(json!({
        "RegionId": region.id,
        "TotalCount": total,
        "InstanceRamRoleSets": { "InstanceRamRoleSet": pg.slice(sets) },
    }))
}
