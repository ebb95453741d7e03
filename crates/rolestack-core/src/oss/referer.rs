//! Hotlink protection: the bucket's Referer configuration (PutBucketReferer / GetBucketReferer)
//! and its check, which OSS applies to anonymous requests and presigned URLs (header-signed
//! requests are not checked). Pure. Rules as written in docs/oss.md ("Referer rules").
//!
//! The same type is the stored record (JSON inside the bucket) and the XML document.

use serde::{Deserialize, Serialize};

use super::error::{OssError, OssResult};

/// `EC` of a request refused for its empty `Referer`.
pub const EC_EMPTY_REFERER: &str = "0003-00000501";
/// `EC` of a request whose `Referer` is on the blacklist.
pub const EC_BLACKLISTED: &str = "0003-00000502";
/// `EC` of a request whose `Referer` is not on the whitelist.
pub const EC_NOT_WHITELISTED: &str = "0003-00000503";
/// OSS's message for every referer refusal.
pub const MESSAGE: &str = "You are denied by bucket referer policy.";

/// `<RefererList>` / `<RefererBlacklist>`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RefererList {
    /// `Referer`: patterns with `*` (any run) and `?` (one character).
    #[serde(rename = "Referer", default)]
    pub referers: Vec<String>,
}

/// `<RefererConfiguration>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefererConfiguration {
    /// `AllowEmptyReferer`: requests without (or with an empty) `Referer` pass.
    #[serde(rename = "AllowEmptyReferer")]
    pub allow_empty_referer: bool,
    /// `AllowTruncateQueryString` (default true): the referer's query string is ignored.
    #[serde(rename = "AllowTruncateQueryString", default, skip_serializing_if = "Option::is_none")]
    pub allow_truncate_query_string: Option<bool>,
    /// `TruncatePath` (default false): only `scheme://host[:port]` of the referer is matched.
    #[serde(rename = "TruncatePath", default, skip_serializing_if = "Option::is_none")]
    pub truncate_path: Option<bool>,
    /// `RefererList`: the whitelist; empty means every non-blacklisted referer.
    #[serde(rename = "RefererList", default)]
    pub referer_list: RefererList,
    /// `RefererBlacklist`.
    #[serde(rename = "RefererBlacklist", default, skip_serializing_if = "Option::is_none")]
    pub referer_blacklist: Option<RefererList>,
}

impl Default for RefererConfiguration {
    /// What GetBucketReferer reports for a bucket never configured: everything allowed.
    fn default() -> Self {
        RefererConfiguration {
            allow_empty_referer: true,
            allow_truncate_query_string: Some(true),
            truncate_path: Some(false),
            referer_list: RefererList::default(),
            referer_blacklist: None,
        }
    }
}

impl RefererConfiguration {
    /// Checks a configuration as PutBucketReferer does.
    pub fn validate(&self) -> OssResult<()> {
        if self.truncate_path == Some(true) && self.allow_truncate_query_string == Some(false) {
            return Err(OssError::InvalidArgument("TruncatePath requires AllowTruncateQueryString to be true.".into()));
        }
        let all = self.referer_list.referers.iter().chain(self.referer_blacklist.iter().flat_map(|l| l.referers.iter()));
        if let Some(r) = all.clone().find(|r| r.trim().is_empty()) {
            return Err(OssError::InvalidArgument(format!("Referer {r:?} is empty.")));
        }
        Ok(())
    }

    /// The part of `referer` the patterns are matched against.
    fn effective<'a>(&self, referer: &'a str) -> &'a str {
        let mut r = referer;
        if self.allow_truncate_query_string.unwrap_or(true) {
            r = r.split_once('?').map_or(r, |(head, _)| head);
        }
        if self.truncate_path.unwrap_or(false) {
            let after_scheme = r.find("://").map_or(0, |i| i + 3);
            if let Some(slash) = r[after_scheme..].find('/') {
                r = &r[..after_scheme + slash];
            }
        }
        r
    }

    /// Checks a request's `Referer`; the error is OSS's `AccessDenied` with the EC of the cause.
    pub fn check(&self, referer: Option<&str>) -> OssResult<()> {
        let denied = |ec| Err(OssError::access_denied_ec(ec, MESSAGE));
        let referer = match referer.map(str::trim).filter(|r| !r.is_empty()) {
            None if self.allow_empty_referer => return Ok(()),
            None => return denied(EC_EMPTY_REFERER),
            Some(r) => r,
        };
        let target = self.effective(referer);
        let matches = |list: &RefererList| list.referers.iter().any(|p| rolestack_policy::wildcard_match(p, target, true));
        if self.referer_blacklist.as_ref().is_some_and(matches) {
            return denied(EC_BLACKLISTED);
        }
        if !self.referer_list.referers.is_empty() && !matches(&self.referer_list) {
            return denied(EC_NOT_WHITELISTED);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> RefererList {
        RefererList { referers: items.iter().map(|s| s.to_string()).collect() }
    }

    fn ec(r: OssResult<()>) -> Option<&'static str> {
        match r {
            Ok(()) => None,
            Err(OssError::AccessDenied { ec, message, .. }) => {
                assert_eq!(message, MESSAGE);
                Some(ec)
            }
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn whitelist_blacklist_and_empty() {
        let cfg = RefererConfiguration {
            allow_empty_referer: false,
            referer_list: list(&["http://*.aliyuncs.com", "https://www.example.com/app?"]),
            referer_blacklist: Some(list(&["http://abc.aliyuncs.com"])),
            ..RefererConfiguration::default()
        };
        cfg.validate().unwrap();
        assert_eq!(ec(cfg.check(None)), Some(EC_EMPTY_REFERER));
        assert_eq!(ec(cfg.check(Some(" "))), Some(EC_EMPTY_REFERER));
        assert_eq!(ec(cfg.check(Some("http://test.aliyuncs.com"))), None);
        assert_eq!(ec(cfg.check(Some("HTTP://TEST.aliyuncs.com?x=1"))), None);
        assert_eq!(ec(cfg.check(Some("http://abc.aliyuncs.com"))), Some(EC_BLACKLISTED));
        assert_eq!(ec(cfg.check(Some("http://test.com"))), Some(EC_NOT_WHITELISTED));
        assert_eq!(ec(cfg.check(Some("https://www.example.com/app1"))), None);
        assert_eq!(ec(cfg.check(Some("https://www.example.com/app12"))), Some(EC_NOT_WHITELISTED));
    }

    #[test]
    fn truncation() {
        let mut cfg = RefererConfiguration { referer_list: list(&["https://a.test"]), ..RefererConfiguration::default() };
        assert_eq!(ec(cfg.check(Some("https://a.test/page"))), Some(EC_NOT_WHITELISTED));
        cfg.truncate_path = Some(true);
        assert_eq!(ec(cfg.check(Some("https://a.test/page?q=1"))), None);
        cfg.truncate_path = Some(false);
        cfg.allow_truncate_query_string = Some(false);
        assert_eq!(ec(cfg.check(Some("https://a.test?q=1"))), Some(EC_NOT_WHITELISTED));
        cfg.truncate_path = Some(true);
        assert!(cfg.validate().is_err());
        // Defaults: everything passes.
        let d = RefererConfiguration::default();
        assert_eq!(ec(d.check(None)), None);
        assert_eq!(ec(d.check(Some("http://anything"))), None);
    }
}
