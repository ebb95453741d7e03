//! DescribeImages over the fixed public image catalogue ([`super::catalogue::IMAGES`]): every
//! region offers every public image (`ImageOwnerAlias` `system`); there are no custom, shared or
//! marketplace images, so asking for those finds nothing. Filters and error codes follow the API
//! reference (docs/ecs-errors.md §6); fields come in the order of its response table.

use serde_json::{json, Value};

use super::catalogue::{self, Image, IMAGES};
use super::{page, region};
use crate::handler::Ctx;
use crate::params::Params;
use crate::{Error, Result};

const OWNER_ALIASES: &[&str] = &["system", "self", "others", "marketplace"];
const ARCHITECTURES: &[&str] = &["i386", "x86_64", "arm64"];
const STATUSES: &[&str] = &["Creating", "Waiting", "Available", "UnAvailable", "CreateFailed", "Deprecated"];

fn not_found(code: &str, message: String) -> Error {
    Error::service(404, code, message)
}

fn render(i: &Image) -> Value {
    let size = i.size_gib;
    json!({
        "Architecture": "x86_64",
        "CreationTime": i.created,
        "Description": "",
        "DiskDeviceMappings": { "DiskDeviceMapping": [{
            "Device": "/dev/xvda",
            "Format": "",
            "ImportOSSBucket": "",
            "ImportOSSObject": "",
            "Progress": "100%",
            "RemainTime": 0,
            "Size": size.to_string(),
            "SnapshotId": "",
            "Type": "system",
        }]},
        "ImageFamily": "",
        "ImageId": i.id,
        "ImageName": i.id,
        "ImageOwnerAlias": "system",
        "ImageVersion": "",
        "IsCopied": false,
        "IsSelfShared": "",
        "IsSubscribed": false,
        "IsSupportCloudinit": true,
        "IsSupportIoOptimized": true,
        "OSName": i.os_name_zh,
        "OSNameEn": i.os_name_en,
        "OSType": i.os_type,
        "Platform": i.platform,
        "ProductCode": "",
        "Progress": "100%",
        "ResourceGroupId": "",
        "Size": size,
        "Status": "Available",
        "Tags": { "Tag": [] },
        "Usage": "instance",
    })
}

pub fn describe_images(_ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let pg = page(p, 100)?;
    let ids: Option<Vec<&str>> = p.optional("ImageId").map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect());
    let owner = p.optional("ImageOwnerAlias");
    if let Some(o) = owner {
        if !OWNER_ALIASES.contains(&o) {
            return Err(Error::service(
                400,
                "InvalidImageOwnerAlias.ValueNotSupported",
                format!("The specified ImageOwnerAlias value is not supported: {o}; use system, self, others or marketplace."),
            ));
        }
    }
    let os_type = p.optional("OSType");
    if let Some(t) = os_type {
        if !t.eq_ignore_ascii_case("linux") && !t.eq_ignore_ascii_case("windows") {
            return Err(not_found("InvalidOSType", format!("The specifed OSType is not valid: {t}; use linux or windows.")));
        }
    }
    let arch = p.optional("Architecture");
    if let Some(a) = arch {
        if !ARCHITECTURES.contains(&a) {
            return Err(not_found(
                "InvalidArchitecture",
                format!("The specifed Architecture is not valid: {a}; use i386, x86_64 or arm64."),
            ));
        }
    }
    let usage = p.optional("Usage");
    if let Some(u) = usage {
        if !matches!(u, "instance" | "none") {
            return Err(not_found("InvalidUsage", format!("The specifed Usage is not valid: {u}; use instance or none.")));
        }
    }
    if let Some(t) = p.optional("InstanceType") {
        if catalogue::instance_type(t).is_none() {
            return Err(Error::service(
                400,
                "InvalidInstanceType.ValueNotSupported",
                format!("The specified InstanceType does not exist or beyond the permitted range: {t}."),
            ));
        }
    }
    // `Status` is a comma-separated list (default `Available`).
    let statuses: Vec<&str> = p.optional("Status").map_or_else(|| vec!["Available"], |s| s.split(',').map(str::trim).collect());
    if let Some(bad) = statuses.iter().find(|s| !STATUSES.contains(s)) {
        return Err(super::invalid("Status", format_args!("\"{bad}\" is not one of {}.", STATUSES.join(", "))));
    }
    let name = p.optional("ImageName");
    let found: Vec<&Image> = IMAGES
        .iter()
        .filter(|i| ids.as_ref().is_none_or(|ids| ids.contains(&i.id)))
        .filter(|_| owner.is_none_or(|o| o == "system"))
        .filter(|i| os_type.is_none_or(|t| t.eq_ignore_ascii_case(i.os_type)))
        .filter(|_| arch.is_none_or(|a| a == "x86_64"))
        .filter(|_| usage.is_none_or(|u| u == "instance"))
        .filter(|_| statuses.contains(&"Available"))
        .filter(|i| name.is_none_or(|n| super::instances::glob(n, i.id) || i.id.contains(n)))
        .collect();
    let total = found.len();
    let items: Vec<Value> = pg.slice(found).into_iter().map(render).collect();
    Ok(json!({
        "Images": { "Image": items },
        "PageNumber": pg.number,
        "PageSize": pg.size,
        "RegionId": region.id,
        "TotalCount": total,
    }))
}
