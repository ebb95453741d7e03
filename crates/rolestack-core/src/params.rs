//! The decoded parameters of one API call (query string and form body merged), with the accessors
//! that produce the product's own errors for missing or malformed values: the parameters carry the
//! [`ErrorStyle`] of the product they were sent to ([`Params::styled`], set once by
//! [`crate::service::Rolestack::call`]), so a handler's `p.required("RegionId")` is RAM's
//! `MissingRegionId` in RAM and ECS's `MissingParameter` in ECS and VPC.

use std::collections::BTreeMap;

use crate::product::ErrorStyle;
use crate::Result;

/// The parameters every RPC request carries (signature, format, ...) rather than the action's own.
pub const COMMON_PARAMS: &[&str] = &[
    "Action",
    "Version",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "Format",
    "SecurityToken",
];

#[derive(Debug, Clone)]
pub struct Params {
    map: BTreeMap<String, String>,
    style: ErrorStyle,
}

impl Default for Params {
    fn default() -> Self {
        Params { map: BTreeMap::new(), style: ErrorStyle::Ram }
    }
}

impl Params {
    pub fn new(map: BTreeMap<String, String>) -> Self {
        Params { map, style: ErrorStyle::Ram }
    }

    pub fn from_pairs<I: IntoIterator<Item = (K, V)>, K: Into<String>, V: Into<String>>(pairs: I) -> Self {
        Params::new(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// The same parameters with `name` set to `value`.
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.map.insert(name.to_string(), value.to_string());
        self
    }

    /// The same parameters, reporting errors in `style`.
    pub fn styled(mut self, style: ErrorStyle) -> Self {
        self.style = style;
        self
    }

    pub fn style(&self) -> ErrorStyle {
        self.style
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.map.get(name).map(String::as_str)
    }

    /// A parameter that may be absent; an empty value counts as absent, as in the real service.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str> {
        self.optional(name).ok_or_else(|| self.style.missing(name))
    }

    /// A boolean parameter (`true`/`false` in any case), if given.
    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.optional(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(self.style.invalid(name, "true or false", v)),
        }
    }

    /// A boolean parameter that is `false` when absent (`DryRun`, `Force`).
    pub fn flag(&self, name: &str) -> Result<bool> {
        Ok(self.bool(name)?.unwrap_or(false))
    }

    /// An integer parameter within `min..=max`.
    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>> {
        let Some(v) = self.optional(name) else { return Ok(None) };
        match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(self.style.invalid(name, &format!("an integer from {min} to {max}"), v)),
        }
    }

    /// The values of a repeated parameter `<name>.1`, `<name>.2`, ... (`ResourceId.N`,
    /// `SecurityGroupIds.N`), in order of N; gaps end nothing, empty values are skipped.
    pub fn repeated(&self, name: &str) -> Vec<(u32, &str)> {
        let prefix = format!("{name}.");
        let mut out: Vec<(u32, &str)> = self
            .map
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix(&prefix)?.parse::<u32>().ok()?;
                (!v.is_empty()).then_some((n, v.as_str()))
            })
            .collect();
        out.sort_by_key(|(n, _)| *n);
        out
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.map.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_speak_the_product_style() {
        let p = Params::from_pairs([("N", "x"), ("B", "maybe"), ("T", "TRUE")]);
        assert_eq!(p.required("Absent").unwrap_err().code(), "MissingAbsent");
        assert_eq!(p.int("N", 1, 2).unwrap_err().code(), "InvalidParameter.N");
        let e = p.clone().styled(ErrorStyle::Ecs);
        assert_eq!(e.required("Absent").unwrap_err().code(), "MissingParameter");
        assert_eq!(e.int("N", 1, 2).unwrap_err().code(), "InvalidParameter");
        assert_eq!(e.bool("B").unwrap_err().code(), "InvalidParameter");
        assert!(e.flag("T").unwrap() && !e.flag("Absent").unwrap());
    }

    #[test]
    fn repeated_parameters_in_order() {
        let p = Params::from_pairs([("ResourceId.10", "c"), ("ResourceId.2", "b"), ("ResourceId.1", "a"), ("ResourceId.3", "")]);
        assert_eq!(p.repeated("ResourceId"), vec![(1, "a"), (2, "b"), (10, "c")]);
        assert!(p.repeated("Tag").is_empty());
    }
}
