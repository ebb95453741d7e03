//! Alibaba Cloud's service host names, as rolestack answers them: which names exist (so that code
//! written for the real cloud runs unchanged inside an instance or under `rolestack exec`), which
//! service and region each one means, and the bucket of a virtual-hosted OSS name.
//!
//! The names are the ones the official SDKs build by default (see docs/endpoints.md): the tea
//! SDKs' endpoint maps and their `<product>.<region>.aliyuncs.com` rule, aliyun-python-sdk-core's
//! `endpoints.json`, the OSS SDKs' `oss-<region>[-internal].aliyuncs.com`, for every region of the
//! ECS catalogue. Anything else is not a service name: the resolver inside instances answers
//! NXDOMAIN for it and the TLS front-end issues no certificate for it. Pure: no IO.

use crate::ecs::catalogue::REGIONS;

/// The parent domain of every service name.
pub const DOMAIN: &str = "aliyuncs.com";

/// The product a service name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Ram,
    Sts,
    Ecs,
    Vpc,
    ActionTrail,
    /// IMS 2019-08-15 (identity providers): `ims.aliyuncs.com`.
    Ims,
    Oss,
}

impl Service {
    /// Whether the product speaks the RPC protocol (everything but OSS).
    pub fn is_rpc(self) -> bool {
        self != Service::Oss
    }
}

/// What a service host name means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceHost {
    pub service: Service,
    /// The region the name is for (`None` for the global names such as `ram.aliyuncs.com`).
    pub region: Option<&'static str>,
    /// An `-internal` (or `-vpc`) name, as used from inside a VPC.
    pub internal: bool,
    /// The bucket of a virtual-hosted OSS name (`<bucket>.oss-<region>.aliyuncs.com`).
    pub bucket: Option<String>,
}

/// Whether `id` is a region rolestack serves.
pub fn is_region(id: &str) -> bool {
    REGIONS.iter().any(|r| r.id == id)
}

fn region(id: &str) -> Option<&'static str> {
    REGIONS.iter().find(|r| r.id == id).map(|r| r.id)
}

/// Classifies a host name (an optional `:port` and a trailing dot are ignored, case too).
pub fn classify(host: &str) -> Option<ServiceHost> {
    let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    let name = host.strip_suffix(DOMAIN)?.strip_suffix('.')?;
    let global = |service| Some(ServiceHost { service, region: None, internal: false, bucket: None });
    match name {
        "ram" => return global(Service::Ram),
        "sts" => return global(Service::Sts),
        "ecs" => return global(Service::Ecs),
        "vpc" => return global(Service::Vpc),
        "actiontrail" => return global(Service::ActionTrail),
        "ims" => return global(Service::Ims),
        _ => {}
    }
    // `<product>[-vpc].<region>`: the tea SDKs' regional rule (and its VPC network variant).
    if let Some((product, rest)) = name.split_once('.') {
        if let Some(r) = region(rest) {
            let (product, internal) = match product.strip_suffix("-vpc") {
                Some(p) => (p, true),
                None => (product, false),
            };
            let service = match product {
                "ram" => Service::Ram,
                "sts" => Service::Sts,
                "ecs" => Service::Ecs,
                "vpc" => Service::Vpc,
                "actiontrail" => Service::ActionTrail,
                "ims" => Service::Ims,
                _ => return oss_bucket_host(name),
            };
            return Some(ServiceHost { service, region: Some(r), internal, bucket: None });
        }
    }
    // `ecs-<region>`: the ECS SDKs' own endpoint map (e.g. ecs-cn-hangzhou.aliyuncs.com).
    if let Some(r) = name.strip_prefix("ecs-").and_then(region) {
        return Some(ServiceHost { service: Service::Ecs, region: Some(r), internal: false, bucket: None });
    }
    oss_endpoint(name).or_else(|| oss_bucket_host(name))
}

/// `oss-<region>` or `oss-<region>-internal`, and the same names under `s3.`, OSS's endpoints
/// for S3 clients (`s3.oss-<region>[-internal]`).
fn oss_endpoint(name: &str) -> Option<ServiceHost> {
    let rest = name.strip_prefix("s3.").unwrap_or(name).strip_prefix("oss-")?;
    let (id, internal) = match rest.strip_suffix("-internal") {
        Some(id) => (id, true),
        None => (rest, false),
    };
    Some(ServiceHost { service: Service::Oss, region: Some(region(id)?), internal, bucket: None })
}

/// `<bucket>.oss-<region>[-internal]`, with a bucket name OSS would accept.
fn oss_bucket_host(name: &str) -> Option<ServiceHost> {
    let (bucket, endpoint) = name.split_once('.')?;
    let mut host = oss_endpoint(endpoint)?;
    crate::oss::model::validate_bucket_name(bucket).ok()?;
    host.bucket = Some(bucket.to_string());
    Some(host)
}

/// A host without its `:port` (IPv6 literals keep their brackets).
pub fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (!h.contains(':') || h.ends_with(']')) => h,
        _ => host,
    }
}

/// The OSS endpoint of a region: `oss-<region>.aliyuncs.com` (`-internal` when asked).
pub fn oss_endpoint_name(region: &str, internal: bool) -> String {
    format!("oss-{region}{}.{DOMAIN}", if internal { "-internal" } else { "" })
}

/// Every service name without a bucket part, for every region: what certificates and the
/// documentation list. Bucket names (`<bucket>.oss-...`) are answered too but are not listed.
pub fn all_names() -> Vec<String> {
    let mut out: Vec<String> = ["ram", "sts", "ecs", "vpc", "actiontrail", "ims"].iter().map(|p| format!("{p}.{DOMAIN}")).collect();
    for r in REGIONS {
        let id = r.id;
        for product in ["ram", "sts", "ecs", "vpc", "actiontrail", "ims"] {
            out.push(format!("{product}.{id}.{DOMAIN}"));
            out.push(format!("{product}-vpc.{id}.{DOMAIN}"));
        }
        out.push(format!("ecs-{id}.{DOMAIN}"));
        for internal in [false, true] {
            out.push(oss_endpoint_name(id, internal));
            out.push(format!("s3.{}", oss_endpoint_name(id, internal)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(host: &str) -> Option<(Service, Option<&'static str>, bool, Option<String>)> {
        classify(host).map(|h| (h.service, h.region, h.internal, h.bucket))
    }

    #[test]
    fn the_names_the_sdks_build() {
        assert_eq!(svc("ram.aliyuncs.com"), Some((Service::Ram, None, false, None)));
        assert_eq!(svc("STS.aliyuncs.com."), Some((Service::Sts, None, false, None)));
        assert_eq!(svc("sts.cn-hangzhou.aliyuncs.com:443"), Some((Service::Sts, Some("cn-hangzhou"), false, None)));
        assert_eq!(svc("sts-vpc.cn-hangzhou.aliyuncs.com"), Some((Service::Sts, Some("cn-hangzhou"), true, None)));
        assert_eq!(svc("ecs-cn-hangzhou.aliyuncs.com"), Some((Service::Ecs, Some("cn-hangzhou"), false, None)));
        assert_eq!(svc("ecs.cn-shanghai.aliyuncs.com"), Some((Service::Ecs, Some("cn-shanghai"), false, None)));
        assert_eq!(svc("vpc.aliyuncs.com"), Some((Service::Vpc, None, false, None)));
        assert_eq!(svc("ims.aliyuncs.com"), Some((Service::Ims, None, false, None)));
        assert_eq!(svc("oss-cn-hangzhou.aliyuncs.com"), Some((Service::Oss, Some("cn-hangzhou"), false, None)));
        assert_eq!(svc("oss-cn-hangzhou-internal.aliyuncs.com"), Some((Service::Oss, Some("cn-hangzhou"), true, None)));
        assert_eq!(svc("s3.oss-cn-hangzhou.aliyuncs.com"), Some((Service::Oss, Some("cn-hangzhou"), false, None)));
        assert_eq!(svc("s3.oss-cn-beijing-internal.aliyuncs.com"), Some((Service::Oss, Some("cn-beijing"), true, None)));
        assert_eq!(svc("bkt.s3.oss-cn-hangzhou.aliyuncs.com"), Some((Service::Oss, Some("cn-hangzhou"), false, Some("bkt".into()))));
        assert_eq!(
            svc("ramroletest.oss-cn-hangzhou.aliyuncs.com"),
            Some((Service::Oss, Some("cn-hangzhou"), false, Some("ramroletest".into())))
        );
        assert_eq!(
            svc("my-bkt.oss-cn-shanghai-internal.aliyuncs.com:80"),
            Some((Service::Oss, Some("cn-shanghai"), true, Some("my-bkt".into())))
        );
    }

    #[test]
    fn everything_else_is_not_a_service_name() {
        for host in [
            "example.com",
            "aliyuncs.com",
            "evil.aliyuncs.com",
            "ram.aliyuncs.com.evil.org",
            "oss-mars-1.aliyuncs.com",
            "sts.mars-1.aliyuncs.com",
            "Bad_Bucket.oss-cn-hangzhou.aliyuncs.com",
            "a.b.oss-cn-hangzhou.aliyuncs.com",
            "s4.oss-cn-hangzhou.aliyuncs.com",
            "a.b.s3.oss-cn-hangzhou.aliyuncs.com",
            "s3.s3.oss-cn-hangzhou.aliyuncs.com",
            "127.0.0.1",
            "localhost",
            "100.100.100.200",
        ] {
            assert_eq!(classify(host), None, "{host}");
        }
    }

    #[test]
    fn listed_names_all_classify() {
        let names = all_names();
        assert!(names.contains(&"oss-cn-hangzhou.aliyuncs.com".to_string()));
        for n in &names {
            assert!(classify(n).is_some(), "{n}");
        }
        assert_eq!(strip_port("[::1]:8960"), "[::1]");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(strip_port("h:80"), "h");
    }
}
