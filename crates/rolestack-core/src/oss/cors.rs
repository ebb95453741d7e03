//! Bucket CORS rules (PutBucketCors / GetBucketCors / DeleteBucketCors) and how a request is
//! matched against them: the preflight `OPTIONS` and the CORS headers of ordinary requests.
//! Pure: the server passes the `Origin`, the method and the requested headers. Rules as written
//! in docs/oss.md ("CORS").
//!
//! The same types are the stored record (JSON inside the bucket) and the XML document
//! (`<CORSConfiguration><CORSRule>...</CORSRule><ResponseVary>...</ResponseVary>`).

use serde::{Deserialize, Serialize};

use super::error::{OssError, OssResult};

/// At most this many `CORSRule`s per bucket.
pub const MAX_RULES: usize = 10;
/// The methods a rule may allow.
pub const METHODS: [&str; 5] = ["GET", "PUT", "DELETE", "POST", "HEAD"];

/// `<CORSConfiguration>`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CorsConfiguration {
    /// `CORSRule`, in the order written (the first match wins).
    #[serde(rename = "CORSRule", default)]
    pub rules: Vec<CorsRule>,
    /// `ResponseVary`: answer `Vary: Origin` (false unless set; always reported).
    #[serde(rename = "ResponseVary", default)]
    pub response_vary: bool,
}

/// `<CORSRule>`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CorsRule {
    /// `AllowedOrigin`: origins, each with at most one `*`.
    #[serde(rename = "AllowedOrigin", default)]
    pub allowed_origins: Vec<String>,
    /// `AllowedMethod`: of [`METHODS`].
    #[serde(rename = "AllowedMethod", default)]
    pub allowed_methods: Vec<String>,
    /// `AllowedHeader`: request headers a preflight may ask for, each with at most one `*`.
    #[serde(rename = "AllowedHeader", default)]
    pub allowed_headers: Vec<String>,
    /// `ExposeHeader`: response headers the browser may show the page (no wildcards).
    #[serde(rename = "ExposeHeader", default)]
    pub expose_headers: Vec<String>,
    /// `MaxAgeSeconds`: how long a browser may cache the preflight answer (not negative).
    #[serde(rename = "MaxAgeSeconds", default, skip_serializing_if = "Option::is_none")]
    pub max_age_seconds: Option<i64>,
}

fn wildcards(s: &str) -> usize {
    s.matches('*').count()
}

impl CorsConfiguration {
    /// Checks a configuration as PutBucketCors does (`InvalidArgument` with OSS's reasons).
    pub fn validate(&self) -> OssResult<()> {
        if self.rules.is_empty() {
            return Err(OssError::MalformedXml("a CORSConfiguration needs at least one CORSRule".into()));
        }
        if self.rules.len() > MAX_RULES {
            return Err(OssError::InvalidArgument(format!("A bucket may have at most {MAX_RULES} CORS rules.")));
        }
        for rule in &self.rules {
            if rule.allowed_origins.is_empty() || rule.allowed_methods.is_empty() {
                return Err(OssError::InvalidArgument("Each CORSRule needs an AllowedOrigin and an AllowedMethod.".into()));
            }
            if let Some(o) = rule.allowed_origins.iter().find(|o| wildcards(o) > 1 || o.is_empty()) {
                return Err(OssError::InvalidArgument(format!("AllowedOrigin {o:?} may contain at most one wildcard \"*\".")));
            }
            if let Some(m) = rule.allowed_methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
                return Err(OssError::InvalidArgument(format!(
                    "Unsupported method {m:?}: AllowedMethod is one of GET, PUT, DELETE, POST, HEAD."
                )));
            }
            if let Some(h) = rule.allowed_headers.iter().find(|h| wildcards(h) > 1) {
                return Err(OssError::InvalidArgument(format!("AllowedHeader {h:?} may contain at most one wildcard \"*\".")));
            }
            if let Some(age) = rule.max_age_seconds.filter(|a| *a < 0) {
                return Err(OssError::InvalidArgumentValue {
                    message: "MaxAgeSeconds is a number of seconds, not negative.".into(),
                    name: "MaxAgeSeconds",
                    value: age.to_string(),
                });
            }
            if let Some(h) = rule.expose_headers.iter().find(|h| h.contains('*')) {
                return Err(OssError::InvalidArgument(format!("ExposeHeader {h:?} may not contain a wildcard.")));
            }
        }
        Ok(())
    }

    /// The first rule that allows `origin` to use `method` with `request_headers` (names from
    /// `Access-Control-Request-Headers`; empty for an ordinary request).
    pub fn matching_rule(&self, origin: &str, method: &str, request_headers: &[&str]) -> Option<&CorsRule> {
        self.rules.iter().find(|r| r.allows(origin, method, request_headers))
    }

    /// Whether responses carry `Vary: Origin`.
    pub fn vary(&self) -> bool {
        self.response_vary
    }
}

impl CorsRule {
    fn allows(&self, origin: &str, method: &str, request_headers: &[&str]) -> bool {
        self.allowed_origins.iter().any(|o| rolestack_policy::wildcard_match(o, origin, false))
            && self.allowed_methods.iter().any(|m| m == method)
            && request_headers.iter().all(|h| self.allowed_headers.iter().any(|a| rolestack_policy::wildcard_match(a, h.trim(), true)))
    }

    /// The `Access-Control-*` headers of an answer to `origin` by this rule; `request_headers`
    /// is the preflight's `Access-Control-Request-Headers` as sent (echoed), `None` for an
    /// ordinary request.
    pub fn response_headers(&self, origin: &str, request_headers: Option<&str>) -> Vec<(&'static str, String)> {
        let allow_origin = if self.allowed_origins.iter().any(|o| o == "*") { "*".to_string() } else { origin.to_string() };
        let mut out =
            vec![("Access-Control-Allow-Origin", allow_origin), ("Access-Control-Allow-Methods", self.allowed_methods.join(", "))];
        if let Some(h) = request_headers.filter(|h| !h.trim().is_empty()) {
            out.push(("Access-Control-Allow-Headers", h.to_string()));
        }
        if !self.expose_headers.is_empty() {
            out.push(("Access-Control-Expose-Headers", self.expose_headers.join(", ")));
        }
        if let Some(age) = self.max_age_seconds {
            out.push(("Access-Control-Max-Age", age.to_string()));
        }
        out
    }
}

/// The header names of an `Access-Control-Request-Headers` value (comma-separated, any case).
pub fn requested_headers(value: Option<&str>) -> Vec<&str> {
    value.map(|v| v.split(',').map(str::trim).filter(|h| !h.is_empty()).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(origins: &[&str], methods: &[&str], headers: &[&str]) -> CorsRule {
        CorsRule {
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            allowed_methods: methods.iter().map(|s| s.to_string()).collect(),
            allowed_headers: headers.iter().map(|s| s.to_string()).collect(),
            expose_headers: vec!["ETag".into(), "x-oss-request-id".into()],
            max_age_seconds: Some(100),
        }
    }

    #[test]
    fn matching() {
        let cfg = CorsConfiguration {
            rules: vec![rule(&["https://*.example.com"], &["GET", "PUT"], &["x-oss-*", "content-type"]), rule(&["*"], &["GET"], &[])],
            response_vary: false,
        };
        cfg.validate().unwrap();
        let r = cfg.matching_rule("https://app.example.com", "PUT", &["Content-Type", "x-oss-security-token"]).unwrap();
        assert_eq!(r.allowed_methods, vec!["GET", "PUT"]);
        assert_eq!(
            r.response_headers("https://app.example.com", Some("content-type, x-oss-security-token")),
            vec![
                ("Access-Control-Allow-Origin", "https://app.example.com".to_string()),
                ("Access-Control-Allow-Methods", "GET, PUT".to_string()),
                ("Access-Control-Allow-Headers", "content-type, x-oss-security-token".to_string()),
                ("Access-Control-Expose-Headers", "ETag, x-oss-request-id".to_string()),
                ("Access-Control-Max-Age", "100".to_string()),
            ]
        );
        // A header the first rule does not allow: the second rule allows no headers at all.
        assert!(cfg.matching_rule("https://app.example.com", "PUT", &["authorization"]).is_none());
        // Any origin may GET without extra headers; the answer is `*`.
        let r = cfg.matching_rule("http://other.test", "GET", &[]).unwrap();
        assert_eq!(r.response_headers("http://other.test", None)[0].1, "*");
        assert!(cfg.matching_rule("http://other.test", "DELETE", &[]).is_none());
        assert!(cfg.matching_rule("http://example.com", "PUT", &[]).is_none());
        assert_eq!(requested_headers(Some(" a, B ,,c")), vec!["a", "B", "c"]);
    }

    #[test]
    fn validation() {
        let ok = rule(&["*"], &["GET"], &["*"]);
        for (bad, why) in [
            (rule(&["*.*.com"], &["GET"], &[]), "two wildcards in an origin"),
            (rule(&[], &["GET"], &[]), "no origin"),
            (rule(&["*"], &[], &[]), "no method"),
            (rule(&["*"], &["PATCH"], &[]), "unknown method"),
            (rule(&["*"], &["GET"], &["x-*-*"]), "two wildcards in a header"),
            (CorsRule { expose_headers: vec!["x-*".into()], ..ok.clone() }, "wildcard in an expose header"),
        ] {
            assert!(CorsConfiguration { rules: vec![bad], response_vary: false }.validate().is_err(), "{why}");
        }
        assert!(CorsConfiguration { rules: vec![ok.clone(); 11], response_vary: false }.validate().is_err());
        assert!(CorsConfiguration { rules: vec![], response_vary: false }.validate().is_err());
        assert!(CorsConfiguration { rules: vec![ok; 10], response_vary: true }.validate().is_ok());
    }
}
