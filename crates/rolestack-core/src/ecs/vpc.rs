//! VPCs and vSwitches through the ECS API's legacy actions (CreateVpc, DescribeVpcs, DeleteVpc,
//! CreateVSwitch, DescribeVSwitches, DeleteVSwitch), with the VPC service's rules: a VPC's CIDR
//! block is a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or a part) with a /8../24
//! mask; a vSwitch's block is a /16../29 inside its VPC's block that overlaps no other vSwitch of
//! the VPC; the first and the last three addresses of a vSwitch are reserved; a VPC with vSwitches
//! or security groups and a vSwitch with instances cannot be deleted.

use std::collections::HashSet;
use std::fmt;
use std::net::Ipv4Addr;

use serde_json::{json, Value};

use super::{check_description, check_name, client_token, page, region, resource_id, security_groups, Region};
use crate::handler::Ctx;
use crate::model::{Instance, VSwitch, Vpc};
use crate::params::Params;
use crate::store::Kind;
use crate::{Error, Result};

/// The ranges VPC CIDR blocks must fall in.
const PRIVATE_RANGES: [Cidr; 3] = [
    Cidr { base: 0x0a00_0000, len: 8 },  // 10.0.0.0/8
    Cidr { base: 0xac10_0000, len: 12 }, // 172.16.0.0/12
    Cidr { base: 0xc0a8_0000, len: 16 }, // 192.168.0.0/16
];
/// CreateVpc's default block.
pub const DEFAULT_VPC_CIDR: &str = "172.16.0.0/12";
/// At most this many vSwitches per VPC.
pub const VSWITCHES_PER_VPC: usize = 24;

/// An IPv4 CIDR block whose host bits are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    base: u32,
    len: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`; `None` if malformed or if host bits are set (`172.16.1.0/16`).
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, len) = s.split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        if len.is_empty() || len.len() > 2 || !len.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let len: u8 = len.parse().ok()?;
        if len > 32 {
            return None;
        }
        let base = u32::from(addr);
        (base & mask(len) == base).then_some(Cidr { base, len })
    }
    pub fn prefix_len(&self) -> u8 {
        self.len
    }
    /// Whether `other` lies entirely inside this block.
    pub fn contains(&self, other: &Cidr) -> bool {
        other.len >= self.len && other.base & mask(self.len) == self.base
    }
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.contains(other) || other.contains(self)
    }
    pub fn contains_addr(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & mask(self.len) == self.base
    }
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.len))
    }
    /// Addresses instances may get: all but the first and the last three.
    pub fn usable(&self) -> u64 {
        self.size().saturating_sub(4)
    }
    /// The block's subnet mask (`255.255.255.0` for a /24).
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(mask(self.len))
    }
    /// The gateway of a vSwitch with this block: the first of its last three (reserved)
    /// addresses, `x.x.x.253` of a /24 (docs/instances.md "The metadata tree").
    pub fn gateway(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.base.wrapping_add(self.size().saturating_sub(3) as u32))
    }
    /// The usable addresses, lowest first, that are not in `used`; at most `n`.
    pub fn free_addresses(&self, used: &HashSet<Ipv4Addr>, n: usize) -> Vec<Ipv4Addr> {
        let last = self.size().saturating_sub(4);
        (1..=last).map(|i| Ipv4Addr::from(self.base.wrapping_add(i as u32))).filter(|a| !used.contains(a)).take(n).collect()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.len)
    }
}

fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

fn malformed_cidr(value: &str, rule: &str) -> Error {
    Error::service(400, "InvalidCidrBlock.Malformed", format!("Specified CIDR block is not valid: \"{value}\"; {rule}."))
}

/// A VPC block: a /8../24 inside one of the private ranges.
pub fn vpc_cidr(value: &str) -> Result<Cidr> {
    let cidr = Cidr::parse(value)
        .ok_or_else(|| malformed_cidr(value, "expected a network address and mask such as 172.16.0.0/12 (host bits zero)"))?;
    if !(8..=24).contains(&cidr.len) || !PRIVATE_RANGES.iter().any(|r| r.contains(&cidr)) {
        return Err(Error::service(
            400,
            "InvalidParameter",
            format!("Specified CIDR block is not valid: {value}. Use 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or a subnet of them, with a mask of 8 to 24 bits."),
        ));
    }
    Ok(cidr)
}

/// A vSwitch block: a /16../29.
pub fn vswitch_cidr(value: &str) -> Result<Cidr> {
    let cidr = Cidr::parse(value)
        .ok_or_else(|| malformed_cidr(value, "expected a network address and mask such as 172.16.0.0/24 (host bits zero)"))?;
    if !(16..=29).contains(&cidr.len) {
        return Err(malformed_cidr(value, "the mask of a vSwitch block must be 16 to 29 bits"));
    }
    Ok(cidr)
}

pub(crate) fn vpc_not_found(id: &str) -> Error {
    Error::service(404, "InvalidVpcId.NotFound", format!("Specified VPC does not exist: {id}."))
}

pub(crate) fn vswitch_not_found(id: &str) -> Error {
    Error::service(404, "InvalidVSwitchId.NotFound", format!("Specified virtual switch does not exist: {id}."))
}

/// A VPC of the caller's account in `region`.
pub(crate) fn load_vpc(ctx: &mut Ctx, region: &Region, id: &str) -> Result<Vpc> {
    let account = ctx.account().to_string();
    match ctx.tx.get_rec::<Vpc>(&account, id)? {
        Some(v) if v.region_id == region.id => Ok(v),
        _ => Err(vpc_not_found(id)),
    }
}

/// A vSwitch of the caller's account in `region`.
pub(crate) fn load_vswitch(ctx: &mut Ctx, region: &Region, id: &str) -> Result<VSwitch> {
    let account = ctx.account().to_string();
    match ctx.tx.get_rec::<VSwitch>(&account, id)? {
        Some(v) if v.region_id == region.id => Ok(v),
        _ => Err(vswitch_not_found(id)),
    }
}

pub(crate) fn all_vpcs(ctx: &mut Ctx) -> Result<Vec<Vpc>> {
    let account = ctx.account().to_string();
    let mut v = ctx.tx.list_rec::<Vpc>(&account, "", None, usize::MAX)?;
    v.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
    Ok(v)
}

pub(crate) fn all_vswitches(ctx: &mut Ctx) -> Result<Vec<VSwitch>> {
    let account = ctx.account().to_string();
    let mut v = ctx.tx.list_rec::<VSwitch>(&account, "", None, usize::MAX)?;
    v.sort_by(|a, b| (&a.created, &a.id).cmp(&(&b.created, &b.id)));
    Ok(v)
}

pub(crate) fn all_instances(ctx: &mut Ctx) -> Result<Vec<Instance>> {
    let account = ctx.account().to_string();
    ctx.tx.list_rec::<Instance>(&account, "", None, usize::MAX)
}

/// The private addresses taken in a vSwitch.
pub(crate) fn used_addresses(ctx: &mut Ctx, vswitch_id: &str) -> Result<HashSet<Ipv4Addr>> {
    Ok(all_instances(ctx)?
        .into_iter()
        .filter(|i| i.vswitch_id.as_deref() == Some(vswitch_id))
        .filter_map(|i| i.private_ip.parse().ok())
        .collect())
}

/// Checks CreateVpc's parameters and stores the new VPC (shared by ECS's legacy CreateVpc and VPC's).
pub(crate) fn new_vpc(ctx: &mut Ctx, p: &Params) -> Result<Vpc> {
    let region = region(p)?;
    let cidr = vpc_cidr(p.optional("CidrBlock").unwrap_or(DEFAULT_VPC_CIDR))?;
    if let Some(name) = p.optional("VpcName") {
        check_name("VpcName", name, &[], "InvalidVpcName.Malformed")?;
    }
    check_description(p.optional("Description"), "InvalidVpcDiscription.Malformed")?;
    let vpc = Vpc {
        id: resource_id("vpc", region, 18),
        region_id: region.id.to_string(),
        name: p.optional("VpcName").unwrap_or_default().to_string(),
        description: p.optional("Description").unwrap_or_default().to_string(),
        cidr_block: cidr.to_string(),
        vrouter_id: resource_id("vrt", region, 18),
        route_table_id: resource_id("vtb", region, 18),
        created: ctx.now(),
    };
    let account = ctx.account().to_string();
    ctx.tx.insert_rec(&account, &vpc.id, &vpc)?;
    Ok(vpc)
}

pub fn create_vpc(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    client_token::once(ctx, p, "CreateVpc", |ctx| {
        let vpc = new_vpc(ctx, p)?;
        Ok(json!({ "RouteTableId": vpc.route_table_id, "VRouterId": vpc.vrouter_id, "VpcId": vpc.id }))
    })
}

/// The VPCs of a region that DescribeVpcs' filters select (`VpcId`: a comma-separated list,
/// `VpcName`, `IsDefault`; there are no default VPCs), oldest first. Shared with VPC 2016-04-28.
pub(crate) fn matching_vpcs(ctx: &mut Ctx, region: &Region, p: &Params) -> Result<Vec<Vpc>> {
    let wanted: Option<Vec<&str>> = p.optional("VpcId").map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).collect());
    let only_default = p.bool("IsDefault")?;
    let name = p.optional("VpcName");
    Ok(all_vpcs(ctx)?
        .into_iter()
        .filter(|v| v.region_id == region.id)
        .filter(|v| wanted.as_ref().is_none_or(|w| w.iter().any(|id| id.eq_ignore_ascii_case(&v.id))))
        .filter(|v| name.is_none_or(|n| n == v.name))
        .filter(|_| only_default != Some(true))
        .collect())
}

pub fn describe_vpcs(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let pg = page(p, 50)?;
    let vswitches = all_vswitches(ctx)?;
    let vpcs = matching_vpcs(ctx, region, p)?;
    let total = vpcs.len();
    let items: Vec<Value> = pg
        .slice(vpcs)
        .iter()
        .map(|v| {
            let switches: Vec<&str> = vswitches.iter().filter(|s| s.vpc_id == v.id).map(|s| s.id.as_str()).collect();
            json!({
                "CidrBlock": v.cidr_block,
                "CreationTime": v.created,
                "Description": v.description,
                "IsDefault": false,
                "RegionId": v.region_id,
                "Status": "Available",
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

pub fn delete_vpc(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let vpc = load_vpc(ctx, region, p.required("VpcId")?)?;
    let children: Vec<String> = all_vswitches(ctx)?.into_iter().filter(|s| s.vpc_id == vpc.id).map(|s| s.id).collect();
    if !children.is_empty() {
        return Err(Error::service(
            400,
            "DependencyViolation.VSwitch",
            format!(
                "Specified object has dependent resources: the VPC {} still has vSwitches ({}). Delete them first (DeleteVSwitch).",
                vpc.id,
                children.join(", ")
            ),
        ));
    }
    let mut groups: Vec<String> =
        security_groups::all_groups(ctx, region)?.into_iter().filter(|g| g.vpc_id.as_deref() == Some(&vpc.id)).map(|g| g.id).collect();
    if !groups.is_empty() {
        groups.sort();
        return Err(Error::service(
            400,
            "DependencyViolation.SecurityGroup",
            format!(
                "Specified object has dependent resources SecurityGroup: the VPC {} still has security groups ({}). Delete them first (DeleteSecurityGroup).",
                vpc.id,
                groups.join(", ")
            ),
        ));
    }
    let account = ctx.account().to_string();
    ctx.tx.delete(Kind::Vpc, &account, &vpc.id)?;
    Ok(json!({}))
}

/// CreateVSwitch of ECS and of VPC 2016-04-28 (the same answer in both).
pub fn create_vswitch(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    client_token::once(ctx, p, "CreateVSwitch", |ctx| new_vswitch(ctx, p))
}

fn new_vswitch(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let vpc_id = p.required("VpcId")?;
    let zone_id = p.required("ZoneId")?;
    let cidr_text = p.required("CidrBlock")?;
    if let Some(name) = p.optional("VSwitchName") {
        check_name("VSwitchName", name, &[], "InvalidVSwitchName.Malformed")?;
    }
    check_description(p.optional("Description"), "InvalidVSwitchDiscription.Malformed")?;
    let vpc = load_vpc(ctx, region, vpc_id)?;
    if !region.has_zone(zone_id) {
        return Err(Error::service(
            404,
            "InvalidZoneId.NotFound",
            format!("Specified zone does not exist: {zone_id} is not a zone of {}.", region.id),
        ));
    }
    let cidr = vswitch_cidr(cidr_text)?;
    let vpc_cidr =
        Cidr::parse(&vpc.cidr_block).ok_or_else(|| Error::Store(format!("VPC {} has a bad CIDR block {}", vpc.id, vpc.cidr_block)))?;
    if !vpc_cidr.contains(&cidr) {
        return Err(Error::service(
            400,
            "InvalidParameter",
            format!("Specified CIDR block is not valid in VPC: {cidr} is not inside the VPC's block {vpc_cidr}."),
        ));
    }
    let siblings: Vec<VSwitch> = all_vswitches(ctx)?.into_iter().filter(|s| s.vpc_id == vpc.id).collect();
    if let Some(other) = siblings.iter().find(|s| Cidr::parse(&s.cidr_block).is_some_and(|c| c.overlaps(&cidr))) {
        return Err(Error::service(
            400,
            "InvalidCidrBlock.Overlapped",
            format!("Specified CIDR block overlapped with other subnets: {cidr} overlaps {} of {}.", other.cidr_block, other.id),
        ));
    }
    if siblings.len() >= VSWITCHES_PER_VPC {
        return Err(Error::service(
            400,
            "QuotaExceeded.VSwitch",
            format!("Virtual switch quota exceeded: a VPC holds at most {VSWITCHES_PER_VPC} vSwitches."),
        ));
    }
    let vsw = VSwitch {
        id: resource_id("vsw", region, 18),
        vpc_id: vpc.id.clone(),
        region_id: region.id.to_string(),
        zone_id: zone_id.to_string(),
        name: p.optional("VSwitchName").unwrap_or_default().to_string(),
        description: p.optional("Description").unwrap_or_default().to_string(),
        cidr_block: cidr.to_string(),
        created: ctx.now(),
    };
    let account = ctx.account().to_string();
    ctx.tx.insert_rec(&account, &vsw.id, &vsw)?;
    Ok(json!({ "VSwitchId": vsw.id }))
}

pub fn describe_vswitches(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let pg = page(p, 50)?;
    let vpc_id = p.optional("VpcId");
    let vswitch_id = p.optional("VSwitchId");
    let zone_id = p.optional("ZoneId");
    let only_default = p.bool("IsDefault")?;
    let instances = all_instances(ctx)?;
    let switches: Vec<VSwitch> = all_vswitches(ctx)?
        .into_iter()
        .filter(|s| s.region_id == region.id)
        .filter(|s| vpc_id.is_none_or(|v| v.eq_ignore_ascii_case(&s.vpc_id)))
        .filter(|s| vswitch_id.is_none_or(|v| v.eq_ignore_ascii_case(&s.id)))
        .filter(|s| zone_id.is_none_or(|z| z == s.zone_id))
        .filter(|_| only_default != Some(true))
        .collect();
    let total = switches.len();
    let items: Vec<Value> = pg
        .slice(switches)
        .iter()
        .map(|s| {
            let used = instances.iter().filter(|i| i.vswitch_id.as_deref() == Some(s.id.as_str())).count() as u64;
            let usable = Cidr::parse(&s.cidr_block).map(|c| c.usable()).unwrap_or(0);
            json!({
                "AvailableIpAddressCount": usable.saturating_sub(used),
                "CidrBlock": s.cidr_block,
                "CreationTime": s.created,
                "Description": s.description,
                "IsDefault": false,
                "ResourceGroupId": "",
                "Status": "Available",
                "VSwitchId": s.id,
                "VSwitchName": s.name,
                "VpcId": s.vpc_id,
                "ZoneId": s.zone_id,
            })
        })
        .collect();
    Ok(json!({ "PageNumber": pg.number, "PageSize": pg.size, "TotalCount": total, "VSwitches": { "VSwitch": items } }))
}

pub fn delete_vswitch(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let vsw = load_vswitch(ctx, region, p.required("VSwitchId")?)?;
    let users: Vec<String> =
        all_instances(ctx)?.into_iter().filter(|i| i.vswitch_id.as_deref() == Some(vsw.id.as_str())).map(|i| i.id).collect();
    if !users.is_empty() {
        return Err(Error::service(
            400,
            "DependencyViolation",
            format!(
                "Specified object has dependent resources: instances {} are in the vSwitch {}. Delete them first.",
                users.join(", "),
                vsw.id
            ),
        ));
    }
    let account = ctx.account().to_string();
    ctx.tx.delete(Kind::VSwitch, &account, &vsw.id)?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parsing() {
        let c = Cidr::parse("172.16.0.0/12").unwrap();
        assert_eq!(c.to_string(), "172.16.0.0/12");
        assert_eq!(c.prefix_len(), 12);
        assert!(Cidr::parse("172.16.1.0/16").is_none(), "host bits set");
        for bad in ["172.16.0.0", "172.16.0.0/33", "172.16.0/16", "a.b.c.d/8", "10.0.0.0/", "10.0.0.0/+8", "10.0.0.0/008"] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().size(), 1 << 32);
    }

    #[test]
    fn netmask_and_gateway() {
        let c = Cidr::parse("172.16.0.0/20").unwrap();
        assert_eq!(c.netmask(), Ipv4Addr::new(255, 255, 240, 0));
        assert_eq!(c.gateway(), Ipv4Addr::new(172, 16, 15, 253));
        let d = Cidr::parse("192.168.1.0/24").unwrap();
        assert_eq!((d.netmask(), d.gateway()), (Ipv4Addr::new(255, 255, 255, 0), Ipv4Addr::new(192, 168, 1, 253)));
    }

    #[test]
    fn containment_and_overlap() {
        let vpc = Cidr::parse("192.168.0.0/16").unwrap();
        let a = Cidr::parse("192.168.1.0/24").unwrap();
        let b = Cidr::parse("192.168.1.128/25").unwrap();
        let c = Cidr::parse("192.168.2.0/24").unwrap();
        assert!(vpc.contains(&a) && a.contains(&b) && !b.contains(&a));
        assert!(a.overlaps(&b) && b.overlaps(&a) && !a.overlaps(&c));
        assert!(!a.contains(&vpc));
        assert!(a.contains_addr("192.168.1.77".parse().unwrap()));
    }

    #[test]
    fn vpc_and_vswitch_rules() {
        assert!(vpc_cidr("10.0.0.0/8").is_ok());
        assert!(vpc_cidr("172.16.0.0/12").is_ok());
        assert!(vpc_cidr("192.168.0.0/24").is_ok());
        assert_eq!(vpc_cidr("192.168.0.0/25").unwrap_err().code(), "InvalidParameter");
        assert_eq!(vpc_cidr("8.8.0.0/16").unwrap_err().code(), "InvalidParameter");
        assert_eq!(vpc_cidr("172.0.0.0/8").unwrap_err().code(), "InvalidParameter");
        assert_eq!(vpc_cidr("nonsense").unwrap_err().code(), "InvalidCidrBlock.Malformed");
        assert!(vswitch_cidr("10.1.0.0/16").is_ok() && vswitch_cidr("10.1.0.0/29").is_ok());
        assert_eq!(vswitch_cidr("10.1.0.0/30").unwrap_err().code(), "InvalidCidrBlock.Malformed");
        assert_eq!(vswitch_cidr("10.0.0.0/15").unwrap_err().code(), "InvalidCidrBlock.Malformed");
    }

    #[test]
    fn reserved_addresses() {
        let c = Cidr::parse("192.168.1.0/29").unwrap();
        assert_eq!(c.usable(), 4);
        let free = c.free_addresses(&HashSet::new(), 10);
        let want: Vec<Ipv4Addr> = (1..=4).map(|i| Ipv4Addr::new(192, 168, 1, i)).collect();
        assert_eq!(free, want);
        let used: HashSet<Ipv4Addr> = [Ipv4Addr::new(192, 168, 1, 1), Ipv4Addr::new(192, 168, 1, 3)].into();
        assert_eq!(c.free_addresses(&used, 10), vec![Ipv4Addr::new(192, 168, 1, 2), Ipv4Addr::new(192, 168, 1, 4)]);
    }
}
