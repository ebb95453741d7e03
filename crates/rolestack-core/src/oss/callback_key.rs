//! The signature of upload callback requests (docs/oss.md, "Upload callbacks"): OSS signs each
//! callback POST so the application can tell it came from OSS. The string signed is the URL-decoded
//! path of the callback URL, then `?` and its query as sent (when it has one), a newline, and the
//! body; the signature is RSA PKCS#1 v1.5 over its MD5 digest ("MD5withRSA"), sent base64 in the
//! `authorization` header, and `x-oss-pub-key-url` carries the base64 of the URL of the PEM public
//! key to verify it with.
//!
//! rolestack's key is one 2048-bit RSA key per store, made on first use and kept as a record (the
//! private half sealed with the server key), so every node of a shared store signs with it; its
//! public half is served at [`PUBLIC_KEY_PATH`] on the API listener.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde::{Deserialize, Serialize};

use crate::model::Record;
use crate::seal::ServerKey;
use crate::store::{Kind, Store, GLOBAL};
use crate::{Error, Result};

/// Where the public key is served (unsigned GET; the name OSS gives its own key file).
pub const PUBLIC_KEY_PATH: &str = "/callback_pub_key_v1.pem";

const KEY_PURPOSE: &str = "oss-callback-key";
const RECORD: &str = "v1";
const BITS: usize = 2048;

/// The signing key: PKCS#8 private key sealed with the server key, and the public key as PEM.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallbackKey {
    sealed_pkcs8: String,
    pub public_pem: String,
}

impl Record for CallbackKey {
    const KIND: Kind = Kind::OssCallbackKey;
}

/// The store's callback key, made (and stored) on first call.
pub fn ensure(store: &dyn Store, key: &ServerKey) -> Result<CallbackKey> {
    if let Some(k) = store.begin_read()?.get_rec::<CallbackKey>(GLOBAL, RECORD)? {
        return Ok(k);
    }
    // Generated outside the transaction (it takes a while); whoever commits first wins.
    let private =
        RsaPrivateKey::new(&mut rand::rngs::OsRng, BITS).map_err(|e| Error::Store(format!("generating the callback key: {e}")))?;
    let pkcs8 = private.to_pkcs8_der().map_err(|e| Error::Store(format!("encoding the callback key: {e}")))?;
    let public_pem = private
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| Error::Store(format!("encoding the callback public key: {e}")))?;
    let made = CallbackKey { sealed_pkcs8: key.seal(KEY_PURPOSE, pkcs8.as_bytes()), public_pem };
    crate::store::retry(|| {
        let mut tx = store.begin()?;
        if let Some(k) = tx.get_rec::<CallbackKey>(GLOBAL, RECORD)? {
            return Ok(k);
        }
        tx.insert_rec(GLOBAL, RECORD, &made)?;
        tx.commit()?;
        Ok(made.clone())
    })
}

/// What is signed for a callback to `path_and_query` (as in the URL) carrying `body`.
pub fn string_to_sign(path_and_query: &str, body: &[u8]) -> Vec<u8> {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let mut out: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
    if let Some(q) = query {
        out.push(b'?');
        out.extend_from_slice(q.as_bytes());
    }
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}

impl CallbackKey {
    /// The `authorization` header of a callback to `path_and_query` carrying `body`.
    pub fn sign(&self, key: &ServerKey, path_and_query: &str, body: &[u8]) -> Result<String> {
        let pkcs8 = key.open(KEY_PURPOSE, &self.sealed_pkcs8).map_err(|e| Error::Store(format!("callback key: {e}")))?;
        let private = RsaPrivateKey::from_pkcs8_der(&pkcs8).map_err(|e| Error::Store(format!("callback key: {e}")))?;
        let digest = <md5::Md5 as md5::Digest>::digest(string_to_sign(path_and_query, body));
        let signature =
            private.sign(Pkcs1v15Sign::new::<md5::Md5>(), &digest).map_err(|e| Error::Store(format!("signing a callback: {e}")))?;
        Ok(BASE64.encode(signature))
    }
}

/// The `x-oss-pub-key-url` header: base64 of the public key's URL.
pub fn public_key_url_header(url: &str) -> String {
    BASE64.encode(url.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::RsaPublicKey;

    #[test]
    fn the_string_decodes_the_path_only() {
        assert_eq!(string_to_sign("/cb%20x?a=%20b&c", b"body"), b"/cb x?a=%20b&c\nbody");
        assert_eq!(string_to_sign("/", b""), b"/\n");
    }

    #[test]
    fn signatures_verify_with_the_public_pem() {
        let server = ServerKey::from_bytes(&[7u8; 32]);
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        let key = CallbackKey {
            sealed_pkcs8: server.seal(KEY_PURPOSE, private.to_pkcs8_der().unwrap().as_bytes()),
            public_pem: private.to_public_key().to_public_key_pem(LineEnding::LF).unwrap(),
        };
        let signature = BASE64.decode(key.sign(&server, "/cb?x=1", b"bucket=b").unwrap()).unwrap();
        let public = RsaPublicKey::from_public_key_pem(&key.public_pem).unwrap();
        let digest = <md5::Md5 as md5::Digest>::digest(b"/cb?x=1\nbucket=b");
        public.verify(Pkcs1v15Sign::new::<md5::Md5>(), &digest, &signature).unwrap();
        let other = <md5::Md5 as md5::Digest>::digest(b"/cb?x=2\nbucket=b");
        assert!(public.verify(Pkcs1v15Sign::new::<md5::Md5>(), &other, &signature).is_err());
    }
}
