//! The one error type of the crate: why a request's signature was not accepted.
//!
//! Front-ends map these to their wire error codes (RPC: `IncompleteSignature`,
//! `SignatureDoesNotMatch`, ...; OSS: `AccessDenied`, `SignatureDoesNotMatch`, ...). The
//! `Mismatch` variant carries the server-side strings so the front-end can echo them the way the
//! real services do (the Python core SDK parses the V1 StringToSign out of the message).

/// Why a signature was rejected, or why it could not even be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A required element of the signature is absent (a parameter, a header, an
    /// `Authorization` component). The payload names it as the client sees it.
    #[error("the request is missing {0}")]
    Missing(&'static str),

    /// An element is present but cannot be parsed.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// The element, e.g. `Authorization header`, `x-oss-expires`.
        what: &'static str,
        /// What is wrong with it, meant for the error message.
        reason: String,
    },

    /// The request names a signature algorithm or version this server does not implement
    /// (e.g. `ACS3-HMAC-SM3`, `OSS2`, `SignatureMethod=HMAC-SHA256`).
    #[error("unsupported signature algorithm `{0}`")]
    UnsupportedAlgorithm(String),

    /// A header that must be covered by the signature (`x-acs-action`, `x-acs-date`, ...)
    /// is present but not listed in `SignedHeaders`.
    #[error("header `{0}` is present but not signed")]
    UnsignedHeader(String),

    /// The signature is well-formed but does not match the one the server computed.
    #[error("the signature does not match the server's calculation; server string to sign: {string_to_sign:?}")]
    Mismatch {
        /// The server's canonical request, for the V3/V4 schemes that have one.
        canonical_request: Option<String>,
        /// The server's StringToSign (RPC V1: goes into the `SignatureDoesNotMatch` message).
        string_to_sign: String,
    },

    /// The declared body hash (`x-acs-content-sha256`) is not the SHA-256 of the body received.
    #[error("declared body hash {declared} does not match the body's SHA-256 {computed}")]
    BodyHashMismatch {
        /// The hash the client declared.
        declared: String,
        /// The lower-case hex SHA-256 of the body received.
        computed: String,
    },

    /// A presigned URL asks for a validity outside what the scheme allows (V4: 1 s to 7 days).
    #[error("the validity {given} s is outside 1 to {max} seconds")]
    ExpiresOutOfRange {
        /// The requested validity in seconds.
        given: i64,
        /// The longest validity allowed.
        max: i64,
    },

    /// A presigned URL whose validity ended before `now` (both Unix seconds).
    #[error("the request expired at {expired_at} (now {now})")]
    Expired {
        /// The last second at which the URL was valid.
        expired_at: i64,
        /// The server's current time.
        now: i64,
    },
}

impl SignatureError {
    /// The server's StringToSign when the signature did not match.
    pub fn server_string_to_sign(&self) -> Option<&str> {
        match self {
            SignatureError::Mismatch { string_to_sign, .. } => Some(string_to_sign),
            _ => None,
        }
    }

    /// The server's canonical request when the signature did not match (V3 and OSS V4 only).
    pub fn server_canonical_request(&self) -> Option<&str> {
        match self {
            SignatureError::Mismatch { canonical_request, .. } => canonical_request.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        SignatureError::Malformed { what, reason: reason.into() }
    }
}
