//! The shared `Store`/`Tx` contract (`rolestack_core::conformance`) against SQLite: in memory,
//! plus reopening a database file.

use std::sync::Arc;

use rolestack_core::store::Store;
use rolestack_store_sqlite::SqliteStore;

fn fresh() -> Option<Arc<dyn Store>> {
    Some(Arc::new(SqliteStore::in_memory().unwrap()))
}

rolestack_core::store_conformance_tests!(fresh);

#[test]
fn survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite");
    rolestack_core::conformance::survives_reopen(&|| Arc::new(SqliteStore::open(&path).unwrap()));
}
