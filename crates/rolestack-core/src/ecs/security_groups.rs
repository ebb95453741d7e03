//! Security groups: CreateSecurityGroup, DescribeSecurityGroups, DescribeSecurityGroupAttribute,
//! DeleteSecurityGroup, AuthorizeSecurityGroup / AuthorizeSecurityGroupEgress / RevokeSecurityGroup
//! (rules are recorded, not enforced: instances have no data plane), JoinSecurityGroup and
//! LeaveSecurityGroup, and the check CreateInstance / RunInstances make of `SecurityGroupId`.
//!
//! ECS's rules: a group belongs to a VPC (`VpcId`) or, in regions that still offer it, to the
//! classic network; an instance joins only groups of its own network (its VPC, or classic), at most
//! five, and always keeps one; a group with instances (or that another group's rule names) cannot
//! be deleted. Codes and sources: docs/ecs-errors.md §7.

use std::net::Ipv4Addr;

use serde_json::{json, Value};

use super::vpc::{self, Cidr};
use super::{check_name, client_token, instance_not_found, load_instance, page, region, resource_id, string_list, tags, Region};
use crate::handler::Ctx;
use crate::model::{Instance, SecurityGroup, SecurityGroupRule};
use crate::params::Params;
use crate::store::Kind;
use crate::{Error, Result};

/// Security groups one instance may be in.
pub const GROUPS_PER_INSTANCE: usize = 5;
/// Rules per security group.
pub const RULES_PER_GROUP: usize = 200;

pub(crate) fn group_not_found(id: &str) -> Error {
    Error::service(404, "InvalidSecurityGroupId.NotFound", format!("The specified SecurityGroupId does not exist: {id}."))
}

/// A security group of the caller's account in `region`.
pub(crate) fn load_group(ctx: &mut Ctx, region: &Region, id: &str) -> Result<SecurityGroup> {
    let account = ctx.account().to_string();
    match ctx.tx.get_rec::<SecurityGroup>(&account, id)? {
        Some(g) if g.region_id == region.id => Ok(g),
        _ => Err(group_not_found(id)),
    }
}

/// The caller's security groups in `region`, newest first.
pub(crate) fn all_groups(ctx: &mut Ctx, region: &Region) -> Result<Vec<SecurityGroup>> {
    let account = ctx.account().to_string();
    let mut v: Vec<SecurityGroup> =
        ctx.tx.list_rec::<SecurityGroup>(&account, "", None, usize::MAX)?.into_iter().filter(|g| g.region_id == region.id).collect();
    v.sort_by(|a, b| (&b.created, &a.id).cmp(&(&a.created, &b.id)));
    Ok(v)
}

fn save(ctx: &mut Ctx, g: &SecurityGroup) -> Result<()> {
    let account = ctx.account().to_string();
    ctx.tx.update_rec(&account, &g.id, g)?;
    Ok(())
}

/// The groups an instance being created joins (`SecurityGroupId`, or RunInstances'
/// `SecurityGroupIds.N`): each must exist and be of the instance's network — the vSwitch's VPC, or
/// classic (`InvalidParameter.Mismatch`, 400, as the CreateInstance/RunInstances tables say).
pub(crate) fn groups_for_new_instance(ctx: &mut Ctx, p: &Params, region: &Region, vpc_id: Option<&str>) -> Result<Vec<String>> {
    let mut ids: Vec<String> = p.optional("SecurityGroupId").map(|s| vec![s.to_string()]).unwrap_or_default();
    for (_, id) in p.repeated("SecurityGroupIds") {
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }
    if ids.len() > GROUPS_PER_INSTANCE {
        return Err(Error::service(
            400,
            "InstanceSecurityGroupLimitExceeded",
            format!(
                "Exceeding the allowed amount of security groups that an instance can be in: {} given, at most {GROUPS_PER_INSTANCE}.",
                ids.len()
            ),
        ));
    }
    for id in &ids {
        let g = load_group(ctx, region, id)?;
        if g.vpc_id.as_deref() != vpc_id {
            return Err(Error::service(
                400,
                "InvalidParameter.Mismatch",
                format!(
                    "Specified security group and virtual switch are not in the same VPC: {} is in {}, the instance in {}.",
                    g.id,
                    g.vpc_id.as_deref().unwrap_or("the classic network"),
                    vpc_id.unwrap_or("the classic network")
                ),
            ));
        }
    }
    Ok(ids)
}

pub fn create_security_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    client_token::once(ctx, p, "CreateSecurityGroup", |ctx| new_security_group(ctx, p))
}

fn new_security_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    if let Some(name) = p.optional("SecurityGroupName") {
        check_name("SecurityGroupName", name, &[':'], "InvalidSecurityGroupName.Malformed")?;
    }
    super::check_description(p.optional("Description"), "InvalidSecurityGroupDiscription.Malformed")?;
    let group_type = p.optional("SecurityGroupType").unwrap_or("normal");
    if !matches!(group_type, "normal" | "enterprise") {
        return Err(super::invalid("SecurityGroupType", format_args!("\"{group_type}\" is not normal or enterprise.")));
    }
    let vpc_id = match p.optional("VpcId") {
        Some(id) => Some(vpc::load_vpc(ctx, region, id)?.id),
        None if region.classic => None,
        None => {
            return Err(Error::service(
                403,
                "InvalidVpcId.NotFound",
                format!("vpc id must not empty when only support vpc vm: {} offers only VPC security groups.", region.id),
            ))
        }
    };
    let tags = tags::request_tags(p)?;
    let group = SecurityGroup {
        id: resource_id("sg", region, 17),
        region_id: region.id.to_string(),
        vpc_id,
        name: p.optional("SecurityGroupName").unwrap_or_default().to_string(),
        description: p.optional("Description").unwrap_or_default().to_string(),
        group_type: group_type.to_string(),
        created: ctx.now(),
        rules: Vec::new(),
    };
    let account = ctx.account().to_string();
    ctx.tx.insert_rec(&account, &group.id, &group)?;
    tags::add(ctx, "securitygroup", &group.id, region.id, &tags)?;
    Ok(json!({ "SecurityGroupId": group.id }))
}

fn members(instances: &[Instance], group_id: &str) -> Vec<String> {
    instances.iter().filter(|i| i.security_group_ids.iter().any(|g| g == group_id)).map(|i| i.id.clone()).collect()
}

pub fn describe_security_groups(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let pg = page(p, 50)?;
    let listed = string_list(p, "SecurityGroupIds", 100, |raw, why| super::invalid("SecurityGroupIds", format_args!("{why}; got {raw}.")))?;
    let network = p.optional("NetworkType");
    if let Some(n) = network {
        if n != "vpc" && n != "classic" {
            return Err(Error::service(404, "InvalidNetworkType.NotFound", format!("The specified NetworkType is not found: {n}.")));
        }
    }
    let filter_tags: Vec<(String, String)> = tags::request_tags(p)?;
    let instances = vpc::all_instances(ctx)?;
    let mut groups = Vec::new();
    for g in all_groups(ctx, region)? {
        let keep = p.optional("VpcId").is_none_or(|v| g.vpc_id.as_deref() == Some(v))
            && p.optional("SecurityGroupId").is_none_or(|id| id == g.id)
            && listed.as_ref().is_none_or(|ids| ids.contains(&g.id))
            && p.optional("SecurityGroupName").is_none_or(|n| n == g.name)
            && network.is_none_or(|n| (n == "vpc") == g.vpc_id.is_some());
        if !keep {
            continue;
        }
        let own = tags::tags_of(ctx, "securitygroup", &g.id)?;
        if tags::matches(&own, &filter_tags) {
            groups.push((g, own));
        }
    }
    let total = groups.len();
    let items: Vec<Value> = pg
        .slice(groups)
        .into_iter()
        .map(|(g, own)| {
            let count = members(&instances, &g.id).len();
            json!({
                "AvailableInstanceAmount": 2000usize.saturating_sub(count),
                "CreationTime": g.created,
                "Description": g.description,
                "EcsCount": count,
                "ResourceGroupId": "",
                "SecurityGroupId": g.id,
                "SecurityGroupName": g.name,
                "SecurityGroupType": g.group_type,
                "ServiceManaged": false,
                "Tags": tags::render(&own),
                "VpcId": g.vpc_id.clone().unwrap_or_default(),
            })
        })
        .collect();
    Ok(json!({
        "PageNumber": pg.number,
        "PageSize": pg.size,
        "RegionId": region.id,
        "SecurityGroups": { "SecurityGroup": items },
        "TotalCount": total,
    }))
}

fn nic_type(p: &Params) -> Result<Option<&str>> {
    match p.optional("NicType") {
        None => Ok(None),
        Some(n @ ("internet" | "intranet")) => Ok(Some(n)),
        Some(n) => Err(Error::service(
            400,
            "InvalidNicType.ValueNotSupported",
            format!("The specified NicType does not exist: {n}; use internet or intranet."),
        )),
    }
}

pub fn describe_security_group_attribute(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let g = load_group(ctx, region, p.required("SecurityGroupId")?)?;
    nic_type(p)?;
    let direction = p.optional("Direction").unwrap_or("all");
    if !matches!(direction, "all" | "ingress" | "egress") {
        return Err(super::invalid("Direction", format_args!("\"{direction}\" is not all, ingress or egress.")));
    }
    let account = ctx.account().to_string();
    let mut permissions = Vec::new();
    for r in g.rules.iter().filter(|r| direction == "all" || r.direction == direction) {
        let other = if r.group_id.is_empty() { None } else { ctx.tx.get_rec::<SecurityGroup>(&account, &r.group_id)? };
        let other_name = other.map(|o| o.name).unwrap_or_default();
        let owner = if r.group_id.is_empty() { String::new() } else { account.clone() };
        let ingress = r.direction == "ingress";
        let side = |yes: bool, v: &str| if yes { v.to_string() } else { String::new() };
        permissions.push(json!({
            "CreateTime": r.created,
            "Description": r.description,
            "DestCidrIp": side(!ingress, &r.cidr_ip),
            "DestGroupId": side(!ingress, &r.group_id),
            "DestGroupName": side(!ingress, &other_name),
            "DestGroupOwnerAccount": side(!ingress, &owner),
            "Direction": r.direction,
            "IpProtocol": r.ip_protocol,
            "Ipv6DestCidrIp": "",
            "Ipv6SourceCidrIp": "",
            "NicType": r.nic_type,
            "Policy": r.policy,
            "PortRange": r.port_range,
            "Priority": r.priority.to_string(),
            "SourceCidrIp": side(ingress, &r.cidr_ip),
            "SourceGroupId": side(ingress, &r.group_id),
            "SourceGroupName": side(ingress, &other_name),
            "SourceGroupOwnerAccount": side(ingress, &owner),
            "SourcePortRange": "",
        }));
    }
    Ok(json!({
        "Description": g.description,
        "InnerAccessPolicy": "Accept",
        "Permissions": { "Permission": permissions },
        "RegionId": region.id,
        "SecurityGroupId": g.id,
        "SecurityGroupName": g.name,
        "VpcId": g.vpc_id.unwrap_or_default(),
    }))
}

pub fn delete_security_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let g = load_group(ctx, region, p.required("SecurityGroupId")?)?;
    let users = members(&vpc::all_instances(ctx)?, &g.id);
    if !users.is_empty() {
        return Err(Error::service(
            403,
            "DependencyViolation",
            format!(
                "There is still instance(s) in the specified security group: {} (LeaveSecurityGroup or DeleteInstance first).",
                users.join(", ")
            ),
        ));
    }
    if let Some(other) = all_groups(ctx, region)?.into_iter().find(|o| o.id != g.id && o.rules.iter().any(|r| r.group_id == g.id)) {
        return Err(Error::service(
            403,
            "DependencyViolation",
            format!("The specified security group has been authorized in another security group: a rule of {} names {}.", other.id, g.id),
        ));
    }
    let account = ctx.account().to_string();
    ctx.tx.delete(Kind::SecurityGroup, &account, &g.id)?;
    tags::forget(ctx, "securitygroup", &g.id)?;
    Ok(json!({}))
}

/// Whether `s` is an IPv4 address or CIDR block (`0.0.0.0/0`, `10.0.0.0/8`, `192.168.1.7`).
fn ipv4_source(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok() || Cidr::parse(s).is_some()
}

/// A rule from Authorize/Revoke parameters. `ingress` reads `Source*`, egress `Dest*`.
fn rule_from(ctx: &mut Ctx, p: &Params, region: &Region, group: &SecurityGroup, ingress: bool) -> Result<SecurityGroupRule> {
    let (cidr_param, group_param) = if ingress { ("SourceCidrIp", "SourceGroupId") } else { ("DestCidrIp", "DestGroupId") };
    let protocol = p.required("IpProtocol")?.to_ascii_uppercase();
    if !matches!(protocol.as_str(), "TCP" | "UDP" | "ICMP" | "GRE" | "ALL") {
        return Err(Error::service(
            400,
            "InvalidIpProtocol.ValueNotSupported",
            "The parameter IpProtocol must be specified with case insensitive TCP, UDP, ICMP, GRE or All.",
        ));
    }
    let ports = p.required("PortRange")?;
    let bounds: Option<(i32, i32)> = ports.split_once('/').and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)));
    let Some((from, to)) = bounds else {
        return Err(Error::service(
            400,
            "InvalidIpProtocol.Malformed",
            format!("The specified parameter \"PortRange\" is not valid: \"{ports}\"; use from/to such as 22/22, or -1/-1."),
        ));
    };
    let ok = match protocol.as_str() {
        "TCP" | "UDP" => (1..=65535).contains(&from) && (from..=65535).contains(&to),
        _ => (from, to) == (-1, -1),
    };
    if !ok {
        return Err(Error::service(
            400,
            "OperationDenied",
            format!("The specified IpProtocol does not exist or IpProtocol and PortRange do not match: {protocol} with {ports} (TCP/UDP take 1 to 65535, ICMP/GRE/ALL take -1/-1)."),
        ));
    }
    let cidr = p.optional(cidr_param).unwrap_or_default().to_string();
    let other = p.optional(group_param).unwrap_or_default().to_string();
    if cidr.is_empty() && other.is_empty() {
        let (code, message) = if ingress {
            ("MissingParameter.Source", "Either SourceCidrIp or SourceGroupId must be specified.")
        } else {
            ("MissingParameter.Dest", "Either DestCidrIp or DestGroupId must be specified.")
        };
        return Err(Error::service(400, code, message));
    }
    if !cidr.is_empty() && !ipv4_source(&cidr) {
        return Err(Error::service(
            400,
            format!("Invalid{cidr_param}.Malformed"),
            format!("The specified parameter \"{cidr_param}\" is not valid: \"{cidr}\" is not an IPv4 address or CIDR block."),
        ));
    }
    if !other.is_empty() {
        if other == group.id {
            return Err(Error::service(
                403,
                "InvalidParamter.Conflict",
                format!("The specified SecurityGroupId should be different from the {group_param}: both are {other}."),
            ));
        }
        let peer = super::security_groups::load_group(ctx, region, &other).map_err(|_| {
            let code = if ingress { "InvalidSourceGroupId.NotFound" } else { "InvalidDestGroupId.NotFound" };
            Error::service(404, code, format!("The {group_param} provided does not exist in our records: {other}."))
        })?;
        if peer.vpc_id != group.vpc_id {
            return Err(Error::service(
                400,
                "InvalidSourceGroupId.Mismatch",
                format!("Specified security group and source group are not in the same VPC: {} and {}.", group.id, peer.id),
            ));
        }
    }
    let policy = match p.optional("Policy").map(str::to_ascii_lowercase).as_deref() {
        None | Some("accept") => "Accept",
        Some("drop") => "Drop",
        Some(_) => {
            return Err(Error::service(
                400,
                "InvalidPolicy.Malformed",
                "The specified parameter \"Policy\" is not valid: use accept or drop.",
            ))
        }
    };
    let priority = match p.optional("Priority") {
        None => 1,
        Some(v) => v.parse::<u32>().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| {
            Error::service(400, "InvalidPriority.Malformed", format!("The parameter Priority is invalid: \"{v}\"; use 1 to 100."))
        })?,
    };
    let nic = nic_type(p)?.unwrap_or(if group.vpc_id.is_some() { "intranet" } else { "internet" });
    let description = p.optional("Description").unwrap_or_default();
    if description.chars().count() > 512 || description.starts_with("http://") || description.starts_with("https://") {
        return Err(Error::service(
            400,
            "InvalidSecurityGroupDiscription.Malformed",
            "The specified security group rule description is not valid: at most 512 characters, not starting with http:// or https://.",
        ));
    }
    Ok(SecurityGroupRule {
        direction: if ingress { "ingress" } else { "egress" }.into(),
        ip_protocol: protocol,
        port_range: ports.to_string(),
        cidr_ip: cidr,
        group_id: other,
        policy: policy.into(),
        priority,
        nic_type: nic.into(),
        description: description.to_string(),
        created: ctx.now(),
    })
}

/// The fields that make two rules the same rule (not the description or creation time).
fn same_rule(a: &SecurityGroupRule, b: &SecurityGroupRule) -> bool {
    (&a.direction, &a.ip_protocol, &a.port_range, &a.cidr_ip, &a.group_id, &a.policy, a.priority, &a.nic_type)
        == (&b.direction, &b.ip_protocol, &b.port_range, &b.cidr_ip, &b.group_id, &b.policy, b.priority, &b.nic_type)
}

fn authorize(ctx: &mut Ctx, p: &Params, ingress: bool) -> Result<Value> {
    let region = region(p)?;
    let mut g = load_group(ctx, region, p.required("SecurityGroupId")?)?;
    let rule = rule_from(ctx, p, region, &g, ingress)?;
    // Authorizing a rule that exists already succeeds and changes nothing.
    if !g.rules.iter().any(|r| same_rule(r, &rule)) {
        if g.rules.len() >= RULES_PER_GROUP {
            return Err(Error::service(
                403,
                "AuthorizationLimitExceed",
                format!("The limit of authorization records in the security group reaches: {} holds {RULES_PER_GROUP} rules.", g.id),
            ));
        }
        g.rules.push(rule);
        save(ctx, &g)?;
    }
    Ok(json!({}))
}

pub fn authorize_security_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    authorize(ctx, p, true)
}

pub fn authorize_security_group_egress(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    authorize(ctx, p, false)
}

pub fn revoke_security_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let mut g = load_group(ctx, region, p.required("SecurityGroupId")?)?;
    let rule = rule_from(ctx, p, region, &g, true)?;
    let before = g.rules.len();
    g.rules.retain(|r| !same_rule(r, &rule));
    if g.rules.len() == before {
        return Err(Error::service(
            403,
            "InvalidGroupAuthItem.NotFound",
            format!(
                "Specified group authorized item does not exist in our records: no {} {} rule for {} in {}.",
                rule.ip_protocol,
                rule.port_range,
                if rule.cidr_ip.is_empty() { &rule.group_id } else { &rule.cidr_ip },
                g.id
            ),
        ));
    }
    save(ctx, &g)?;
    Ok(json!({}))
}

/// The instance and group of Join/LeaveSecurityGroup (`RegionId` is optional there).
fn instance_and_group(ctx: &mut Ctx, p: &Params) -> Result<(Instance, SecurityGroup)> {
    let account = ctx.account().to_string();
    let inst = load_instance(ctx.tx, &account, p.required("InstanceId")?)?;
    if let Some(r) = p.optional("RegionId") {
        if r != inst.region_id {
            return Err(instance_not_found(&inst.id));
        }
    }
    let region = super::catalogue::region(&inst.region_id).ok_or_else(|| super::region_not_found(&inst.region_id))?;
    let g = load_group(ctx, region, p.required("SecurityGroupId")?)?;
    Ok((inst, g))
}

pub fn join_security_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let (mut inst, g) = instance_and_group(ctx, p)?;
    if g.vpc_id != inst.vpc_id {
        return Err(Error::service(
            400,
            "InvalidInstanceId.Mismatch",
            format!("Specified instance and security group are not in the same VPC: {} and {}.", inst.id, g.id),
        ));
    }
    if inst.security_group_ids.contains(&g.id) {
        return Err(Error::service(
            403,
            "InvalidInstanceId.AlreadyExists",
            format!("The specified instance already exists in the specified security group: {} is in {}.", inst.id, g.id),
        ));
    }
    if inst.security_group_ids.len() >= GROUPS_PER_INSTANCE {
        return Err(Error::service(
            400,
            "InstanceSecurityGroupLimitExceeded",
            format!("Exceeding the allowed amount of security groups that an instance can be in: {} is in {GROUPS_PER_INSTANCE}.", inst.id),
        ));
    }
    inst.security_group_ids.push(g.id);
    super::instances::save(ctx, &inst)?;
    Ok(json!({}))
}

pub fn leave_security_group(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let (mut inst, g) = instance_and_group(ctx, p)?;
    if !inst.security_group_ids.contains(&g.id) {
        return Err(Error::service(
            403,
            "InstanceNotInSecurityGroup",
            format!("The instance not in the group: {} is not in {}.", inst.id, g.id),
        ));
    }
    if inst.security_group_ids.len() == 1 {
        return Err(Error::service(
            403,
            "InstanceLastSecurityGroup",
            format!("The specified security group is the last security group for the instance: {} must stay in {}.", inst.id, g.id),
        ));
    }
    inst.security_group_ids.retain(|id| id != &g.id);
    super::instances::save(ctx, &inst)?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources() {
        assert!(ipv4_source("0.0.0.0/0") && ipv4_source("10.0.0.0/8") && ipv4_source("192.168.1.7"));
        assert!(!ipv4_source("10.0.0.1/8") && !ipv4_source("nonsense") && !ipv4_source("::/0"));
    }
}
