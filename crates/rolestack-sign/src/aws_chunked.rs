//! The `aws-chunked` body of a SigV4 upload (`x-amz-content-sha256:
//! STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` or `STREAMING-UNSIGNED-PAYLOAD-TRAILER`): an
//! incremental decoder that checks each chunk's signature as the bytes arrive. No IO: the caller
//! pushes what it received and gets the decoded bytes back. See docs/s3-compatible.md.
//!
//! ```text
//! <hex size>;chunk-signature=<sig>\r\n <data> \r\n   ... repeated ...   0;chunk-signature=<sig>\r\n
//! [<trailer-name>:<value>\r\n ... [x-amz-trailer-signature:<sig>\r\n]] \r\n
//! ChunkStringToSign   = "AWS4-HMAC-SHA256-PAYLOAD\n" date \n scope \n <previous signature> \n hex(sha256("")) \n hex(sha256(data))
//! TrailerStringToSign = "AWS4-HMAC-SHA256-TRAILER\n" date \n scope \n <previous signature> \n hex(sha256("<name>:<value>\n"...))
//! ```
//!
//! The first chunk's previous signature is the request's own (the seed). Unsigned chunks carry
//! only the size. Data is handed out before its chunk's signature is checked, so the caller must
//! not commit anything until [`ChunkDecoder::finish`] succeeds.

use sha2::{Digest, Sha256};

use crate::aws_v4::{Verified, ALGORITHM, EMPTY_SHA256};
use crate::primitives::{hmac_sha256, same_signature, sha256_hex};
use crate::SignatureError;

/// Longest chunk header or trailer line accepted.
const MAX_LINE: usize = 4096;
/// Largest chunk accepted (AWS's clients use 64 KiB to a few MiB).
const MAX_CHUNK: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Data,
    DataEnd,
    Trailer,
    Done,
}

/// Decodes an `aws-chunked` body, verifying chunk signatures when the payload is signed.
#[derive(Debug)]
pub struct ChunkDecoder {
    signing: Option<Verified>,
    trailer: bool,
    state: State,
    line: Vec<u8>,
    remaining: u64,
    last_chunk: bool,
    hasher: Sha256,
    expected: Option<String>,
    previous: String,
    decoded: u64,
    trailers: Vec<(String, String)>,
    trailer_signature: Option<String>,
}

fn malformed(reason: impl Into<String>) -> SignatureError {
    SignatureError::malformed("aws-chunked body", reason)
}

impl ChunkDecoder {
    /// A decoder for the body of a request verified as `verified`; `signed` and `trailer` come
    /// from its [`crate::aws_v4::Payload::Streaming`].
    pub fn new(verified: &Verified, signed: bool, trailer: bool) -> Self {
        ChunkDecoder {
            signing: signed.then(|| verified.clone()),
            trailer,
            state: State::Header,
            line: Vec::new(),
            remaining: 0,
            last_chunk: false,
            hasher: Sha256::new(),
            expected: None,
            previous: verified.seed_signature.clone(),
            decoded: 0,
            trailers: Vec::new(),
            trailer_signature: None,
        }
    }

    /// Decoded bytes so far (compare with `x-amz-decoded-content-length`).
    pub fn decoded_len(&self) -> u64 {
        self.decoded
    }

    /// The trailing headers (lower-case names), once [`finish`](Self::finish) succeeded.
    pub fn trailers(&self) -> &[(String, String)] {
        &self.trailers
    }

    /// Feeds received bytes; the decoded data is appended to `out`.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), SignatureError> {
        while !input.is_empty() {
            match self.state {
                State::Header | State::Trailer | State::DataEnd => {
                    let Some(line) = self.take_line(&mut input)? else { return Ok(()) };
                    match self.state {
                        State::Header => self.chunk_header(&line)?,
                        State::DataEnd => {
                            if !line.is_empty() {
                                return Err(malformed("chunk data is not followed by CRLF"));
                            }
                            self.state = State::Header;
                        }
                        _ => self.trailer_line(&line)?,
                    }
                }
                State::Data => {
                    let n = (self.remaining.min(input.len() as u64)) as usize;
                    let (data, rest) = input.split_at(n);
                    self.hasher.update(data);
                    out.extend_from_slice(data);
                    self.decoded += n as u64;
                    self.remaining -= n as u64;
                    input = rest;
                    if self.remaining == 0 {
                        self.end_chunk()?;
                    }
                }
                State::Done => return Err(malformed("bytes after the end of the chunked body")),
            }
        }
        Ok(())
    }

    /// Checks that the body ended where it must (after the final chunk and its trailers).
    pub fn finish(&self) -> Result<(), SignatureError> {
        if self.state == State::Done {
            Ok(())
        } else {
            Err(malformed("the body ended before the final chunk"))
        }
    }

    /// Collects one CRLF-terminated line; `None` when more input is needed.
    fn take_line(&mut self, input: &mut &[u8]) -> Result<Option<String>, SignatureError> {
        match input.iter().position(|&b| b == b'\n') {
            Some(i) => {
                self.line.extend_from_slice(&input[..i]);
                *input = &input[i + 1..];
                if self.line.pop() != Some(b'\r') {
                    return Err(malformed("lines must end with CRLF"));
                }
                let line = String::from_utf8(std::mem::take(&mut self.line)).map_err(|_| malformed("a line is not UTF-8"))?;
                Ok(Some(line))
            }
            None => {
                self.line.extend_from_slice(input);
                *input = &[];
                if self.line.len() > MAX_LINE {
                    return Err(malformed("a chunk header is too long"));
                }
                Ok(None)
            }
        }
    }

    fn chunk_header(&mut self, line: &str) -> Result<(), SignatureError> {
        let (size, ext) = line.split_once(';').map_or((line, None), |(s, e)| (s, Some(e)));
        let size = u64::from_str_radix(size.trim(), 16).map_err(|_| malformed(format!("chunk size {size:?} is not hexadecimal")))?;
        if size > MAX_CHUNK {
            return Err(malformed(format!("chunk of {size} bytes is larger than {MAX_CHUNK}")));
        }
        let signature = match ext {
            Some(ext) => Some(
                ext.trim()
                    .strip_prefix("chunk-signature=")
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| malformed(format!("unknown chunk extension {ext:?}")))?
                    .to_string(),
            ),
            None => None,
        };
        if self.signing.is_some() && signature.is_none() {
            return Err(SignatureError::Missing("chunk-signature"));
        }
        self.expected = signature;
        self.remaining = size;
        self.last_chunk = size == 0;
        self.hasher = Sha256::new();
        if size == 0 {
            self.end_chunk()
        } else {
            self.state = State::Data;
            Ok(())
        }
    }

    fn end_chunk(&mut self) -> Result<(), SignatureError> {
        let digest = hex::encode(std::mem::take(&mut self.hasher).finalize());
        if let Some(signing) = &self.signing {
            let sts = format!("{ALGORITHM}-PAYLOAD\n{}\n{}\n{}\n{EMPTY_SHA256}\n{digest}", signing.date_time, signing.scope, self.previous);
            let computed = hex::encode(hmac_sha256(&signing.signing_key, sts.as_bytes()));
            let presented = self.expected.take().unwrap_or_default().to_ascii_lowercase();
            if !same_signature(&presented, &computed) {
                return Err(SignatureError::Mismatch { canonical_request: None, string_to_sign: sts });
            }
            self.previous = computed;
        }
        self.state = if self.last_chunk { State::Trailer } else { State::DataEnd };
        Ok(())
    }

    fn trailer_line(&mut self, line: &str) -> Result<(), SignatureError> {
        if line.is_empty() {
            return self.end_trailers();
        }
        if !self.trailer {
            return Err(malformed("trailing headers the request did not announce"));
        }
        if self.trailer_signature.is_some() {
            return Err(malformed("a trailing header after x-amz-trailer-signature"));
        }
        let (name, value) = line.split_once(':').ok_or_else(|| malformed(format!("trailer line {line:?} is not name:value")))?;
        let name = name.trim().to_ascii_lowercase();
        if name == "x-amz-trailer-signature" {
            self.trailer_signature = Some(value.trim().to_string());
        } else {
            self.trailers.push((name, value.trim().to_string()));
        }
        Ok(())
    }

    fn end_trailers(&mut self) -> Result<(), SignatureError> {
        if let (Some(signing), true) = (&self.signing, self.trailer) {
            let canonical: String = self.trailers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
            let sts = format!(
                "{ALGORITHM}-TRAILER\n{}\n{}\n{}\n{}",
                signing.date_time,
                signing.scope,
                self.previous,
                sha256_hex(canonical.as_bytes())
            );
            let computed = hex::encode(hmac_sha256(&signing.signing_key, sts.as_bytes()));
            let presented = self.trailer_signature.clone().ok_or(SignatureError::Missing("x-amz-trailer-signature"))?;
            if !same_signature(&presented.to_ascii_lowercase(), &computed) {
                return Err(SignatureError::Mismatch { canonical_request: None, string_to_sign: sts });
            }
        }
        self.state = State::Done;
        Ok(())
    }
}

/// Encodes `data` as a signed `aws-chunked` body in chunks of `chunk_size` bytes, chaining from
/// `verified` (our own client and the tests use it).
pub fn encode_signed(verified: &Verified, data: &[u8], chunk_size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut previous = verified.seed_signature.clone();
    let mut chunks: Vec<&[u8]> = data.chunks(chunk_size.max(1)).collect();
    chunks.push(&[]);
    for chunk in chunks {
        let sts =
            format!("{ALGORITHM}-PAYLOAD\n{}\n{}\n{previous}\n{EMPTY_SHA256}\n{}", verified.date_time, verified.scope, sha256_hex(chunk));
        previous = hex::encode(hmac_sha256(&verified.signing_key, sts.as_bytes()));
        out.extend_from_slice(format!("{:x};chunk-signature={previous}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws_v4::{self, HeaderAuth, Payload};
    use crate::primitives::test_support::{owned, AWS_EXAMPLE_AK, AWS_EXAMPLE_SECRET};
    use crate::s3::S3Request;

    /// AWS's published chunked-upload example: 66560 bytes of `a` in chunks of 65536 and 1024,
    /// seed, chunk and final signatures re-derived here.
    fn example() -> (Vec<(String, String)>, &'static str) {
        let headers = owned(&[
            ("Host", "s3.amazonaws.com"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", aws_v4::STREAMING_SIGNED),
            ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("Content-Length", "66824"),
        ]);
        (headers, "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class")
    }

    const SECRET: &str = AWS_EXAMPLE_SECRET;

    fn verified() -> Verified {
        let (headers, signed) = example();
        let request = S3Request { method: "PUT", raw_path: "/examplebucket/chunkObject.txt", query: &[], headers: &headers };
        let names: Vec<&str> = signed.split(';').collect();
        let value = aws_v4::sign_header(AWS_EXAMPLE_AK, SECRET, "us-east-1", &request, &names).unwrap();
        assert!(value.ends_with("Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"), "{value}");
        let v = aws_v4::verify_header(SECRET, &HeaderAuth::parse(&value).unwrap(), &request).unwrap();
        assert_eq!(v.payload, Payload::Streaming { signed: true, trailer: false });
        v
    }

    #[test]
    fn published_example_decodes() {
        let v = verified();
        let data = vec![b'a'; 66560];
        let body = encode_signed(&v, &data, 65536);
        assert_eq!(body.len(), 66824);
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with("10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n"));
        assert!(text.contains("\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n"));
        assert!(text.ends_with("\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n"));
        // Fed in awkward pieces.
        for step in [1, 7, 4096, body.len()] {
            let mut d = ChunkDecoder::new(&v, true, false);
            let mut out = Vec::new();
            for piece in body.chunks(step) {
                d.push(piece, &mut out).unwrap();
            }
            d.finish().unwrap();
            assert_eq!(out, data);
            assert_eq!(d.decoded_len(), 66560);
        }
    }

    #[test]
    fn tampering_is_refused() {
        let v = verified();
        let body = encode_signed(&v, b"hello world", 4);
        let mut flipped = body.clone();
        let at = body.windows(4).position(|w| w == b"hell").unwrap();
        flipped[at] = b'j';
        let mut out = Vec::new();
        assert!(matches!(ChunkDecoder::new(&v, true, false).push(&flipped, &mut out), Err(SignatureError::Mismatch { .. })));
        // A dropped final chunk is an incomplete body.
        let cut = &body[..body.len() - 10];
        let mut d = ChunkDecoder::new(&v, true, false);
        let _ = d.push(cut, &mut out);
        assert!(d.finish().is_err());
        // Unsigned chunks are refused when the payload is signed.
        let mut d = ChunkDecoder::new(&v, true, false);
        assert_eq!(d.push(b"5\r\nhello\r\n", &mut out), Err(SignatureError::Missing("chunk-signature")));
    }

    #[test]
    fn unsigned_with_trailer() {
        let v = verified();
        let mut d = ChunkDecoder::new(&v, false, true);
        let mut out = Vec::new();
        d.push(b"5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", &mut out).unwrap();
        d.finish().unwrap();
        assert_eq!(out, b"hello world");
        assert_eq!(d.trailers(), &[("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]);
        let mut d = ChunkDecoder::new(&v, false, false);
        assert!(d.push(b"0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", &mut out).is_err());
    }
}
