//! VPC 2016-04-28, its own product (`vpc.aliyuncs.com`, RAM actions `vpc:*`, ARNs
//! `acs:vpc:<region>:<account>:vpc/<id>` and `.../vswitch/<id>`): CreateVpc, DescribeVpcs,
//! DescribeVpcAttribute, ModifyVpcAttribute, DeleteVpc, CreateVSwitch, DescribeVSwitches,
//! DescribeVSwitchAttributes, DeleteVSwitch. They work on the same records as ECS 2014-05-26's
//! legacy network actions ([`crate::ecs::vpc`], whose CIDR rules and checks they share), so a VPC
//! made here is the one ECS instances are placed in. Responses carry the VPC API's fields, in the
//! order of its reference tables; error codes and sources: docs/vpc-errors.md.

use serde_json::{json, Value};

use crate::ecs::vpc::{self as net, all_instances, all_vpcs, all_vswitches, load_vpc, load_vswitch, new_vpc, Cidr};
use crate::ecs::{catalogue, check_description, check_name, client_token, page, region, Region};
use crate::handler::Ctx;
use crate::model::{VSwitch, Vpc};
use crate::params::Params;
use crate::{Error, Result};

pub use crate::ecs::vpc::{create_vswitch, delete_vpc, delete_vswitch};

pub fn create_vpc(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    client_token::once(ctx, p, "vpc:CreateVpc", |ctx| {
        let vpc = new_vpc(ctx, p)?;
        Ok(json!({ "ResourceGroupId": "", "RouteTableId": vpc.route_table_id, "VRouterId": vpc.vrouter_id, "VpcId": vpc.id }))
    })
}

fn owner(ctx: &Ctx) -> Value {
    ctx.account().parse::<u64>().map(Value::from).unwrap_or_else(|_| json!(ctx.account()))
}

pub fn describe_vpcs(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let pg = page(p, 50)?;
    let vswitches = all_vswitches(ctx)?;
    let vpcs = net::matching_vpcs(ctx, region, p)?;
    let total = vpcs.len();
    let owner = owner(ctx);
    let items: Vec<Value> = pg
        .slice(vpcs)
        .iter()
        .map(|v| {
            let switches: Vec<&str> = vswitches.iter().filter(|s| s.vpc_id == v.id).map(|s| s.id.as_str()).collect();
            json!({
                "CenStatus": "",
                "CidrBlock": v.cidr_block,
                "CreationTime": v.created,
                "Description": v.description,
                "DhcpOptionsSetId": "",
                "DhcpOptionsSetStatus": "",
                "DnsHostnameStatus": "DISABLED",
                "EnabledIpv6": false,
                "Ipv6CidrBlock": "",
                "Ipv6CidrBlocks": { "Ipv6CidrBlock": [] },
                "IsDefault": false,
                "NatGatewayIds": { "NatGatewayIds": [] },
                "OwnerId": owner,
                "RegionId": v.region_id,
                "ResourceGroupId": "",
                "RouterTableIds": { "RouterTableIds": [v.route_table_id] },
                "SecondaryCidrBlocks": { "SecondaryCidrBlock": [] },
                "Status": "Available",
                "Tags": { "Tag": [] },
                "UserCidrs": { "UserCidr": [] },
                "VRouterId": v.vrouter_id,
                "VSwitchIds": { "VSwitchId": switches },
                "VpcId": v.id,
                "VpcName": v.name,
            })
        })
        .collect();
    Ok(json!({ "PageNumber": pg.number, "PageSize": pg.size, "TotalCount": total, "Vpcs": { "Vpc": items } }))
}

pub fn describe_vpc_attribute(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let v = load_vpc(ctx, region, p.required("VpcId")?)?;
    let switches: Vec<String> = all_vswitches(ctx)?.into_iter().filter(|s| s.vpc_id == v.id).map(|s| s.id).collect();
    let resources = json!([
        { "ResourceCount": switches.len(), "ResourceType": "VSwitch" },
        { "ResourceCount": 1, "ResourceType": "VRouter" },
        { "ResourceCount": 1, "ResourceType": "RouteTable" },
    ]);
    Ok(json!({
        "AssociatedCens": { "AssociatedCen": [] },
        "CidrBlock": v.cidr_block,
        "ClassicLinkEnabled": false,
        "CloudResources": { "CloudResourceSetType": resources },
        "CreationTime": v.created,
        "Description": v.description,
        "Ipv6CidrBlock": "",
        "IsDefault": false,
        "OwnerId": owner(ctx),
        "RegionId": v.region_id,
        "ResourceGroupId": "",
        "Status": "Available",
        "UserCidrs": { "UserCidr": [] },
        "VRouterId": v.vrouter_id,
        "VSwitchIds": { "VSwitchId": switches },
        "VpcId": v.id,
        "VpcName": v.name,
    }))
}

/// ModifyVpcAttribute: `VpcName`, `Description`, and `CidrBlock` (a new block must still hold
/// every vSwitch of the VPC).
pub fn modify_vpc_attribute(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let mut v = load_vpc(ctx, region, p.required("VpcId")?)?;
    if let Some(name) = p.optional("VpcName") {
        check_name("VpcName", name, &[], "InvalidVpcName.Malformed")?;
        v.name = name.to_string();
    }
    check_description(p.optional("Description"), "InvalidVpcDiscription.Malformed")?;
    if let Some(d) = p.optional("Description") {
        v.description = d.to_string();
    }
    if let Some(text) = p.optional("CidrBlock") {
        let cidr = net::vpc_cidr(text)?;
        if let Some(outside) = all_vswitches(ctx)?
            .into_iter()
            .filter(|s| s.vpc_id == v.id)
            .find(|s| Cidr::parse(&s.cidr_block).is_none_or(|c| !cidr.contains(&c)))
        {
            return Err(Error::service(
                400,
                "InvalidCidrBlock.Malformed",
                format!("Specified CIDR block is not valid: {cidr} does not hold {} of the vSwitch {}.", outside.cidr_block, outside.id),
            ));
        }
        v.cidr_block = cidr.to_string();
    }
    let account = ctx.account().to_string();
    ctx.tx.update_rec(&account, &v.id.clone(), &v)?;
    Ok(json!({}))
}

/// A vSwitch as DescribeVSwitches / DescribeVSwitchAttributes show it, fields in table order.
fn vswitch_fields(s: &VSwitch, vpc_route_table: &str, used: u64, owner: &Value) -> serde_json::Map<String, Value> {
    let usable = Cidr::parse(&s.cidr_block).map(|c| c.usable()).unwrap_or(0);
    let v = json!({
        "AvailableIpAddressCount": usable.saturating_sub(used),
        "CidrBlock": s.cidr_block,
        "CreationTime": s.created,
        "Description": s.description,
        "EnabledIpv6": false,
        "Ipv6CidrBlock": "",
        "IsDefault": false,
        "NetworkAclId": "",
        "OwnerId": owner,
        "ResourceGroupId": "",
        "RouteTable": { "RouteTableId": vpc_route_table, "RouteTableType": "System" },
        "ShareType": "",
        "Status": "Available",
        "Tags": { "Tag": [] },
        "VSwitchId": s.id,
        "VSwitchName": s.name,
        "VpcId": s.vpc_id,
        "ZoneId": s.zone_id,
    });
    match v {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// The region of a VPC-product call: `RegionId`, or — where the API lets it be left out
/// (DescribeVSwitches with `VpcId`) — the VPC's.
fn region_or_vpcs(ctx: &mut Ctx, p: &Params) -> Result<&'static Region> {
    if p.optional("RegionId").is_some() {
        return region(p);
    }
    let Some(vpc_id) = p.optional("VpcId") else { return Err(p.style().missing("RegionId")) };
    let account = ctx.account().to_string();
    let vpc = ctx.tx.get_rec::<Vpc>(&account, vpc_id)?.ok_or_else(|| net::vpc_not_found(vpc_id))?;
    catalogue::region(&vpc.region_id).ok_or_else(|| crate::ecs::region_not_found(&vpc.region_id))
}

fn used_in(instances: &[crate::model::Instance], vswitch_id: &str) -> u64 {
    instances.iter().filter(|i| i.vswitch_id.as_deref() == Some(vswitch_id)).count() as u64
}

pub fn describe_vswitches(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region_or_vpcs(ctx, p)?;
    let pg = page(p, 50)?;
    let only_default = p.bool("IsDefault")?;
    let instances = all_instances(ctx)?;
    let vpcs = all_vpcs(ctx)?;
    let switches: Vec<VSwitch> = all_vswitches(ctx)?
        .into_iter()
        .filter(|s| s.region_id == region.id)
        .filter(|s| p.optional("VpcId").is_none_or(|v| v == s.vpc_id))
        .filter(|s| p.optional("VSwitchId").is_none_or(|v| v == s.id))
        .filter(|s| p.optional("ZoneId").is_none_or(|z| z == s.zone_id))
        .filter(|s| p.optional("VSwitchName").is_none_or(|n| n == s.name))
        .filter(|_| only_default != Some(true))
        .collect();
    let total = switches.len();
    let owner = owner(ctx);
    let items: Vec<Value> = pg
        .slice(switches)
        .iter()
        .map(|s| {
            let table = vpcs.iter().find(|v| v.id == s.vpc_id).map(|v| v.route_table_id.as_str()).unwrap_or_default();
            Value::Object(vswitch_fields(s, table, used_in(&instances, &s.id), &owner))
        })
        .collect();
    Ok(json!({ "PageNumber": pg.number, "PageSize": pg.size, "TotalCount": total, "VSwitches": { "VSwitch": items } }))
}

pub fn describe_vswitch_attributes(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let s = load_vswitch(ctx, region, p.required("VSwitchId")?)?;
    let table = load_vpc(ctx, region, &s.vpc_id)?.route_table_id;
    let used = used_in(&all_instances(ctx)?, &s.id);
    let mut fields = vswitch_fields(&s, &table, used, &owner(ctx));
    // DescribeVSwitchAttributes has no Tags field.
    fields.shift_remove("Tags");
    Ok(Value::Object(fields))
}
