//! SSH key pairs: CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPairs, AttachKeyPair,
//! DetachKeyPair, and the `KeyPairName` CreateInstance / RunInstances take.
//!
//! A key pair is regional, named uniquely per account and region, and holds only its public half:
//! CreateKeyPair makes a 2048-bit RSA key, answers the private key (PKCS#8 PEM) once and forgets
//! it. The fingerprint is the MD5 of the public key blob (RFC 4716 §4) as colon-separated hex. An
//! instance holds at most one key pair; binding one copies its public key onto the instance, and the
//! metadata tree serves it at `public-keys/0/openssh-key`. Rules, codes and what is UNVERIFIED:
//! docs/instances.md "SSH key pairs" and docs/ecs-errors.md §12.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use md5::Digest as _;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use super::instances::glob;
use super::{check_name, dry_run, instance_ids_malformed, load_instance, page, region, resource_id, string_list, tags, Region};
use crate::handler::Ctx;
use crate::model::{Instance, KeyPair, ResourceTags};
use crate::params::Params;
use crate::store::Tx;
use crate::{Error, Result};

/// Bits of the RSA keys CreateKeyPair makes.
pub const RSA_BITS: usize = 2048;
/// At most this many names in one DeleteKeyPairs.
pub const MAX_DELETE: usize = 100;
/// At most this many instances in one AttachKeyPair / DetachKeyPair.
pub const MAX_INSTANCES: usize = 50;
/// The public key algorithms ImportKeyPair accepts (the blob's own type must match).
pub const KEY_TYPES: &[&str] = &["ssh-rsa", "ssh-dss", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"];

/// `InvalidKeyPairName.NotFound`: 400 on the key pair actions, 404 on CreateInstance / RunInstances
/// (as their pages say; docs/ecs-errors.md §12).
pub(crate) fn key_pair_not_found(status: u16, name: &str) -> Error {
    Error::service(status, "InvalidKeyPairName.NotFound", format!("The specified KeyPairName does not exist in our records: {name}."))
}

/// The name rules (docs/instances.md "SSH key pairs"), refused with the page's message plus why.
fn check_key_pair_name(name: &str) -> Result<()> {
    check_name("KeyPairName", name, &[':'], "InvalidKeyPairName.Malformed").map_err(|e| {
        Error::service(400, "InvalidKeyPairName.Malformed", format!("Specified Key Pair name is not valid. {}", e.public_message()))
    })
}

/// A key pair of the caller's account in `region`.
pub(crate) fn load_key_pair(ctx: &mut Ctx, region: &Region, name: &str, status: u16) -> Result<KeyPair> {
    let account = ctx.account().to_string();
    ctx.tx.get_rec::<KeyPair>(&account, &KeyPair::key(region.id, name))?.ok_or_else(|| key_pair_not_found(status, name))
}

/// The caller's key pairs in `region`, oldest first.
fn all_key_pairs(ctx: &mut Ctx, region: &Region) -> Result<Vec<KeyPair>> {
    let account = ctx.account().to_string();
    let mut v = ctx.tx.list_rec::<KeyPair>(&account, &format!("{}/", region.id), None, usize::MAX)?;
    v.sort_by(|a, b| (&a.created, &a.name).cmp(&(&b.created, &b.name)));
    Ok(v)
}

/// The SSH wire form of an RSA public key (RFC 4253 §6.6): `string "ssh-rsa"`, `mpint e`, `mpint n`.
fn rsa_blob(e: &[u8], n: &[u8]) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(bytes);
    }
    fn mpint(out: &mut Vec<u8>, big_endian: &[u8]) {
        let trimmed: &[u8] = &big_endian[big_endian.iter().take_while(|b| **b == 0).count()..];
        if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
            out.extend_from_slice(&(trimmed.len() as u32 + 1).to_be_bytes());
            out.push(0);
            out.extend_from_slice(trimmed);
        } else {
            string(out, trimmed);
        }
    }
    let mut out = Vec::new();
    string(&mut out, b"ssh-rsa");
    mpint(&mut out, e);
    mpint(&mut out, n);
    out
}

/// MD5 of a public key blob as `aa:bb:...` (RFC 4716 §4).
pub fn fingerprint(blob: &[u8]) -> String {
    md5::Md5::digest(blob).iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Reads one `string` of the SSH wire format from `blob`, returning it and the rest.
fn wire_string(blob: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let body = blob.get(4..4usize.checked_add(len)?)?;
    Some((body, &blob[4 + len..]))
}

/// Checks an OpenSSH one-line public key (`<type> <base64> [comment]`): a known type whose
/// decoded blob names the same type and (for RSA) holds a public exponent and a modulus of at least
/// 1024 bits. Answers the normalized `<type> <base64>` and the blob's fingerprint.
pub fn parse_public_key(body: &str) -> std::result::Result<(String, String), &'static str> {
    let mut parts = body.split_whitespace();
    let (Some(kind), Some(b64)) = (parts.next(), parts.next()) else {
        return Err("expected \"<type> <base64 key> [comment]\"");
    };
    if !KEY_TYPES.contains(&kind) {
        return Err("the key type is not one of ssh-rsa, ssh-dss, ssh-ed25519, ecdsa-sha2-nistp256/384/521");
    }
    let blob = BASE64.decode(b64).map_err(|_| "the key is not valid base64")?;
    let (inner, rest) = wire_string(&blob).ok_or("the key blob is truncated")?;
    if inner != kind.as_bytes() {
        return Err("the key blob's type does not match the type before it");
    }
    if kind == "ssh-rsa" {
        let (e, rest) = wire_string(rest).ok_or("the RSA key has no exponent")?;
        let (n, rest) = wire_string(rest).ok_or("the RSA key has no modulus")?;
        let n_bits = n.iter().skip_while(|b| **b == 0).count() * 8;
        if e.is_empty() || n_bits < 1024 || !rest.is_empty() {
            return Err("the RSA key is malformed or shorter than 1024 bits");
        }
    } else if rest.is_empty() {
        return Err("the key blob holds no key");
    }
    Ok((format!("{kind} {b64}"), fingerprint(&blob)))
}

/// At most this many key pairs per account and region (ECS's CreateKeyPair / ImportKeyPair
/// pages; beyond: `QuotaExceed.KeyPair`, 403).
pub const MAX_KEY_PAIRS: usize = 500;

/// The resource type key pair tags are kept under, by `KeyPairId` (names repeat across regions).
const TAG_TYPE: &str = "keypair";

/// Where the tags of the key pair `name` in `region` are kept (`keypair/<KeyPairId>`), for
/// `acs:ResourceTag/<key>` on its ARN (`keypair/<KeyPairName>`); `None` when there is no such key pair.
pub fn tags_record(tx: &mut dyn Tx, account: &str, region: &str, name: &str) -> Result<Option<String>> {
    Ok(tx.get_rec::<KeyPair>(account, &KeyPair::key(region, name))?.map(|kp| ResourceTags::key(TAG_TYPE, &kp.id)))
}

fn new_key_pair(ctx: &mut Ctx, p: &Params, region: &Region, name: &str, public_key: String, fingerprint: String) -> Result<KeyPair> {
    let new_tags = tags::request_tags(p)?;
    let key = KeyPair::key(region.id, name);
    let kp = KeyPair {
        name: name.to_string(),
        id: resource_id("kp", region, 17),
        region_id: region.id.to_string(),
        fingerprint,
        public_key,
        created: ctx.now(),
    };
    let account = ctx.account().to_string();
    if ctx.tx.list_rec::<KeyPair>(&account, &format!("{}/", region.id), None, MAX_KEY_PAIRS)?.len() >= MAX_KEY_PAIRS {
        return Err(Error::service(
            403,
            "QuotaExceed.KeyPair",
            format!("The key pair quota exceeds: at most {MAX_KEY_PAIRS} key pairs in a region."),
        ));
    }
    if !ctx.tx.insert_rec(&account, &key, &kp)? {
        return Err(Error::service(400, "KeyPair.AlreadyExist", format!("The key pair already exist: {name}.")));
    }
    tags::add(ctx, TAG_TYPE, &kp.id, region.id, &new_tags)?;
    Ok(kp)
}

pub fn create_key_pair(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let name = p.required("KeyPairName")?;
    check_key_pair_name(name)?;
    dry_run(p)?;
    let private =
        RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS).map_err(|e| Error::Store(format!("generating an RSA key pair: {e}")))?;
    let blob = rsa_blob(&private.e().to_bytes_be(), &private.n().to_bytes_be());
    let public_key = format!("ssh-rsa {}", BASE64.encode(&blob));
    let pem = private.to_pkcs8_pem(LineEnding::LF).map_err(|e| Error::Store(format!("encoding an RSA key pair: {e}")))?;
    let kp = new_key_pair(ctx, p, region, name, public_key, fingerprint(&blob))?;
    Ok(json!({
        "KeyPairName": kp.name,
        "KeyPairId": kp.id,
        "KeyPairFingerPrint": kp.fingerprint,
        "PrivateKeyBody": pem.as_str(),
    }))
}

pub fn import_key_pair(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let name = p.required("KeyPairName")?;
    check_key_pair_name(name)?;
    let body = p.required("PublicKeyBody")?;
    let (public_key, fp) = parse_public_key(body).map_err(|why| {
        Error::service(400, "InvalidPublicKeyBody.Malformed", format!("The PublicKeyBody format is not supported: {why}."))
    })?;
    dry_run(p)?;
    let kp = new_key_pair(ctx, p, region, name, public_key, fp)?;
    Ok(json!({ "KeyPairName": kp.name, "KeyPairId": kp.id, "KeyPairFingerPrint": kp.fingerprint }))
}

pub fn describe_key_pairs(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let pg = page(p, 50)?;
    let include_public = p.flag("IncludePublicKey")?;
    let filter_tags = tags::request_tags(p)?;
    let mut found = Vec::new();
    for k in all_key_pairs(ctx, region)? {
        let keep = p.optional("KeyPairName").is_none_or(|pat| glob(pat, &k.name))
            && p.optional("KeyPairFingerPrint").is_none_or(|f| f == k.fingerprint);
        if !keep {
            continue;
        }
        let own = tags::tags_of(ctx, TAG_TYPE, &k.id)?;
        if tags::matches(&own, &filter_tags) {
            found.push((k, own));
        }
    }
    let total = found.len();
    let rows: Vec<Value> = pg
        .slice(found)
        .into_iter()
        .map(|(k, own)| {
            let mut row = json!({
                "KeyPairName": k.name,
                "KeyPairFingerPrint": k.fingerprint,
                "CreationTime": k.created,
                "ResourceGroupId": "",
                "Tags": tags::render(&own),
            });
            if include_public {
                row["PublicKey"] = json!(k.public_key);
            }
            row
        })
        .collect();
    Ok(json!({
        "TotalCount": total,
        "PageNumber": pg.number,
        "PageSize": pg.size,
        "KeyPairs": { "KeyPair": rows },
    }))
}

fn names_malformed(raw: &str, why: &str) -> Error {
    Error::service(
        400,
        "InvalidKeyPairNames.Malformed",
        format!("The specified parameter \"KeyPairNames\" is not valid: {why}; got {raw}."),
    )
}

pub fn delete_key_pairs(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let names = string_list(p, "KeyPairNames", MAX_DELETE, names_malformed)?.ok_or_else(|| super::missing("KeyPairNames"))?;
    if names.is_empty() {
        return Err(names_malformed("[]", "the list is empty"));
    }
    // Every name must exist before any is deleted.
    let mut found = Vec::with_capacity(names.len());
    for name in &names {
        found.push(load_key_pair(ctx, region, name, 400)?);
    }
    let account = ctx.account().to_string();
    for kp in found {
        ctx.tx.delete(crate::store::Kind::KeyPair, &account, &KeyPair::key(region.id, &kp.name))?;
        tags::forget(ctx, TAG_TYPE, &kp.id)?;
    }
    Ok(json!({}))
}

/// One instance's outcome in AttachKeyPair / DetachKeyPair's `Results`.
fn outcome(instance_id: &str, r: Result<()>) -> Value {
    match r {
        Ok(()) => json!({ "InstanceId": instance_id, "Success": "true", "Code": "200", "Message": "successful" }),
        Err(e) => json!({ "InstanceId": instance_id, "Success": "false", "Code": e.code(), "Message": e.public_message() }),
    }
}

/// Applies `change` to every instance of `InstanceIds` in the region, each on its own: an instance
/// that is missing or refuses is reported in `Results`, the others are changed.
fn for_instances(ctx: &mut Ctx, p: &Params, name: &str, mut change: impl FnMut(&mut Instance) -> Result<()>) -> Result<Value> {
    let region = region(p)?;
    let ids = string_list(p, "InstanceIds", MAX_INSTANCES, instance_ids_malformed)?.ok_or_else(|| super::missing("InstanceIds"))?;
    if ids.is_empty() {
        return Err(instance_ids_malformed("[]", "the list is empty"));
    }
    let account = ctx.account().to_string();
    let mut results = Vec::with_capacity(ids.len());
    let mut failed = 0;
    for id in &ids {
        let r = load_instance(&mut *ctx.tx, &account, id)
            .and_then(|inst| if inst.region_id == region.id { Ok(inst) } else { Err(super::instance_not_found(id)) })
            .and_then(|mut inst| {
                change(&mut inst)?;
                ctx.tx.update_rec(&account, &inst.id, &inst)?;
                Ok(())
            });
        match &r {
            // A store failure fails the whole call (its transaction is rolled back).
            Err(Error::Service { .. }) => failed += 1,
            Err(_) => return r.map(|()| Value::Null),
            Ok(()) => {}
        }
        results.push(outcome(id, r));
    }
    Ok(json!({
        "KeyPairName": name,
        "TotalCount": ids.len().to_string(),
        "FailCount": failed.to_string(),
        "Results": { "Result": results },
    }))
}

pub fn attach_key_pair(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let kp = load_key_pair(ctx, region, p.required("KeyPairName")?, 400)?;
    for_instances(ctx, p, &kp.name.clone(), |inst| {
        inst.key_pair_name = Some(kp.name.clone());
        inst.public_key = Some(kp.public_key.clone());
        Ok(())
    })
}

pub fn detach_key_pair(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let region = region(p)?;
    let kp = load_key_pair(ctx, region, p.required("KeyPairName")?, 400)?;
    for_instances(ctx, p, &kp.name.clone(), |inst| {
        if inst.key_pair_name.as_deref() != Some(kp.name.as_str()) {
            return Err(Error::service(
                400,
                "InvalidKeyPairName.NotFound",
                format!("The specified KeyPairName is not bound to the instance {}: {}.", inst.id, kp.name),
            ));
        }
        inst.key_pair_name = None;
        inst.public_key = None;
        Ok(())
    })
}

/// CreateInstance / RunInstances `KeyPairName`: the key pair must exist in the region; answers the
/// name and public key the new instances hold.
pub(crate) fn key_pair_for_new_instance(ctx: &mut Ctx, p: &Params, region: &Region) -> Result<Option<(String, String)>> {
    let Some(name) = p.optional("KeyPairName") else { return Ok(None) };
    let kp = load_key_pair(ctx, region, name, 404)?;
    Ok(Some((kp.name, kp.public_key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_fingerprints_match() {
        // A small key keeps the test quick; the encoding does not depend on the size.
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let blob = rsa_blob(&private.e().to_bytes_be(), &private.n().to_bytes_be());
        let line = format!("ssh-rsa {} me@host", BASE64.encode(&blob));
        let (normal, fp) = parse_public_key(&line).unwrap();
        assert_eq!(normal, format!("ssh-rsa {}", BASE64.encode(&blob)));
        assert_eq!(fp, fingerprint(&blob));
        assert_eq!(fp.len(), 47);
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in ["", "ssh-rsa", "ssh-rsa !!!", "foo AAAA", "ssh-ed25519 AAAAC3NzaC1yc2EAAAA=", "ssh-rsa AAAAB3NzaC1yc2E="] {
            assert!(parse_public_key(bad).is_err(), "{bad}");
        }
        // An ed25519 blob: string "ssh-ed25519", string of 32 key bytes.
        let mut blob = vec![0, 0, 0, 11];
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&[0, 0, 0, 32]);
        blob.extend_from_slice(&[7; 32]);
        assert!(parse_public_key(&format!("ssh-ed25519 {}", BASE64.encode(&blob))).is_ok());
        assert!(parse_public_key(&format!("ssh-rsa {}", BASE64.encode(&blob))).is_err());
    }

    #[test]
    fn mpint_keeps_positive_sign() {
        let blob = rsa_blob(&[1, 0, 1], &[0x80, 1]);
        // "ssh-rsa" (4+7), e (4+3), n with a leading zero (4+3).
        assert_eq!(blob.len(), 11 + 7 + 7);
        assert_eq!(&blob[18..22], &[0, 0, 0, 3]);
    }
}
