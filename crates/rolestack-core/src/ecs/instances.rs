//! Instances: CreateInstance (left `Stopped`, as on ECS), RunInstances (`Running`), DescribeInstances
//! (filters, PageNumber/PageSize and NextToken/MaxResults paging), StartInstance, StopInstance,
//! DeleteInstance (a running instance needs `Force`) and ModifyInstanceMetadataOptions.
//!
//! An instance with a `VSwitchId` is a VPC instance and gets the lowest free private address of the
//! vSwitch (the first and last three are reserved); without one it is a classic-network instance
//! (only in regions that still offer it) with a unique `10.x.x.x` inner address. Host names default
//! to `iZ<id without "i-">Z`, MAC addresses are `00:16:3e:xx:xx:xx`. State changes are immediate.
//! Stopping, rebooting or deleting an instance powers it off: the host ends what runs inside it
//! ([`crate::network::InstanceNetwork::release`]).

use std::cmp::Ordering;
use std::collections::HashSet;
use std::net::Ipv4Addr;

use rand::Rng;
use serde_json::{json, Value};

use super::catalogue::{self, Image, InstanceType};
use super::client_token;
use super::key_pairs;
use super::ram_roles::{clear_role, mismatch_ram_role, passable_role};
use super::user_data;
use super::vpc::{self, Cidr};
use super::{
    check_description, check_name, dry_run, instance_ids_malformed, load_instance, minute_time, page, region, resource_id, security_groups,
    string_list, tags, Region,
};
use crate::handler::Ctx;
use crate::model::{Instance, VSwitch};
use crate::params::Params;
use crate::store::Kind;
use crate::{Error, Result};

pub const STATUSES: &[&str] = &["Pending", "Running", "Starting", "Stopping", "Stopped"];
/// ECS's "never expires" for pay-as-you-go instances.
const POSTPAID_EXPIRY: &str = "2099-12-31T15:59Z";

/// `IncorrectInstanceStatus` (403): `inst` is not in the status `wanted` describes.
pub(crate) fn incorrect_status(inst: &Instance, wanted: &str) -> Error {
    Error::service(
        403,
        "IncorrectInstanceStatus",
        format!(
            "The current status of the resource does not support this operation: {} is {}; this operation needs {wanted}.",
            inst.id, inst.status
        ),
    )
}

/// Everything CreateInstance and RunInstances validate before creating anything.
struct Plan {
    region: &'static Region,
    zone_id: String,
    image: &'static Image,
    itype: &'static InstanceType,
    vswitch: Option<VSwitch>,
    private_ip: Option<Ipv4Addr>,
    name: Option<String>,
    host_name: Option<String>,
    http_endpoint: String,
    http_tokens: String,
    hop_limit: Option<u8>,
    role: Option<String>,
    security_groups: Vec<String>,
    tags: Vec<(String, String)>,
    description: String,
    disk_category: String,
    disk_size: u32,
    user_data: Option<String>,
    /// `KeyPairName`: the key pair's name and public key.
    key_pair: Option<(String, String)>,
}

fn check_host_name(value: &str, windows: bool) -> Result<()> {
    let bad =
        || Error::service(400, "InvalidHostName.Malformed", format!("The specified parameter \"HostName\" is not valid: \"{value}\"."));
    let len = value.chars().count();
    if windows {
        let ok = (2..=15).contains(&len)
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !value.chars().all(|c| c.is_ascii_digit());
        return if ok { Ok(()) } else { Err(bad()) };
    }
    let ok = (2..=64).contains(&len)
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !value.starts_with(['.', '-'])
        && !value.ends_with(['.', '-'])
        && !value.contains("..")
        && !value.contains("--")
        && !value.contains(".-")
        && !value.contains("-.");
    if ok {
        Ok(())
    } else {
        Err(bad())
    }
}

fn check_password(value: Option<&str>) -> Result<()> {
    let Some(pw) = value else { return Ok(()) };
    let classes = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| c.is_ascii_punctuation()),
    ];
    let ok =
        (8..=30).contains(&pw.chars().count()) && pw.chars().all(|c| c.is_ascii_graphic()) && classes.iter().filter(|c| **c).count() >= 3;
    if ok {
        Ok(())
    } else {
        Err(Error::service(
            400,
            "InvalidPassword.Malformed",
            "The specified parameter \"Password\" is not valid: use 8 to 30 characters with at least three of lower-case letters, upper-case letters, digits and special characters.",
        ))
    }
}

fn metadata_option(p: &Params, name: &str, allowed: [&str; 2], code: &str, message: &str) -> Result<Option<String>> {
    match p.optional(name) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(v) => Err(Error::service(400, code, format!("{message} Got \"{v}\"."))),
    }
}

fn http_endpoint(p: &Params) -> Result<Option<String>> {
    metadata_option(
        p,
        "HttpEndpoint",
        ["enabled", "disabled"],
        "InvalidHttpEndpoint.NotSupported",
        "The specified HttpEndpoint not supported, you can use enabled(default) or disabled.",
    )
}

fn http_tokens(p: &Params) -> Result<Option<String>> {
    metadata_option(
        p,
        "HttpTokens",
        ["optional", "required"],
        "InvalidHttpTokens.NotSupported",
        "The specified HttpTokens not supported, you can use optional(default) or required.",
    )
}

fn hop_limit(p: &Params) -> Result<Option<u8>> {
    match p.optional("HttpPutResponseHopLimit") {
        None => Ok(None),
        Some(v) if v.parse::<u8>().is_ok_and(|n| (1..=64).contains(&n)) => Ok(v.parse().ok()),
        Some(v) => Err(Error::service(
            400,
            "InvalidHttpPutResponseHopLimit.NotSupported",
            format!("The specified HttpPutResponseHopLimit not supported, more than 1 and less than 64 is reasonable. Got \"{v}\"."),
        )),
    }
}

/// `suffixed`: names get a `001`.. suffix (RunInstances `UniqueSuffix`), so they are checked with one.
fn plan(ctx: &mut Ctx, p: &Params, suffixed: bool, action: user_data::Action) -> Result<Plan> {
    let sample = if suffixed { "001" } else { "" };
    let region = region(p)?;
    let image_id = p.required("ImageId")?;
    let type_id = p.required("InstanceType")?;
    let image = catalogue::image(image_id)
        .ok_or_else(|| Error::service(404, "InvalidImageId.NotFound", format!("The specified ImageId does not exist: {image_id}.")))?;
    let itype = catalogue::instance_type(type_id).ok_or_else(|| {
        Error::service(
            400,
            "InvalidInstanceType.ValueNotSupported",
            format!("The specified InstanceType does not exist or beyond the permitted range: {type_id}."),
        )
    })?;
    let zone_param = p.optional("ZoneId");
    if let Some(z) = zone_param {
        if !region.has_zone(z) {
            return Err(Error::service(
                404,
                "InvalidZoneId.NotFound",
                format!("The specified zoneId does not exist: {z} is not a zone of {}.", region.id),
            ));
        }
    }
    let vswitch = match p.optional("VSwitchId") {
        Some(id) => Some(vpc::load_vswitch(ctx, region, id)?),
        None => None,
    };
    let zone_id = match (&vswitch, zone_param) {
        (Some(v), Some(z)) if v.zone_id != z => {
            return Err(Error::service(
                400,
                "InvalidParameter.Mismatch",
                format!("Specified virtual switch is not in the specified zone: {} is in {}, not {z}.", v.id, v.zone_id),
            ))
        }
        (Some(v), _) => v.zone_id.clone(),
        (None, Some(z)) => z.to_string(),
        (None, None) => region.zone_ids().next().unwrap_or_default(),
    };
    if vswitch.is_none() && !region.classic {
        return Err(Error::service(
            400,
            "InvalidVSwitchId.Necessary",
            format!("The VSwitchId is necessary: {} offers only VPC instances.", region.id),
        ));
    }
    let private_ip = match p.optional("PrivateIpAddress") {
        None => None,
        Some(text) => {
            let Some(v) = &vswitch else { return Err(super::missing("VSwitchId")) };
            let cidr = Cidr::parse(&v.cidr_block).ok_or_else(|| Error::Store(format!("vSwitch {} has a bad CIDR block", v.id)))?;
            let addr: Ipv4Addr =
                text.parse().map_err(|_| super::invalid("PrivateIpAddress", format_args!("\"{text}\" is not an IPv4 address.")))?;
            if !cidr.free_addresses(&HashSet::new(), usize::MAX).contains(&addr) {
                return Err(Error::service(
                    400,
                    "InvalidPrivateIpAddress",
                    format!("Specified private IP address is not in the CIDR block of virtual switch: {addr} is not a usable address of {cidr}."),
                ));
            }
            if vpc::used_addresses(ctx, &v.id)?.contains(&addr) {
                return Err(Error::service(
                    400,
                    "InvalidPrivateIpAddress.Duplicated",
                    format!("Specified private IP address is duplicated: {addr} is in use."),
                ));
            }
            Some(addr)
        }
    };
    if let Some(name) = p.optional("InstanceName") {
        check_name("InstanceName", &format!("{name}{sample}"), &[':', ','], "InvalidInstanceName.Malformed")?;
    }
    if let Some(host) = p.optional("HostName") {
        check_host_name(&format!("{host}{sample}"), image.os_type == "windows")?;
    }
    check_description(p.optional("Description"), "InvalidDescription.Malformed")?;
    check_password(p.optional("Password"))?;
    if let Some(cat) = p.optional("SystemDisk.Category") {
        if !catalogue::SYSTEM_DISK_CATEGORIES.contains(&cat) {
            return Err(Error::service(
                400,
                "InvalidSystemDiskCategory.ValueNotSupported",
                format!("The specified parameter \"SystemDisk.Category\" is not valid: {cat}."),
            ));
        }
    }
    p.int("InternetMaxBandwidthOut", 0, 100)?;
    p.int("InternetMaxBandwidthIn", 1, 200)?;
    let http_endpoint = http_endpoint(p)?.unwrap_or_else(|| "enabled".into());
    let http_tokens = http_tokens(p)?.unwrap_or_else(|| "optional".into());
    let hop_limit = hop_limit(p)?;
    let user_data = user_data::param(p, vswitch.is_some(), action)?;
    let min_size = image.size_gib.max(20);
    let disk_size = p.int("SystemDisk.Size", i64::from(min_size), 2048)?.map_or(min_size, |n| n as u32);
    let security_groups = security_groups::groups_for_new_instance(ctx, p, region, vswitch.as_ref().map(|v| v.vpc_id.as_str()))?;
    let tags = tags::request_tags(p)?;
    let key_pair = key_pairs::key_pair_for_new_instance(ctx, p, region)?;
    let role = match p.optional("RamRoleName") {
        None => None,
        Some(name) => {
            if vswitch.is_none() {
                return Err(mismatch_ram_role("the new instance"));
            }
            Some(passable_role(ctx, name, 401, None)?.name)
        }
    };
    Ok(Plan {
        region,
        zone_id,
        image,
        itype,
        vswitch,
        private_ip,
        name: p.optional("InstanceName").map(str::to_string),
        host_name: p.optional("HostName").map(str::to_string),
        http_endpoint,
        http_tokens,
        hop_limit,
        role,
        security_groups,
        tags,
        description: p.optional("Description").unwrap_or_default().to_string(),
        disk_category: p.optional("SystemDisk.Category").unwrap_or("cloud_efficiency").to_string(),
        disk_size,
        user_data,
        key_pair,
    })
}

fn mac() -> String {
    let b: [u8; 3] = rand::thread_rng().gen();
    format!("00:16:3e:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2])
}

fn order_id() -> String {
    let mut rng = rand::thread_rng();
    let mut s = rng.gen_range(1..=9u8).to_string();
    s.extend((0..14).map(|_| char::from(b'0' + rng.gen_range(0..10u8))));
    s
}

/// Up to `amount` private addresses for the plan, at least `min` (else `QuotaExceeded.PrivateIpAddress`):
/// from the vSwitch, or unique classic inner addresses (always `amount`).
fn addresses(ctx: &mut Ctx, plan: &Plan, amount: usize, min: usize) -> Result<Vec<Ipv4Addr>> {
    if let Some(v) = &plan.vswitch {
        if let Some(ip) = plan.private_ip {
            return Ok(vec![ip]);
        }
        let cidr = Cidr::parse(&v.cidr_block).ok_or_else(|| Error::Store(format!("vSwitch {} has a bad CIDR block", v.id)))?;
        let used = vpc::used_addresses(ctx, &v.id)?;
        let free = cidr.free_addresses(&used, amount);
        if free.len() < min {
            return Err(Error::service(
                400,
                "QuotaExceeded.PrivateIpAddress",
                format!("Don't have enough private IPs in this switch: {} has {} free addresses, {min} needed.", v.id, free.len()),
            ));
        }
        return Ok(free);
    }
    let mut taken: HashSet<Ipv4Addr> =
        vpc::all_instances(ctx)?.into_iter().filter(|i| i.network_type == "classic").filter_map(|i| i.private_ip.parse().ok()).collect();
    let mut rng = rand::thread_rng();
    let mut out = Vec::with_capacity(amount);
    while out.len() < amount {
        let ip = Ipv4Addr::new(10, rng.gen(), rng.gen(), rng.gen_range(1..=254));
        if taken.insert(ip) {
            out.push(ip);
        }
    }
    Ok(out)
}

/// Creates `amount` instances in `status`, or as many as the vSwitch has addresses for if that is
/// at least `min` (RunInstances `MinAmount`, docs/ecs-errors.md §4); returns their ids.
fn launch(ctx: &mut Ctx, p: &Params, amount: usize, min: usize, status: &str, action: user_data::Action) -> Result<Vec<String>> {
    let unique_suffix = p.flag("UniqueSuffix")? && amount > 1;
    let plan = plan(ctx, p, unique_suffix, action)?;
    if plan.private_ip.is_some() && amount > 1 {
        return Err(Error::service(403, "InvalidParam.Amount", "Amount must be 1 when PrivateIpAddress is specified."));
    }
    dry_run(p)?;
    let ips = addresses(ctx, &plan, amount, min)?;
    let account = ctx.account().to_string();
    let now = ctx.now();
    let attached_at = plan.role.as_ref().map(|_| ctx.clock.now().unix_timestamp());
    let mut ids = Vec::with_capacity(amount);
    for (n, ip) in ips.into_iter().enumerate() {
        let id = resource_id("i", plan.region, 17);
        let suffix = |base: &str| if unique_suffix { format!("{base}{:03}", n + 1) } else { base.to_string() };
        let inst = Instance {
            name: plan.name.as_deref().map(suffix).unwrap_or_else(|| id.clone()),
            host_name: plan.host_name.as_deref().map(suffix).unwrap_or_else(|| format!("iZ{}Z", &id[2..])),
            region_id: plan.region.id.to_string(),
            zone_id: plan.zone_id.clone(),
            image_id: plan.image.id.to_string(),
            instance_type: plan.itype.id.to_string(),
            network_type: if plan.vswitch.is_some() { "vpc" } else { "classic" }.to_string(),
            vpc_id: plan.vswitch.as_ref().map(|v| v.vpc_id.clone()),
            vswitch_id: plan.vswitch.as_ref().map(|v| v.id.clone()),
            private_ip: ip.to_string(),
            mac: mac(),
            serial_number: uuid::Uuid::new_v4().to_string(),
            status: status.to_string(),
            ram_role_name: plan.role.clone(),
            ram_role_policy: None,
            ram_role_attached_at: attached_at,
            http_endpoint: plan.http_endpoint.clone(),
            http_tokens: plan.http_tokens.clone(),
            http_put_response_hop_limit: plan.hop_limit,
            created: now.clone(),
            description: plan.description.clone(),
            security_group_ids: plan.security_groups.clone(),
            system_disk_category: plan.disk_category.clone(),
            system_disk_size: plan.disk_size,
            user_data: plan.user_data.clone(),
            node: ctx.cluster.node_name().map(str::to_string),
            key_pair_name: plan.key_pair.as_ref().map(|(n, _)| n.clone()),
            public_key: plan.key_pair.as_ref().map(|(_, k)| k.clone()),
            id,
        };
        ctx.tx.insert_rec(&account, &inst.id, &inst)?;
        tags::add(ctx, "instance", &inst.id, plan.region.id, &plan.tags)?;
        ids.push(inst.id);
    }
    Ok(ids)
}

fn price(p: &Params, amount: usize) -> f64 {
    let hourly = p.optional("InstanceType").and_then(catalogue::instance_type).map_or(0.0, |t| t.hourly_price);
    (hourly * amount as f64 * 100.0).round() / 100.0
}

pub fn create_instance(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    client_token::once(ctx, p, "CreateInstance", |ctx| {
        let ids = launch(ctx, p, 1, 1, "Stopped", user_data::Action::CreateInstance)?;
        Ok(json!({ "InstanceId": ids[0], "OrderId": order_id(), "TradePrice": price(p, 1) }))
    })
}

pub fn run_instances(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    client_token::once(ctx, p, "RunInstances", |ctx| run(ctx, p))
}

fn run(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let amount = match p.optional("Amount") {
        None => 1,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(Error::service(
                    403,
                    "InvalidParam.Amount",
                    format!("The specified parameter Amount is not valid: {v}; use 1 to 100."),
                ))
            }
        },
    };
    let min = match p.optional("MinAmount") {
        None => amount,
        Some(v) => match v.parse::<usize>() {
            Ok(m) if (1..=amount).contains(&m) => m,
            _ => {
                return Err(Error::service(
                    400,
                    "InvalidMinAmount.Malformed",
                    format!("The specified parameter MinAmount is not valid: {v}; use 1 to Amount."),
                ))
            }
        },
    };
    let ids = launch(ctx, p, amount, min, "Running", user_data::Action::RunInstances)?;
    Ok(json!({ "OrderId": order_id(), "TradePrice": price(p, ids.len()), "InstanceIdSets": { "InstanceIdSet": ids } }))
}

/// One instance as DescribeInstances shows it: the fields of the API reference's response table,
/// in its order (which tools depend on: footmark sets `EipAddress` before it reads it while setting
/// `PublicIpAddress`).
pub fn render(inst: &Instance, own_tags: &[(String, String)]) -> Value {
    let itype = catalogue::instance_type(&inst.instance_type);
    let image = catalogue::image(&inst.image_id);
    let vpc = inst.network_type == "vpc";
    let interfaces = if let Some(eni) = inst.network_interface_id() {
        json!([{
            "MacAddress": inst.mac,
            "NetworkInterfaceId": eni,
            "PrimaryIpAddress": inst.private_ip,
            "PrivateIpSets": { "PrivateIpSet": [{ "Primary": true, "PrivateIpAddress": inst.private_ip }] },
            "Type": "Primary",
        }])
    } else {
        json!([])
    };
    let cpu = itype.map_or(0, |t| t.cpu);
    json!({
        "AutoReleaseTime": "",
        "ClusterId": "",
        "Cpu": cpu,
        "CpuOptions": { "CoreCount": cpu.div_ceil(2).max(1), "Numa": "", "ThreadsPerCore": if cpu > 1 { 2 } else { 1 } },
        "CreationTime": minute_time(&inst.created),
        "CreditSpecification": "",
        "DedicatedHostAttribute": { "DedicatedHostClusterId": "", "DedicatedHostId": "", "DedicatedHostName": "" },
        "DedicatedInstanceAttribute": { "Affinity": "", "Tenancy": "" },
        "DeletionProtection": false,
        "DeploymentSetGroupNo": 0,
        "DeploymentSetId": "",
        "Description": inst.description,
        "DeviceAvailable": true,
        "EcsCapacityReservationAttr": { "CapacityReservationId": "", "CapacityReservationPreference": "" },
        "EipAddress": { "AllocationId": "", "Bandwidth": 0, "InternetChargeType": "", "IpAddress": "", "IsSupportUnassociate": false },
        "ExpiredTime": POSTPAID_EXPIRY,
        "GPUAmount": 0,
        "GPUSpec": "",
        "HibernationOptions": { "Configured": false },
        "HostName": inst.host_name,
        "HpcClusterId": "",
        "ISP": "",
        "ImageId": inst.image_id,
        "InnerIpAddress": { "IpAddress": if vpc { vec![] } else { vec![inst.private_ip.clone()] } },
        "InstanceChargeType": "PostPaid",
        "InstanceId": inst.id,
        "InstanceName": inst.name,
        "InstanceNetworkType": inst.network_type,
        "InstanceType": inst.instance_type,
        "InstanceTypeFamily": itype.map_or("", |t| t.family),
        "InternetChargeType": "PayByTraffic",
        "InternetMaxBandwidthIn": 0,
        "InternetMaxBandwidthOut": 0,
        "IoOptimized": true,
        "KeyPairName": inst.key_pair_name.clone().unwrap_or_default(),
        "LocalStorageAmount": 0,
        "LocalStorageCapacity": 0,
        "Memory": itype.map_or(0, |t| t.memory_mib),
        "MetadataOptions": { "HttpEndpoint": inst.http_endpoint, "HttpPutResponseHopLimit": inst.http_put_response_hop_limit.unwrap_or(1), "HttpTokens": inst.http_tokens },
        "NetworkInterfaces": { "NetworkInterface": interfaces },
        "OSName": image.map_or("", |i| i.os_name_zh),
        "OSNameEn": image.map_or("", |i| i.os_name_en),
        "OSType": image.map_or("linux", |i| i.os_type),
        "OperationLocks": { "LockReason": [] },
        "PublicIpAddress": { "IpAddress": [] },
        "RdmaIpAddress": { "IpAddress": [] },
        "Recyclable": false,
        "RegionId": inst.region_id,
        "ResourceGroupId": "",
        "SaleCycle": "",
        "SecurityGroupIds": { "SecurityGroupId": inst.security_group_ids },
        "SerialNumber": inst.serial_number,
        "SpotDuration": 0,
        "SpotPriceLimit": 0.0,
        "SpotStrategy": "NoSpot",
        "StartTime": minute_time(&inst.created),
        "Status": inst.status,
        "StoppedMode": if inst.status == "Stopped" { "KeepCharging" } else { "Not-applicable" },
        "Tags": tags::render(own_tags),
        "VlanId": "",
        "VpcAttributes": {
            "NatIpAddress": "",
            "PrivateIpAddress": { "IpAddress": if vpc { vec![inst.private_ip.clone()] } else { vec![] } },
            "VSwitchId": inst.vswitch_id.clone().unwrap_or_default(),
            "VpcId": inst.vpc_id.clone().unwrap_or_default(),
        },
        "ZoneId": inst.zone_id,
    })
}

/// A `*` glob (DescribeInstances `InstanceName`).
pub(crate) fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else { return false };
            if rest.is_empty() {
                return true;
            }
            (0..=tail.len()).filter(|i| tail.is_char_boundary(*i)).any(|i| glob(rest, &tail[i..]))
        }
    }
}

/// Newest first, then by id: the order DescribeInstances pages through.
fn order(a: &Instance, b: &Instance) -> Ordering {
    b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id))
}

fn next_token(inst: &Instance) -> String {
    format!("{}|{}", inst.created, inst.id).bytes().map(|b| format!("{b:02x}")).collect()
}

fn parse_token(token: &str) -> Result<(String, String)> {
    let bad = || Error::service(400, "InvalidParameter.NextToken", format!("The specified parameter NextToken is not valid: {token}."));
    if !token.len().is_multiple_of(2) {
        return Err(bad());
    }
    let bytes: Option<Vec<u8>> =
        (0..token.len()).step_by(2).map(|i| token.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect();
    let text = String::from_utf8(bytes.ok_or_else(bad)?).map_err(|_| bad())?;
    let (created, id) = text.split_once('|').ok_or_else(bad)?;
    Ok((created.to_string(), id.to_string()))
}

fn ip_list_malformed(raw: &str, why: &str) -> Error {
    super::invalid("IpAddresses", format_args!("{why}; got {raw}."))
}

pub fn describe_instances(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let ids = string_list(p, "InstanceIds", 100, instance_ids_malformed)?;
    let private_ips = string_list(p, "PrivateIpAddresses", 100, ip_list_malformed)?;
    let inner_ips = string_list(p, "InnerIpAddresses", 100, ip_list_malformed)?;
    if let Some(s) = p.optional("Status") {
        if !STATUSES.contains(&s) {
            return Err(Error::service(404, "InvalidStatus.NotFound", format!("The specified Status is not found: {s}.")));
        }
    }
    if let Some(t) = p.optional("InstanceNetworkType") {
        if t != "vpc" && t != "classic" {
            return Err(Error::service(
                404,
                "InvalidNetworkType.NotFound",
                format!("The specified InstanceNetworkType is not found: {t}."),
            ));
        }
    }
    http_endpoint(p)?;
    http_tokens(p)?;
    let eq = |name: &str, value: &str| p.optional(name).is_none_or(|w| w == value);
    let eq_opt = |name: &str, value: Option<&String>| p.optional(name).is_none_or(|w| value.is_some_and(|v| v.eq_ignore_ascii_case(w)));
    let mut found: Vec<Instance> = vpc::all_instances(ctx)?
        .into_iter()
        .filter(|i| i.region_id == region.id)
        .filter(|i| ids.as_ref().is_none_or(|ids| ids.iter().any(|id| id.eq_ignore_ascii_case(&i.id))))
        .filter(|i| eq_opt("VpcId", i.vpc_id.as_ref()) && eq_opt("VSwitchId", i.vswitch_id.as_ref()))
        .filter(|i| eq("ZoneId", &i.zone_id) && eq("Status", &i.status) && eq("InstanceNetworkType", &i.network_type))
        .filter(|i| eq("InstanceType", &i.instance_type) && eq("ImageId", &i.image_id))
        .filter(|i| eq("HttpEndpoint", &i.http_endpoint) && eq("HttpTokens", &i.http_tokens))
        .filter(|i| {
            p.optional("InstanceTypeFamily").is_none_or(|f| catalogue::instance_type(&i.instance_type).is_some_and(|t| t.family == f))
        })
        .filter(|i| p.optional("InstanceName").is_none_or(|pat| glob(pat, &i.name)))
        .filter(|i| private_ips.as_ref().is_none_or(|ips| i.network_type == "vpc" && ips.contains(&i.private_ip)))
        .filter(|i| inner_ips.as_ref().is_none_or(|ips| i.network_type == "classic" && ips.contains(&i.private_ip)))
        .filter(|i| p.optional("SecurityGroupId").is_none_or(|g| i.security_group_ids.iter().any(|id| id == g)))
        .filter(|i| p.optional("KeyPairName").is_none_or(|k| i.key_pair_name.as_deref() == Some(k)))
        .collect();
    let filter_tags = tags::request_tags(p)?;
    if !filter_tags.is_empty() {
        let mut tagged = Vec::with_capacity(found.len());
        for inst in found {
            let own = tags::tags_of(ctx, "instance", &inst.id)?;
            if tags::matches(&own, &filter_tags) {
                tagged.push(inst);
            }
        }
        found = tagged;
    }
    found.sort_by(order);
    let total = found.len();
    let token_mode = p.optional("NextToken").is_some() || p.optional("MaxResults").is_some();
    let page_items: Vec<Instance>;
    let more: bool;
    // (PageNumber, PageSize): token paging reports no PageNumber.
    let (number, size) = if token_mode {
        let max = p.int("MaxResults", 1, 100)?.unwrap_or(10) as usize;
        let rest: Vec<Instance> = match p.optional("NextToken") {
            Some(token) => {
                let (created, id) = parse_token(token)?;
                found.into_iter().filter(|i| i.created < created || (i.created == created && i.id > id)).collect()
            }
            None => found,
        };
        more = rest.len() > max;
        page_items = rest.into_iter().take(max).collect();
        (None, max)
    } else {
        let pg = page(p, 100)?;
        more = total > pg.number.saturating_mul(pg.size);
        page_items = pg.slice(found);
        (Some(pg.number), pg.size)
    };
    let token = if more { page_items.last().map(next_token).unwrap_or_default() } else { String::new() };
    let mut rendered = Vec::with_capacity(page_items.len());
    for inst in &page_items {
        let own = tags::tags_of(ctx, "instance", &inst.id)?;
        rendered.push(render(inst, &own));
    }
    // The response table's order: Instances, NextToken, PageNumber, PageSize, TotalCount.
    let mut body = serde_json::Map::new();
    body.insert("Instances".into(), json!({ "Instance": rendered }));
    body.insert("NextToken".into(), json!(token));
    if let Some(n) = number {
        body.insert("PageNumber".into(), json!(n));
    }
    body.insert("PageSize".into(), json!(size));
    body.insert("TotalCount".into(), json!(total));
    Ok(Value::Object(body))
}

/// The instance a call names, in the call's region (`RegionId`, else the region of the endpoint
/// the request was sent to): one of another region is not found, as on ECS.
fn target(ctx: &mut Ctx, p: &Params) -> Result<Instance> {
    let id = p.required("InstanceId")?;
    let account = ctx.account().to_string();
    let inst = load_instance(ctx.tx, &account, id)?;
    match p.optional("RegionId").or(ctx.caller.facts.endpoint_region.as_deref()) {
        Some(r) if r != inst.region_id => Err(super::instance_not_found(id)),
        _ => Ok(inst),
    }
}

pub(crate) fn save(ctx: &mut Ctx, inst: &Instance) -> Result<()> {
    let account = ctx.account().to_string();
    ctx.tx.update_rec(&account, &inst.id, inst)?;
    Ok(())
}

/// Moves an instance from status `from` to `to` (`IncorrectInstanceStatus` from any other status),
/// after checking the action's boolean parameters `flags`.
fn transition(ctx: &mut Ctx, p: &Params, flags: &[&str], from: &str, to: &str) -> Result<Value> {
    let mut inst = target(ctx, p)?;
    for flag in flags {
        p.flag(flag)?;
    }
    if inst.status != from {
        return Err(incorrect_status(&inst, from));
    }
    dry_run(p)?;
    inst.status = to.into();
    save(ctx, &inst)?;
    Ok(json!({}))
}

pub fn start_instance(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    transition(ctx, p, &[], "Stopped", "Running")
}

/// StopInstance: the instance powers off — its metadata service goes away and the programs
/// running inside it end (gracefully, or at once with `ForceStop`; docs/instances.md).
pub fn stop_instance(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let body = transition(ctx, p, &["ForceStop"], "Running", "Stopped")?;
    power_off(ctx, p, "ForceStop")?;
    Ok(body)
}

/// Ends what runs inside the call's instance (`InstanceId`), forced when the boolean `flag` is
/// true. Runs inside the call's transaction: should it still fail, the instance stays `Running`
/// and the next `PrepareInstanceEnvironment` makes its network again.
fn power_off(ctx: &mut Ctx, p: &Params, flag: &str) -> Result<()> {
    let how = crate::network::PowerOff::forced_if(p.flag(flag)?);
    ctx.network.release(p.required("InstanceId")?, how);
    Ok(())
}

pub fn delete_instance(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let mut inst = target(ctx, p)?;
    let force = p.flag("Force")?;
    if inst.status != "Stopped" && !force {
        return Err(incorrect_status(&inst, "Stopped (or Force=true)"));
    }
    dry_run(p)?;
    clear_role(ctx, &mut inst)?;
    let account = ctx.account().to_string();
    ctx.tx.delete(Kind::Instance, &account, &inst.id)?;
    tags::forget(ctx, "instance", &inst.id)?;
    // Its injected metadata faults and their event list go with it.
    ctx.tx.faults_delete(&account, &inst.id, None)?;
    ctx.tx.instance_events_delete(&account, &inst.id)?;
    tags::forget(ctx, "disk", &super::disks::disk_id(&inst.id))?;
    // The instance's metadata listeners and namespace go with it, and what ran inside it ends (a
    // forced deletion of a running instance pulls its power).
    power_off(ctx, p, "Force")?;
    Ok(json!({}))
}

/// RebootInstance: a `Running` instance restarts (at once; it stays `Running`): the programs
/// running inside it end as on StopInstance, and new ones may be started at once.
pub fn reboot_instance(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let body = transition(ctx, p, &["ForceStop"], "Running", "Running")?;
    power_off(ctx, p, "ForceStop")?;
    Ok(body)
}

/// The fields of DescribeInstanceAttribute, in its response table's order: a subset of
/// DescribeInstances' instance.
const ATTRIBUTE_FIELDS: &[&str] = &[
    "ClusterId",
    "Cpu",
    "CreationTime",
    "CreditSpecification",
    "DedicatedHostAttribute",
    "Description",
    "EipAddress",
    "ExpiredTime",
    "HostName",
    "ImageId",
    "InnerIpAddress",
    "InstanceChargeType",
    "InstanceId",
    "InstanceName",
    "InstanceNetworkType",
    "InstanceType",
    "InternetChargeType",
    "InternetMaxBandwidthIn",
    "InternetMaxBandwidthOut",
    "IoOptimized",
    "Memory",
    "OperationLocks",
    "PublicIpAddress",
    "RegionId",
    "SecurityGroupIds",
    "SerialNumber",
    "Status",
    "StoppedMode",
    "VlanId",
    "VpcAttributes",
    "ZoneId",
];

pub fn describe_instance_attribute(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let inst = target(ctx, p)?;
    let Value::Object(mut full) = render(&inst, &[]) else { return Err(Error::Store("instance did not render as an object".into())) };
    let mut body = serde_json::Map::new();
    for field in ATTRIBUTE_FIELDS {
        if let Some(v) = full.remove(*field) {
            body.insert((*field).to_string(), v);
        }
    }
    Ok(Value::Object(body))
}

/// ModifyInstanceAttribute: name, description, host name, password, security groups
/// (`SecurityGroupIds.N` replaces the instance's groups; each must be of its network) and user
/// data (a `Stopped` instance only, as on ECS).
pub fn modify_instance_attribute(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let mut inst = target(ctx, p)?;
    if let Some(name) = p.optional("InstanceName") {
        check_name("InstanceName", name, &[':', ','], "InvalidInstanceName.Malformed")?;
    }
    if let Some(host) = p.optional("HostName") {
        check_host_name(host, catalogue::image(&inst.image_id).is_some_and(|i| i.os_type == "windows"))?;
    }
    check_description(p.optional("Description"), "InvalidDescription.Malformed")?;
    check_password(p.optional("Password"))?;
    let user_data = user_data::param(p, inst.network_type == "vpc", user_data::Action::ModifyInstanceAttribute)?;
    if user_data.is_some() && inst.status != "Stopped" {
        return Err(incorrect_status(&inst, "Stopped (to change UserData)"));
    }
    let groups = if p.repeated("SecurityGroupIds").is_empty() {
        None
    } else {
        let region = catalogue::region(&inst.region_id).ok_or_else(|| super::region_not_found(&inst.region_id))?;
        Some(security_groups::groups_for_new_instance(ctx, p, region, inst.vpc_id.as_deref())?)
    };
    if let Some(name) = p.optional("InstanceName") {
        inst.name = name.to_string();
    }
    if let Some(host) = p.optional("HostName") {
        inst.host_name = host.to_string();
    }
    if let Some(d) = p.optional("Description") {
        inst.description = d.to_string();
    }
    if let Some(g) = groups {
        inst.security_group_ids = g;
    }
    if user_data.is_some() {
        inst.user_data = user_data;
    }
    save(ctx, &inst)?;
    Ok(json!({}))
}

pub fn modify_instance_metadata_options(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    if let Some(r) = p.optional("RegionId") {
        catalogue::region(r).ok_or_else(|| super::region_not_found(r))?;
    }
    let mut inst = target(ctx, p)?;
    let endpoint = http_endpoint(p)?;
    let tokens = http_tokens(p)?;
    let hops = hop_limit(p)?;
    if let Some(e) = endpoint {
        inst.http_endpoint = e;
    }
    if hops.is_some() {
        inst.http_put_response_hop_limit = hops;
    }
    if let Some(t) = tokens {
        inst.http_tokens = t;
    }
    save(ctx, &inst)?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        for ok in ["web-1", "iZbp1abcZ", "a.b.c", "ab"] {
            assert!(check_host_name(ok, false).is_ok(), "{ok}");
        }
        for bad in ["a", "-web", "web-", "a..b", "a_b", "a b", ".ab"] {
            assert!(check_host_name(bad, false).is_err(), "{bad}");
        }
        assert!(check_host_name("win-host", true).is_ok());
        assert!(check_host_name("a-very-long-windows-name", true).is_err());
        assert!(check_host_name("12345", true).is_err());
    }

    #[test]
    fn passwords() {
        assert!(check_password(Some("Abcdef12")).is_ok());
        assert!(check_password(Some("abcdefgh")).is_err());
        assert!(check_password(Some("Ab1!")).is_err());
        assert!(check_password(None).is_ok());
    }

    #[test]
    fn globs() {
        assert!(glob("web*", "web-1") && glob("*-1", "web-1") && glob("w*b*1", "web-1") && glob("*", ""));
        assert!(!glob("web", "web-1") && !glob("db*", "web-1"));
    }

    #[test]
    fn tokens_round_trip() {
        let t = format!("{}|{}", "2024-01-01T00:00:00Z", "i-bp1abc").bytes().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(parse_token(&t).unwrap(), ("2024-01-01T00:00:00Z".to_string(), "i-bp1abc".to_string()));
        assert!(parse_token("zz").is_err() && parse_token("abc").is_err() && parse_token("6162").is_err());
    }
}
