//! Who sent an OSS request: the signature (V1 / V4, header or presigned URL) checked with
//! `rolestack-sign`, the clock skew of header-signed requests, the AccessKey or STS token looked
//! up in the core. No signature at all makes the request anonymous (bucket policies and ACLs may
//! still allow it).

use rolestack_core::caller::{Caller, RequestFacts};
use rolestack_core::oss::error::{
    EC_PRESIGN_EXPIRES_RANGE, EC_PRESIGN_NOT_YET_VALID, EC_PRESIGN_V1_EXPIRED, EC_PRESIGN_V4_EXPIRED, EC_SECURITY_TOKEN_TWICE,
    EC_SIGNATURE_MISMATCH,
};
use rolestack_core::oss::{OssError, OssResult, Requester};
use rolestack_core::service::{Authenticated, Rolestack};
use rolestack_sign::oss::{security_token, security_token_twice, OssAuth};
use rolestack_sign::{oss_v1, oss_v4, SignatureError};

use std::sync::Arc;

use super::OssHttpRequest;

/// Header-signed requests may be this far from the server's clock.
pub const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// The authentication step of the request pipeline. Authentication only reads (what it needs is
/// usually in memory already), so it runs in place, unless the store is a shared server's, whose
/// reads go over the network. A new signature scheme is one more arm of [`authenticate`].
pub async fn authenticate_request(rs: &Rolestack, req: &Arc<OssHttpRequest>) -> OssResult<Requester> {
    if rs.store.shared() {
        let (rs, req) = (rs.clone(), req.clone());
        super::handlers::blocking(move || authenticate(&rs, &req)).await
    } else {
        authenticate(rs, req)
    }
}

/// Authenticates a request.
pub fn authenticate(rs: &Rolestack, req: &OssHttpRequest) -> OssResult<Requester> {
    let request = req.signed_view();
    let facts = refreshed_facts(rs, req);
    let auth = match OssAuth::from_request(&request).map_err(|e| signature_error(e, "", "", EC_SIGNATURE_MISMATCH))? {
        Some(a) => a,
        None => return Ok(Requester::Anonymous(facts)),
    };
    let now = rs.clock.real_now().unix_timestamp();
    if let OssAuth::V4Header(oss_v4::HeaderAuth { credential, .. }) | OssAuth::V4Query(oss_v4::QueryAuth { credential, .. }) = &auth {
        check_signing_region(&credential.region, req.region)?;
    }
    match &auth {
        OssAuth::V1Header(_) | OssAuth::V2Header(_) => {
            let date = oss_v1::request_date(&request).ok_or_else(|| OssError::access_denied("The request carries no Date header."))?;
            let t = httpdate::parse_http_date(date)
                .map_err(|_| OssError::access_denied(format!("The Date header {date:?} is not an RFC 1123 date.")))?;
            let t = t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
            check_skew(t, now)?;
        }
        OssAuth::V4Header(_) => {
            let date = req.header("x-oss-date").ok_or_else(|| OssError::access_denied("The request carries no x-oss-date header."))?;
            let t = oss_v4::parse_date_time(date)
                .ok_or_else(|| OssError::access_denied(format!("x-oss-date {date:?} is not YYYYMMDDTHHMMSSZ.")))?;
            check_skew(t, now)?;
        }
        // A presigned V4 URL dated in the future is not valid yet beyond the allowed skew, so
        // its validity cannot be stretched past seven days by dating it ahead.
        OssAuth::V4Query(q) => {
            if oss_v4::parse_date_time(&q.date_time).is_some_and(|t| t - now > MAX_SKEW_SECONDS) {
                return Err(OssError::access_denied_ec(EC_PRESIGN_NOT_YET_VALID, "Request is not valid yet."));
            }
        }
        OssAuth::V1Query(_) | OssAuth::V2Query(_) => {}
    }
    if security_token_twice(&request) {
        return Err(OssError::InvalidArgumentEc {
            message: "The security token must be given either in a header or in the URL, not in both.".into(),
            ec: EC_SECURITY_TOKEN_TWICE,
        });
    }
    let access_key_id = auth.access_key_id().to_string();
    let who = lookup(rs, &access_key_id, security_token(&request))?;
    auth.verify(&who.secret, &request, now).map_err(|e| match e {
        SignatureError::Expired { .. } => {
            let ec = if matches!(auth, OssAuth::V4Query(_)) { EC_PRESIGN_V4_EXPIRED } else { EC_PRESIGN_V1_EXPIRED };
            OssError::access_denied_ec(ec, "Request has expired.")
        }
        e => signature_error(e, &access_key_id, auth.signature(), EC_SIGNATURE_MISMATCH),
    })?;
    Ok(Requester::Caller(caller(rs, who, access_key_id, facts)))
}

/// The AccessKey (with an STS token: the role session) a signature claims; a key of a session
/// without its token is refused. Shared by the OSS and the S3 (AWS) schemes.
pub fn lookup(rs: &Rolestack, access_key_id: &str, token: Option<&str>) -> OssResult<Authenticated> {
    Ok(match token {
        Some(token) => rs.authenticate_session(access_key_id, token)?,
        None if access_key_id.starts_with("STS.") => {
            return Err(OssError::SecurityTokenMissing { access_key_id: access_key_id.to_string() });
        }
        None => rs.authenticate(access_key_id)?,
    })
}

/// The caller of a verified signature (the key's last use noted).
pub fn caller(rs: &Rolestack, who: Authenticated, access_key_id: String, facts: RequestFacts) -> Caller {
    if let Err(e) = rolestack_core::ram::users::note_key_used(rs, &access_key_id) {
        tracing::warn!(access_key_id, "recording the key's last use: {e}");
    }
    Caller { account_id: who.account_id, principal: who.principal, access_key_id, facts, mfa_at: None }
}

/// A V4 signature is scoped to a region: one rolestack serves, and the endpoint's own when the
/// request was sent to a regional OSS service name.
pub fn check_signing_region(region: &str, endpoint_region: Option<&str>) -> OssResult<()> {
    let served = rolestack_core::ecs::catalogue::region(region).is_some();
    if served && endpoint_region.is_none_or(|e| e == region) {
        Ok(())
    } else {
        Err(OssError::InvalidSigningRegion)
    }
}

/// [`facts`] after reading a fake clock that another node of a shared store may have moved
/// (`Cluster::refresh`: nothing alone on SQLite, one version read on a shared store when nothing
/// moved), so `acs:CurrentTime` follows the shared clock on every request, anonymous ones too.
/// It reads the store: call it where a shared store's reads may block (off the async runtime).
pub fn refreshed_facts(rs: &Rolestack, req: &OssHttpRequest) -> RequestFacts {
    rs.cluster.refresh(rs);
    facts(rs, req)
}

/// The facts of a request that policy conditions may test.
pub fn facts(rs: &Rolestack, req: &OssHttpRequest) -> RequestFacts {
    RequestFacts {
        source_ip: Some(req.peer.ip()),
        secure_transport: req.secure,
        user_agent: req.header("user-agent").map(str::to_string),
        time: rs.clock.now(),
        endpoint_region: req.region.map(str::to_string),
    }
}

/// Refuses a request time more than [`MAX_SKEW_SECONDS`] from the server's clock.
pub fn check_skew(t: i64, now: i64) -> OssResult<()> {
    if (now - t).abs() > MAX_SKEW_SECONDS {
        Err(OssError::RequestTimeTooSkewed)
    } else {
        Ok(())
    }
}

/// The one mapping from signature failures to OSS errors; `provided` is the request's signature
/// (`""` before one was parsed) and `mismatch_ec` the scheme's EC for a signature that does not
/// match.
pub fn signature_error(e: SignatureError, access_key_id: &str, provided: &str, mismatch_ec: &'static str) -> OssError {
    match e {
        SignatureError::Mismatch { string_to_sign, canonical_request } => OssError::SignatureDoesNotMatch {
            string_to_sign,
            canonical_request,
            access_key_id: access_key_id.to_string(),
            signature_provided: provided.to_string(),
            ec: mismatch_ec,
        },
        SignatureError::Expired { .. } => OssError::access_denied("Request has expired."),
        SignatureError::ExpiresOutOfRange { given, max } => OssError::access_denied_ec(
            EC_PRESIGN_EXPIRES_RANGE,
            format!("Invalid x-oss-expires {given}: a V4 signed URL may be valid for 1 to {max} seconds (7 days)."),
        ),
        other => OssError::access_denied(format!("The request signature is not valid: {other}.")),
    }
}
