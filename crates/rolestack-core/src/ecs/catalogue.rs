//! The fixed catalogue rolestack's ECS offers: regions and their zones, instance types and public
//! images, with the names and shapes of the real service; and the two actions that list it,
//! DescribeRegions and DescribeZones.

use serde_json::{json, Value};

use crate::handler::Ctx;
use crate::params::Params;
use crate::{Error, Result};

/// A region. `id_code` is the three characters that follow the `-` in the ids of resources made
/// there (`i-bp1…` in cn-hangzhou, `i-uf6…` in cn-shanghai).
#[derive(Debug)]
pub struct Region {
    pub id: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    /// The city (or country) name used in zone names: `Hangzhou Zone G`, `华东 1 可用区 G`.
    pub zone_en: &'static str,
    pub zone_zh: &'static str,
    pub endpoint: &'static str,
    pub id_code: &'static str,
    /// Zone letters: zone ids are `<region>-<letter>`.
    pub zones: &'static [&'static str],
    /// Whether classic-network instances can still be created here (older regions only).
    pub classic: bool,
}

impl Region {
    pub fn zone_ids(&self) -> impl Iterator<Item = String> + '_ {
        self.zones.iter().map(move |z| format!("{}-{z}", self.id))
    }
    pub fn has_zone(&self, zone_id: &str) -> bool {
        zone_id.strip_prefix(self.id).and_then(|rest| rest.strip_prefix('-')).is_some_and(|letter| self.zones.contains(&letter))
    }
    fn zone_name(&self, letter: &str, lang: Lang) -> String {
        let upper = letter.to_ascii_uppercase();
        match lang {
            Lang::Zh => format!("{} 可用区 {upper}", self.zone_zh),
            Lang::En => format!("{} Zone {upper}", self.zone_en),
        }
    }
}

macro_rules! region {
    ($id:literal, $zh:literal, $en:literal, $zzh:literal, $zen:literal, $ep:literal, $code:literal, [$($z:literal),*], $classic:literal) => {
        Region { id: $id, name_zh: $zh, name_en: $en, zone_zh: $zzh, zone_en: $zen, endpoint: $ep, id_code: $code, zones: &[$($z),*], classic: $classic }
    };
}

pub static REGIONS: &[Region] = &[
    region!("cn-qingdao", "华北1（青岛）", "China (Qingdao)", "华北 1", "Qingdao", "ecs.cn-qingdao.aliyuncs.com", "m5e", ["b", "c"], true),
    region!(
        "cn-beijing",
        "华北2（北京）",
        "China (Beijing)",
        "华北 2",
        "Beijing",
        "ecs.cn-beijing.aliyuncs.com",
        "2ze",
        ["f", "g", "h", "i", "j", "k", "l"],
        true
    ),
    region!(
        "cn-zhangjiakou",
        "华北3（张家口）",
        "China (Zhangjiakou)",
        "华北 3",
        "Zhangjiakou",
        "ecs.cn-zhangjiakou.aliyuncs.com",
        "8vb",
        ["a", "b", "c"],
        false
    ),
    region!(
        "cn-hangzhou",
        "华东1（杭州）",
        "China (Hangzhou)",
        "华东 1",
        "Hangzhou",
        "ecs-cn-hangzhou.aliyuncs.com",
        "bp1",
        ["b", "f", "g", "h", "i", "j", "k"],
        true
    ),
    region!(
        "cn-shanghai",
        "华东2（上海）",
        "China (Shanghai)",
        "华东 2",
        "Shanghai",
        "ecs.cn-shanghai.aliyuncs.com",
        "uf6",
        ["b", "e", "f", "g", "l", "m", "n"],
        true
    ),
    region!(
        "cn-shenzhen",
        "华南1（深圳）",
        "China (Shenzhen)",
        "华南 1",
        "Shenzhen",
        "ecs.cn-shenzhen.aliyuncs.com",
        "wz9",
        ["a", "b", "c", "d", "e", "f"],
        true
    ),
    region!(
        "cn-hongkong",
        "中国香港",
        "China (Hong Kong)",
        "香港",
        "Hong Kong",
        "ecs.cn-hongkong.aliyuncs.com",
        "j6c",
        ["b", "c", "d"],
        true
    ),
    region!(
        "ap-southeast-1",
        "新加坡",
        "Singapore",
        "新加坡",
        "Singapore",
        "ecs.ap-southeast-1.aliyuncs.com",
        "t4n",
        ["a", "b", "c"],
        false
    ),
    region!(
        "ap-northeast-1",
        "日本（东京）",
        "Japan (Tokyo)",
        "东京",
        "Tokyo",
        "ecs.ap-northeast-1.aliyuncs.com",
        "6we",
        ["a", "b", "c"],
        false
    ),
    region!(
        "us-west-1",
        "美国（硅谷）",
        "US (Silicon Valley)",
        "美国西部 1",
        "Silicon Valley",
        "ecs.us-west-1.aliyuncs.com",
        "rj9",
        ["a", "b"],
        true
    ),
    region!(
        "us-east-1",
        "美国（弗吉尼亚）",
        "US (Virginia)",
        "美国东部 1",
        "Virginia",
        "ecs.us-east-1.aliyuncs.com",
        "0xi",
        ["a", "b"],
        false
    ),
    region!(
        "eu-central-1",
        "德国（法兰克福）",
        "Germany (Frankfurt)",
        "欧洲中部 1",
        "Frankfurt",
        "ecs.eu-central-1.aliyuncs.com",
        "gw8",
        ["a", "b", "c"],
        false
    ),
    region!("eu-west-1", "英国（伦敦）", "UK (London)", "英国", "London", "ecs.eu-west-1.aliyuncs.com", "d7o", ["a", "b"], false),
];

pub fn region(id: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.id == id)
}

/// An instance type: vCPUs, memory (MiB, as DescribeInstances reports it) and an hourly price.
#[derive(Debug)]
pub struct InstanceType {
    pub id: &'static str,
    pub family: &'static str,
    pub generation: &'static str,
    pub cpu: u32,
    pub memory_mib: u32,
    pub hourly_price: f64,
}

macro_rules! itype {
    ($id:literal, $family:literal, $gen:literal, $cpu:literal, $mem:literal, $price:literal) => {
        InstanceType { id: $id, family: $family, generation: $gen, cpu: $cpu, memory_mib: $mem, hourly_price: $price }
    };
}

pub static INSTANCE_TYPES: &[InstanceType] = &[
    itype!("ecs.xn4.small", "ecs.xn4", "ecs-1", 1, 1024, 0.22),
    itype!("ecs.n4.small", "ecs.n4", "ecs-1", 1, 2048, 0.35),
    itype!("ecs.n4.large", "ecs.n4", "ecs-1", 2, 4096, 0.7),
    itype!("ecs.t5-lc1m1.small", "ecs.t5", "ecs-2", 1, 1024, 0.1),
    itype!("ecs.t5-lc1m2.large", "ecs.t5", "ecs-2", 2, 4096, 0.31),
    itype!("ecs.t6-c1m1.large", "ecs.t6", "ecs-4", 2, 2048, 0.12),
    itype!("ecs.t6-c1m2.large", "ecs.t6", "ecs-4", 2, 4096, 0.2),
    itype!("ecs.g6.large", "ecs.g6", "ecs-3", 2, 8192, 0.57),
    itype!("ecs.g7.large", "ecs.g7", "ecs-4", 2, 8192, 0.59),
    itype!("ecs.g7.xlarge", "ecs.g7", "ecs-4", 4, 16384, 1.18),
    itype!("ecs.c7.large", "ecs.c7", "ecs-4", 2, 4096, 0.46),
    itype!("ecs.r7.large", "ecs.r7", "ecs-4", 2, 16384, 0.75),
    itype!("ecs.u1-c1m2.large", "ecs.u1", "ecs-4", 2, 4096, 0.36),
    itype!("ecs.e-c1m2.large", "ecs.e", "ecs-4", 2, 4096, 0.27),
];

pub fn instance_type(id: &str) -> Option<&'static InstanceType> {
    INSTANCE_TYPES.iter().find(|t| t.id == id)
}

impl InstanceType {
    /// Burstable and shared families are `EntryLevel`, the others `EnterpriseLevel`.
    pub fn family_level(&self) -> &'static str {
        match self.family {
            "ecs.t5" | "ecs.t6" | "ecs.xn4" | "ecs.n4" | "ecs.e" => "EntryLevel",
            _ => "EnterpriseLevel",
        }
    }
    /// Burstable families earn CPU credits.
    fn burstable(&self) -> bool {
        matches!(self.family, "ecs.t5" | "ecs.t6")
    }
}

/// The instance families of the catalogue with their generation, in catalogue order.
pub fn families() -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for t in INSTANCE_TYPES {
        if !out.iter().any(|(f, _)| *f == t.family) {
            out.push((t.family, t.generation));
        }
    }
    out
}

/// A public image (`ImageOwnerAlias` `system`). Public image ids are their names.
#[derive(Debug)]
pub struct Image {
    pub id: &'static str,
    pub os_name_zh: &'static str,
    pub os_name_en: &'static str,
    /// `linux` or `windows`.
    pub os_type: &'static str,
    /// `Platform`: `CentOS`, `Aliyun`, `Ubuntu`, `Debian`, `Windows Server 2022`.
    pub platform: &'static str,
    /// System disk size in GiB (the image's `Size`).
    pub size_gib: u32,
    pub created: &'static str,
}

macro_rules! image {
    ($id:literal, $zh:literal, $en:literal, $os:literal, $platform:literal, $size:literal, $created:literal) => {
        Image { id: $id, os_name_zh: $zh, os_name_en: $en, os_type: $os, platform: $platform, size_gib: $size, created: $created }
    };
}

pub static IMAGES: &[Image] = &[
    image!(
        "centos_7_03_64_40G_alibase_20170503.vhd",
        "CentOS  7.3 64位",
        "CentOS  7.3 64 bit",
        "linux",
        "CentOS",
        40,
        "2017-05-03T00:00:00Z"
    ),
    image!(
        "centos_7_9_x64_20G_alibase_20240628.vhd",
        "CentOS  7.9 64位",
        "CentOS  7.9 64 bit",
        "linux",
        "CentOS",
        20,
        "2024-06-28T00:00:00Z"
    ),
    image!(
        "aliyun_2_1903_x64_20G_alibase_20240628.vhd",
        "Alibaba Cloud Linux  2.1903 LTS 64位",
        "Alibaba Cloud Linux  2.1903 LTS 64 bit",
        "linux",
        "Aliyun",
        20,
        "2024-06-28T00:00:00Z"
    ),
    image!(
        "aliyun_3_x64_20G_alibase_20221102.vhd",
        "Alibaba Cloud Linux  3.2104 LTS 64位",
        "Alibaba Cloud Linux  3.2104 LTS 64 bit",
        "linux",
        "Aliyun",
        20,
        "2022-11-02T00:00:00Z"
    ),
    image!(
        "aliyun_3_x64_20G_alibase_20240528.vhd",
        "Alibaba Cloud Linux  3.2104 LTS 64位",
        "Alibaba Cloud Linux  3.2104 LTS 64 bit",
        "linux",
        "Aliyun",
        20,
        "2024-05-28T00:00:00Z"
    ),
    image!(
        "ubuntu_20_04_x64_20G_alibase_20240508.vhd",
        "Ubuntu  20.04 64位",
        "Ubuntu  20.04 64 bit",
        "linux",
        "Ubuntu",
        20,
        "2024-05-08T00:00:00Z"
    ),
    image!(
        "ubuntu_22_04_x64_20G_alibase_20240530.vhd",
        "Ubuntu  22.04 64位",
        "Ubuntu  22.04 64 bit",
        "linux",
        "Ubuntu",
        20,
        "2024-05-30T00:00:00Z"
    ),
    image!(
        "debian_12_5_x64_20G_alibase_20240515.vhd",
        "Debian  12.5 64位",
        "Debian  12.5 64 bit",
        "linux",
        "Debian",
        20,
        "2024-05-15T00:00:00Z"
    ),
    image!(
        "win2022_21H2_x64_dtc_en-us_40G_alibase_20240515.vhd",
        "Windows Server  2022 数据中心版 64位英文版",
        "Windows Server  2022 Data Center Edition 64bit English Edition",
        "windows",
        "Windows Server 2022",
        40,
        "2024-05-15T00:00:00Z"
    ),
];

pub fn image(id: &str) -> Option<&'static Image> {
    IMAGES.iter().find(|i| i.id == id)
}

pub const SYSTEM_DISK_CATEGORIES: &[&str] = &["cloud_efficiency", "cloud_ssd", "cloud_essd", "cloud_auto"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lang {
    Zh,
    En,
}

/// `AcceptLanguage`: `zh-CN` (default), `en-US`, `ja` (answered in English): else 404
/// `InvalidAcceptLanguage.NotFound`.
fn lang(p: &Params) -> Result<Lang> {
    match p.optional("AcceptLanguage") {
        None | Some("zh-CN") => Ok(Lang::Zh),
        Some("en-US") | Some("ja") => Ok(Lang::En),
        Some(other) => Err(Error::service(
            404,
            "InvalidAcceptLanguage.NotFound",
            format!("Only Chinese (zh-CN), English (en-US), and Japanese (ja) are allowed; got {other}."),
        )),
    }
}

fn check_charge_type(p: &Params) -> Result<()> {
    match p.optional("InstanceChargeType") {
        None | Some("PrePaid" | "PostPaid" | "SpotWithPriceLimit" | "SpotAsPriceGo") => Ok(()),
        Some(other) => Err(Error::service(
            404,
            "InvalidInstanceChargeType.NotFound",
            format!("The InstanceChargeType does not exist in our records: {other}."),
        )),
    }
}

pub fn describe_regions(_ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let lang = lang(p)?;
    check_charge_type(p)?;
    match p.optional("ResourceType") {
        None | Some("instance" | "disk" | "reservedinstance" | "scu") => {}
        Some(other) => {
            return Err(Error::service(
                404,
                "InvalidResourceType.NotFound",
                format!("The ResourceType provided does not exist in our records: {other}."),
            ))
        }
    }
    let regions: Vec<Value> = REGIONS
        .iter()
        .map(|r| {
            json!({
                "RegionId": r.id,
                "LocalName": if lang == Lang::Zh { r.name_zh } else { r.name_en },
                "RegionEndpoint": r.endpoint,
                "Status": "available",
            })
        })
        .collect();
    Ok(json!({ "Regions": { "Region": regions } }))
}

pub fn describe_zones(_ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = super::region(p)?;
    let lang = lang(p)?;
    check_charge_type(p)?;
    match p.optional("SpotStrategy") {
        None | Some("NoSpot" | "SpotWithPriceLimit" | "SpotAsPriceGo") => {}
        Some(other) => {
            return Err(Error::service(400, "InvalidSpotStrategy", format!("The specified SpotStrategy is not valid: {other}.")))
        }
    }
    let verbose = p.optional("Verbose").is_none() || p.flag("Verbose")?;
    let types: Vec<&str> = INSTANCE_TYPES.iter().map(|t| t.id).collect();
    let mut families: Vec<&str> = INSTANCE_TYPES.iter().map(|t| t.family).collect();
    families.dedup();
    let mut generations: Vec<&str> = INSTANCE_TYPES.iter().map(|t| t.generation).collect();
    generations.sort_unstable();
    generations.dedup();
    let networks: Vec<&str> = if region.classic { vec!["vpc", "classic"] } else { vec!["vpc"] };
    let zones: Vec<Value> = region
        .zones
        .iter()
        .map(|letter| {
            let mut zone = json!({
                "ZoneId": format!("{}-{letter}", region.id),
                "LocalName": region.zone_name(letter, lang),
                "ZoneType": "AvailabilityZone",
            });
            if verbose {
                let extra = json!({
                    "AvailableResourceCreation": { "ResourceTypes": ["VSwitch", "IoOptimized", "Instance", "Disk"] },
                    "AvailableInstanceTypes": { "InstanceTypes": types },
                    "AvailableDiskCategories": { "DiskCategories": SYSTEM_DISK_CATEGORIES },
                    "AvailableVolumeCategories": { "VolumeCategories": ["cloud_efficiency", "cloud_ssd", "cloud_essd"] },
                    "AvailableDedicatedHostTypes": { "DedicatedHostType": [] },
                    "DedicatedHostGenerations": { "DedicatedHostGeneration": [] },
                    "AvailableResources": { "ResourcesInfo": [{
                        "IoOptimized": true,
                        "InstanceTypes": { "supportedInstanceType": types },
                        "InstanceTypeFamilies": { "supportedInstanceTypeFamily": families },
                        "InstanceGenerations": { "supportedInstanceGeneration": generations },
                        "NetworkTypes": { "supportedNetworkCategory": networks },
                        "SystemDiskCategories": { "supportedSystemDiskCategory": SYSTEM_DISK_CATEGORIES },
                        "DataDiskCategories": { "supportedDataDiskCategory": SYSTEM_DISK_CATEGORIES },
                    }]},
                });
                if let (Value::Object(z), Value::Object(e)) = (&mut zone, extra) {
                    z.extend(e);
                }
            }
            zone
        })
        .collect();
    Ok(json!({ "Zones": { "Zone": zones } }))
}

/// DescribeInstanceTypes: `InstanceTypeFamily` and `InstanceTypes.N` filter. Fields in the order of
/// the API reference's response table.
pub fn describe_instance_types(_ctx: &mut Ctx, p: &Params) -> Result<Value> {
    if let Some(r) = p.optional("RegionId") {
        region(r).ok_or_else(|| super::region_not_found(r))?;
    }
    let family = p.optional("InstanceTypeFamily");
    let wanted: Vec<&str> = p.repeated("InstanceTypes").into_iter().map(|(_, v)| v).collect();
    let types: Vec<Value> = INSTANCE_TYPES
        .iter()
        .filter(|t| family.is_none_or(|f| f == t.family))
        .filter(|t| wanted.is_empty() || wanted.contains(&t.id))
        .map(|t| {
            let credit = if t.burstable() { t.cpu * 30 } else { 0 };
            let mbps = if t.family_level() == "EntryLevel" { 100_000 } else { 1_000_000 } * t.cpu;
            json!({
                "BaselineCredit": if t.burstable() { t.cpu * 10 } else { 0 },
                "CpuCoreCount": t.cpu,
                "DiskQuantity": 17,
                "EniIpv6AddressQuantity": 1,
                "EniPrivateIpAddressQuantity": if t.cpu > 2 { 10 } else { 6 },
                "EniQuantity": if t.cpu > 2 { 4 } else { 2 },
                "EniTotalQuantity": if t.cpu > 2 { 4 } else { 2 },
                "EniTrunkSupported": false,
                "GPUAmount": 0,
                "GPUSpec": "",
                "InitialCredit": credit,
                "InstanceBandwidthRx": mbps,
                "InstanceBandwidthTx": mbps,
                "InstanceFamilyLevel": t.family_level(),
                "InstancePpsRx": 100_000 * u64::from(t.cpu),
                "InstancePpsTx": 100_000 * u64::from(t.cpu),
                "InstanceTypeFamily": t.family,
                "InstanceTypeId": t.id,
                "LocalStorageCategory": "",
                "MemorySize": f64::from(t.memory_mib) / 1024.0,
            })
        })
        .collect();
    Ok(json!({ "InstanceTypes": { "InstanceType": types } }))
}

/// The generations DescribeInstanceTypeFamilies accepts.
const GENERATIONS: &[&str] = &["ecs-1", "ecs-2", "ecs-3", "ecs-4", "ecs-5", "ecs-6"];

/// DescribeInstanceTypeFamilies: the families of the catalogue, optionally of one `Generation`.
pub fn describe_instance_type_families(_ctx: &mut Ctx, p: &Params) -> Result<Value> {
    super::region(p)?;
    let generation = p.optional("Generation");
    if let Some(g) = generation {
        if !GENERATIONS.contains(&g) {
            return Err(super::invalid("Generation", format_args!("\"{g}\" is not one of {}.", GENERATIONS.join(", "))));
        }
    }
    let families: Vec<Value> = families()
        .into_iter()
        .filter(|(_, g)| generation.is_none_or(|w| w == *g))
        .map(|(f, g)| json!({ "Generation": g, "InstanceTypeFamilyId": f }))
        .collect();
    Ok(json!({ "InstanceTypeFamilies": { "InstanceTypeFamily": families } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_is_consistent() {
        for (i, r) in REGIONS.iter().enumerate() {
            assert!(REGIONS[i + 1..].iter().all(|o| o.id != r.id && o.id_code != r.id_code), "{}", r.id);
            assert_eq!(r.id_code.len(), 3);
            assert!(!r.zones.is_empty());
        }
        for (i, t) in INSTANCE_TYPES.iter().enumerate() {
            assert!(INSTANCE_TYPES[i + 1..].iter().all(|o| o.id != t.id), "{}", t.id);
            assert!(t.id.starts_with(t.family));
        }
        let hz = region("cn-hangzhou").unwrap();
        assert!(hz.has_zone("cn-hangzhou-g") && !hz.has_zone("cn-hangzhou-z") && !hz.has_zone("cn-shanghai-g"));
        assert!(hz.zone_ids().any(|z| z == "cn-hangzhou-k"));
        assert!(instance_type("ecs.xn4.small").is_some() && image("centos_7_03_64_40G_alibase_20170503.vhd").is_some());
    }
}
