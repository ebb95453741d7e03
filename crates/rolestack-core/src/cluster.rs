//! Several rolestack nodes on one shared store (PostgreSQL): what they must agree on, kept in the
//! store itself (docs/scale-out.md).
//!
//! - **The server key.** Every node needs the same key file. The first node to start seals a
//!   known text with its key into the `key-check` setting; a node whose key cannot open it
//!   refuses to start and says so ([`check_server_key`]), instead of minting tokens other nodes
//!   refuse and failing to open every stored secret.
//! - **Nodes.** Each node registers its `--node-name` and the address its API answers on
//!   ([`register_node`]); instances are placed on the node that created them (`Instance::node`),
//!   and calls that need the instance's host are forwarded there ([`NodeRecord`]).
//! - **The fake clock.** Moving it writes the offset to the `clock` setting (in the call's
//!   transaction); every node reads it again whenever the store version moved ([`Cluster::refresh`]),
//!   so token expiry and credential rotation follow the same clock on every node.
//!
//! A single node on its embedded store uses none of this ([`Cluster::single`]).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::model::Record;
use crate::seal::ServerKey;
use crate::service::Rolestack;
use crate::store::{retry, Kind, Store, Tx, GLOBAL};
use crate::{Error, Result};

/// The setting that holds the server key's check value.
pub const KEY_CHECK: &str = "key-check";
/// The setting that holds the fake clock's offset.
pub const CLOCK: &str = "clock";
const KEY_CHECK_PURPOSE: &str = "rolestack key check";
const KEY_CHECK_TEXT: &[u8] = b"rolestack server key check value v1";

/// This node's place among the nodes of a shared store.
pub struct Cluster {
    /// Whether other servers may write the store (the clock lives there).
    shared: bool,
    /// This node's name (`serve --node-name`): instances created through it live on its host.
    node: Option<String>,
    /// The store version the clock was last read at (`u64::MAX`: never).
    clock_version: AtomicU64,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster::single()
    }
}

/// A node, as registered in the store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct NodeRecord {
    pub name: String,
    /// Where other nodes reach its API (`host:port`).
    pub api_address: String,
    /// When it last started (RAM's date format).
    pub started: String,
}

impl Record for NodeRecord {
    const KIND: Kind = Kind::Node;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClockSetting {
    offset_seconds: i64,
}

impl Cluster {
    /// One node alone on its store.
    pub fn single() -> Self {
        Cluster { shared: false, node: None, clock_version: AtomicU64::new(u64::MAX) }
    }

    /// A server on a shared store: named (`--node-name`), its instances live on its host;
    /// unnamed, instances are served by whichever server prepares them (one server on
    /// PostgreSQL, or nodes without instance networks).
    pub fn shared_store(node: Option<String>) -> Self {
        Cluster { shared: true, node, clock_version: AtomicU64::new(u64::MAX) }
    }

    /// This node's name, when it is one of several.
    pub fn node_name(&self) -> Option<&str> {
        self.node.as_deref()
    }

    /// Whether the clock lives in the store.
    pub fn shared(&self) -> bool {
        self.shared
    }

    /// Reads the fake clock's offset again when the store changed since it was last read.
    pub fn refresh(&self, rs: &Rolestack) {
        if !self.shared() || !rs.clock.is_fake() {
            return;
        }
        let Some(version) = rs.store.version() else { return };
        if self.clock_version.load(Ordering::Relaxed) == version {
            return;
        }
        match rs.store.begin_read().and_then(|mut tx| stored_clock_offset(&mut *tx)) {
            Ok(offset) => {
                rs.clock.set_offset(offset);
                self.clock_version.store(version, Ordering::Relaxed);
            }
            Err(e) => eprintln!("rolestack: could not read the shared clock: {e}"),
        }
    }

    /// Moves a shared fake clock by `seconds` in the call's transaction; returns the new offset.
    pub fn advance_clock(&self, tx: &mut dyn Tx, seconds: i64) -> Result<i64> {
        let offset = stored_clock_offset(tx)?.checked_add(seconds).ok_or_else(|| Error::Store("clock offset overflow".into()))?;
        let data = serde_json::to_string(&ClockSetting { offset_seconds: offset }).map_err(|e| Error::Store(e.to_string()))?;
        if !tx.update(Kind::Setting, GLOBAL, CLOCK, &data)? {
            tx.insert(Kind::Setting, GLOBAL, CLOCK, &data)?;
        }
        Ok(offset)
    }
}

fn stored_clock_offset(tx: &mut dyn Tx) -> Result<i64> {
    match tx.get(Kind::Setting, GLOBAL, CLOCK)? {
        Some(data) => serde_json::from_str::<ClockSetting>(&data)
            .map(|c| c.offset_seconds)
            .map_err(|e| Error::Store(format!("corrupt clock setting: {e}"))),
        None => Ok(0),
    }
}

/// Checks that `key` is the key the store's other nodes use (recording its check value when the
/// store has none yet). The error says what to do.
pub fn check_server_key(store: &dyn Store, key: &ServerKey) -> Result<()> {
    retry(|| {
        let mut tx = store.begin()?;
        match tx.get(Kind::Setting, GLOBAL, KEY_CHECK)? {
            Some(sealed) => {
                if key.open(KEY_CHECK_PURPOSE, &sealed).ok().as_deref() != Some(KEY_CHECK_TEXT) {
                    return Err(Error::Store(
                        "this node's server key is not the key the other nodes of this database use (its key check \
                         value does not open): give every node the same key file (--key-file), or this node a \
                         database of its own"
                            .into(),
                    ));
                }
                Ok(())
            }
            None => {
                tx.insert(Kind::Setting, GLOBAL, KEY_CHECK, &key.seal(KEY_CHECK_PURPOSE, KEY_CHECK_TEXT))?;
                tx.commit()
            }
        }
    })
}

/// Registers (or re-registers after a restart) this node and where its API answers.
pub fn register_node(store: &dyn Store, node: &NodeRecord) -> Result<()> {
    let data = serde_json::to_string(node).map_err(|e| Error::Store(e.to_string()))?;
    retry(|| {
        let mut tx = store.begin()?;
        if !tx.update(Kind::Node, GLOBAL, &node.name, &data)? {
            tx.insert(Kind::Node, GLOBAL, &node.name, &data)?;
        }
        tx.commit()
    })
}

/// A registered node by name.
pub fn find_node(store: &dyn Store, name: &str) -> Result<Option<NodeRecord>> {
    store.begin_read()?.get_rec::<NodeRecord>(GLOBAL, name)
}

/// The running instances placed on `node`, in every account: `(account id, instance id)`. A
/// stopped instance has no network (nothing runs on it), so the node serves none for it.
pub fn instances_on(store: &dyn Store, node: &str) -> Result<Vec<(String, String)>> {
    const PAGE: usize = 500;
    let mut tx = store.begin_read()?;
    let mut out = Vec::new();
    let mut accounts: Vec<crate::model::Account> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page: Vec<crate::model::Account> = tx.list_rec(GLOBAL, "", after.as_deref(), PAGE)?;
        let done = page.len() < PAGE;
        after = page.last().map(|a| a.id.clone());
        accounts.extend(page);
        if done {
            break;
        }
    }
    for account in accounts {
        let mut after: Option<String> = None;
        loop {
            let page: Vec<crate::model::Instance> = tx.list_rec(&account.id, "", after.as_deref(), PAGE)?;
            let done = page.len() < PAGE;
            after = page.last().map(|i| i.id.clone());
            out.extend(
                page.into_iter().filter(|i| i.node.as_deref() == Some(node) && i.status == "Running").map(|i| (account.id.clone(), i.id)),
            );
            if done {
                break;
            }
        }
    }
    Ok(out)
}
