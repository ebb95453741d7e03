//! OpenID Connect ID tokens: rolestack's local issuer, and the verification STS
//! AssumeRoleWithOIDC runs on a presented token.
//!
//! The local issuer lets tests and labs play an identity provider — a Kubernetes cluster handing
//! pods a service-account token, say — without one: the server keeps one ES256 signing key
//! (sealed with the server key, in the store), serves its discovery document and JWKS on the API
//! listener (`/.well-known/openid-configuration`, `/.well-known/jwks.json`: paths no bucket name
//! can take), and mints tokens for the admin action `IssueOidcToken` (`rolestack oidc token --sub
//! ... --aud ...`). Its issuer URL is fixed when the key is made: the HTTPS listener's URL.
//!
//! Verification is strict and fails closed: the token must be a compact JWS with an asymmetric
//! algorithm (RS256/384/512, PS256/384/512, ES256/384; never `none` or HMAC) and no `crit` header
//! (no extension is understood), its `kid` (or the only key) must be in the issuer's key set — a
//! signing key (`use` absent or `sig`, `key_ops` absent or naming `verify`) whose `alg`, when the
//! key names one, is the token's — the signature must verify, `iss` must equal the provider's
//! issuer URL, `sub` must be a non-empty string, `aud` must name one of its client ids, `exp` must
//! be in the future, `nbf` and `iat` not in the future (by more than [`CLOCK_SKEW_SECONDS`]) and
//! `iat` not older than the provider's `IssuanceLimitTime`. Times are NumericDates, fractions
//! allowed ([`TimeClaims`]), against the server's clock. Errors are STS's `AuthenticationFail.*`
//! codes (HTTP 401).

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use crate::ims::OidcProvider;
use crate::model::Record;
use crate::seal::ServerKey;
use crate::store::{Kind, Store, Tx, GLOBAL};
use crate::{Error, Result};

const KEY_PURPOSE: &str = "oidc-issuer-key";
const RECORD: &str = "local";
/// Where the local issuer's discovery document and key set are served on the API listener.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The local issuer: its URL and ES256 key pair (private half sealed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IssuerKey {
    pub issuer_url: String,
    pub kid: String,
    /// PKCS#8 private key, sealed with the server key.
    pub sealed_pkcs8: String,
    /// The public point's coordinates, base64url (JWK `x`, `y`).
    pub x: String,
    pub y: String,
    pub created: String,
}

impl Record for IssuerKey {
    const KIND: Kind = Kind::OidcIssuerKey;
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The local issuer, made on first call with `issuer_url` (later calls keep the stored one).
pub fn ensure_issuer(store: &dyn Store, key: &ServerKey, issuer_url: &str, now: OffsetDateTime) -> Result<IssuerKey> {
    crate::store::retry(|| ensure_issuer_once(store, key, issuer_url, now))
}

fn ensure_issuer_once(store: &dyn Store, key: &ServerKey, issuer_url: &str, now: OffsetDateTime) -> Result<IssuerKey> {
    let mut tx = store.begin()?;
    if let Some(k) = tx.get_rec::<IssuerKey>(GLOBAL, RECORD)? {
        return Ok(k);
    }
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| Error::Store("generating the OIDC issuer key".into()))?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| Error::Store("reading the OIDC issuer key".into()))?;
    let point = pair.public_key().as_ref();
    let issuer = IssuerKey {
        issuer_url: issuer_url.trim_end_matches('/').to_string(),
        kid: crate::ids::alnum(16).to_ascii_lowercase(),
        sealed_pkcs8: key.seal(KEY_PURPOSE, pkcs8.as_ref()),
        x: b64url(&point[1..33]),
        y: b64url(&point[33..65]),
        created: crate::clock::format_date(now),
    };
    tx.insert_rec(GLOBAL, RECORD, &issuer)?;
    tx.commit()?;
    Ok(issuer)
}

/// The local issuer, if the server made one.
pub fn local_issuer(tx: &mut dyn Tx) -> Result<Option<IssuerKey>> {
    tx.get_rec::<IssuerKey>(GLOBAL, RECORD)
}

/// The local issuer's JSON Web Key Set.
pub fn jwks(issuer: &IssuerKey) -> Value {
    json!({ "keys": [{ "kty": "EC", "crv": "P-256", "x": issuer.x, "y": issuer.y, "kid": issuer.kid, "use": "sig", "alg": "ES256" }] })
}

/// The local issuer's OpenID Provider metadata (`.well-known/openid-configuration`).
pub fn discovery(issuer: &IssuerKey) -> Value {
    json!({
        "issuer": issuer.issuer_url,
        "jwks_uri": format!("{}{JWKS_PATH}", issuer.issuer_url),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"],
    })
}

/// Mints an ID token from the local issuer for `sub` and `aud`, valid `ttl` from `now`, with any
/// extra claims.
pub fn mint(
    issuer: &IssuerKey,
    key: &ServerKey,
    sub: &str,
    aud: &[String],
    now: OffsetDateTime,
    ttl: time::Duration,
    extra: &Map<String, Value>,
) -> Result<String> {
    let pkcs8 = key.open(KEY_PURPOSE, &issuer.sealed_pkcs8).map_err(|e| Error::Store(format!("OIDC issuer key: {e}")))?;
    let mut claims = extra.clone();
    let iat = now.unix_timestamp();
    claims.insert("iss".into(), json!(issuer.issuer_url));
    claims.insert("sub".into(), json!(sub));
    claims.insert("aud".into(), if aud.len() == 1 { json!(aud[0]) } else { json!(aud) });
    claims.insert("iat".into(), json!(iat));
    claims.insert("nbf".into(), json!(iat));
    claims.insert("exp".into(), json!(iat + ttl.whole_seconds()));
    claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(issuer.kid.clone());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_der(&pkcs8)).map_err(|e| Error::Store(format!("signing an ID token: {e}")))
}

/// Parses a JSON Web Key Set document.
pub fn parse_jwks(doc: &str) -> std::result::Result<JwkSet, String> {
    let set: JwkSet = serde_json::from_str(doc).map_err(|e| e.to_string())?;
    if set.keys.is_empty() {
        return Err("it has no keys".into());
    }
    Ok(set)
}

/// The claims of a verified token that STS reports and trust policies test.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedToken {
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    /// The client id the token was accepted for (its audience the provider knows).
    pub client_id: String,
    /// [`ACCOUNT_CLAIM`], when the token has it.
    pub minted_for: Option<String>,
}

fn fail(code: &str, message: impl Into<String>) -> Error {
    Error::service(401, code, message)
}

fn invalid(message: impl Into<String>) -> Error {
    fail("AuthenticationFail.OIDCToken.Invalid", message)
}

const ASYMMETRIC: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// Whether `jwk` may verify a signature made with `alg`: its type and curve fit the algorithm, it
/// is a signing key (RFC 7517 `use`: absent or `sig`; `key_ops`: absent or naming `verify`), and
/// the algorithm it names, if any, is `alg`.
fn key_matches_alg(jwk: &Jwk, alg: Algorithm) -> bool {
    let signing = matches!(jwk.common.public_key_use, None | Some(PublicKeyUse::Signature))
        && jwk.common.key_operations.as_ref().is_none_or(|ops| ops.contains(&KeyOperations::Verify));
    let named = jwk.common.key_algorithm.map(|k| k.to_string());
    if !signing || named.is_some_and(|k| k != format!("{alg:?}")) {
        return false;
    }
    match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), a) => {
            matches!(a, Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 | Algorithm::PS256 | Algorithm::PS384 | Algorithm::PS512)
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256) => ec.curve == EllipticCurve::P256,
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES384) => ec.curve == EllipticCurve::P384,
        _ => false,
    }
}

/// The keys that verify tokens of a provider, and whether they are the local issuer's.
pub struct IssuerKeys {
    pub set: JwkSet,
    /// The local issuer's: its tokens name the account they were minted for ([`ACCOUNT_CLAIM`]).
    pub local: bool,
}

/// The claim the local issuer puts in every token: the account whose root (or admin) minted it.
/// A server may hold several accounts and the issuer is the server's, so a token is good only for
/// that account's providers.
pub const ACCOUNT_CLAIM: &str = "rolestack:account";

/// The key set that verifies tokens of `provider`: its own JWKS, or the local issuer's keys when
/// its issuer URL is the local issuer's.
pub fn provider_keys(tx: &mut dyn Tx, provider: &OidcProvider) -> Result<IssuerKeys> {
    if let Some(doc) = &provider.jwks {
        let set = parse_jwks(doc).map_err(|e| Error::Store(format!("stored JWKS of {}: {e}", provider.name)))?;
        return Ok(IssuerKeys { set, local: false });
    }
    match local_issuer(tx)? {
        Some(local) if local.issuer_url == provider.issuer_url => {
            let set = serde_json::from_value(jwks(&local)).map_err(|e| Error::Store(format!("local issuer JWKS: {e}")))?;
            Ok(IssuerKeys { set, local: true })
        }
        _ => Err(fail(
            "AuthenticationFail.OIDCToken.HttpsUrlInvalid",
            format!(
                "The keys of the issuer {} are unknown: rolestack does not fetch them from the network. Give the provider its JWKS (UpdateOIDCProvider JWKS=...) or use rolestack's local issuer.",
                provider.issuer_url
            ),
        )),
    }
}

/// The longest `OIDCToken` STS takes (the AssumeRoleWithOIDC reference: 4 to 20,000 characters).
pub const MAX_TOKEN_CHARS: usize = 20000;

/// How far in the future a token's `iat` and `nbf` may be: the issuer's clock may run a little
/// ahead of the server's.
pub const CLOCK_SKEW_SECONDS: i64 = 60;

/// The checks of a token's form that need no key: present, not too long, three parts.
pub fn check_form(token: &str) -> Result<()> {
    if token.is_empty() {
        return Err(invalid("The OIDCToken can not empty."));
    }
    if token.chars().count() > MAX_TOKEN_CHARS {
        return Err(invalid(format!("The OIDCToken is longer than {MAX_TOKEN_CHARS} characters.")));
    }
    if token.split('.').count() != 3 {
        return Err(invalid("The number of Jwt field should be divided into 3 parts with '.' ."));
    }
    Ok(())
}

/// A token's header as written, when it is Base64url JSON (so `none`, an unknown `alg` or a
/// `crit` the typed header drops can be seen).
fn raw_header(token: &str) -> Option<Map<String, Value>> {
    use base64::Engine;
    let head = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(head.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A NumericDate claim (RFC 7519 §2: seconds since the epoch, a fraction allowed) in whole
/// seconds, rounded down or up (`up`); saturating beyond `i64`. `None` when absent or not a number.
fn numeric_date(claims: &Map<String, Value>, name: &str, up: bool) -> Option<i64> {
    let n = claims.get(name)?.as_number()?;
    // `as` saturates at the ends of `i64` (an `f64` from JSON is always finite).
    n.as_i64().or_else(|| n.as_f64().map(|f| if up { f.ceil() } else { f.floor() } as i64))
}

/// A token's times, each rounded to whole seconds the way that refuses more: `exp` down, `nbf` up,
/// `iat` up where it must not be in the future and down where it must not be too old.
#[derive(Debug, Clone, Copy, PartialEq)]
struct TimeClaims {
    expires_at: i64,
    not_before: Option<i64>,
    issued_at_earliest: i64,
    issued_at_latest: i64,
}

impl TimeClaims {
    fn of(claims: &Map<String, Value>) -> Result<TimeClaims> {
        let expires_at = numeric_date(claims, "exp", false).ok_or_else(|| invalid("The token has no exp claim."))?;
        let issued_at = |up| numeric_date(claims, "iat", up).ok_or_else(|| invalid("The token has no iat claim."));
        let not_before = match claims.get("nbf") {
            None => None,
            Some(_) => Some(numeric_date(claims, "nbf", true).ok_or_else(|| invalid("The token's nbf claim is not a number."))?),
        };
        Ok(TimeClaims { expires_at, not_before, issued_at_earliest: issued_at(false)?, issued_at_latest: issued_at(true)? })
    }

    /// Refuses the token at `now_s` (the server's clock, Unix seconds) when it has expired, is not
    /// valid yet or was issued more than `limit_hours` ago. Saturating: a time at either end of
    /// `i64` is far in the future or the past, never wrapped around.
    fn check(&self, now_s: i64, limit_hours: u32) -> Result<()> {
        if now_s >= self.expires_at {
            return Err(fail("AuthenticationFail.OIDCToken.Expired", "This JsonWebToken is expired."));
        }
        let latest = now_s.saturating_add(CLOCK_SKEW_SECONDS);
        if self.not_before.is_some_and(|nbf| nbf > latest) || self.issued_at_latest > latest {
            return Err(invalid("The token is not valid yet (its iat or nbf is in the future)."));
        }
        if now_s.saturating_sub(self.issued_at_earliest) > i64::from(limit_hours) * 3600 {
            return Err(invalid(format!("The token was issued more than IssuanceLimitTime ({limit_hours} hours) ago.")));
        }
        Ok(())
    }
}

/// Verifies `token` for `provider` with `keys` at `now` (see the module docs for every check).
pub fn verify(token: &str, keys: &JwkSet, provider: &OidcProvider, now: OffsetDateTime) -> Result<VerifiedToken> {
    check_form(token)?;
    let raw = raw_header(token).unwrap_or_default();
    if let Some(alg) = raw.get("alg").and_then(Value::as_str).filter(|a| !ASYMMETRIC.iter().any(|known| format!("{known:?}") == *a)) {
        return Err(invalid(format!("The algorithm {alg} that be specified in Jwt header is unknown.")));
    }
    // RFC 7515 §4.1.11: extensions named critical must be understood; rolestack understands none.
    if let Some(crit) = raw.get("crit") {
        return Err(invalid(format!(
            "The Jwt content is invalid that cannot be recognized: its header marks extensions critical ({crit}) and none is supported."
        )));
    }
    let header =
        jsonwebtoken::decode_header(token).map_err(|e| invalid(format!("The Jwt content is invalid that cannot be recognized: {e}.")))?;
    if !ASYMMETRIC.contains(&header.alg) {
        return Err(invalid(format!("The algorithm {:?} that be specified in Jwt header is unknown.", header.alg)));
    }
    let candidates: Vec<&Jwk> = match &header.kid {
        Some(kid) => keys.keys.iter().filter(|k| k.common.key_id.as_deref() == Some(kid.as_str())).collect(),
        None if keys.keys.len() == 1 => keys.keys.iter().collect(),
        None => Vec::new(),
    };
    let jwk = candidates.into_iter().find(|k| key_matches_alg(k, header.alg)).ok_or_else(|| {
        fail(
            "AuthenticationFail.OIDCToken.InvalidSignature",
            "OIDC token validate failed: invalid signature (no key of the issuer matches its kid and algorithm).",
        )
    })?;
    let decoding = DecodingKey::from_jwk(jwk).map_err(|e| Error::Store(format!("JWK of {}: {e}", provider.name)))?;
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &decoding, &validation).map_err(|e| match e.kind() {
        jsonwebtoken::errors::ErrorKind::InvalidSignature => {
            fail("AuthenticationFail.OIDCToken.InvalidSignature", "OIDC token validate failed: invalid signature.")
        }
        _ => invalid(format!("The Jwt content is invalid that cannot be recognized: {e}.")),
    })?;
    let claims = data.claims;
    let text = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_string);
    let issuer = text("iss").ok_or_else(|| invalid("The token has no iss claim."))?;
    if issuer != provider.issuer_url {
        return Err(fail(
            "AuthenticationFail.OIDCToken.IssuerNotMatch",
            format!("Invalid issuer: the token's iss {issuer} is not the provider's issuer URL {}.", provider.issuer_url),
        ));
    }
    let subject = text("sub").ok_or_else(|| invalid("The token has no sub claim."))?;
    if subject.is_empty() {
        return Err(invalid("The token's sub claim is empty."));
    }
    let audiences: Vec<String> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        _ => Vec::new(),
    };
    let client_id = audiences.iter().find(|a| provider.client_ids.contains(a)).cloned().ok_or_else(|| {
        fail(
            "AuthenticationFail.OIDCToken.AudienceNotMatch",
            "Invalid audience: no audience of the token is a client id of the OIDC provider.",
        )
    })?;
    let times = TimeClaims::of(&claims)?;
    times.check(now.unix_timestamp(), provider.issuance_limit_time)?;
    let minted_for = text(ACCOUNT_CLAIM);
    Ok(VerifiedToken {
        issuer,
        subject,
        audiences,
        issued_at: times.issued_at_earliest,
        expires_at: times.expires_at,
        client_id,
        minted_for,
    })
}

/// Admin action `DescribeOidcIssuer`: the local issuer's URL, key id and discovery document.
pub fn describe_oidc_issuer(ctx: &mut crate::handler::Ctx, _p: &crate::params::Params) -> Result<Value> {
    let issuer = local_issuer(ctx.tx)?.ok_or_else(no_issuer)?;
    Ok(json!({ "Issuer": issuer.issuer_url, "KeyId": issuer.kid, "Discovery": discovery(&issuer), "Jwks": jwks(&issuer) }))
}

fn no_issuer() -> Error {
    Error::service(404, "OidcIssuer.NotFound", "This server has no local OIDC issuer (it is made when `rolestack serve` starts).")
}

/// Admin action `IssueOidcToken`: an ID token from the local issuer for `Subject` and `Audience`
/// (comma-separated), valid `DurationSeconds` (60..86400, default 3600).
pub fn issue_oidc_token(ctx: &mut crate::handler::Ctx, p: &crate::params::Params) -> Result<Value> {
    let sub = p.required("Subject")?;
    let aud: Vec<String> = p.required("Audience")?.split(',').map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect();
    let ttl = p.int("DurationSeconds", 60, 86400)?.unwrap_or(3600);
    let extra = match p.optional("Claims") {
        Some(raw) => match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(m)) => m,
            _ => return Err(Error::invalid("InvalidParameter.Claims", "The parameter \"Claims\" must be a JSON object of extra claims.")),
        },
        None => Map::new(),
    };
    let mut extra = extra;
    extra.insert(ACCOUNT_CLAIM.into(), json!(ctx.account()));
    let issuer = local_issuer(ctx.tx)?.ok_or_else(no_issuer)?;
    let now = ctx.clock.now();
    let token = mint(&issuer, ctx.key, sub, &aud, now, time::Duration::seconds(ttl), &extra)?;
    Ok(json!({
        "Token": token,
        "Issuer": issuer.issuer_url,
        "Expiration": crate::clock::format_date(now + time::Duration::seconds(ttl)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(issuer: &str) -> OidcProvider {
        OidcProvider {
            name: "p".into(),
            issuer_url: issuer.into(),
            client_ids: vec!["sts.aliyuncs.com".into()],
            fingerprints: vec![],
            description: String::new(),
            issuance_limit_time: 12,
            jwks: None,
            created: String::new(),
            updated: String::new(),
            created_ms: 0,
            updated_ms: 0,
        }
    }

    fn issuer(key: &ServerKey) -> IssuerKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let point = pair.public_key().as_ref();
        IssuerKey {
            issuer_url: "https://127.0.0.1:8961".into(),
            kid: "k1".into(),
            sealed_pkcs8: key.seal(KEY_PURPOSE, pkcs8.as_ref()),
            x: b64url(&point[1..33]),
            y: b64url(&point[33..65]),
            created: String::new(),
        }
    }

    /// A local issuer, its key set and a provider for it, the time, the client id.
    struct Setup {
        key: ServerKey,
        iss: IssuerKey,
        keys: JwkSet,
        p: OidcProvider,
        now: OffsetDateTime,
        aud: Vec<String>,
    }

    fn setup() -> Setup {
        let key = ServerKey::from_bytes(&ServerKey::generate());
        let iss = issuer(&key);
        let keys: JwkSet = serde_json::from_value(jwks(&iss)).unwrap();
        let p = provider(&iss.issuer_url);
        Setup { key, iss, keys, p, now: OffsetDateTime::now_utc(), aud: vec!["sts.aliyuncs.com".to_string()] }
    }

    #[test]
    fn minted_tokens_verify_and_bad_ones_do_not() {
        let Setup { key, iss, keys, p, now, aud } = setup();
        let t = mint(&iss, &key, "system:serviceaccount:ns:sa", &aud, now, time::Duration::hours(1), &Map::new()).unwrap();
        let v = verify(&t, &keys, &p, now).unwrap();
        assert_eq!(v.subject, "system:serviceaccount:ns:sa");
        assert_eq!(v.client_id, "sts.aliyuncs.com");
        assert_eq!(v.minted_for, None);
        let mut claims = Map::new();
        claims.insert(ACCOUNT_CLAIM.into(), json!("123"));
        let bound = mint(&iss, &key, "s", &aud, now, time::Duration::hours(1), &claims).unwrap();
        assert_eq!(verify(&bound, &keys, &p, now).unwrap().minted_for.as_deref(), Some("123"));
        let code = |r: Result<VerifiedToken>| r.unwrap_err().code();
        assert_eq!(code(verify(&t, &keys, &p, now + time::Duration::hours(2))), "AuthenticationFail.OIDCToken.Expired");
        let other_aud = mint(&iss, &key, "s", &["x".to_string()], now, time::Duration::hours(1), &Map::new()).unwrap();
        assert_eq!(code(verify(&other_aud, &keys, &p, now)), "AuthenticationFail.OIDCToken.AudienceNotMatch");
        assert_eq!(code(verify(&t, &keys, &provider("https://elsewhere"), now)), "AuthenticationFail.OIDCToken.IssuerNotMatch");
        // A token signed by another key with the same kid.
        let forger = issuer(&key);
        let forged = mint(&forger, &key, "s", &aud, now, time::Duration::hours(1), &Map::new()).unwrap();
        assert_eq!(code(verify(&forged, &keys, &p, now)), "AuthenticationFail.OIDCToken.InvalidSignature");
        // Tampered payload.
        let mut parts: Vec<&str> = t.split('.').collect();
        let body = b64url(br#"{"iss":"https://127.0.0.1:8961","sub":"admin","aud":"sts.aliyuncs.com","iat":1,"exp":99999999999}"#);
        parts[1] = &body;
        assert_eq!(code(verify(&parts.join("."), &keys, &p, now)), "AuthenticationFail.OIDCToken.InvalidSignature");
        // alg none and HMAC are refused.
        let none = format!("{}.{}.", b64url(br#"{"alg":"none"}"#), body);
        assert_eq!(code(verify(&none, &keys, &p, now)), "AuthenticationFail.OIDCToken.Invalid");
        let hs = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &json!({"iss": "x"}), &EncodingKey::from_secret(b"k")).unwrap();
        assert_eq!(code(verify(&hs, &keys, &p, now)), "AuthenticationFail.OIDCToken.Invalid");
        assert_eq!(code(verify("a.b", &keys, &p, now)), "AuthenticationFail.OIDCToken.Invalid");
        // Issued too long ago.
        let old = mint(&iss, &key, "s", &aud, now - time::Duration::hours(13), time::Duration::hours(20), &Map::new()).unwrap();
        assert_eq!(code(verify(&old, &keys, &p, now)), "AuthenticationFail.OIDCToken.Invalid");
    }

    #[test]
    fn sweep_refusals_and_clock_skew() {
        let Setup { key, iss, keys, p, now, aud } = setup();
        let hour = time::Duration::hours(1);
        let err = |r: Result<VerifiedToken>| {
            let e = r.unwrap_err();
            (e.code(), e.to_string())
        };
        // An empty subject names no one.
        let empty = mint(&iss, &key, "", &aud, now, hour, &Map::new()).unwrap();
        assert_eq!(err(verify(&empty, &keys, &p, now)).0, "AuthenticationFail.OIDCToken.Invalid");
        // iat and nbf (minted equal) may be up to CLOCK_SKEW_SECONDS ahead of the server's clock.
        let ahead = mint(&iss, &key, "s", &aud, now + time::Duration::seconds(CLOCK_SKEW_SECONDS - 5), hour, &Map::new()).unwrap();
        assert!(verify(&ahead, &keys, &p, now).is_ok());
        let too_far = mint(&iss, &key, "s", &aud, now + time::Duration::seconds(CLOCK_SKEW_SECONDS + 5), hour, &Map::new()).unwrap();
        assert_eq!(err(verify(&too_far, &keys, &p, now)).0, "AuthenticationFail.OIDCToken.Invalid");
        // A key for encryption, or one whose JWK names another algorithm, verifies nothing.
        let good = mint(&iss, &key, "s", &aud, now, hour, &Map::new()).unwrap();
        for (field, value) in [("use", json!("enc")), ("alg", json!("ES384"))] {
            let mut doc = jwks(&iss);
            doc["keys"][0][field] = value;
            let set: JwkSet = serde_json::from_value(doc).unwrap();
            assert_eq!(err(verify(&good, &set, &p, now)).0, "AuthenticationFail.OIDCToken.InvalidSignature", "{field}");
        }
        // The documented messages for the token's form.
        assert!(err(verify("", &keys, &p, now)).1.contains("The OIDCToken can not empty."));
        let none = format!("{}.{}.", b64url(br#"{"alg":"none"}"#), b64url(b"{}"));
        assert!(err(verify(&none, &keys, &p, now)).1.contains("The algorithm none that be specified in Jwt header is unknown."));
        let long = format!("{}.{}.x", "a".repeat(MAX_TOKEN_CHARS), "b");
        assert_eq!(err(verify(&long, &keys, &p, now)).0, "AuthenticationFail.OIDCToken.Invalid");
    }

    /// A token with any header and claims, signed (ES256) with `iss`'s key.
    fn sign_raw(iss: &IssuerKey, key: &ServerKey, header: Value, claims: Value) -> String {
        let pkcs8 = key.open(KEY_PURPOSE, &iss.sealed_pkcs8).unwrap();
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng).unwrap();
        let input = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
        let signature = pair.sign(&rng, input.as_bytes()).unwrap();
        format!("{input}.{}", b64url(signature.as_ref()))
    }

    /// Claims the provider of [`setup`] accepts at `now`, with `changes` applied (`null` removes).
    fn claims_at(iss: &IssuerKey, now: OffsetDateTime, changes: Value) -> Value {
        let t = now.unix_timestamp();
        let mut c = json!({ "iss": iss.issuer_url, "sub": "s", "aud": "sts.aliyuncs.com", "iat": t - 5, "exp": t + 600 });
        for (k, v) in changes.as_object().unwrap() {
            match v {
                Value::Null => c.as_object_mut().unwrap().remove(k),
                v => c.as_object_mut().unwrap().insert(k.clone(), v.clone()),
            };
        }
        c
    }

    #[test]
    fn key_ops_must_allow_verify() {
        let Setup { key, iss, keys, p, now, aud } = setup();
        let good = mint(&iss, &key, "s", &aud, now, time::Duration::hours(1), &Map::new()).unwrap();
        assert!(verify(&good, &keys, &p, now).is_ok());
        for (ops, accepted) in
            [(json!(["verify"]), true), (json!(["sign", "verify"]), true), (json!(["encrypt"]), false), (json!([]), false)]
        {
            let mut doc = jwks(&iss);
            doc["keys"][0]["key_ops"] = ops.clone();
            doc["keys"][0].as_object_mut().unwrap().remove("use");
            let set: JwkSet = serde_json::from_value(doc).unwrap();
            match verify(&good, &set, &p, now) {
                Ok(_) => assert!(accepted, "{ops}"),
                Err(e) => {
                    assert!(!accepted, "{ops}: {e}");
                    assert_eq!(e.code(), "AuthenticationFail.OIDCToken.InvalidSignature", "{ops}");
                }
            }
        }
    }

    #[test]
    fn critical_header_extensions_are_refused() {
        let Setup { key, iss, keys, p, now, .. } = setup();
        let claims = claims_at(&iss, now, json!({}));
        let plain = sign_raw(&iss, &key, json!({ "alg": "ES256", "kid": "k1" }), claims.clone());
        assert!(verify(&plain, &keys, &p, now).is_ok());
        for crit in [json!(["urn:x:unknown"]), json!(["b64"]), json!([]), json!("x")] {
            let header = json!({ "alg": "ES256", "kid": "k1", "crit": crit, "urn:x:unknown": 1, "b64": true });
            let e = verify(&sign_raw(&iss, &key, header, claims.clone()), &keys, &p, now).unwrap_err();
            assert_eq!(e.code(), "AuthenticationFail.OIDCToken.Invalid", "{crit}");
            assert!(e.to_string().contains("The Jwt content is invalid that cannot be recognized"), "{e}");
        }
    }

    /// `verify` of a token the setup's issuer signed (ES256), with `changes` over the usual claims.
    fn verify_changed(s: &Setup, changes: Value) -> Result<VerifiedToken> {
        let token = sign_raw(&s.iss, &s.key, json!({ "alg": "ES256", "kid": "k1" }), claims_at(&s.iss, s.now, changes));
        verify(&token, &s.keys, &s.p, s.now)
    }

    #[test]
    fn time_claims_at_the_ends_of_i64_are_refused_not_wrapped() {
        let s = setup();
        let t = s.now.unix_timestamp();
        let answer = |changes: Value| match verify_changed(&s, changes) {
            Ok(_) => ("accepted".to_string(), String::new()),
            Err(e) => (e.code(), e.to_string()),
        };
        // Issued at the start of time: far more than IssuanceLimitTime ago (was a panic, and a
        // wrapped subtraction that passed in a release build).
        for iat in [json!(i64::MIN), json!(i64::MIN + 1), json!(-1e300), json!(-9.3e18)] {
            let (code, message) = answer(json!({ "iat": iat }));
            assert_eq!(code, "AuthenticationFail.OIDCToken.Invalid", "{iat}");
            assert!(message.contains("IssuanceLimitTime"), "{iat}: {message}");
        }
        // Issued, or valid from, the end of time: not valid yet.
        for (claim, value) in [("iat", json!(i64::MAX)), ("iat", json!(u64::MAX)), ("nbf", json!(i64::MAX)), ("nbf", json!(1e300))] {
            let (code, message) = answer(json!({ claim: value }));
            assert_eq!(code, "AuthenticationFail.OIDCToken.Invalid", "{claim} {value}");
            assert!(message.contains("not valid yet"), "{claim} {value}: {message}");
        }
        // Expiring at the end of time is far in the future (docs/federation.md); at the start, expired.
        for exp in [json!(i64::MAX), json!(u64::MAX), json!(1e300)] {
            assert_eq!(answer(json!({ "exp": exp })).0, "accepted", "{exp}");
        }
        for exp in [json!(i64::MIN), json!(-1e300)] {
            assert_eq!(answer(json!({ "exp": exp })).0, "AuthenticationFail.OIDCToken.Expired", "{exp}");
        }
        // The server's clock at either end: no overflow either.
        let times =
            TimeClaims::of(claims_at(&s.iss, s.now, json!({ "iat": i64::MIN, "nbf": i64::MAX, "exp": i64::MAX })).as_object().unwrap())
                .unwrap();
        for now_s in [i64::MIN, i64::MIN + 1, t, i64::MAX - 1] {
            assert!(times.check(now_s, 168).is_err(), "{now_s}");
        }
        assert!(TimeClaims { expires_at: i64::MAX, not_before: None, issued_at_earliest: i64::MAX - 10, issued_at_latest: i64::MAX - 10 }
            .check(i64::MAX - 1, 1)
            .is_ok());
    }

    #[test]
    fn fractional_numeric_dates_round_the_way_that_refuses_more() {
        let s = setup();
        let t = s.now.unix_timestamp();
        let answer = |changes: Value| match verify_changed(&s, changes) {
            Ok(v) => ("accepted".to_string(), v.issued_at, v.expires_at),
            Err(e) => (e.code(), 0, 0),
        };
        // RFC 7519 NumericDates may have a fraction.
        let f = |x: i64, frac: f64| json!(x as f64 + frac);
        assert_eq!(
            answer(json!({ "iat": f(t - 5, 0.5), "exp": f(t + 600, 0.25), "nbf": f(t - 5, 0.75) })),
            ("accepted".to_string(), t - 5, t + 600)
        );
        let times = TimeClaims::of(json!({ "iat": 99.2, "exp": 200.9, "nbf": 50.1 }).as_object().unwrap()).unwrap();
        assert_eq!(times, TimeClaims { expires_at: 200, not_before: Some(51), issued_at_earliest: 99, issued_at_latest: 100 });
        // Half a second past each bound is past it.
        assert_eq!(answer(json!({ "exp": f(t, 0.5) })).0, "AuthenticationFail.OIDCToken.Expired");
        assert_eq!(answer(json!({ "iat": f(t + CLOCK_SKEW_SECONDS, 0.5) })).0, "AuthenticationFail.OIDCToken.Invalid");
        assert_eq!(answer(json!({ "nbf": f(t + CLOCK_SKEW_SECONDS, 0.5) })).0, "AuthenticationFail.OIDCToken.Invalid");
        assert_eq!(answer(json!({ "iat": f(t - 12 * 3600, -0.5) })).0, "AuthenticationFail.OIDCToken.Invalid");
        // ... and whole seconds at the bounds are inside them.
        assert_eq!(answer(json!({ "iat": t + CLOCK_SKEW_SECONDS, "nbf": t + CLOCK_SKEW_SECONDS })).0, "accepted");
        assert_eq!(answer(json!({ "iat": t - 12 * 3600 })).0, "accepted");
        // Anything but a number is refused, as before.
        for (claim, value) in
            [("iat", json!("1700000000")), ("exp", json!(true)), ("iat", Value::Null), ("nbf", json!("0")), ("nbf", json!([1]))]
        {
            assert_eq!(answer(json!({ claim: value })).0, "AuthenticationFail.OIDCToken.Invalid", "{claim} {value}");
        }
    }
}
