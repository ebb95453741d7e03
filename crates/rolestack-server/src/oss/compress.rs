//! HTTP compression of GetObject / HeadObject answers, as OSS does it (docs/oss.md, "HTTP
//! compression"): a whole object (no `Range`) of at least 1 KiB whose content type is one of a
//! few text types is sent gzip-compressed when the request's `Accept-Encoding` accepts gzip. The
//! answer then has `Content-Encoding: gzip` and `Vary: Accept-Encoding`, is sent chunked, and has
//! no `Content-Length`, `ETag` or `Accept-Ranges`.
//!
//! The decision is made per request; an answer that is not compressed is untouched. The body is
//! wrapped, not rebuilt: each chunk the object stream yields is compressed on the blocking pool.

use std::io::Write as _;

use axum::body::{Body, Bytes};
use flate2::write::GzEncoder;
use flate2::Compression;
use futures_util::StreamExt as _;
use rolestack_core::oss::model::Object;

use super::respond::Reply;
use super::OssHttpRequest;

/// Objects smaller than this are sent as they are.
pub const MIN_SIZE: u64 = 1024;

/// The content types OSS compresses (compared without parameters, case-insensitively).
pub const TYPES: [&str; 10] = [
    "text/cache-manifest",
    "text/xml",
    "text/css",
    "text/html",
    "text/plain",
    "application/javascript",
    "application/x-javascript",
    "application/rss+xml",
    "application/json",
    "text/json",
];

/// Whether an `Accept-Encoding` value accepts gzip (`gzip` listed without `q=0`).
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            let p = p.trim();
            p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")).and_then(|q| q.trim().parse::<f32>().ok()) == Some(0.0)
        });
        coding.eq_ignore_ascii_case("gzip") && !refused
    })
}

/// Whether a content type is one OSS compresses.
pub fn compressible_type(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim();
    TYPES.iter().any(|t| t.eq_ignore_ascii_case(media))
}

/// Whether the answer to `req` for the whole of `object` is compressed: the client accepts gzip,
/// no range was asked for, the object is large enough, of a compressible type, and carries no
/// `Content-Encoding` of its own (stored or asked for with `response-content-encoding`).
pub fn wanted(req: &OssHttpRequest, object: &Object, ranged: bool) -> bool {
    !ranged
        && object.size >= MIN_SIZE
        && compressible_type(&object.content_type)
        && req.header("accept-encoding").is_some_and(accepts_gzip)
        && req.param("response-content-encoding").is_none()
        && !object.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("content-encoding"))
}

/// Turns an uncompressed whole-object answer into the gzip one: headers as OSS sends them, the
/// body compressed as it streams (a HEAD answer has none).
pub fn gzip(mut reply: Reply, head: bool) -> Reply {
    reply.headers.retain(|(k, _)| !matches!(k.to_ascii_lowercase().as_str(), "content-length" | "etag" | "accept-ranges"));
    reply = reply.header("content-encoding", "gzip").header("vary", "Accept-Encoding");
    let body = std::mem::replace(&mut reply.body, Body::empty());
    reply.body = match head {
        // No bytes, and no length either (an empty body of known size would say `0`).
        true => Body::from_stream(futures_util::stream::empty::<std::io::Result<Bytes>>()),
        false => gzip_body(body),
    };
    reply
}

/// Where a compressing body is: reading its source, or done (the gzip trailer sent).
enum State {
    Reading { source: axum::body::BodyDataStream, encoder: GzEncoder<Vec<u8>> },
    Done,
}

/// Compresses a body as it streams; every chunk goes through the encoder on the blocking pool and
/// whatever compressed bytes it has produced are sent on (empty outputs are skipped).
fn gzip_body(body: Body) -> Body {
    let start = State::Reading { source: body.into_data_stream(), encoder: GzEncoder::new(Vec::new(), Compression::default()) };
    let stream = futures_util::stream::unfold(start, |state| async move {
        let State::Reading { mut source, mut encoder } = state else { return None };
        loop {
            match source.next().await {
                Some(Ok(chunk)) => {
                    let step = tokio::task::spawn_blocking(move || {
                        let written = encoder.write_all(&chunk);
                        let out = std::mem::take(encoder.get_mut());
                        written.map(|()| (encoder, out))
                    })
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e)));
                    match step {
                        Ok((back, out)) => {
                            encoder = back;
                            if !out.is_empty() {
                                return Some((Ok(Bytes::from(out)), State::Reading { source, encoder }));
                            }
                        }
                        Err(e) => return Some((Err(e), State::Done)),
                    }
                }
                Some(Err(e)) => return Some((Err(std::io::Error::other(e)), State::Done)),
                None => {
                    return Some((encoder.finish().map(Bytes::from), State::Done));
                }
            }
        }
    });
    Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_values() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("deflate, GZIP;q=0.5"));
        assert!(accepts_gzip("br, gzip, deflate"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("x-gzip2"));
        assert!(!accepts_gzip(""));
    }

    #[test]
    fn content_types() {
        assert!(compressible_type("text/plain"));
        assert!(compressible_type("Text/Plain; charset=utf-8"));
        assert!(compressible_type("application/json"));
        assert!(!compressible_type("application/octet-stream"));
        assert!(!compressible_type("image/jpeg"));
        assert!(!compressible_type("text/plainx"));
    }

    #[tokio::test]
    async fn body_round_trips() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let chunks: Vec<Result<Bytes, std::io::Error>> = data.chunks(65536).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let body = gzip_body(Body::from_stream(futures_util::stream::iter(chunks)));
        let compressed = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&compressed[..]), &mut plain).unwrap();
        assert_eq!(plain, data);
    }
}
