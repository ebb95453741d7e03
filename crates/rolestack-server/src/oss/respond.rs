//! Building OSS responses: the headers every response carries (`x-oss-request-id`, `Date`,
//! `Server`), XML bodies, streamed object bodies, and the one rendering of [`OssError`] as the
//! `<Error>` document — or, for HEAD, as the base64 `x-oss-err` header the SDKs decode.

use rolestack_core::oss::blob::SegmentReader;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use base64::Engine as _;
use rolestack_core::oss::OssError;
use rolestack_core::seal::ServerKey;

use super::OssHttpRequest;

/// A response under construction.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Reply {
    pub fn empty(status: u16) -> Self {
        Reply { status, headers: Vec::new(), body: Body::empty() }
    }

    pub fn xml(xml: String) -> Self {
        Reply { status: 200, headers: vec![("content-type".into(), "application/xml".into())], body: Body::from(xml) }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The HTTP response with the common headers.
    fn into_response(self, request_id: &str) -> Response {
        let mut resp = Response::new(self.body);
        *resp.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let h = resp.headers_mut();
        for (name, value) in self.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
                h.append(n, v);
            }
        }
        h.insert("x-oss-request-id", HeaderValue::from_str(request_id).expect("hex is a valid header"));
        h.insert("server", HeaderValue::from_static("AliyunOSS"));
        if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now())) {
            h.insert("date", v);
        }
        resp
    }
}

/// Finishes every OSS response, success or error: the one place responses are decorated
/// (request id, `Date`, `Server`; headers that depend on the request, such as CORS, go here).
pub fn finish(reply: Reply, req: &OssHttpRequest, request_id: &str) -> Response {
    let mut resp = reply.into_response(request_id);
    if req.s3 {
        crate::s3::translate_response_headers(resp.headers_mut());
    }
    resp
}

/// A request id as OSS writes them: 24 upper-case hex digits (from the thread's CSPRNG: no
/// system call per request).
pub fn request_id() -> String {
    hex::encode_upper(rand::random::<[u8; 12]>())
}

fn escape(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

/// Renders an error; `head` moves the document into `x-oss-err`. A refusal carries OSS's
/// `AccessDeniedDetail`, its verdict sealed with `key` as the `EncodedDiagnosticMessage`.
pub fn error(e: &OssError, request_id: &str, host: &str, head: bool, key: &ServerKey) -> Reply {
    if let OssError::NotModified { etag, last_modified } = e {
        return Reply::empty(304)
            .header("etag", super::xml::quoted(etag))
            .header("last-modified", super::handlers::http_time(*last_modified));
    }
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n");
    xml.push_str(&format!("  <Code>{}</Code>\n", e.code()));
    xml.push_str(&format!("  <Message>{}</Message>\n", escape(&e.to_string())));
    xml.push_str(&format!("  <RequestId>{request_id}</RequestId>\n"));
    xml.push_str(&format!("  <HostId>{}</HostId>\n", escape(host)));
    if let OssError::AccessDenied { verdict: Some(verdict), .. } = e {
        xml.push_str("  <AccessDeniedDetail>\n");
        if let serde_json::Value::Object(fields) = verdict.access_denied_detail(&verdict.encode(key)) {
            for (name, value) in fields {
                let text = value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string());
                xml.push_str(&format!("    <{name}>{}</{name}>\n", escape(&text)));
            }
        }
        xml.push_str("  </AccessDeniedDetail>\n");
    }
    for (name, value) in e.details() {
        xml.push_str(&format!("  <{name}>{}</{name}>\n", escape(&value)));
    }
    xml.push_str(&format!("  <EC>{}</EC>\n", e.ec()));
    xml.push_str("</Error>\n");
    let mut reply = if head {
        Reply::empty(e.http_status()).header("x-oss-err", base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()))
    } else {
        Reply { status: e.http_status(), headers: vec![("content-type".into(), "application/xml".into())], body: Body::from(xml) }
    };
    reply = reply.header("x-oss-ec", e.ec());
    for (name, value) in e.headers() {
        reply = reply.header(name, value);
    }
    reply
}

/// Streams an object's bytes as a response body: mapped bytes go out as they are (no copy, no
/// thread); blobs read from disk are read on a blocking thread, a chunk at a time.
pub fn stream(mut reader: SegmentReader) -> Body {
    if reader.is_mapped() {
        let mut chunks = Vec::new();
        while let Ok(Some(chunk)) = reader.next_chunk() {
            chunks.push(Ok::<_, std::io::Error>(chunk));
        }
        if chunks.len() == 1 {
            // One mapped blob (a simple object): one frame of known size, handed to the socket whole.
            if let Some(Ok(chunk)) = chunks.pop() {
                return Body::from(chunk);
            }
        }
        return Body::from_stream(futures_util::stream::iter(chunks));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(2);
    tokio::task::spawn_blocking(move || loop {
        match reader.next_chunk() {
            Ok(None) => break,
            Ok(Some(chunk)) => {
                if tx.blocking_send(Ok(chunk)).is_err() {
                    break;
                }
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                break;
            }
        }
    });
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) }))
}
