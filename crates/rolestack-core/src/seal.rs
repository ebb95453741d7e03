//! Sealing with the server key: AES-256-GCM with a random nonce. AccessKey secrets are stored sealed,
//! so a copy of the database alone reveals none of them; the key lives in a separate file
//! (`master.key`, mode 0600) that is never written to the database. Later, STS security tokens are
//! sealed the same way so any node with the key can verify them without a lookup.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("sealed value is not valid base64url")]
    Encoding,
    #[error("sealed value is too short")]
    Truncated,
    #[error("sealed value failed authentication (tampered, or sealed with another key or purpose)")]
    Forged,
}

/// The server key. `purpose` strings bind a sealed value to what it is for (associated data), so an
/// AccessKey secret can never be replayed as a token or vice versa.
#[derive(Clone)]
pub struct ServerKey {
    cipher: Aes256Gcm,
}

impl ServerKey {
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        ServerKey { cipher: Aes256Gcm::new(bytes.into()) }
    }

    pub fn generate() -> [u8; KEY_LEN] {
        let mut k = [0u8; KEY_LEN];
        rand::thread_rng().fill_bytes(&mut k);
        k
    }

    /// Seals `plaintext` for `purpose`; the result is URL-safe base64 text.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: purpose.as_bytes() })
            .expect("AES-GCM encryption cannot fail for in-memory buffers");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        URL_SAFE_NO_PAD.encode(out)
    }

    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, SealError> {
        let raw = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| SealError::Encoding)?;
        if raw.len() < NONCE_LEN + 16 {
            return Err(SealError::Truncated);
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        self.cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: purpose.as_bytes() }).map_err(|_| SealError::Forged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let k = ServerKey::from_bytes(&ServerKey::generate());
        let s = k.seal("ak-secret", b"hello");
        assert_eq!(k.open("ak-secret", &s).unwrap(), b"hello");
        assert_eq!(k.open("sts-token", &s), Err(SealError::Forged));
        let other = ServerKey::from_bytes(&ServerKey::generate());
        assert_eq!(other.open("ak-secret", &s), Err(SealError::Forged));
        let mut bad = s.into_bytes();
        let i = bad.len() / 2;
        bad[i] = if bad[i] == b'A' { b'B' } else { b'A' };
        assert!(k.open("ak-secret", std::str::from_utf8(&bad).unwrap()).is_err());
    }
}
