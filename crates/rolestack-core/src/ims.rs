//! IMS 2019-08-15, the identity-provider half of RAM: OIDC providers (CreateOIDCProvider,
//! GetOIDCProvider, ListOIDCProviders, UpdateOIDCProvider, DeleteOIDCProvider, Add/Remove
//! ClientId, Add/Remove Fingerprint) and SAML providers (Create/Get/List/Update/DeleteSAMLProvider).
//! STS AssumeRoleWithOIDC / AssumeRoleWithSAML ([`crate::federation`]) trust what these record.
//!
//! Token keys. RAM fetches an OIDC issuer's keys from the issuer's discovery document over HTTPS
//! (checking the certificate fingerprints). rolestack fetches nothing from the network: an issuer
//! is either rolestack's own local issuer ([`crate::oidc`]), whose keys it holds, or an external
//! one whose JWKS is given when the provider is created or updated through the rolestack-only
//! parameter `JWKS` (the JSON Web Key Set document, e.g. `rolestack api ims CreateOIDCProvider
//! ... JWKS=@jwks.json`). Fingerprints are recorded and returned as RAM does, but not checked.
//! Replacing the JWKS of an existing provider needs what re-creating it needs (see
//! `authorize_new_keys`).
//!
//! Condition key. CreateOIDCProvider and UpdateOIDCProvider carry `ram:OidcIssuerUrl`: the issuer
//! URL the new provider asks for, or the one the updated provider has ([`add_condition_keys`];
//! docs/authorization.md).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::handler::Ctx;
use crate::model::Record;
use crate::params::Params;
use crate::ram::ok;
use crate::store::{Kind, Tx};
use crate::{Error, Result};

/// OIDC and SAML providers per account (UNVERIFIED: the IMS limits page names 100).
pub const MAX_PROVIDERS: usize = 100;
const MAX_CLIENT_IDS: usize = 50;
const MAX_FINGERPRINTS: usize = 5;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OidcProvider {
    pub name: String,
    pub issuer_url: String,
    pub client_ids: Vec<String>,
    pub fingerprints: Vec<String>,
    pub description: String,
    /// Hours before now an ID token may have been issued (`iat`), 1..168.
    pub issuance_limit_time: u32,
    /// The issuer's JSON Web Key Set, for an external issuer (see the module docs).
    #[serde(default)]
    pub jwks: Option<String>,
    pub created: String,
    pub updated: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Record for OidcProvider {
    const KIND: Kind = Kind::OidcProvider;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SamlProvider {
    pub name: String,
    pub description: String,
    /// The IdP's SAML 2.0 metadata, Base64 as given.
    pub metadata: String,
    /// `rsa-sha1` or `rsa-sha256`.
    pub authn_sign_algo: String,
    pub created: String,
    pub updated: String,
}

impl Record for SamlProvider {
    const KIND: Kind = Kind::SamlProvider;
}

pub fn oidc_provider_arn(account: &str, name: &str) -> String {
    format!("acs:ram::{account}:oidc-provider/{name}")
}

pub fn saml_provider_arn(account: &str, name: &str) -> String {
    format!("acs:ram::{account}:saml-provider/{name}")
}

/// Provider names: 1..128 letters, digits, `.`, `-`, `_`, not starting or ending with one of the three.
fn provider_name<'p>(p: &'p Params, param: &str) -> Result<&'p str> {
    let name = p.required(param)?;
    let special = |c: char| matches!(c, '.' | '-' | '_');
    let ok = name.chars().count() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || special(c))
        && !name.starts_with(special)
        && !name.ends_with(special);
    if !ok {
        return Err(Error::invalid(
            format!("InvalidParameter.{param}"),
            format!("The parameter \"{param}\" must be 1 to 128 letters, digits, '.', '-' and '_', not starting or ending with '.', '-' or '_': \"{name}\"."),
        ));
    }
    Ok(name)
}

fn no_oidc(name: &str) -> Error {
    Error::not_exist("OIDCProvider", format!("The OIDC provider does not exist: {name}."))
}

fn no_saml(name: &str) -> Error {
    Error::not_exist("SAMLProvider", format!("The SAML provider does not exist: {name}."))
}

fn now_ms(ctx: &Ctx) -> i64 {
    crate::sts::unix_ms(ctx.clock.now())
}

/// A comma-separated list parameter, each item checked by `valid`.
fn list_param(v: &str, param: &str, max: usize, valid: impl Fn(&str) -> bool) -> Result<Vec<String>> {
    let items: Vec<String> = v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
    if items.len() > max {
        return Err(Error::invalid(
            format!("InvalidParameter.{param}"),
            format!("The parameter \"{param}\" may name at most {max} values."),
        ));
    }
    if let Some(bad) = items.iter().find(|i| !valid(i)) {
        return Err(Error::invalid(
            format!("InvalidParameter.{param}"),
            format!("The parameter \"{param}\" has an invalid value: \"{bad}\"."),
        ));
    }
    Ok(items)
}

fn valid_client_id(c: &str) -> bool {
    let special = |c: char| matches!(c, '.' | '-' | '_' | ':' | '/');
    c.chars().count() <= 128 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || special(ch)) && !c.starts_with(special)
}

fn valid_fingerprint(f: &str) -> bool {
    !f.is_empty() && f.len() <= 128 && f.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `IssuerUrl`: `https://`, at most 255 characters, no query, fragment or user info, and a URL:
/// a host (name, IPv4 or bracketed IPv6, optional port) and a path without spaces or controls.
fn issuer_url(p: &Params) -> Result<&str> {
    let url = p.required("IssuerUrl")?;
    let rest = url.strip_prefix("https://").unwrap_or("");
    let host = rest.split('/').next().unwrap_or("");
    let host_chars = host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    let path_chars = rest.chars().all(|c| c.is_ascii_graphic());
    if url.len() > 255 || host.is_empty() || !host_chars || !path_chars || url.contains(['?', '#']) {
        return Err(Error::invalid(
            "InvalidParameter.IssuerUrl",
            format!("The parameter \"IssuerUrl\" must be an https:// URL of at most 255 characters without query, fragment or user info: \"{url}\"."),
        ));
    }
    Ok(url)
}

/// The rolestack-only `JWKS` parameter: a JSON Web Key Set document.
fn jwks_param(p: &Params) -> Result<Option<String>> {
    let Some(doc) = p.optional("JWKS") else { return Ok(None) };
    crate::oidc::parse_jwks(doc)
        .map_err(|e| Error::invalid("InvalidParameter.JWKS", format!("The parameter \"JWKS\" is not a JSON Web Key Set: {e}.")))?;
    Ok(Some(doc.to_string()))
}

fn issuance_limit(p: &Params) -> Result<Option<u32>> {
    Ok(p.int("IssuanceLimitTime", 1, 168)?.map(|n| n as u32))
}

/// The condition key naming an OIDC provider's issuer URL (docs/authorization.md).
pub const ISSUER_URL_KEY: &str = "ram:OidcIssuerUrl";

/// IMS's own condition keys of a request, added to what it carries for authorization:
/// [`ISSUER_URL_KEY`] is the `IssuerUrl` CreateOIDCProvider asks for, and on UpdateOIDCProvider the
/// issuer URL of the provider it names (unset when it names none: the handler reports that).
pub fn add_condition_keys(tx: &mut dyn Tx, account: &str, action: &str, p: &Params, request: &mut rolestack_policy::Context) -> Result<()> {
    let url = match action {
        "CreateOIDCProvider" => p.optional("IssuerUrl").map(str::to_string),
        "UpdateOIDCProvider" => match p.optional("OIDCProviderName") {
            Some(name) => tx.get_rec::<OidcProvider>(account, name)?.map(|o| o.issuer_url),
            None => None,
        },
        _ => None,
    };
    if let Some(url) = url {
        request.set(ISSUER_URL_KEY, url);
    }
    Ok(())
}

fn render_oidc(account: &str, o: &OidcProvider) -> Value {
    json!({
        "OIDCProviderName": o.name,
        "Arn": oidc_provider_arn(account, &o.name),
        "IssuerUrl": o.issuer_url,
        "ClientIds": o.client_ids.join(","),
        "Fingerprints": o.fingerprints.join(","),
        "Description": o.description,
        "IssuanceLimitTime": o.issuance_limit_time,
        "CreateDate": o.created,
        "UpdateDate": o.updated,
        "GmtCreate": o.created_ms,
        "GmtModified": o.updated_ms,
    })
}

fn load_oidc(ctx: &mut Ctx, name: &str) -> Result<OidcProvider> {
    let account = ctx.account().to_string();
    ctx.tx.get_rec::<OidcProvider>(&account, name)?.ok_or_else(|| no_oidc(name))
}

fn save_oidc(ctx: &mut Ctx, mut o: OidcProvider) -> Result<Value> {
    o.updated = ctx.now();
    o.updated_ms = now_ms(ctx);
    let account = ctx.account().to_string();
    ctx.tx.update_rec(&account, &o.name.clone(), &o)?;
    Ok(json!({ "OIDCProvider": render_oidc(&account, &o) }))
}

pub fn create_oidc_provider(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = provider_name(p, "OIDCProviderName")?;
    let issuer = issuer_url(p)?;
    let fingerprints = list_param(p.required("Fingerprints")?, "Fingerprints", MAX_FINGERPRINTS, valid_fingerprint)?;
    let client_ids = list_param(p.optional("ClientIds").unwrap_or_default(), "ClientIds", MAX_CLIENT_IDS, valid_client_id)?;
    let description = p.optional("Description").unwrap_or_default();
    crate::ram::check_length("Description", Some(description), 256)?;
    let jwks = jwks_param(p)?;
    let account = ctx.account().to_string();
    if ctx.tx.count(Kind::OidcProvider, &account, "")? >= MAX_PROVIDERS {
        return Err(Error::limit("OIDCProvider", format!("An account can have at most {MAX_PROVIDERS} OIDC providers.")));
    }
    let existing = ctx.tx.list_rec::<OidcProvider>(&account, "", None, MAX_PROVIDERS)?;
    if let Some(other) = existing.iter().find(|o| o.issuer_url == issuer) {
        return Err(Error::already_exists(
            "OIDCProvider.IssuerUrl",
            format!("The issuer URL is already used by the OIDC provider {}; an issuer URL must be unique in an account.", other.name),
        ));
    }
    let (now, ms) = (ctx.now(), now_ms(ctx));
    let o = OidcProvider {
        name: name.to_string(),
        issuer_url: issuer.to_string(),
        client_ids,
        fingerprints,
        description: description.to_string(),
        issuance_limit_time: issuance_limit(p)?.unwrap_or(12),
        jwks,
        created: now.clone(),
        updated: now,
        created_ms: ms,
        updated_ms: ms,
    };
    if !ctx.tx.insert_rec(&account, name, &o)? {
        return Err(Error::already_exists("OIDCProvider", format!("The OIDC provider does already EXIST: {name}.")));
    }
    Ok(json!({ "OIDCProvider": render_oidc(&account, &o) }))
}

pub fn get_oidc_provider(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let o = load_oidc(ctx, provider_name(p, "OIDCProviderName")?)?;
    Ok(json!({ "OIDCProvider": render_oidc(ctx.account(), &o) }))
}

/// `Marker` / `MaxItems` (1..100) paging by name, as IMS lists do.
fn page_of<T>(ctx: &mut Ctx, p: &Params, name: impl Fn(&T) -> String) -> Result<(Vec<T>, Map<String, Value>)>
where
    T: Record,
{
    let pg = crate::ram::page(p, 100)?;
    let account = ctx.account().to_string();
    let items = ctx.tx.list_rec::<T>(&account, "", pg.after.as_deref(), pg.max + 1)?;
    Ok(crate::ram::paged(items, pg.max, name))
}

pub fn list_oidc_providers(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let (items, mut body) = page_of::<OidcProvider>(ctx, p, |o| o.name.clone())?;
    let account = ctx.account().to_string();
    body.insert("OIDCProviders".into(), json!({ "OIDCProvider": items.iter().map(|o| render_oidc(&account, o)).collect::<Vec<_>>() }));
    Ok(Value::Object(body))
}

/// Replacing a provider's JWKS replaces the keys its tokens are verified with: in RAM that takes
/// another issuer, that is deleting the provider and creating it again (UpdateOIDCProvider cannot
/// change the issuer). So an UpdateOIDCProvider that carries `JWKS` must also be allowed
/// `ram:DeleteOIDCProvider` and `ram:CreateOIDCProvider` on the provider (the account root always
/// is); `ram:UpdateOIDCProvider` alone, meant for client ids and the description, does not let a
/// caller sign tokens for every role that trusts the provider. The implied CreateOIDCProvider
/// carries the provider's issuer URL as `ram:OidcIssuerUrl`, as a real one would.
fn authorize_new_keys(ctx: &mut Ctx, asked: &str, provider: &OidcProvider) -> Result<()> {
    let account = ctx.account().to_string();
    // Both spellings of the name must be allowed (see crate::names).
    let mut arns = vec![format!("acs:ram:*:{account}:oidc-provider/{asked}")];
    if asked != provider.name {
        arns.push(format!("acs:ram:*:{account}:oidc-provider/{}", provider.name));
    }
    let mut create = rolestack_policy::Context::new();
    create.set(ISSUER_URL_KEY, provider.issuer_url.clone());
    let implied = [("ram:DeleteOIDCProvider", rolestack_policy::Context::new()), ("ram:CreateOIDCProvider", create)];
    for (action, request) in implied {
        if let Err(denial) = ctx.authorize_with(action, &arns, &request)? {
            return Err(crate::product::ErrorStyle::Ram.denied(denial, ctx.key));
        }
    }
    Ok(())
}

pub fn update_oidc_provider(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let asked = provider_name(p, "OIDCProviderName")?;
    let mut o = load_oidc(ctx, asked)?;
    if p.optional("JWKS").is_some() {
        authorize_new_keys(ctx, asked, &o)?;
    }
    if let Some(ids) = p.get("ClientIds") {
        o.client_ids = list_param(ids, "ClientIds", MAX_CLIENT_IDS, valid_client_id)?;
    }
    if let Some(d) = p.get("NewDescription") {
        crate::ram::check_length("NewDescription", Some(d), 256)?;
        o.description = d.to_string();
    }
    if let Some(n) = issuance_limit(p)? {
        o.issuance_limit_time = n;
    }
    if let Some(j) = jwks_param(p)? {
        o.jwks = Some(j);
    }
    save_oidc(ctx, o)
}

pub fn delete_oidc_provider(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let o = load_oidc(ctx, provider_name(p, "OIDCProviderName")?)?;
    let account = ctx.account().to_string();
    ctx.tx.delete(Kind::OidcProvider, &account, &o.name)?;
    ok()
}

pub fn add_client_id(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let mut o = load_oidc(ctx, provider_name(p, "OIDCProviderName")?)?;
    let id = p.required("ClientId")?;
    if !valid_client_id(id) {
        return Err(Error::invalid("InvalidParameter.ClientId", format!("The parameter \"ClientId\" is not valid: \"{id}\".")));
    }
    if o.client_ids.iter().any(|c| c == id) {
        return Err(Error::already_exists(
            "OIDCProvider.ClientId",
            format!("The client ID {id} is already in the OIDC provider {}.", o.name),
        ));
    }
    if o.client_ids.len() >= MAX_CLIENT_IDS {
        return Err(Error::limit("OIDCProvider.ClientId", format!("An OIDC provider can have at most {MAX_CLIENT_IDS} client IDs.")));
    }
    o.client_ids.push(id.to_string());
    save_oidc(ctx, o)
}

pub fn remove_client_id(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let mut o = load_oidc(ctx, provider_name(p, "OIDCProviderName")?)?;
    let id = p.required("ClientId")?;
    let before = o.client_ids.len();
    o.client_ids.retain(|c| c != id);
    if o.client_ids.len() == before {
        return Err(Error::not_exist("OIDCProvider.ClientId", format!("The client ID {id} is not in the OIDC provider {}.", o.name)));
    }
    save_oidc(ctx, o)
}

pub fn add_fingerprint(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let mut o = load_oidc(ctx, provider_name(p, "OIDCProviderName")?)?;
    let f = p.required("Fingerprint")?;
    if !valid_fingerprint(f) {
        return Err(Error::invalid("InvalidParameter.Fingerprint", format!("The parameter \"Fingerprint\" is not valid: \"{f}\".")));
    }
    if o.fingerprints.iter().any(|x| x.eq_ignore_ascii_case(f)) {
        return Err(Error::already_exists(
            "OIDCProvider.Fingerprint",
            format!("The fingerprint is already in the OIDC provider {}.", o.name),
        ));
    }
    if o.fingerprints.len() >= MAX_FINGERPRINTS {
        return Err(Error::limit(
            "OIDCProvider.Fingerprint",
            format!("An OIDC provider can have at most {MAX_FINGERPRINTS} fingerprints."),
        ));
    }
    o.fingerprints.push(f.to_string());
    save_oidc(ctx, o)
}

pub fn remove_fingerprint(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let mut o = load_oidc(ctx, provider_name(p, "OIDCProviderName")?)?;
    let f = p.required("Fingerprint")?;
    let before = o.fingerprints.len();
    o.fingerprints.retain(|x| !x.eq_ignore_ascii_case(f));
    if o.fingerprints.len() == before {
        return Err(Error::not_exist("OIDCProvider.Fingerprint", format!("The fingerprint is not in the OIDC provider {}.", o.name)));
    }
    save_oidc(ctx, o)
}

// --- SAML ---------------------------------------------------------------------------------

fn sign_algo(p: &Params, param: &str) -> Result<Option<String>> {
    match p.optional(param) {
        None => Ok(None),
        Some(a @ ("rsa-sha1" | "rsa-sha256")) => Ok(Some(a.to_string())),
        Some(other) => Err(Error::invalid(
            format!("InvalidParameter.{param}"),
            format!("The parameter \"{param}\" must be rsa-sha1 or rsa-sha256, got \"{other}\"."),
        )),
    }
}

/// Checks a Base64 SAML 2.0 metadata document: it must decode and name at least one signing
/// certificate (see [`crate::saml::metadata_certificates`]).
fn metadata_param(p: &Params, param: &str) -> Result<Option<String>> {
    let Some(doc) = p.optional(param) else { return Ok(None) };
    crate::saml::metadata_certificates(doc).map_err(|e| {
        Error::invalid(format!("InvalidParameter.{param}"), format!("The parameter \"{param}\" is not valid SAML 2.0 metadata: {e}."))
    })?;
    Ok(Some(doc.to_string()))
}

fn render_saml(account: &str, s: &SamlProvider) -> Value {
    json!({
        "SAMLProviderName": s.name,
        "Arn": saml_provider_arn(account, &s.name),
        "Description": s.description,
        "AuthnSignAlgo": s.authn_sign_algo,
        "CreateDate": s.created,
        "UpdateDate": s.updated,
    })
}

fn load_saml(tx: &mut dyn Tx, account: &str, name: &str) -> Result<SamlProvider> {
    tx.get_rec::<SamlProvider>(account, name)?.ok_or_else(|| no_saml(name))
}

pub fn create_saml_provider(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = provider_name(p, "SAMLProviderName")?;
    let metadata =
        metadata_param(p, "EncodedSAMLMetadataDocument")?.ok_or_else(|| Error::MissingParameter("EncodedSAMLMetadataDocument".into()))?;
    let description = p.optional("Description").unwrap_or_default();
    crate::ram::check_length("Description", Some(description), 256)?;
    let algo = sign_algo(p, "AuthnSignAlgo")?.unwrap_or_else(|| "rsa-sha1".into());
    let account = ctx.account().to_string();
    if ctx.tx.count(Kind::SamlProvider, &account, "")? >= MAX_PROVIDERS {
        return Err(Error::limit("SAMLProvider", format!("An account can have at most {MAX_PROVIDERS} SAML providers.")));
    }
    let now = ctx.now();
    let s = SamlProvider {
        name: name.to_string(),
        description: description.to_string(),
        metadata,
        authn_sign_algo: algo,
        created: now.clone(),
        updated: now,
    };
    if !ctx.tx.insert_rec(&account, name, &s)? {
        return Err(Error::already_exists("SAMLProvider", format!("The SAML provider does already EXIST: {name}.")));
    }
    Ok(json!({ "SAMLProvider": render_saml(&account, &s) }))
}

pub fn get_saml_provider(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let s = load_saml(ctx.tx, &account, provider_name(p, "SAMLProviderName")?)?;
    let mut v = render_saml(&account, &s);
    v["EncodedSAMLMetadataDocument"] = json!(s.metadata);
    Ok(json!({ "SAMLProvider": v }))
}

pub fn list_saml_providers(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let (items, mut body) = page_of::<SamlProvider>(ctx, p, |s| s.name.clone())?;
    let account = ctx.account().to_string();
    body.insert("SAMLProviders".into(), json!({ "SAMLProvider": items.iter().map(|s| render_saml(&account, s)).collect::<Vec<_>>() }));
    Ok(Value::Object(body))
}

pub fn update_saml_provider(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let mut s = load_saml(ctx.tx, &account, provider_name(p, "SAMLProviderName")?)?;
    let metadata = metadata_param(p, "NewEncodedSAMLMetadataDocument")?;
    let description = p.get("NewDescription");
    if metadata.is_none() && description.is_none() && p.optional("AuthnSignAlgo").is_none() {
        return Err(Error::MissingParameter("NewDescription".into()));
    }
    if let Some(m) = metadata {
        s.metadata = m;
    }
    if let Some(d) = description {
        crate::ram::check_length("NewDescription", Some(d), 256)?;
        s.description = d.to_string();
    }
    if let Some(a) = sign_algo(p, "AuthnSignAlgo")? {
        s.authn_sign_algo = a;
    }
    s.updated = ctx.now();
    ctx.tx.update_rec(&account, &s.name.clone(), &s)?;
    Ok(json!({ "SAMLProvider": render_saml(&account, &s) }))
}

pub fn delete_saml_provider(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let s = load_saml(ctx.tx, &account, provider_name(p, "SAMLProviderName")?)?;
    ctx.tx.delete(Kind::SamlProvider, &account, &s.name)?;
    ok()
}
