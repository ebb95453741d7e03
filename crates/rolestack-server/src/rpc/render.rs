//! Rendering RPC responses and errors as JSON or XML, the two `Format`s the gateway speaks. Lists
//! arrive double-wrapped (`{"Roles":{"Role":[...]}}`), which maps to repeated XML elements.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use quick_xml::escape::escape;
use serde_json::{json, Map, Value};

/// The response formats of the RPC APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// `Format=XML` (any case) asks for XML; anything else is JSON, the SDKs' default.
    pub fn from_param(p: Option<&str>) -> Format {
        match p {
            Some(f) if f.eq_ignore_ascii_case("xml") => Format::Xml,
            _ => Format::Json,
        }
    }
}

/// A successful body: `RequestId` first, then the action's fields.
pub fn success(format: Format, action: &str, request_id: &str, body: Value) -> Response {
    let mut out = Map::new();
    out.insert("RequestId".into(), json!(request_id));
    if let Value::Object(fields) = body {
        out.extend(fields);
    }
    respond(format, StatusCode::OK, &format!("{action}Response"), request_id, Value::Object(out))
}

/// An error body in the gateway's shape: RequestId, HostId, Code, Message, Recommend.
pub fn error(format: Format, status: u16, code: &str, message: &str, host: &str, request_id: &str) -> Response {
    error_with_detail(format, status, code, message, host, request_id, None)
}

/// [`error`], with RAM's `AccessDeniedDetail` object for an authorization refusal (the tea SDKs
/// expose it as `access_denied_detail` on the exception).
pub fn error_with_detail(
    format: Format,
    status: u16,
    code: &str,
    message: &str,
    host: &str,
    request_id: &str,
    detail: Option<Value>,
) -> Response {
    let product = host.split('.').next().unwrap_or("");
    let mut body = json!({
        "RequestId": request_id,
        "HostId": host,
        "Code": code,
        "Message": message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={code}&product={product}"),
    });
    if let Some(detail) = detail {
        body["AccessDeniedDetail"] = detail;
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    respond(format, status, "Error", request_id, body)
}

fn respond(format: Format, status: StatusCode, root: &str, request_id: &str, body: Value) -> Response {
    let (content_type, text) = match format {
        // tea-openapi parses an error as XML only when the content type is exactly this string.
        Format::Xml => ("text/xml;charset=utf-8", to_xml(root, &body).into_bytes()),
        // Straight into bytes (`to_string` goes through `fmt` and costs more).
        Format::Json => ("application/json;charset=utf-8", serde_json::to_vec(&body).expect("a JSON value serializes")),
    };
    let mut resp = (status, text).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-acs-request-id", v);
    }
    resp
}

/// Serializes a JSON value as the XML the RPC APIs return.
pub fn to_xml(root: &str, value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    element(&mut out, root, value);
    out
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => {
            for item in items {
                element(out, name, item);
            }
        }
        Value::Object(fields) => {
            out.push_str(&format!("<{name}>"));
            for (k, v) in fields {
                element(out, k, v);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", escape(s.as_str()))),
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_repeats_list_items_and_escapes() {
        let v = json!({"RequestId": "R", "Roles": {"Role": [{"RoleName": "a<b"}, {"RoleName": "c"}]}, "IsTruncated": false});
        assert_eq!(
            to_xml("ListRolesResponse", &v),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListRolesResponse><RequestId>R</RequestId><Roles><Role><RoleName>a&lt;b</RoleName></Role><Role><RoleName>c</RoleName></Role></Roles><IsTruncated>false</IsTruncated></ListRolesResponse>"
        );
    }
}
