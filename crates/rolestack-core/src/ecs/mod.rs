//! ECS (version 2014-05-26): the parts rolestack serves — a fixed catalogue of regions, zones,
//! instance types and images; VPCs and vSwitches (the ECS API's legacy forms) with CIDR rules;
//! instances with their lifecycle, private addressing and metadata options; and instance RAM roles
//! with ECS's rules (VPC instances only, one role per instance, the role must trust
//! `ecs.aliyuncs.com`, and a RAM identity passing a role needs `ram:PassRole` on it); and SSH key
//! pairs ([`key_pairs`]), whose public key the metadata tree serves.
//!
//! Records are per account and keyed by id: [`Vpc`], [`VSwitch`], [`Instance`]; key pairs by
//! region and name. Error codes,
//! statuses and their sources are listed in `docs/ecs-errors.md`.

pub mod catalogue;
pub mod client_token;
pub mod disks;
pub mod images;
pub mod instances;
pub mod key_pairs;
pub mod ram_roles;
pub mod security_groups;
pub mod tags;
pub mod user_data;
pub mod vpc;

use rand::Rng;

use crate::model::Instance;
use crate::params::Params;
use crate::product::ErrorStyle;
use crate::store::Tx;
use crate::{Error, Result};

pub use catalogue::Region;

/// Loads an instance of an account by id: `InvalidInstanceId.NotFound` (404) if there is none.
pub fn load_instance(tx: &mut dyn Tx, account: &str, id: &str) -> Result<Instance> {
    tx.get_rec::<Instance>(account, id)?.ok_or_else(|| instance_not_found(id))
}

pub(crate) fn instance_not_found(id: &str) -> Error {
    Error::service(404, "InvalidInstanceId.NotFound", format!("The specified InstanceId does not exist: {id}."))
}

/// ECS's form of a missing parameter: code `MissingParameter`, the parameter named in the message.
pub fn missing(name: &str) -> Error {
    ErrorStyle::Ecs.missing(name)
}

/// ECS's generic bad value: `InvalidParameter` naming the parameter, with a hint.
pub(crate) fn invalid(name: &str, hint: impl std::fmt::Display) -> Error {
    Error::service(400, "InvalidParameter", format!("The specified parameter \"{name}\" is not valid: {hint}"))
}

/// `RegionId`, required and known: `MissingParameter` / `InvalidRegionId.NotFound` (404).
pub(crate) fn region(p: &Params) -> Result<&'static Region> {
    let id = p.required("RegionId")?;
    catalogue::region(id).ok_or_else(|| region_not_found(id))
}

pub(crate) fn region_not_found(id: &str) -> Error {
    Error::service(
        404,
        "InvalidRegionId.NotFound",
        format!("The specified RegionId does not exist: {id}. Call DescribeRegions for the list."),
    )
}

/// A JSON-array-of-strings parameter (`InstanceIds`, `PrivateIpAddresses`), at most `max` items,
/// duplicates removed (first occurrence kept). `malformed` builds the error for a bad value.
pub(crate) fn string_list(p: &Params, name: &str, max: usize, malformed: fn(&str, &str) -> Error) -> Result<Option<Vec<String>>> {
    let Some(raw) = p.optional(name) else { return Ok(None) };
    let items: Vec<String> =
        serde_json::from_str(raw).map_err(|_| malformed(raw, "expected a JSON array of strings such as [\"i-bp1...\"]"))?;
    if items.len() > max {
        return Err(malformed(raw, &format!("at most {max} items are allowed, got {}", items.len())));
    }
    if items.iter().any(|s| s.trim().is_empty()) {
        return Err(malformed(raw, "an item is empty"));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(Some(out))
}

/// `InvalidInstanceIds.Malformed` (400), the real message plus what is wrong.
pub(crate) fn instance_ids_malformed(raw: &str, why: &str) -> Error {
    Error::service(400, "InvalidInstanceIds.Malformed", format!("The specified instanceIds are not valid: {why}; got {raw}."))
}

/// `DryRun=true`: every check passed, nothing is done (ECS's `DryRunOperation`, 400).
pub(crate) fn dry_run(p: &Params) -> Result<()> {
    if p.flag("DryRun")? {
        return Err(Error::service(400, "DryRunOperation", "Request validation has been passed with DryRun flag set."));
    }
    Ok(())
}

/// `PageNumber` (≥ 1, default 1) and `PageSize` (1..=`max_size`, default 10).
pub(crate) struct Page {
    pub number: usize,
    pub size: usize,
}

pub(crate) fn page(p: &Params, max_size: i64) -> Result<Page> {
    let number = p.int("PageNumber", 1, i64::from(i32::MAX))?.unwrap_or(1) as usize;
    let size = p.int("PageSize", 1, max_size)?.unwrap_or(10) as usize;
    Ok(Page { number, size })
}

impl Page {
    /// The items of this page.
    pub fn slice<T>(&self, items: Vec<T>) -> Vec<T> {
        items.into_iter().skip((self.number - 1).saturating_mul(self.size)).take(self.size).collect()
    }
}

/// Checks a resource name as ECS does for `VpcName`, `VSwitchName`, `InstanceName`: 2 to 128
/// characters, starting with a letter (Chinese included), letters, digits and `.`, `_`, `-` (plus
/// `extra`), not starting with `http://` or `https://`.
pub(crate) fn check_name(param: &str, value: &str, extra: &[char], code: &str) -> Result<()> {
    let len = value.chars().count();
    let first_ok = value.chars().next().is_some_and(|c| c.is_alphabetic());
    let chars_ok = value.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-') || extra.contains(&c));
    let url = value.starts_with("http://") || value.starts_with("https://");
    if !(2..=128).contains(&len) || !first_ok || !chars_ok || url {
        let others: String = ['.', '_'].iter().chain(extra).map(|c| format!("'{c}', ")).collect();
        return Err(Error::service(
            400,
            code,
            format!("The specified parameter \"{param}\" is not valid: \"{value}\" must be 2 to 128 characters, start with a letter, and contain only letters, digits, {others}and '-', and must not start with http:// or https://."),
        ));
    }
    Ok(())
}

/// Checks a `Description`: 2 to 256 characters, not starting with `http://` or `https://`.
pub(crate) fn check_description(value: Option<&str>, code: &str) -> Result<()> {
    let Some(v) = value else { return Ok(()) };
    let len = v.chars().count();
    if !(2..=256).contains(&len) || v.starts_with("http://") || v.starts_with("https://") {
        return Err(Error::service(
            400,
            code,
            "The specified parameter \"Description\" is not valid: it must be 2 to 256 characters and must not start with http:// or https://.",
        ));
    }
    Ok(())
}

/// Lower-case letters and digits, as ECS resource ids use.
pub(crate) fn lower_alnum(n: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..n).map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())])).collect()
}

/// A resource id: `<prefix>-<region code><random>` (`i-bp1` + 17, `vpc-bp1` + 18, ...).
pub(crate) fn resource_id(prefix: &str, region: &Region, random: usize) -> String {
    format!("{prefix}-{}{}", region.id_code, lower_alnum(random))
}

/// ECS shows instance times to the minute: `2017-12-10T04:04Z` (from the stored `...:SSZ`).
pub(crate) fn minute_time(date: &str) -> String {
    match date.get(..16) {
        Some(prefix) if date.len() == 20 => format!("{prefix}Z"),
        _ => date.to_string(),
    }
}

/// ECS's own condition keys of a request, added to what it carries for authorization:
/// `ecs:SecurityHardeningMode` is what `HttpTokens` asks for (absent on a new instance: not
/// hardened; absent on ModifyInstanceMetadataOptions: unchanged, so the key is not set) and
/// `ecs:InstanceType` the type a new instance asks for (docs/authorization.md).
pub fn add_condition_keys(action: &str, p: &Params, ctx: &mut rolestack_policy::Context) {
    let hardened = |tokens: &str| (tokens == "required").to_string();
    match action {
        "CreateInstance" | "RunInstances" => {
            ctx.set("ecs:SecurityHardeningMode", hardened(p.optional("HttpTokens").unwrap_or("optional")));
            if let Some(t) = p.optional("InstanceType") {
                ctx.set("ecs:InstanceType", t);
            }
        }
        "ModifyInstanceMetadataOptions" => {
            if let Some(tokens) = p.optional("HttpTokens") {
                ctx.set("ecs:SecurityHardeningMode", hardened(tokens));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_times() {
        let r = catalogue::region("cn-hangzhou").unwrap();
        let id = resource_id("i", r, 17);
        assert!(id.starts_with("i-bp1") && id.len() == 2 + 3 + 17, "{id}");
        assert!(id[2..].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_eq!(minute_time("2017-12-10T04:04:59Z"), "2017-12-10T04:04Z");
    }

    #[test]
    fn lists() {
        let p = Params::from_pairs([("InstanceIds", r#"["i-1","i-2","i-1"]"#), ("Bad", "i-1"), ("Many", "[1]")]);
        assert_eq!(string_list(&p, "InstanceIds", 100, instance_ids_malformed).unwrap().unwrap(), vec!["i-1", "i-2"]);
        assert_eq!(string_list(&p, "Bad", 100, instance_ids_malformed).unwrap_err().code(), "InvalidInstanceIds.Malformed");
        assert_eq!(string_list(&p, "Many", 100, instance_ids_malformed).unwrap_err().code(), "InvalidInstanceIds.Malformed");
        assert!(string_list(&p, "Absent", 100, instance_ids_malformed).unwrap().is_none());
        assert_eq!(string_list(&p, "InstanceIds", 1, instance_ids_malformed).unwrap_err().code(), "InvalidInstanceIds.Malformed");
    }
}
