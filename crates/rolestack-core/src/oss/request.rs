//! What an OSS request asks for besides the names it addresses: the one byte-range type (GET's
//! `Range`, UploadPartCopy's `x-oss-copy-source-range`) and the one set of preconditions (GET/HEAD's
//! `If-*`, CopyObject's and UploadPartCopy's `x-oss-copy-source-if-*`). The server parses the
//! headers into these once (`server::oss::headers`); the service applies them.

use super::error::{OssError, OssResult};
use super::model::Object;

/// `bytes=<first>-<last>`, `bytes=<first>-` or `bytes=-<suffix length>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// From `first` to `last` (inclusive; `None`: to the end).
    From { first: u64, last: Option<u64> },
    /// The last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// Parses a range header value; `None` for anything that is not one single range (OSS
    /// ignores those on GET).
    pub fn parse(spec: &str) -> Option<ByteRange> {
        let r = spec.trim().strip_prefix("bytes=")?;
        if r.contains(',') {
            return None;
        }
        let (a, b) = r.split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        match (a.is_empty(), b.is_empty()) {
            (false, true) => Some(ByteRange::From { first: a.parse().ok()?, last: None }),
            (false, false) => {
                let (first, last) = (a.parse().ok()?, b.parse().ok()?);
                (first <= last).then_some(ByteRange::From { first, last: Some(last) })
            }
            (true, false) => Some(ByteRange::Suffix(b.parse().ok()?)),
            (true, true) => None,
        }
    }

    /// The inclusive byte positions of an object of `size` bytes this range selects; `None` when
    /// it selects none (past the end, an empty suffix, an empty object).
    pub fn within(self, size: u64) -> Option<(u64, u64)> {
        match self {
            ByteRange::From { first, last } if first < size => Some((first, last.unwrap_or(u64::MAX).min(size - 1))),
            ByteRange::From { .. } => None,
            ByteRange::Suffix(n) if n == 0 || size == 0 => None,
            ByteRange::Suffix(n) => Some((size.saturating_sub(n), size - 1)),
        }
    }

    /// Whether the range lies wholly inside an object of `size` bytes (its last byte, or the
    /// suffix's length, within the object): what OSS's default behaviour takes as valid.
    pub fn inside(self, size: u64) -> bool {
        match self {
            ByteRange::From { first, last } => first < size && last.is_none_or(|l| l < size),
            ByteRange::Suffix(n) => n > 0 && n <= size,
        }
    }
}

/// UploadPartCopy's source range. OSS requests (`x-oss-copy-source-range`): one starting past
/// the end is `InvalidRange`, one running past it is cut at the end (UNVERIFIED: OSS documents
/// neither). S3-compatible requests (`x-amz-copy-source-range`, `inside`): the whole range lies
/// inside the source, else `InvalidArgument` with OSS's EC `0042-00000306` (see docs/oss.md,
/// "multipart").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyRange {
    pub range: ByteRange,
    pub inside: bool,
}

impl CopyRange {
    /// The inclusive byte positions copied from a source of `size` bytes.
    pub fn resolve(self, size: u64) -> OssResult<(u64, u64)> {
        let runs_past = matches!(self.range, ByteRange::From { last: Some(last), .. } if last >= size);
        match self.range.within(size) {
            Some(r) if !(self.inside && runs_past) => Ok(r),
            // UNVERIFIED: OSS documents the EC, not the code; InvalidArgument is S3's.
            _ if self.inside => Err(OssError::InvalidArgumentEc {
                message: format!("Range specified is not valid for source object of size: {size}"),
                ec: "0042-00000306",
            }),
            _ => Err(OssError::InvalidRange),
        }
    }
}

/// GET's `Range`. By default OSS ignores a range that does not lie wholly inside the object —
/// one running past the end (`bytes=500-2000` of 1,000 bytes) or a suffix longer than the object
/// (`bytes=-2000`) — and answers the whole object (200). With `x-oss-range-behavior: standard`
/// (and on the S3-compatible dialect) it follows HTTP's rules instead: a range running past the
/// end is cut at the end (206), one that selects nothing is `InvalidRange` (416). See docs/oss.md
/// "objects".
#[derive(Debug, Clone, Copy, Default)]
pub struct RangeRequest {
    pub range: Option<ByteRange>,
    pub standard: bool,
}

impl RangeRequest {
    pub fn resolve(&self, size: u64) -> OssResult<Option<(u64, u64)>> {
        let Some(range) = self.range else { return Ok(None) };
        if !self.standard && !range.inside(size) {
            return Ok(None);
        }
        match range.within(size) {
            Some(r) => Ok(Some(r)),
            None if self.standard => Err(OssError::InvalidRange),
            None => Ok(None),
        }
    }
}

/// `If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since` (GET/HEAD and the
/// `x-oss-copy-source-if-*` of copies).
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<i64>,
    pub if_unmodified_since: Option<i64>,
}

impl Conditions {
    /// Checks the object against the conditions: `PreconditionFailed` (412) or `NotModified` (304).
    /// As HTTP orders them (RFC 7232 §6, S3 and OSS alike): `If-Match` decides when present and
    /// `If-Unmodified-Since` only without it; then `If-None-Match` decides when present and
    /// `If-Modified-Since` only without it.
    pub fn check(&self, object: &Object) -> OssResult<()> {
        let same = |tag: &str| tag.trim().trim_matches('"').eq_ignore_ascii_case(&object.etag) || tag.trim() == "*";
        let changed = match (&self.if_match, self.if_unmodified_since) {
            (Some(tag), _) => !same(tag),
            (None, Some(t)) => object.last_modified > t,
            (None, None) => false,
        };
        if changed {
            return Err(OssError::PreconditionFailed);
        }
        let current = match (&self.if_none_match, self.if_modified_since) {
            (Some(tag), _) => same(tag),
            (None, Some(t)) => object.last_modified <= t,
            (None, None) => false,
        };
        if current {
            return Err(OssError::NotModified { etag: object.etag.clone(), last_modified: object.last_modified });
        }
        Ok(())
    }

    /// The `x-oss-copy-source-if-*` reading: a failed condition is always `PreconditionFailed`.
    pub fn check_copy_source(&self, src: &Object) -> OssResult<()> {
        self.check(src).map_err(|e| match e {
            OssError::NotModified { .. } => OssError::PreconditionFailed,
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_ranges() {
        let r = |first, last, inside| CopyRange { range: ByteRange::From { first, last }, inside };
        // OSS: cut at the end, refused only past it.
        assert_eq!(r(2, Some(99), false).resolve(10).unwrap(), (2, 9));
        assert_eq!(r(10, Some(12), false).resolve(10).unwrap_err().code(), "InvalidRange");
        // S3 dialect: the whole range inside the source.
        assert_eq!(r(2, Some(9), true).resolve(10).unwrap(), (2, 9));
        assert_eq!(r(2, None, true).resolve(10).unwrap(), (2, 9));
        for bad in [r(2, Some(10), true), r(10, Some(12), true)] {
            let err = bad.resolve(10).unwrap_err();
            assert_eq!((err.code(), err.http_status(), err.ec()), ("InvalidArgument", 400, "0042-00000306"));
        }
    }

    #[test]
    fn ranges() {
        let p = |s| ByteRange::parse(s);
        assert_eq!(p("bytes=0-9").and_then(|r| r.within(100)), Some((0, 9)));
        assert_eq!(p("bytes=90-").and_then(|r| r.within(100)), Some((90, 99)));
        assert_eq!(p("bytes=-10").and_then(|r| r.within(100)), Some((90, 99)));
        assert_eq!(p("bytes=-200").and_then(|r| r.within(100)), Some((0, 99)));
        assert_eq!(p("bytes=95-200").and_then(|r| r.within(100)), Some((95, 99)));
        assert_eq!(p("bytes=100-").and_then(|r| r.within(100)), None);
        assert_eq!(p("bytes=5-1"), None);
        assert_eq!(p("bytes=0-1,3-4"), None);
        assert_eq!(p("items=0-1"), None);
        let lenient = RangeRequest { range: p("bytes=200-300"), standard: false };
        assert_eq!(lenient.resolve(100).unwrap(), None);
        let strict = RangeRequest { range: p("bytes=200-300"), standard: true };
        assert!(matches!(strict.resolve(100), Err(OssError::InvalidRange)));
        // OSS's default: only a range wholly inside the object counts; HTTP's rules cut it.
        for (range, default, standard) in [
            ("bytes=0-99", Some((0, 99)), Some((0, 99))),
            ("bytes=95-100", None, Some((95, 99))),
            ("bytes=0-1000", None, Some((0, 99))),
            ("bytes=-100", Some((0, 99)), Some((0, 99))),
            ("bytes=-101", None, Some((0, 99))),
            ("bytes=90-", Some((90, 99)), Some((90, 99))),
        ] {
            let r = |standard| RangeRequest { range: p(range), standard }.resolve(100).unwrap();
            assert_eq!((r(false), r(true)), (default, standard), "{range}");
        }
    }
}
