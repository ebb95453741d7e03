//! Upload callbacks (`x-oss-callback` / `x-oss-callback-var`, or the `callback` / `callback-var`
//! query parameters of a presigned URL): after PutObject or CompleteMultipartUpload stored the
//! object, OSS POSTs a body built from the application's template to the application's callback
//! URL and relays the answer. Pure: parsing, the address rule, the body, and judging the answer;
//! the server does the POST. Rules as written in docs/oss.md ("Upload callbacks").
//!
//! rolestack sends callbacks only to loopback (`127.0.0.0/8`, `::1`, the name `localhost`, which
//! is never looked up) — for an upload that came from inside an instance's network namespace, that
//! namespace's loopback (the server decides where to connect): any other target is refused without
//! a packet, and the upload answers `203 CallbackFailed` as real OSS does for a callback it could
//! not deliver.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Deserialize;

use super::error::{OssError, OssResult};

/// At most this many `;`-separated callback URLs.
pub const MAX_URLS: usize = 5;
/// How long the server waits for the application (OSS: 5 seconds).
pub const TIMEOUT_SECONDS: u64 = 5;
/// The largest answer relayed to the client.
pub const MAX_RESPONSE: usize = 3 * 1024;

/// The body's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    /// `application/x-www-form-urlencoded` (default): substituted values are URL-encoded.
    Form,
    /// `application/json`: substituted values are JSON-string-escaped.
    Json,
}

impl BodyType {
    /// The `Content-Type` of the callback request.
    pub fn content_type(self) -> &'static str {
        match self {
            BodyType::Form => "application/x-www-form-urlencoded",
            BodyType::Json => "application/json",
        }
    }
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "callbackUrl")]
    url: Option<String>,
    #[serde(rename = "callbackHost")]
    host: Option<String>,
    #[serde(rename = "callbackBody")]
    body: Option<String>,
    #[serde(rename = "callbackBodyType")]
    body_type: Option<String>,
    #[serde(rename = "callbackSNI", default)]
    sni: Option<serde_json::Value>,
}

/// Where one callback URL points, once the address rule allowed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The loopback address and port to connect to.
    pub addr: SocketAddr,
    /// The `Host` header (`callbackHost`, else the URL's host and port).
    pub host: String,
    /// Path and query of the URL (`/` when empty).
    pub path: String,
    /// `https`: the POST goes over TLS (the certificate is not checked; docs/oss.md).
    pub tls: bool,
    /// The URL's host (the TLS server name, sent as SNI when `callbackSNI` asks for it).
    pub server_name: String,
}

/// A parsed callback request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    /// Each URL as written, with its target or why it is refused.
    pub urls: Vec<(String, Result<Target, String>)>,
    body: String,
    /// The body's encoding.
    pub body_type: BodyType,
    /// `callbackSNI`: send the server name in the TLS handshake of an `https` callback.
    pub sni: bool,
    vars: Vec<(String, String)>,
}

/// What the body template may refer to (`${bucket}`, `${object}`, ...).
#[derive(Debug, Clone, Default)]
pub struct UploadFacts {
    pub bucket: String,
    pub object: String,
    /// The ETag without quotes.
    pub etag: String,
    pub size: u64,
    pub mime_type: String,
    pub crc64: String,
    /// Base64 MD5 of the body (`Content-MD5` form).
    pub content_md5: String,
    pub client_ip: String,
    pub request_id: String,
    /// `PutObject` or `CompleteMultipartUpload`.
    pub operation: String,
}

fn invalid(what: &str) -> OssError {
    OssError::InvalidArgument(format!("The callback configuration is not valid: {what}."))
}

fn decode_json(b64: &str, what: &str) -> OssResult<serde_json::Value> {
    let bytes = BASE64.decode(b64.trim()).map_err(|_| invalid(&format!("{what} is not base64")))?;
    serde_json::from_slice(&bytes).map_err(|_| invalid(&format!("{what} is not json format")))
}

/// The loopback target of `url`, or why it is refused. No name is ever looked up.
fn target(url: &str, host_override: Option<&str>) -> Result<Target, String> {
    let (rest, tls) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
        (Some(rest), _) => (rest, false),
        (_, Some(rest)) => (rest, true),
        _ => return Err(format!("{url:?}: a callback URL is http:// or https://")),
    };
    let default_port = if tls { 443 } else { 80 };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'?' => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    if authority.contains('@') {
        return Err(format!("{url:?}: user information is not allowed"));
    }
    let port_of = |p: &str| p.parse::<u16>().map_err(|_| format!("{url:?}: bad port"));
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']').ok_or_else(|| format!("{url:?}: bad address"))?;
            (h, after.strip_prefix(':').map_or(Ok(default_port), port_of)?)
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, port_of(p)?),
            None => (authority, default_port),
        },
    };
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.parse().map_err(|_| format!("{url:?}: rolestack sends callbacks only to loopback addresses, and never looks a name up"))?
    };
    if !ip.is_loopback() {
        return Err(format!("{url:?}: rolestack sends callbacks only to loopback addresses"));
    }
    Ok(Target {
        addr: SocketAddr::new(ip, port),
        host: host_override.map_or_else(|| authority.to_string(), str::to_string),
        path,
        tls,
        server_name: host.to_string(),
    })
}

impl Callback {
    /// Parses the base64 JSON of `x-oss-callback` and, if given, of `x-oss-callback-var`
    /// (`InvalidArgument` on anything malformed, before the upload is accepted).
    pub fn parse(callback: &str, vars: Option<&str>) -> OssResult<Callback> {
        let raw: Raw =
            serde_json::from_value(decode_json(callback, "x-oss-callback")?).map_err(|_| invalid("x-oss-callback is not json format"))?;
        let url = raw.url.filter(|u| !u.trim().is_empty()).ok_or_else(|| invalid("callbackUrl is missing"))?;
        let body = raw.body.filter(|b| !b.is_empty()).ok_or_else(|| invalid("callbackBody is missing"))?;
        let body_type = match raw.body_type.as_deref().map(str::trim) {
            None | Some("") => BodyType::Form,
            Some(t) if t.eq_ignore_ascii_case("application/x-www-form-urlencoded") => BodyType::Form,
            Some(t) if t.eq_ignore_ascii_case("application/json") => BodyType::Json,
            Some(other) => return Err(invalid(&format!("callbackBodyType {other:?} is not supported"))),
        };
        // OSS takes `true` / `false`, as JSON booleans or strings; anything else is refused.
        let sni = match &raw.sni {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::Bool(b)) => *b,
            Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(serde_json::Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(other) => return Err(invalid(&format!("callbackSNI {other} is not true or false"))),
        };
        let urls: Vec<&str> = url.split(';').map(str::trim).filter(|u| !u.is_empty()).collect();
        if urls.len() > MAX_URLS {
            return Err(invalid(&format!("at most {MAX_URLS} callbackUrl values")));
        }
        let host = raw.host.as_deref().map(str::trim).filter(|h| !h.is_empty());
        let urls = urls.into_iter().map(|u| (u.to_string(), target(u, host))).collect();
        let vars = match vars {
            None => Vec::new(),
            Some(v) => match decode_json(v, "x-oss-callback-var")? {
                // Only `x:` names can be referred to (`${x:name}`); OSS accepts and ignores others.
                serde_json::Value::Object(map) => map
                    .into_iter()
                    .filter(|(k, _)| k.starts_with("x:"))
                    .map(|(k, v)| {
                        let value = match v {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (k, value)
                    })
                    .collect(),
                _ => return Err(invalid("x-oss-callback-var is not a json object")),
            },
        };
        Ok(Callback { urls, body, body_type, sni, vars })
    }

    /// The callback request's body: the template with every `${name}` replaced (unknown names by
    /// nothing), values encoded for the body type.
    pub fn render_body(&self, facts: &UploadFacts) -> Vec<u8> {
        let lookup = |name: &str| -> String {
            match name {
                "bucket" => facts.bucket.clone(),
                "object" => facts.object.clone(),
                "etag" => facts.etag.clone(),
                "size" => facts.size.to_string(),
                "mimeType" => facts.mime_type.clone(),
                "crc64" => facts.crc64.clone(),
                "contentMd5" => facts.content_md5.clone(),
                "clientIp" => facts.client_ip.clone(),
                "reqId" => facts.request_id.clone(),
                "operation" => facts.operation.clone(),
                other => self.vars.iter().find(|(k, _)| k == other).map(|(_, v)| v.clone()).unwrap_or_default(),
            }
        };
        let encode = |v: String| match self.body_type {
            BodyType::Form => form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>(),
            BodyType::Json => {
                let quoted = serde_json::Value::String(v).to_string();
                quoted[1..quoted.len() - 1].to_string()
            }
        };
        let mut out = String::new();
        let mut rest = self.body.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            match rest[start + 2..].find('}') {
                Some(end) => {
                    out.push_str(&encode(lookup(&rest[start + 2..start + 2 + end])));
                    rest = &rest[start + 2 + end + 1..];
                }
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out.into_bytes()
    }
}

/// Judges the application's answer: `Ok(body)` to relay with 200, or the `CallbackFailed`
/// message.
pub fn judge(status: u16, body: &[u8]) -> Result<Vec<u8>, String> {
    if status != 200 {
        return Err(format!("Error status : {status}."));
    }
    if body.len() > MAX_RESPONSE {
        return Err(format!("Response body is larger than {MAX_RESPONSE} bytes."));
    }
    if serde_json::from_slice::<serde_json::Value>(body).is_err() {
        return Err("Response body is not valid json format.".to_string());
    }
    Ok(body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        BASE64.encode(s)
    }

    #[test]
    fn parses_and_renders() {
        let cb = Callback::parse(
            &b64(r#"{"callbackUrl":"http://127.0.0.1:9000/cb?x=1;http://cbsrv.oss.demo.com;https://localhost/","callbackBody":"bucket=${bucket}&object=${object}&size=${size}&v=${x:my_var}&none=${nope}","callbackHost":"app.test"}"#),
            Some(&b64(r#"{"x:my_var":"a b&c"}"#)),
        )
        .unwrap();
        assert_eq!(
            cb.urls[0].1,
            Ok(Target {
                addr: "127.0.0.1:9000".parse().unwrap(),
                host: "app.test".into(),
                path: "/cb?x=1".into(),
                tls: false,
                server_name: "127.0.0.1".into()
            })
        );
        assert!(cb.urls[1].1.as_ref().unwrap_err().contains("never looks a name up"));
        let https = cb.urls[2].1.as_ref().unwrap();
        assert_eq!((https.addr, https.tls, https.server_name.as_str()), ("127.0.0.1:443".parse().unwrap(), true, "localhost"));
        assert!(!cb.sni);
        let facts = UploadFacts { bucket: "b".into(), object: "dir/ü k".into(), size: 5, ..UploadFacts::default() };
        assert_eq!(String::from_utf8(cb.render_body(&facts)).unwrap(), "bucket=b&object=dir%2F%C3%BC+k&size=5&v=a+b%26c&none=");
        let json = Callback::parse(
            &b64(r#"{"callbackUrl":"http://localhost","callbackBody":"{\"o\":\"${object}\"}","callbackBodyType":"application/json"}"#),
            None,
        )
        .unwrap();
        assert_eq!(json.urls[0].1.as_ref().unwrap().addr, "127.0.0.1:80".parse().unwrap());
        let facts = UploadFacts { object: "q\"uote".into(), ..UploadFacts::default() };
        assert_eq!(String::from_utf8(json.render_body(&facts)).unwrap(), r#"{"o":"q\"uote"}"#);
    }

    #[test]
    fn addresses() {
        for ok in ["http://127.0.0.1/", "http://127.1.2.3:8080/x", "http://[::1]:81/", "http://LOCALHOST:1", "https://127.0.0.1:8443/"] {
            assert!(target(ok, None).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/",
            "http://100.100.100.200/",
            "http://example.com/",
            "https://10.0.0.1/",
            "ftp://127.0.0.1/",
            "http://u@127.0.0.1/",
            "http://[::2]/",
            "http://127.0.0.1:x/",
        ] {
            assert!(target(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn malformed() {
        for bad in ["not base64!", &b64("not json"), &b64(r#"{"callbackBody":"a"}"#), &b64(r#"{"callbackUrl":"http://127.0.0.1"}"#)] {
            assert!(matches!(Callback::parse(bad, None), Err(OssError::InvalidArgument(_))), "{bad}");
        }
        let cb = b64(r#"{"callbackUrl":"http://127.0.0.1","callbackBody":"a"}"#);
        // Names without `x:` are ignored (oss2's own test sends the callback document as its variables).
        assert!(Callback::parse(&cb, Some(&b64(r#"{"y":"1"}"#))).is_ok());
        assert!(Callback::parse(&cb, Some(&b64("[1]"))).is_err());
        // callbackSNI: true / false (booleans or strings), nothing else.
        for (sni, want) in [("true", true), ("\"false\"", false), ("\"TRUE\"", true)] {
            let doc = b64(&format!(r#"{{"callbackUrl":"https://127.0.0.1","callbackBody":"a","callbackSNI":{sni}}}"#));
            assert_eq!(Callback::parse(&doc, None).unwrap().sni, want, "{sni}");
        }
        let doc = b64(r#"{"callbackUrl":"https://127.0.0.1","callbackBody":"a","callbackSNI":123}"#);
        assert!(matches!(Callback::parse(&doc, None), Err(OssError::InvalidArgument(_))));
    }

    #[test]
    fn judging() {
        assert_eq!(judge(200, br#"{"Status":"OK"}"#), Ok(br#"{"Status":"OK"}"#.to_vec()));
        assert_eq!(judge(502, b""), Err("Error status : 502.".into()));
        assert_eq!(judge(200, b"OK"), Err("Response body is not valid json format.".into()));
    }
}
