//! Identifiers that look like the real service's: 16-digit account ids, numeric entity ids,
//! `LTAI…` AccessKey ids, 30-character secrets and upper-case UUID request ids.

use rand::distributions::{Alphanumeric, Uniform};
use rand::Rng;

fn digits(n: usize) -> String {
    let mut rng = rand::thread_rng();
    let first = rng.gen_range(1..=9u8);
    let mut s = first.to_string();
    s.extend((1..n).map(|_| char::from(b'0' + rng.sample(Uniform::new(0, 10u8)))));
    s
}

/// A 16-digit account (UID) number, as in `acs:ram::1234567890123456:root`.
pub fn account_id() -> String {
    digits(16)
}

/// Role, user, group ids: 17 digits (`RoleId`, `UserId`).
pub fn entity_id() -> String {
    digits(17)
}

/// AccessKey ids: `LTAI` followed by 20 alphanumerics.
pub fn access_key_id() -> String {
    format!("LTAI{}", alnum(20))
}

/// AccessKey secrets: 30 alphanumerics.
pub fn access_key_secret() -> String {
    alnum(30)
}

pub fn alnum(n: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(n).map(char::from).collect()
}

/// Request ids: upper-case UUIDs, as every Alibaba Cloud API returns.
pub fn request_id() -> String {
    uuid_upper()
}

/// A random (v4) UUID in upper case, from the thread's CSPRNG (no system call per id).
pub fn uuid_upper() -> String {
    let id = uuid::Builder::from_random_bytes(rand::thread_rng().gen()).into_uuid();
    id.hyphenated().encode_upper(&mut uuid::Uuid::encode_buffer()).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn shapes() {
        let a = super::account_id();
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_digit()) && !a.starts_with('0'));
        let k = super::access_key_id();
        assert!(k.starts_with("LTAI") && k.len() == 24);
        assert_eq!(super::access_key_secret().len(), 30);
        assert_eq!(super::request_id().len(), 36);
    }
}
