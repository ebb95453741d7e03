//! The request side of an authorization question: the action, the resource ARN, and the
//! condition-key values (`acs:SourceIp`, `acs:CurrentTime`, `oss:Prefix`, ...) that conditions
//! are checked against.
//!
//! Keys are case-insensitive (as condition keys in policies are) and multi-valued. Values are
//! text, as they arrive off the wire; the typed setters (`set_source_ip`, `set_current_time`,
//! ...) also keep the parsed value so evaluation does not re-parse it for every statement.
//! This crate never reads the clock: callers set `acs:CurrentTime` themselves, which keeps
//! evaluation pure and lets tests (and rolestack's settable clock) control time.

use std::net::IpAddr;

use time::OffsetDateTime;

/// Global condition key names, spelt as RAM documents them.
pub mod keys {
    pub const SOURCE_IP: &str = "acs:SourceIp";
    pub const CURRENT_TIME: &str = "acs:CurrentTime";
    pub const SECURE_TRANSPORT: &str = "acs:SecureTransport";
    pub const USER_AGENT: &str = "acs:UserAgent";
    pub const MFA_PRESENT: &str = "acs:MFAPresent";
    /// Seconds since the principal gave an MFA code (only when `acs:MFAPresent` is true; UNVERIFIED name).
    pub const MFA_PRESENT_DURATION: &str = "acs:MFAPresentDuration";
    pub const SOURCE_VPC: &str = "acs:SourceVpc";
    pub const ACCESS_ID: &str = "acs:AccessId";
    pub const PRINCIPAL_ARN: &str = "acs:PrincipalARN";
    /// AssumeRole's `ExternalId` parameter, for a role's trust policy (present only when sent).
    pub const EXTERNAL_ID: &str = "sts:ExternalId";
}

/// One value of a context key: its text and, when set through a typed setter, its parsed form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ContextValue {
    pub(crate) text: String,
    pub(crate) typed: Typed,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Typed {
    Text,
    Ip(IpAddr),
    Time(OffsetDateTime),
    Bool(bool),
}

impl ContextValue {
    pub(crate) fn ip(&self) -> Option<IpAddr> {
        match self.typed {
            Typed::Ip(ip) => Some(ip),
            _ => self.text.trim().parse::<IpAddr>().ok(),
        }
        .map(canonical_ip)
    }

    pub(crate) fn time(&self) -> Option<OffsetDateTime> {
        match self.typed {
            Typed::Time(t) => Some(t),
            _ => parse_date(&self.text).or_else(|| {
                // Context times may also come as Unix seconds.
                self.text.trim().parse::<i64>().ok().and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            }),
        }
    }

    pub(crate) fn boolean(&self) -> Option<bool> {
        match self.typed {
            Typed::Bool(b) => Some(b),
            _ => parse_bool(&self.text),
        }
    }

    pub(crate) fn number(&self) -> Option<f64> {
        parse_number(&self.text)
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack socket reports) are
/// compared as the IPv4 address they carry, so `10.0.0.0/8` matches them.
pub(crate) fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("true") {
        Some(true)
    } else if t.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

pub(crate) fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    // `f64::from_str` also takes "inf" and "NaN", which no RAM numeric key holds.
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) {
        return None;
    }
    t.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// A date-time as RAM's policy pages write one: ISO-8601 with its offset — RFC 3339
/// (`2019-08-12T17:00:00+08:00`, `2019-08-12T09:00:00Z`, fractional seconds). A time without an
/// offset, a bare date and ISO-8601's other forms (week or ordinal dates, the basic format) are
/// not dates: read as UTC, a zone-less `DateLessThan` window written in Beijing time would last 8
/// hours longer than meant (docs/authorization.md).
pub(crate) fn parse_date(text: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    OffsetDateTime::parse(text.trim(), &Rfc3339).ok()
}

/// Whether two condition-key names are the same key: the name compares without case, a tag key
/// after the first `/` exactly (`acs:resourcetag/env` is `acs:ResourceTag/env`, not
/// `acs:ResourceTag/Env`).
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    match (a.split_once('/'), b.split_once('/')) {
        (Some((an, at)), Some((bn, bt))) => an.eq_ignore_ascii_case(bn) && at == bt,
        (None, None) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// Condition-key values for one request. Keys are case-insensitive up to a `/`: what follows it
/// (the tag key of `acs:ResourceTag/<key>`, `oss:ExistingObjectTag/<key>`, ...) is a tag key, and tag
/// keys are case-sensitive, so `env` and `Env` are two keys ([`same_key`]); each key may have several
/// values (a condition on a multi-valued key holds if any value satisfies it, or, for negated
/// operators, if none matches).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Context {
    entries: Vec<(String, Vec<ContextValue>)>,
}

impl Context {
    /// An empty context: every condition key is missing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value to `key` (keeping values it already has).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let value = ContextValue { text: value.into(), typed: Typed::Text };
        self.push(key.into(), value, false)
    }

    /// Replaces all values of `key` with `value`.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        let value = ContextValue { text: value.into(), typed: Typed::Text };
        self.push(key.into(), value, true)
    }

    /// Builder form of [`Context::insert`].
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets `acs:SourceIp`.
    pub fn set_source_ip(&mut self, ip: IpAddr) -> &mut Self {
        let value = ContextValue { text: ip.to_string(), typed: Typed::Ip(ip) };
        self.push(keys::SOURCE_IP.to_owned(), value, true)
    }

    /// Sets `acs:CurrentTime` (rendered as RFC 3339 for [`Context::values`]).
    pub fn set_current_time(&mut self, now: OffsetDateTime) -> &mut Self {
        let text = now.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| now.unix_timestamp().to_string());
        let value = ContextValue { text, typed: Typed::Time(now) };
        self.push(keys::CURRENT_TIME.to_owned(), value, true)
    }

    /// Sets `acs:SecureTransport` (true when the request came over HTTPS).
    pub fn set_secure_transport(&mut self, https: bool) -> &mut Self {
        self.set_bool(keys::SECURE_TRANSPORT, https)
    }

    /// Sets `acs:MFAPresent`.
    pub fn set_mfa_present(&mut self, present: bool) -> &mut Self {
        self.set_bool(keys::MFA_PRESENT, present)
    }

    /// Sets a boolean key such as `acs:SecureTransport`.
    pub fn set_bool(&mut self, key: impl Into<String>, value: bool) -> &mut Self {
        let value = ContextValue { text: value.to_string(), typed: Typed::Bool(value) };
        self.push(key.into(), value, true)
    }

    /// Copies every key of `other` into this context, replacing the values a key had.
    pub fn extend(&mut self, other: &Context) -> &mut Self {
        for (key, values) in &other.entries {
            self.remove(key);
            self.entries.push((key.clone(), values.clone()));
        }
        self
    }

    /// Removes `key` and its values.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.entries.retain(|(k, _)| !same_key(k, key));
        self
    }

    /// The values of `key` (case-insensitive), in insertion order; empty if the key is missing.
    pub fn values(&self, key: &str) -> impl Iterator<Item = &str> {
        self.lookup(key).iter().map(|v| v.text.as_str())
    }

    /// True if `key` has at least one value.
    pub fn contains(&self, key: &str) -> bool {
        !self.lookup(key).is_empty()
    }

    /// Every key with its values as text, in insertion order (for explanations and diagnostics).
    pub fn entries(&self) -> impl Iterator<Item = (&str, Vec<&str>)> {
        self.entries.iter().map(|(k, values)| (k.as_str(), values.iter().map(|v| v.text.as_str()).collect()))
    }

    pub(crate) fn lookup(&self, key: &str) -> &[ContextValue] {
        self.entries.iter().find(|(k, _)| same_key(k, key)).map_or(&[], |(_, values)| values.as_slice())
    }

    fn push(&mut self, key: String, value: ContextValue, replace: bool) -> &mut Self {
        match self.entries.iter_mut().find(|(k, _)| same_key(k, &key)) {
            Some((_, values)) => {
                if replace {
                    values.clear();
                }
                values.push(value);
            }
            None => self.entries.push((key, vec![value])),
        }
        self
    }
}

/// One authorization question: may `action` be performed on `resource`, given `context`?
///
/// `action` is a RAM action such as `oss:GetObject`; `resource` a full ARN such as
/// `acs:oss:*:1234567890123456:bucket/key` (use `*` for account-wide actions that have no
/// resource of their own, if the action catalogue says so).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a Context,
    /// The resource names entities whose names the service compares without ASCII case (RAM
    /// users, groups, roles, policies), so a pattern might mean it in either reading: a `Deny`
    /// then covers what it covers in either reading, an `Allow` only what it covers in both.
    pub names_ignore_case: bool,
}

impl<'a> Request<'a> {
    pub fn new(action: &'a str, resource: &'a str, context: &'a Context) -> Self {
        Request { action, resource, context, names_ignore_case: false }
    }

    /// Marks the resource as naming case-insensitive entities (see the field).
    pub fn with_names_ignoring_case(mut self, yes: bool) -> Self {
        self.names_ignore_case = yes;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_keys_after_the_slash_keep_their_case() {
        let mut c = Context::new();
        c.set("acs:ResourceTag/secret", "true");
        c.set("acs:ResourceTag/SECRET", "x");
        assert_eq!(c.values("acs:resourcetag/secret").collect::<Vec<_>>(), vec!["true"]);
        assert_eq!(c.values("ACS:RESOURCETAG/SECRET").collect::<Vec<_>>(), vec!["x"]);
        assert!(!c.contains("acs:ResourceTag/Secret"));
    }

    #[test]
    fn keys_are_case_insensitive_and_multi_valued() {
        let mut ctx = Context::new();
        ctx.insert("oss:Prefix", "a/").insert("OSS:PREFIX", "b/");
        assert_eq!(ctx.values("oss:prefix").collect::<Vec<_>>(), ["a/", "b/"]);
        ctx.set("oss:prefix", "c/");
        assert_eq!(ctx.values("oss:Prefix").collect::<Vec<_>>(), ["c/"]);
        assert!(ctx.contains("Oss:Prefix"));
        ctx.remove("oss:PREFIX");
        assert!(!ctx.contains("oss:Prefix"));
        assert_eq!(ctx.values("missing").count(), 0);
    }

    #[test]
    fn typed_setters_keep_text_and_value() {
        let mut ctx = Context::new();
        ctx.set_source_ip("::ffff:10.1.2.3".parse().unwrap());
        ctx.set_secure_transport(true);
        ctx.set_current_time(time::macros::datetime!(2019-08-12 09:00 UTC));
        assert_eq!(ctx.lookup("acs:sourceip")[0].ip(), Some("10.1.2.3".parse().unwrap()));
        assert_eq!(ctx.values(keys::SECURE_TRANSPORT).next(), Some("true"));
        assert_eq!(ctx.values(keys::CURRENT_TIME).next(), Some("2019-08-12T09:00:00Z"));
    }

    #[test]
    fn value_parsers() {
        assert_eq!(parse_bool(" TRUE "), Some(true));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_number("-1.5e2"), Some(-150.0));
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number(""), None);
        let t = parse_date("2019-08-12T17:00:00+08:00").unwrap();
        assert_eq!(t, time::macros::datetime!(2019-08-12 09:00 UTC));
        assert_eq!(parse_date("2019-08-12T09:00:00Z"), Some(t));
        assert_eq!(parse_date("2019-08-12T09:00:00.000Z"), Some(t));
        for zoneless in ["2019-08-12T09:00:00", "2019-08-12", "2019-W33-1T09:00:00Z", "2019-224T09:00:00Z", "20190812T090000Z"] {
            assert_eq!(parse_date(zoneless), None, "{zoneless}");
        }
        assert_eq!(parse_date("12/08/2019"), None);
        assert_eq!(parse_date("2019-13-01T00:00:00Z"), None);
        let v = ContextValue { text: "1565600400".into(), typed: Typed::Text };
        assert_eq!(v.time(), Some(t));
    }
}
