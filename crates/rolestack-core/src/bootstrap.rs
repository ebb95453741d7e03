//! First start: create the account and its root AccessKey when the store has none.

use crate::clock::{format_date, Clock};
use crate::ids;
use crate::model::{Account, KeyOwner};
use crate::ram::users::issue_key;
use crate::seal::ServerKey;
use crate::store::{Kind, Store, GLOBAL};
use crate::Result;

/// The root credentials of a newly created account (shown once, then kept in the data directory).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RootCredentials {
    #[serde(rename = "AccountId")]
    pub account_id: String,
    #[serde(rename = "AccessKeyId")]
    pub access_key_id: String,
    #[serde(rename = "AccessKeySecret")]
    pub access_key_secret: String,
}

/// Returns the existing account id, or creates an account with a root key and returns its credentials.
/// Nodes of a shared store that start together create one account: all but one conflict and
/// find it on their next try.
pub fn ensure_account(store: &dyn Store, key: &ServerKey, clock: &Clock) -> Result<(String, Option<RootCredentials>)> {
    crate::store::retry(|| ensure_account_once(store, key, clock))
}

fn ensure_account_once(store: &dyn Store, key: &ServerKey, clock: &Clock) -> Result<(String, Option<RootCredentials>)> {
    let mut tx = store.begin()?;
    if let Some(existing) = tx.list(Kind::Account, GLOBAL, "", None, 1)?.into_iter().next() {
        let account: Account = serde_json::from_str(&existing).map_err(|e| crate::Error::Store(e.to_string()))?;
        return Ok((account.id, None));
    }
    let now = format_date(clock.now());
    let account = Account { id: ids::account_id(), alias: None, created: now.clone() };
    tx.insert_rec(GLOBAL, &account.id, &account)?;
    let (ak, secret) = issue_key(&mut *tx, key, &account.id, KeyOwner::Root, &now)?;
    tx.commit()?;
    Ok((account.id.clone(), Some(RootCredentials { account_id: account.id, access_key_id: ak.id, access_key_secret: secret })))
}
