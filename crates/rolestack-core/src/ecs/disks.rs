//! DescribeDisks: every instance has one system disk, made and released with it, whose id is the
//! instance's with `d-` for `i-` (`i-bp1abc…` has `d-bp1abc…`). There are no data disks or
//! snapshots. Filters and error codes follow the API reference (docs/ecs-errors.md §8); fields come
//! in the order of its response table.

use serde_json::{json, Value};

use super::{page, region, string_list, tags};
use crate::handler::Ctx;
use crate::model::Instance;
use crate::params::Params;
use crate::{Error, Result};

/// The system disk's id of an instance.
pub fn disk_id(instance_id: &str) -> String {
    format!("d-{}", instance_id.strip_prefix("i-").unwrap_or(instance_id))
}

/// The instance a disk id belongs to (`d-x` → `i-x`).
pub fn instance_of_disk(disk_id: &str) -> Option<String> {
    disk_id.strip_prefix("d-").filter(|rest| !rest.is_empty()).map(|rest| format!("i-{rest}"))
}

const DISK_TYPES: &[&str] = &["all", "system", "data"];
const CATEGORIES: &[&str] = &[
    "all",
    "cloud",
    "cloud_efficiency",
    "cloud_ssd",
    "cloud_essd",
    "cloud_auto",
    "local_ssd_pro",
    "local_hdd_pro",
    "ephemeral",
    "ephemeral_ssd",
];
const STATUSES: &[&str] = &["In_use", "Available", "Attaching", "Detaching", "Creating", "ReIniting", "All"];

fn render(inst: &Instance, own_tags: &[(String, String)]) -> Value {
    let created = inst.created.clone();
    let iops = 1800 + 50 * inst.system_disk_size;
    json!({
        "AttachedTime": created,
        "AutoSnapshotPolicyId": "",
        "BdfId": "",
        "Category": inst.system_disk_category,
        "CreationTime": created,
        "DedicatedBlockStorageClusterId": "",
        "DeleteAutoSnapshot": true,
        "DeleteWithInstance": true,
        "Description": "",
        "DetachedTime": "",
        "Device": "/dev/xvda",
        "DiskChargeType": "PostPaid",
        "DiskId": disk_id(&inst.id),
        "DiskName": "",
        "EnableAutoSnapshot": false,
        "EnableAutomatedSnapshotPolicy": false,
        "Encrypted": false,
        "ExpiredTime": "2099-12-31T15:59:00Z",
        "IOPS": iops,
        "IOPSRead": iops / 2,
        "IOPSWrite": iops / 2,
        "ImageId": inst.image_id,
        "InstanceId": inst.id,
        "KMSKeyId": "",
        "MountInstanceNum": 1,
        "MountInstances": { "MountInstance": [{ "AttachedTime": created, "Device": "/dev/xvda", "InstanceId": inst.id }] },
        "OperationLocks": { "OperationLock": [] },
        "PerformanceLevel": if inst.system_disk_category == "cloud_essd" { "PL1" } else { "" },
        "Portable": false,
        "ProductCode": "",
        "RegionId": inst.region_id,
        "ResourceGroupId": "",
        "SerialNumber": inst.id.strip_prefix("i-").unwrap_or(&inst.id),
        "Size": inst.system_disk_size,
        "SourceSnapshotId": "",
        "Status": "In_use",
        "StorageSetId": "",
        "StorageSetPartitionNumber": 0,
        "Tags": tags::render(own_tags),
        "Type": "system",
        "ZoneId": inst.zone_id,
    })
}

fn one_of(p: &Params, name: &str, allowed: &[&str], code: &str, what: &str) -> Result<Option<String>> {
    match p.optional(name) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v.to_string())),
        Some(v) => {
            Err(Error::service(400, code, format!("The specified {what} is not supported: {v}; use one of {}.", allowed.join(", "))))
        }
    }
}

pub fn describe_disks(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let pg = page(p, 100)?;
    let disk_ids = string_list(p, "DiskIds", 100, |raw, why| {
        Error::service(400, "InvalidParameter.DiskIds", format!("The specified parameter diskIds is not valid: {why}; got {raw}."))
    })?;
    let disk_type = one_of(p, "DiskType", DISK_TYPES, "InvalidDiskType.ValueNotSupported", "disk type")?;
    let category = one_of(p, "Category", CATEGORIES, "InvalidCategory.ValueNotSupported", "disk category")?;
    let status = one_of(p, "Status", STATUSES, "InvalidStatus.ValueNotSupported", "disk status")?;
    if let Some(z) = p.optional("ZoneId") {
        if !region.has_zone(z) {
            return Err(Error::service(400, "InvalidZoneId.NotFound", format!("The zoneId provided does not exist in our records: {z}.")));
        }
    }
    let filter_tags = tags::request_tags(p)?;
    let mut instances: Vec<Instance> = super::vpc::all_instances(ctx)?
        .into_iter()
        .filter(|i| i.region_id == region.id)
        .filter(|i| p.optional("InstanceId").is_none_or(|w| w == i.id))
        .filter(|i| p.optional("ZoneId").is_none_or(|w| w == i.zone_id))
        .filter(|i| disk_ids.as_ref().is_none_or(|ids| ids.contains(&disk_id(&i.id))))
        .filter(|_| disk_type.as_deref().is_none_or(|t| t == "all" || t == "system"))
        .filter(|i| category.as_deref().is_none_or(|c| c == "all" || c == i.system_disk_category))
        .filter(|_| status.as_deref().is_none_or(|s| s == "All" || s == "In_use"))
        .collect();
    instances.sort_by(|a, b| (&b.created, &a.id).cmp(&(&a.created, &b.id)));
    let mut found = Vec::new();
    for inst in instances {
        let own = tags::tags_of(ctx, "disk", &disk_id(&inst.id))?;
        if tags::matches(&own, &filter_tags) {
            found.push((inst, own));
        }
    }
    let total = found.len();
    let items: Vec<Value> = pg.slice(found).iter().map(|(i, own)| render(i, own)).collect();
    Ok(json!({
        "Disks": { "Disk": items },
        "NextToken": "",
        "PageNumber": pg.number,
        "PageSize": pg.size,
        "TotalCount": total,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_ids_follow_instance_ids() {
        assert_eq!(disk_id("i-bp1abc"), "d-bp1abc");
        assert_eq!(instance_of_disk("d-bp1abc").as_deref(), Some("i-bp1abc"));
        assert_eq!(instance_of_disk("d-"), None);
        assert_eq!(instance_of_disk("x-1"), None);
    }
}
