//! The `Store`/`Tx` contract as executable tests, shared by every back-end (feature
//! `store-conformance`). Each function takes a fresh, empty store and panics on a violation; a
//! back-end's test file runs them all with [`store_conformance_tests!`](crate::store_conformance_tests):
//!
//! ```text
//! fn fresh() -> Option<Arc<dyn Store>> { Some(Arc::new(SqliteStore::in_memory().unwrap())) }
//! rolestack_core::store_conformance_tests!(fresh);
//! ```
//!
//! The semantics pinned here are SQLite's (the reference back-end): names compare and sort like
//! `COLLATE NOCASE` (ASCII letters folded to lower case, then byte order; other characters are
//! not folded), prefixes match literally (`%`, `_`, `\` are ordinary characters), OSS keys are
//! case-sensitive and byte-ordered, nonces expire strictly after `expires`, and transactions are
//! serializable (each `begin` waits for the previous transaction to end).

use std::io::{Read, Write};
use std::sync::Arc;

use crate::caller::{Caller, Principal, RequestFacts};
use crate::oss::blob::{crc64, BlobId, BlobSink, BlobSource, BlobStore, MemoryBlobStore};
use crate::oss::listing::{ListQuery, VersionQuery};
use crate::oss::model::{Acl, ObjectSettings};
use crate::oss::orphans;
use crate::oss::request::Conditions;
use crate::oss::service::{Body, Call, CopySource, CopyTarget, MetadataDirective, NewBucket};
use crate::oss::{Operation as Op, Oss, OssError, Requester};
use crate::store::{Kind, Relation, Store, GLOBAL};

/// What a back-end's test hands the shared tests: a fresh, empty store, plus whatever must live
/// as long as the test (a temporary schema, a directory).
pub trait Fixture {
    fn store(&self) -> Arc<dyn Store>;
}

impl Fixture for Arc<dyn Store> {
    fn store(&self) -> Arc<dyn Store> {
        self.clone()
    }
}

/// Expands to one `#[test]` per conformance test. `$fresh` is a function returning
/// `Option<impl Fixture>`: a fresh, empty store, or `None` when the back-end's test must be
/// skipped (the function itself reports why).
#[macro_export]
macro_rules! store_conformance_tests {
    ($fresh:path) => {
        $crate::store_conformance_tests!(@tests $fresh;
            records_are_case_insensitive_and_transactional,
            identifiers_are_exact,
            list_pages_in_name_order_with_prefix,
            links_both_ways_and_nonces,
            oss_keys_are_case_sensitive_and_byte_ordered,
            oss_uploads_and_parts,
            oss_bucket_usage_counts_per_class,
            record_writes_report_what_happened,
            names_fold_ascii_only_and_sort_like_nocase,
            links_keep_first_spelling_and_order_by_date,
            nonces_expire_strictly_after_their_time,
            oss_writes_roll_back_and_commit,
            oss_keys_are_raw_bytes,
            oss_bucket_listing_pages,
            concurrent_transactions_serialize,
            oss_listing_with_delimiter_and_markers,
            oss_multipart_etag_and_crc_and_append,
            oss_copy_conditions_and_digest,
            oss_acl_writes_follow_the_current_object,
            oss_orphans_are_collected_and_nothing_else,
            oss_scans_page_through_everything,
            oss_versions_store_order_and_pages,
            oss_versioning_keeps_versions_and_markers,
            events_filter_page_and_prune,
            live_nonces_reload,
            group_commit_shares_commits_and_isolates_failures,
            group_commit_outlives_a_panicking_writer,
            version_moves_with_committed_record_changes,
            faults_list_take_and_prune,
            fault_uses_are_taken_once_under_concurrency,
            instance_events_newest_first,
            quota_holds_under_concurrent_creates,
            key_pairs_are_exact_per_region,
        );
    };
    (@tests $fresh:path; $($name:ident),+ $(,)?) => {
        $(
            #[test]
            fn $name() {
                if let Some(fixture) = $fresh() {
                    $crate::conformance::$name($crate::conformance::Fixture::store(&fixture));
                }
            }
        )+
    };
}

fn json(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

// --- records, links, nonces -------------------------------------------------------------

pub fn records_are_case_insensitive_and_transactional(store: Arc<dyn Store>) {
    {
        let mut tx = store.begin().unwrap();
        assert!(tx.insert(Kind::Role, "a", "Admin", "{}").unwrap());
        assert!(!tx.insert(Kind::Role, "a", "admin", "{}").unwrap());
        tx.commit().unwrap();
    }
    {
        let mut tx = store.begin().unwrap();
        assert!(tx.insert(Kind::Role, "a", "Other", "{}").unwrap());
        // dropped: rolled back
    }
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.get(Kind::Role, "a", "ADMIN").unwrap().as_deref(), Some("{}"));
    assert!(tx.get(Kind::Role, "a", "Other").unwrap().is_none());
    assert!(tx.get(Kind::Role, "b", "Admin").unwrap().is_none());
    // A rename that changes only the case (RAM's UpdateUser/UpdateGroup): deleted and inserted
    // again in one transaction, the record keeps its key and takes the new spelling.
    assert!(tx.delete(Kind::Role, "a", "Admin").unwrap());
    assert!(tx.insert(Kind::Role, "a", "admin", "{\"v\":2}").unwrap());
    tx.commit().unwrap();
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.get(Kind::Role, "a", "ADMIN").unwrap().as_deref(), Some("{\"v\":2}"));
    let listed = tx.list(Kind::Role, "a", "", None, 10).unwrap();
    assert_eq!(listed.len(), 1);
}

/// ECS key pairs (`crate::ecs::key_pairs`) are keyed `<RegionId>/<KeyPairName>`: one name per
/// account and region in one letter-case-blind name space, found only by the exact spelling,
/// listed per region.
pub fn key_pairs_are_exact_per_region(store: Arc<dyn Store>) {
    use crate::model::KeyPair;
    let kp = |region: &str, name: &str| KeyPair {
        name: name.into(),
        id: format!("kp-{name}"),
        region_id: region.into(),
        fingerprint: "00:11".into(),
        public_key: "ssh-ed25519 AAAA".into(),
        created: "2026-01-01T00:00:00Z".into(),
    };
    let mut tx = store.begin().unwrap();
    for (region, name) in [("cn-hangzhou", "web"), ("cn-hangzhou", "db"), ("cn-shanghai", "web"), ("cn-hangzhou2", "x")] {
        assert!(tx.insert_rec("a", &KeyPair::key(region, name), &kp(region, name)).unwrap(), "{region}/{name}");
    }
    assert!(!tx.insert_rec("a", &KeyPair::key("cn-hangzhou", "web"), &kp("cn-hangzhou", "web")).unwrap(), "one name per region");
    assert!(!tx.insert_rec("a", &KeyPair::key("cn-hangzhou", "Web"), &kp("cn-hangzhou", "Web")).unwrap(), "one name space");
    assert!(tx.insert_rec("b", &KeyPair::key("cn-hangzhou", "web"), &kp("cn-hangzhou", "web")).unwrap(), "per account");
    let names = |tx: &mut dyn crate::store::Tx, region: &str| -> Vec<String> {
        let listed = tx.list_rec::<KeyPair>("a", &format!("{region}/"), None, usize::MAX).unwrap();
        let mut v: Vec<String> = listed.into_iter().map(|k| k.name).collect();
        v.sort();
        v
    };
    assert_eq!(names(&mut *tx, "cn-hangzhou"), ["db", "web"]);
    assert_eq!(names(&mut *tx, "cn-shanghai"), ["web"]);
    assert!(tx.get_rec::<KeyPair>("a", &KeyPair::key("cn-hangzhou", "WEB")).unwrap().is_none(), "exact spelling only");
    assert!(!tx.delete(Kind::KeyPair, "a", &KeyPair::key("cn-hangzhou", "Web")).unwrap());
    assert!(tx.delete(Kind::KeyPair, "a", &KeyPair::key("cn-hangzhou", "web")).unwrap());
    assert_eq!(names(&mut *tx, "cn-hangzhou"), ["db"]);
    assert_eq!(tx.get_rec::<KeyPair>("b", &KeyPair::key("cn-hangzhou", "web")).unwrap().unwrap().name, "web");
    tx.commit().unwrap();
}

/// Kinds whose names are identifiers (`Kind::exact_names`: ECS ids, AccessKey ids) are found,
/// changed and deleted only under their exact spelling.
pub fn identifiers_are_exact(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    assert!(tx.insert(Kind::Instance, "a", "i-abc", "1").unwrap());
    assert!(!tx.insert(Kind::Instance, "a", "I-ABC", "2").unwrap(), "still one id space");
    assert!(tx.get(Kind::Instance, "a", "I-ABC").unwrap().is_none());
    assert!(!tx.update(Kind::Instance, "a", "I-abc", "3").unwrap());
    assert!(!tx.delete(Kind::Instance, "a", "i-ABC").unwrap());
    assert_eq!(tx.get(Kind::Instance, "a", "i-abc").unwrap().as_deref(), Some("1"));
    assert!(tx.update(Kind::Instance, "a", "i-abc", "4").unwrap());
    assert!(tx.insert(Kind::AccessKey, "", "LTAIkey", "k").unwrap());
    assert!(tx.get(Kind::AccessKey, "", "ltaikey").unwrap().is_none());
    assert!(tx.delete(Kind::Instance, "a", "i-abc").unwrap());
    tx.commit().unwrap();
}

pub fn list_pages_in_name_order_with_prefix(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    for n in ["b", "a", "c", "p/v1", "p/v2", "q_x"] {
        tx.insert(Kind::Policy, "s", n, &format!("\"{n}\"")).unwrap();
    }
    assert_eq!(tx.list(Kind::Policy, "s", "", None, 2).unwrap(), vec!["\"a\"", "\"b\""]);
    assert_eq!(tx.list(Kind::Policy, "s", "", Some("b"), 1).unwrap(), vec!["\"c\""]);
    assert_eq!(tx.list(Kind::Policy, "s", "P/", None, 10).unwrap(), vec!["\"p/v1\"", "\"p/v2\""]);
    assert_eq!(tx.count(Kind::Policy, "s", "q_").unwrap(), 1);
    assert_eq!(tx.count(Kind::Policy, "s", "q%").unwrap(), 0);
}

pub fn links_both_ways_and_nonces(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    assert!(tx.link(Relation::Attachment, "s", "role/r", "Custom/p", "d").unwrap());
    assert!(!tx.link(Relation::Attachment, "s", "ROLE/R", "custom/p", "d").unwrap());
    assert_eq!(tx.links_to(Relation::Attachment, "s", "Custom/P").unwrap().len(), 1);
    assert!(tx.unlink(Relation::Attachment, "s", "role/r", "Custom/p").unwrap());
    assert!(tx.links_from(Relation::Attachment, "s", "role/r").unwrap().is_empty());
    assert!(tx.use_nonce("k", "n1", 100, 200).unwrap());
    assert!(!tx.use_nonce("k", "n1", 150, 250).unwrap());
    assert!(tx.use_nonce("k", "n1", 300, 400).unwrap(), "expired nonces are purged");
}

pub fn record_writes_report_what_happened(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    assert!(tx.get(Kind::User, "a", "u").unwrap().is_none());
    assert!(!tx.update(Kind::User, "a", "u", "1").unwrap(), "update of a missing record");
    assert!(!tx.delete(Kind::User, "a", "u").unwrap(), "delete of a missing record");
    assert!(tx.insert(Kind::User, "a", "u", "1").unwrap());
    assert!(!tx.insert(Kind::User, "a", "U", "2").unwrap());
    assert_eq!(tx.get(Kind::User, "a", "u").unwrap().as_deref(), Some("1"), "a refused insert changes nothing");
    // kinds and scopes are separate name spaces; GLOBAL is a scope like any other
    assert!(tx.insert(Kind::Group, "a", "u", "g").unwrap());
    assert!(tx.insert(Kind::User, "b", "u", "b").unwrap());
    assert!(tx.insert(Kind::User, GLOBAL, "u", "global").unwrap());
    assert!(tx.update(Kind::User, "a", "U", "3").unwrap());
    assert_eq!(tx.get(Kind::User, "a", "u").unwrap().as_deref(), Some("3"));
    assert_eq!(tx.get(Kind::Group, "a", "U").unwrap().as_deref(), Some("g"));
    assert_eq!(tx.get(Kind::User, "b", "u").unwrap().as_deref(), Some("b"));
    assert_eq!(tx.get(Kind::User, GLOBAL, "u").unwrap().as_deref(), Some("global"));
    assert_eq!(tx.count(Kind::User, "a", "").unwrap(), 1);
    assert!(tx.delete(Kind::User, "a", "U").unwrap());
    assert!(tx.get(Kind::User, "a", "u").unwrap().is_none());
    assert_eq!(tx.get(Kind::User, "b", "u").unwrap().as_deref(), Some("b"));
    // records are stored verbatim (not normalised JSON)
    let doc = "{ \"b\": 1,  \"a\": [2, 1] }";
    assert!(tx.insert(Kind::Policy, "a", "p", doc).unwrap());
    assert_eq!(tx.get(Kind::Policy, "a", "p").unwrap().as_deref(), Some(doc));
    assert!(tx.list(Kind::Policy, "a", "", None, 0).unwrap().is_empty());
    assert_eq!(tx.list(Kind::Policy, "a", "", None, usize::MAX).unwrap(), [doc]);
    tx.commit().unwrap();
}

/// SQLite's NOCASE folds only ASCII letters, to lower case, and then compares bytes: `[`, `\` and
/// `_` sort before letters, non-ASCII letters are case-sensitive and sort after ASCII.
pub fn names_fold_ascii_only_and_sort_like_nocase(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    let names = ["Zeta", "alpha", "_under", "[bracket", "É", "é", "e", "Émile", "a%b", "a_b", "a\\b"];
    for n in names {
        assert!(tx.insert(Kind::Role, "s", n, &json(n)).unwrap(), "{n}");
    }
    let sorted = ["[bracket", "_under", "a%b", "a\\b", "a_b", "alpha", "e", "Zeta", "É", "Émile", "é"];
    let expected: Vec<String> = sorted.iter().map(|n| json(n)).collect();
    assert_eq!(tx.list(Kind::Role, "s", "", None, 100).unwrap(), expected);
    assert_eq!(tx.list(Kind::Role, "s", "", Some("ALPHA"), 2).unwrap(), expected[6..8]);
    assert_eq!(tx.list(Kind::Role, "s", "", Some("Émile"), 100).unwrap(), expected[10..]);
    assert_eq!(tx.get(Kind::Role, "s", "ÉMILE").unwrap(), Some(json("Émile")), "ASCII letters fold");
    assert!(tx.get(Kind::Role, "s", "émile").unwrap().is_none(), "non-ASCII letters do not");
    assert!(!tx.insert(Kind::Role, "s", "ZETA", "0").unwrap());
    assert_eq!(tx.list(Kind::Role, "s", "A_", None, 100).unwrap(), [json("a_b")]);
    assert_eq!(tx.list(Kind::Role, "s", "A%", None, 100).unwrap(), [json("a%b")]);
    assert_eq!(tx.list(Kind::Role, "s", "a\\", None, 100).unwrap(), [json("a\\b")]);
    assert_eq!(tx.list(Kind::Role, "s", "É", None, 100).unwrap(), [json("É"), json("Émile")]);
    assert_eq!(tx.list(Kind::Role, "s", "é", None, 100).unwrap(), [json("é")]);
    assert_eq!(tx.count(Kind::Role, "s", "").unwrap(), names.len());
    assert_eq!(tx.count(Kind::Role, "s", "A").unwrap(), 4);
    assert_eq!(tx.count(Kind::Role, "s", "_").unwrap(), 1);
    assert_eq!(tx.count(Kind::Role, "s", "x").unwrap(), 0);
}

pub fn links_keep_first_spelling_and_order_by_date(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    assert!(tx.link(Relation::Membership, "s", "Alice", "Zeta", "2020-01-02T00:00:00Z").unwrap());
    assert!(tx.link(Relation::Membership, "s", "alice", "beta", "2020-01-02T00:00:00Z").unwrap());
    assert!(tx.link(Relation::Membership, "s", "ALICE", "Gamma", "2020-01-01T00:00:00Z").unwrap());
    assert!(tx.link(Relation::Membership, "s", "bob", "BETA", "2020-01-03T00:00:00Z").unwrap());
    assert!(!tx.link(Relation::Membership, "s", "alice", "zeta", "2021-01-01T00:00:00Z").unwrap());
    // other relations and scopes are separate
    assert!(tx.link(Relation::Attachment, "s", "alice", "zeta", "x").unwrap());
    assert!(tx.link(Relation::Membership, "t", "alice", "zeta", "x").unwrap());
    let from = tx.links_from(Relation::Membership, "s", "aLiCe").unwrap();
    let got: Vec<(&str, &str, &str)> = from.iter().map(|l| (l.left.as_str(), l.right.as_str(), l.created.as_str())).collect();
    assert_eq!(
        got,
        [("ALICE", "Gamma", "2020-01-01T00:00:00Z"), ("alice", "beta", "2020-01-02T00:00:00Z"), ("Alice", "Zeta", "2020-01-02T00:00:00Z"),]
    );
    let to = tx.links_to(Relation::Membership, "s", "Beta").unwrap();
    let got: Vec<(&str, &str)> = to.iter().map(|l| (l.left.as_str(), l.right.as_str())).collect();
    assert_eq!(got, [("alice", "beta"), ("bob", "BETA")]);
    assert!(!tx.unlink(Relation::Membership, "s", "carol", "beta").unwrap());
    assert!(tx.unlink(Relation::Membership, "s", "BOB", "beta").unwrap());
    assert_eq!(tx.links_to(Relation::Membership, "s", "beta").unwrap().len(), 1);
    assert_eq!(tx.links_from(Relation::Membership, "t", "ALICE").unwrap().len(), 1);
    assert_eq!(tx.links_from(Relation::Attachment, "s", "ALICE").unwrap().len(), 1);
}

pub fn nonces_expire_strictly_after_their_time(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    assert!(tx.use_nonce("k", "n", 100, 200).unwrap());
    assert!(tx.use_nonce("k2", "n", 100, 500).unwrap(), "nonces are per AccessKey");
    assert!(tx.use_nonce("k", "N", 100, 200).unwrap(), "nonces are case-sensitive");
    assert!(!tx.use_nonce("k", "n", 200, 300).unwrap(), "still spent at its expiry second");
    assert!(tx.use_nonce("k", "n", 201, 300).unwrap(), "free again after it");
    assert!(!tx.use_nonce("k2", "n", 201, 600).unwrap(), "the purge keeps unexpired nonces");
    tx.commit().unwrap();
    {
        let mut tx = store.begin().unwrap();
        assert!(tx.use_nonce("k", "rolled-back", 201, 300).unwrap());
    }
    let mut tx = store.begin().unwrap();
    assert!(tx.use_nonce("k", "rolled-back", 201, 300).unwrap(), "a rolled-back nonce is not spent");
    assert!(!tx.use_nonce("k", "n", 250, 300).unwrap(), "a committed nonce is spent");
}

// --- OSS index ---------------------------------------------------------------------------

pub fn oss_keys_are_case_sensitive_and_byte_ordered(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    assert!(tx.oss_bucket_insert("b", "acct", "{}").unwrap());
    assert!(!tx.oss_bucket_insert("b", "other", "{}").unwrap());
    for k in ["a", "B", "b", "a/x", "a/y", "é", "ab", "a\u{10FFFF}"] {
        assert!(tx.oss_object_put("b", k, &format!("\"{k}\"")).unwrap().is_none());
    }
    assert_eq!(tx.oss_object_put("b", "a", "\"a2\"").unwrap().as_deref(), Some("\"a\""));
    assert!(tx.oss_object_get("b", "A").unwrap().is_none());
    let keys = |rows: Vec<(String, String)>| rows.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(keys(tx.oss_object_list("b", "", b"", 100).unwrap()), ["B", "a", "a/x", "a/y", "ab", "a\u{10FFFF}", "b", "é"]);
    assert_eq!(keys(tx.oss_object_list("b", "a", b"a/x", 100).unwrap()), ["a/y", "ab", "a\u{10FFFF}"]);
    assert_eq!(keys(tx.oss_object_list("b", "a/", b"", 1).unwrap()), ["a/x"]);
    // `after` ending in 0xFF skips a whole prefix
    assert_eq!(keys(tx.oss_object_list("b", "", b"a/\xFF", 2).unwrap()), ["ab", "a\u{10FFFF}"]);
    assert_eq!(tx.oss_object_delete("b", "a").unwrap().as_deref(), Some("\"a2\""));
    assert!(tx.oss_object_delete("b", "a").unwrap().is_none());
    assert_eq!(tx.oss_bucket_list("acct", "", "", 10).unwrap(), ["{}"]);
    assert!(tx.oss_bucket_list("acct", "c", "", 10).unwrap().is_empty());
}

pub fn oss_uploads_and_parts(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    tx.oss_upload_insert("b", "k", "U2", "\"k/U2\"").unwrap();
    tx.oss_upload_insert("b", "k", "U1", "\"k/U1\"").unwrap();
    tx.oss_upload_insert("b", "j", "U3", "\"j/U3\"").unwrap();
    assert_eq!(tx.oss_upload_list("b", "", "", "", 10).unwrap(), ["\"j/U3\"", "\"k/U1\"", "\"k/U2\""]);
    assert_eq!(tx.oss_upload_list("b", "", "k", "U1", 10).unwrap(), ["\"k/U2\""]);
    assert_eq!(tx.oss_upload_list("b", "k", "", "", 10).unwrap(), ["\"k/U1\"", "\"k/U2\""]);
    assert!(tx.oss_upload_get("b", "U1").unwrap().is_some());
    assert!(tx.oss_part_put("U1", 2, "\"p2\"").unwrap().is_none());
    assert!(tx.oss_part_put("U1", 1, "\"p1\"").unwrap().is_none());
    assert_eq!(tx.oss_part_put("U1", 1, "\"p1b\"").unwrap().as_deref(), Some("\"p1\""));
    assert_eq!(tx.oss_part_list("U1", 0, 10).unwrap(), ["\"p1b\"", "\"p2\""]);
    assert_eq!(tx.oss_part_list("U1", 1, 10).unwrap(), ["\"p2\""]);
    assert_eq!(tx.oss_parts_delete("U1").unwrap().len(), 2);
    assert!(tx.oss_upload_delete("b", "U1").unwrap());
    assert!(!tx.oss_upload_delete("b", "U1").unwrap());
}

pub fn oss_bucket_usage_counts_per_class(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    let empty = tx.oss_bucket_usage("b").unwrap();
    assert_eq!(empty, crate::store::OssBucketUsage::default());
    let obj = |class: &str, size: u64, at: i64| format!(r#"{{"storage_class":"{class}","size":{size},"last_modified":{at},"key":"x"}}"#);
    tx.oss_object_put("b", "a", &obj("Standard", 7, 100)).unwrap();
    tx.oss_object_put("b", "b", &obj("Standard", 3_000_000_000, 300)).unwrap();
    tx.oss_object_put("b", "c", &obj("IA", 5, 200)).unwrap();
    tx.oss_object_put("other", "a", &obj("Archive", 9, 900)).unwrap();
    tx.oss_upload_insert("b", "k", "U1", "\"u\"").unwrap();
    tx.oss_upload_insert("b", "k", "U2", "\"u\"").unwrap();
    tx.oss_upload_insert("other", "k", "U3", "\"u\"").unwrap();
    for n in 1..=3 {
        tx.oss_part_put("U1", n, "\"p\"").unwrap();
    }
    tx.oss_part_put("U3", 1, "\"p\"").unwrap();
    let usage = tx.oss_bucket_usage("b").unwrap();
    assert_eq!(usage.classes, [("IA".to_string(), 1, 5), ("Standard".to_string(), 2, 3_000_000_007)]);
    assert_eq!((usage.uploads, usage.parts, usage.delete_markers), (2, 3, 0));
    // Noncurrent versions count as objects of their class; delete markers only as markers.
    tx.oss_version_put("b", "a", "0001", "v1", &obj("IA", 11, 50)).unwrap();
    let marker = r#"{"storage_class":"Standard","size":0,"last_modified":60,"key":"a","delete_marker":true}"#;
    tx.oss_version_put("b", "a", "0000", "v2", marker).unwrap();
    tx.oss_version_put("other", "a", "0000", "v3", marker).unwrap();
    let usage = tx.oss_bucket_usage("b").unwrap();
    assert_eq!(usage.classes, [("IA".to_string(), 2, 16), ("Standard".to_string(), 2, 3_000_000_007)]);
    assert_eq!(usage.delete_markers, 1);
}

pub fn oss_writes_roll_back_and_commit(store: Arc<dyn Store>) {
    {
        let mut tx = store.begin().unwrap();
        assert!(tx.oss_bucket_insert("kept", "acct", "\"kept\"").unwrap());
        assert!(tx.oss_object_put("kept", "k", "\"v1\"").unwrap().is_none());
        tx.commit().unwrap();
    }
    {
        let mut tx = store.begin().unwrap();
        assert!(tx.oss_bucket_insert("gone", "acct", "{}").unwrap());
        assert_eq!(tx.oss_object_put("kept", "k", "\"v2\"").unwrap().as_deref(), Some("\"v1\""));
        assert!(tx.oss_bucket_update("kept", "\"changed\"").unwrap());
        tx.oss_upload_insert("kept", "k", "U", "\"u\"").unwrap();
        assert!(tx.oss_part_put("U", 1, "\"p\"").unwrap().is_none());
        // dropped: rolled back
    }
    let mut tx = store.begin().unwrap();
    assert!(tx.oss_bucket_get("gone").unwrap().is_none());
    assert_eq!(tx.oss_bucket_get("kept").unwrap().as_deref(), Some("\"kept\""));
    assert_eq!(tx.oss_object_get("kept", "k").unwrap().as_deref(), Some("\"v1\""));
    assert!(tx.oss_upload_get("kept", "U").unwrap().is_none());
    assert!(tx.oss_part_list("U", 0, 10).unwrap().is_empty());
    assert!(!tx.oss_bucket_update("gone", "{}").unwrap());
    assert!(!tx.oss_bucket_delete("gone").unwrap());
    assert!(tx.oss_bucket_delete("kept").unwrap());
    assert!(tx.oss_bucket_get("kept").unwrap().is_none());
}

/// Keys are bytes, not text: control characters (even NUL), 4-byte UTF-8 and large part numbers.
pub fn oss_keys_are_raw_bytes(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    for k in ["a\u{0}b", "a", "a\u{1}", "\u{1F600}", "\u{FFFF}", "a b", "a\tb"] {
        assert!(tx.oss_object_put("b", k, &json(k)).unwrap().is_none(), "{k:?}");
    }
    let keys = |rows: Vec<(String, String)>| rows.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(keys(tx.oss_object_list("b", "", b"", 100).unwrap()), ["a", "a\u{0}b", "a\u{1}", "a\tb", "a b", "\u{FFFF}", "\u{1F600}"]);
    assert_eq!(keys(tx.oss_object_list("b", "a\u{0}", b"", 100).unwrap()), ["a\u{0}b"]);
    assert_eq!(keys(tx.oss_object_list("b", "a", b"a", 100).unwrap()), ["a\u{0}b", "a\u{1}", "a\tb", "a b"]);
    assert_eq!(tx.oss_object_get("b", "a\u{0}b").unwrap(), Some(json("a\u{0}b")));
    assert!(tx.oss_object_get("b", "a\u{0}").unwrap().is_none());
    // objects of other buckets are not listed
    assert!(tx.oss_object_put("c", "a", "\"c\"").unwrap().is_none());
    assert_eq!(tx.oss_object_list("b", "", b"", usize::MAX).unwrap().len(), 7);
    assert!(tx.oss_object_list("b", "", b"", 0).unwrap().is_empty());
    assert!(tx.oss_part_put("U", u32::MAX, "\"max\"").unwrap().is_none());
    assert!(tx.oss_part_put("U", 10_000, "\"10k\"").unwrap().is_none());
    assert_eq!(tx.oss_part_list("U", 0, 10).unwrap(), ["\"10k\"", "\"max\""]);
    assert_eq!(tx.oss_part_list("U", 10_000, 10).unwrap(), ["\"max\""]);
    assert!(tx.oss_part_list("U", u32::MAX, 10).unwrap().is_empty());
    assert!(tx.oss_part_list("other", 0, 10).unwrap().is_empty());
}

pub fn oss_bucket_listing_pages(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    for (name, owner) in [("b-2", "me"), ("a-1", "me"), ("b-1", "me"), ("c", "me"), ("b-0", "you"), ("B-3", "me")] {
        assert!(tx.oss_bucket_insert(name, owner, &json(name)).unwrap());
    }
    let all = tx.oss_bucket_list("me", "", "", 100).unwrap();
    assert_eq!(all, [json("B-3"), json("a-1"), json("b-1"), json("b-2"), json("c")]);
    assert_eq!(tx.oss_bucket_list("me", "", "a-1", 2).unwrap(), [json("b-1"), json("b-2")]);
    assert_eq!(tx.oss_bucket_list("me", "b-", "", 100).unwrap(), [json("b-1"), json("b-2")]);
    assert_eq!(tx.oss_bucket_list("me", "b-", "b-1", 100).unwrap(), [json("b-2")]);
    assert_eq!(tx.oss_bucket_list("me", "b-", "a", 100).unwrap(), [json("b-1"), json("b-2")], "a marker below the prefix");
    assert!(tx.oss_bucket_list("me", "b-", "c", 100).unwrap().is_empty(), "a marker above the prefix");
    assert_eq!(tx.oss_bucket_list("you", "", "", 100).unwrap(), [json("b-0")]);
    assert!(tx.oss_bucket_list("nobody", "", "", 100).unwrap().is_empty());
    // Every owner's buckets, in name order, paged.
    assert_eq!(tx.oss_buckets_scan("", 3).unwrap(), [json("B-3"), json("a-1"), json("b-0")]);
    assert_eq!(tx.oss_buckets_scan("b-0", 10).unwrap(), [json("b-1"), json("b-2"), json("c")]);
    for (key, id) in [("y", "5"), ("x/2", "4"), ("x/1", "B"), ("x/1", "A"), ("X", "3")] {
        tx.oss_upload_insert("b", key, id, &json(&format!("{key}/{id}"))).unwrap();
    }
    assert_eq!(tx.oss_upload_list("b", "", "", "", 100).unwrap().len(), 5);
    assert_eq!(tx.oss_upload_list("b", "x/", "", "", 100).unwrap(), [json("x/1/A"), json("x/1/B"), json("x/2/4")]);
    assert_eq!(tx.oss_upload_list("b", "x/", "x/1", "A", 100).unwrap(), [json("x/1/B"), json("x/2/4")]);
    assert_eq!(tx.oss_upload_list("b", "x/", "x/1", "", 1).unwrap(), [json("x/1/A")], "every upload id is after an empty marker");
    assert_eq!(tx.oss_upload_list("b", "", "x/1", "B", 100).unwrap(), [json("x/2/4"), json("y/5")]);
    assert!(tx.oss_upload_list("b", "x/", "y", "", 100).unwrap().is_empty());
    assert!(tx.oss_upload_list("other", "", "", "", 100).unwrap().is_empty());
}

/// Concurrent read-modify-write cycles lose no update (a store may refuse one with
/// `Error::Conflict`; run again through `store::retry`, it lands).
pub fn concurrent_transactions_serialize(store: Arc<dyn Store>) {
    increment_concurrently(&[store.as_ref()], 4, 25);
}

/// `threads` threads each increment a counter record `rounds` times (read, then write in the same
/// transaction), spreading the transactions over `stores` (several handles onto one database must
/// serialize too); checks that no increment was lost.
pub fn increment_concurrently(stores: &[&dyn Store], threads: usize, rounds: usize) {
    {
        let mut tx = stores[0].begin().unwrap();
        tx.insert(Kind::Account, GLOBAL, "counter", "0").unwrap();
        tx.commit().unwrap();
    }
    std::thread::scope(|s| {
        for t in 0..threads {
            let store = stores[t % stores.len()];
            s.spawn(move || {
                for _ in 0..rounds {
                    crate::store::retry(|| {
                        let mut tx = store.begin()?;
                        let n: usize = tx.get(Kind::Account, GLOBAL, "counter")?.unwrap().parse().unwrap();
                        std::thread::yield_now();
                        assert!(tx.update(Kind::Account, GLOBAL, "counter", &(n + 1).to_string())?);
                        tx.commit()
                    })
                    .unwrap();
                }
            });
        }
    });
    let mut tx = stores[0].begin().unwrap();
    assert_eq!(tx.get(Kind::Account, GLOBAL, "counter").unwrap(), Some((threads * rounds).to_string()));
}

/// Committed state is still there after the database is closed and opened again (`open` opens the
/// same database each time).
pub fn survives_reopen(open: &dyn Fn() -> Arc<dyn Store>) {
    {
        let s = open();
        let mut tx = s.begin().unwrap();
        tx.insert(Kind::User, "a", "u", "{\"x\":1}").unwrap();
        assert!(tx.oss_object_put("b", "K", "\"k\"").unwrap().is_none());
        tx.commit().unwrap();
        let mut tx = s.begin().unwrap();
        tx.insert(Kind::User, "a", "rolled-back", "{}").unwrap();
    }
    let s = open();
    let mut tx = s.begin().unwrap();
    assert_eq!(tx.get(Kind::User, "a", "U").unwrap().as_deref(), Some("{\"x\":1}"));
    assert!(tx.get(Kind::User, "a", "rolled-back").unwrap().is_none());
    assert_eq!(tx.oss_object_get("b", "K").unwrap().as_deref(), Some("\"k\""));
}

// --- the OSS service over the store (and in-memory blobs) ---------------------------------
// Listing with delimiters and markers, multipart ETag/CRC, append, copy, conditional checks,
// bucket deletion rules.

fn oss_setup(store: Arc<dyn Store>) -> (Oss, Requester) {
    oss_setup_with(store, Arc::new(MemoryBlobStore::default()))
}

fn oss_setup_with(store: Arc<dyn Store>, blobs: Arc<dyn BlobStore>) -> (Oss, Requester) {
    let oss = Oss::new(store, blobs);
    let root = Requester::Caller(Caller {
        account_id: "1000".into(),
        principal: Principal::Root,
        access_key_id: "LTAIroot".into(),
        facts: RequestFacts::at(time::OffsetDateTime::now_utc()),
        mfa_at: None,
    });
    oss.put_bucket(Call::new(&root, Op::PutBucket, "bkt", ""), NewBucket { region: "cn-hangzhou".into(), ..Default::default() }).unwrap();
    (oss, root)
}

fn oss_body(oss: &Oss, data: &[u8]) -> Body {
    let mut w = oss.new_body().unwrap();
    w.write_all(data).unwrap();
    oss.finish_body(w).unwrap()
}

fn oss_put(oss: &Oss, who: &Requester, key: &str, data: &[u8]) {
    let ticket = oss.authorize_write(Call::new(who, Op::PutObject, "bkt", key)).unwrap();
    oss.put_object(&ticket, oss_body(oss, data), ObjectSettings::default(), None, false).unwrap();
}

fn oss_read_all(oss: &Oss, who: &Requester, key: &str) -> Vec<u8> {
    let o = oss.get_object(Call::new(who, Op::GetObject, "bkt", key)).unwrap();
    let mut out = Vec::new();
    oss.reader(&o, 0, o.size).unwrap().read_to_end(&mut out).unwrap();
    out
}

pub fn oss_listing_with_delimiter_and_markers(store: Arc<dyn Store>) {
    let (oss, root) = oss_setup(store);
    for k in ["a/1", "a/2", "a/3", "b/1", "c", "d/e/f"] {
        oss_put(&oss, &root, k, b"x");
    }
    let q = |after: &str, max| ListQuery { prefix: String::new(), delimiter: "/".into(), after: after.into(), max_keys: max };
    let (_, page) = oss.list_objects(Call::new(&root, Op::ListObjects, "bkt", ""), &q("", 2)).unwrap();
    assert_eq!(page.common_prefixes, ["a/", "b/"]);
    assert!(page.truncated);
    assert_eq!(page.next_marker.as_deref(), Some("b/"));
    let (_, page) = oss.list_objects(Call::new(&root, Op::ListObjects, "bkt", ""), &q("b/", 2)).unwrap();
    assert_eq!(page.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["c"]);
    assert_eq!(page.common_prefixes, ["d/"]);
    assert!(!page.truncated && page.next_marker.is_none());
    let flat = ListQuery { prefix: "a/".into(), delimiter: String::new(), after: "a/1".into(), max_keys: 100 };
    let (_, page) = oss.list_objects(Call::new(&root, Op::ListObjects, "bkt", ""), &flat).unwrap();
    assert_eq!(page.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["a/2", "a/3"]);
    assert!(matches!(oss.delete_bucket(Call::new(&root, Op::DeleteBucket, "bkt", "")), Err(OssError::BucketNotEmpty { .. })));
}

pub fn oss_multipart_etag_and_crc_and_append(store: Arc<dyn Store>) {
    let (oss, root) = oss_setup(store);
    let upload = oss.initiate_upload(Call::new(&root, Op::InitiateMultipartUpload, "bkt", "mp"), ObjectSettings::default(), false).unwrap();
    let part1 = vec![1u8; 100 * 1024];
    let part2 = b"tail".to_vec();
    let t = oss.authorize_part(Call::new(&root, Op::UploadPart, "bkt", "mp"), &upload.upload_id, 1).unwrap();
    let p1 = oss.put_part(&t, &upload.upload_id, 1, oss_body(&oss, &part1), None).unwrap();
    let p2 = oss.put_part(&t, &upload.upload_id, 2, oss_body(&oss, &part2), None).unwrap();
    let object = oss
        .complete_upload(
            Call::new(&root, Op::CompleteMultipartUpload, "bkt", "mp"),
            &upload.upload_id,
            Some(&[(1, p1.etag.clone()), (2, format!("\"{}\"", p2.etag))]),
            false,
        )
        .unwrap();
    let whole = [part1.clone(), part2.clone()].concat();
    assert_eq!(object.crc64, crc64(&whole));
    assert!(object.etag.ends_with("-2"));
    assert_eq!(oss_read_all(&oss, &root, "mp"), whole);
    let mid = oss.get_object(Call::new(&root, Op::GetObject, "bkt", "mp")).unwrap();
    let mut slice = Vec::new();
    oss.reader(&mid, 100 * 1024 - 2, 4).unwrap().read_to_end(&mut slice).unwrap();
    assert_eq!(slice, [1, 1, b't', b'a']);

    let t = oss.authorize_append(Call::new(&root, Op::AppendObject, "bkt", "log"), 0).unwrap();
    oss.append_object(&t, 0, oss_body(&oss, b"ab"), ObjectSettings::default(), None).unwrap();
    assert!(matches!(
        oss.authorize_append(Call::new(&root, Op::AppendObject, "bkt", "log"), 1),
        Err(OssError::PositionNotEqualToLength { next_position: 2 })
    ));
    let o = oss.append_object(&t, 2, oss_body(&oss, b"cd"), ObjectSettings::default(), None).unwrap();
    assert_eq!(o.crc64, crc64(b"abcd"));
    assert_eq!(oss_read_all(&oss, &root, "log"), b"abcd");
}

pub fn oss_copy_conditions_and_digest(store: Arc<dyn Store>) {
    let (oss, root) = oss_setup(store);
    oss_put(&oss, &root, "src", b"payload");
    let tags = vec![("team".to_string(), "a b".to_string())];
    oss.put_object_tagging(Call::new(&root, Op::PutObjectTagging, "bkt", "src"), tags.clone()).unwrap();
    let src = oss.get_object(Call::new(&root, Op::GetObject, "bkt", "src")).unwrap();
    let copied = oss
        .copy_object(
            Call::new(&root, Op::CopyObject, "bkt", "dst"),
            &CopySource { bucket: "bkt".into(), key: "src".into(), version_id: None, conditions: Conditions::default() },
            CopyTarget {
                directive: MetadataDirective::Copy,
                acl: None,
                forbid_overwrite: false,
                tagging: None,
                storage_class: None,
                encryption: None,
            },
        )
        .unwrap();
    assert_eq!(copied.etag, src.etag);
    assert_eq!(copied.tags, tags, "a copy keeps the source's tags unless told to replace them");
    assert_eq!(oss_read_all(&oss, &root, "dst"), b"payload");
    let stale = Conditions { if_match: Some("\"0000\"".into()), ..Default::default() };
    assert!(matches!(stale.check(&src), Err(OssError::PreconditionFailed)));
    let fresh = Conditions { if_none_match: Some(format!("\"{}\"", src.etag)), ..Default::default() };
    assert!(matches!(fresh.check(&src), Err(OssError::NotModified { .. })));
    let ticket = oss.authorize_write(Call::new(&root, Op::PutObject, "bkt", "md5")).unwrap();
    let wrong = oss.put_object(&ticket, oss_body(&oss, b"data"), ObjectSettings::default(), Some([0; 16]), false);
    assert!(matches!(wrong, Err(OssError::InvalidDigest)));
    assert!(matches!(oss.get_object(Call::new(&root, Op::GetObject, "bkt", "md5")), Err(OssError::NoSuchKey { .. })));
    let anonymous = Requester::Anonymous(RequestFacts::at(time::OffsetDateTime::now_utc()));
    assert!(matches!(oss.get_object(Call::new(&anonymous, Op::GetObject, "bkt", "src")), Err(OssError::AccessDenied { .. })));
}

/// An ACL decides a write or delete with the ACL of the key's current object (none: the
/// bucket's), and a write only an ACL allowed is checked again when it commits (docs/oss.md,
/// "Authorization"): in a public-read-write bucket an anonymous PUT authorized while the key was
/// free is refused once the owner has written a private object there, and an append authorized
/// against a `default` object is refused once that object is made private.
pub fn oss_acl_writes_follow_the_current_object(store: Arc<dyn Store>) {
    let (oss, root) = oss_setup(store);
    let anonymous = Requester::Anonymous(RequestFacts::at(time::OffsetDateTime::now_utc()));
    fn denied<T>(r: Result<T, OssError>) -> bool {
        matches!(r, Err(OssError::AccessDenied { .. }))
    }
    oss.put_bucket_acl(Call::new(&root, Op::PutBucketAcl, "bkt", ""), Acl::PublicReadWrite).unwrap();
    let put = |who, key: &str, acl| {
        let ticket = oss.authorize_write(Call::new(who, Op::PutObject, "bkt", key))?;
        oss.put_object(&ticket, oss_body(&oss, b"x"), ObjectSettings { acl, ..Default::default() }, None, false)
    };
    put(&root, "private", Acl::Private).unwrap();
    assert!(denied(put(&anonymous, "private", Acl::Default)));
    assert!(denied(oss.delete_object(Call::new(&anonymous, Op::DeleteObject, "bkt", "private"))));
    put(&anonymous, "free", Acl::Default).unwrap();
    // The race: authorized while the key is free (or its object `default`), committed after.
    let late = oss.authorize_write(Call::new(&anonymous, Op::PutObject, "bkt", "late")).unwrap();
    put(&root, "late", Acl::Private).unwrap();
    assert!(denied(oss.put_object(&late, oss_body(&oss, b"anon"), ObjectSettings::default(), None, false)));
    assert_eq!(oss_read_all(&oss, &root, "late"), b"x");
    let append = Call::new(&anonymous, Op::AppendObject, "bkt", "log");
    let first = oss.authorize_append(append, 0).unwrap();
    oss.append_object(&first, 0, oss_body(&oss, b"ab"), ObjectSettings::default(), None).unwrap();
    let next = oss.authorize_append(append, 2).unwrap();
    oss.put_object_acl(Call::new(&root, Op::PutObjectAcl, "bkt", "log"), Acl::Private).unwrap();
    assert!(denied(oss.append_object(&next, 2, oss_body(&oss, b"cd"), ObjectSettings::default(), None)));
    // A policy grant (the owner's) does not depend on the object's ACL.
    let owner = oss.authorize_write(Call::new(&root, Op::PutObject, "bkt", "free")).unwrap();
    put(&root, "free", Acl::Private).unwrap();
    oss.put_object(&owner, oss_body(&oss, b"owner"), ObjectSettings::default(), None, false).unwrap();
    // Both ways: a public-read-write object in a private bucket is anyone's to write and delete.
    oss.put_bucket_acl(Call::new(&root, Op::PutBucketAcl, "bkt", ""), Acl::Private).unwrap();
    put(&root, "open", Acl::PublicReadWrite).unwrap();
    oss.delete_object(Call::new(&anonymous, Op::DeleteObject, "bkt", "open")).unwrap();
    assert!(denied(put(&anonymous, "open", Acl::Default)), "a key without an object: the bucket's ACL");
    assert!(denied(put(&anonymous, "free", Acl::Default)));
    put(&root, "open", Acl::PublicReadWrite).unwrap();
    put(&anonymous, "open", Acl::Default).unwrap();
    assert!(denied(put(&anonymous, "open", Acl::Default)), "the object it wrote follows the private bucket");
}

/// Blobs in memory that all count as written by an earlier process (orphan collection's candidates).
#[derive(Default)]
struct AgedBlobs {
    blobs: std::sync::Mutex<std::collections::BTreeMap<String, Vec<u8>>>,
    next: std::sync::atomic::AtomicU64,
}

impl BlobStore for Arc<AgedBlobs> {
    fn create(&self) -> std::io::Result<Box<dyn BlobSink>> {
        Ok(Box::new(AgedOwnedSink(self.clone(), Vec::new())))
    }
    fn open(&self, id: &BlobId) -> std::io::Result<Box<dyn BlobSource>> {
        let data = self.blobs.lock().unwrap().get(&id.0).cloned();
        data.map(|d| Box::new(std::io::Cursor::new(d)) as Box<dyn BlobSource>)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, id.0.clone()))
    }
    fn remove(&self, id: &BlobId) -> std::io::Result<()> {
        self.blobs.lock().unwrap().remove(&id.0);
        Ok(())
    }
    fn committed_before(&self, _before: std::time::SystemTime) -> std::io::Result<Vec<BlobId>> {
        Ok(self.blobs.lock().unwrap().keys().map(|k| BlobId(k.clone())).collect())
    }
}

struct AgedOwnedSink(Arc<AgedBlobs>, Vec<u8>);

impl Write for AgedOwnedSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.1.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl BlobSink for AgedOwnedSink {
    fn commit(self: Box<Self>) -> std::io::Result<BlobId> {
        let n = self.0.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("{n:08x}");
        self.0.blobs.lock().unwrap().insert(id.clone(), self.1);
        Ok(BlobId(id))
    }
}

/// Bodies left by a crash (written, never indexed) are removed; bodies of objects, of parts of
/// an upload in progress, and of multipart objects are kept and stay readable.
pub fn oss_orphans_are_collected_and_nothing_else(store: Arc<dyn Store>) {
    let aged = Arc::new(AgedBlobs::default());
    let (oss, root) = oss_setup_with(store.clone(), Arc::new(aged.clone()));
    oss_put(&oss, &root, "kept", b"object body");
    let upload = oss.initiate_upload(Call::new(&root, Op::InitiateMultipartUpload, "bkt", "mp"), ObjectSettings::default(), false).unwrap();
    let t = oss.authorize_part(Call::new(&root, Op::UploadPart, "bkt", "mp"), &upload.upload_id, 1).unwrap();
    let p1 = oss.put_part(&t, &upload.upload_id, 1, oss_body(&oss, b"part one"), None).unwrap();
    // A crash between writing a body and committing its record leaves this:
    let unindexed = oss_body(&oss, b"never indexed");
    let orphan = unindexed.segment().blob;
    let collected = orphans::collect(store.as_ref(), &aged, std::time::SystemTime::now()).unwrap();
    assert_eq!(collected.candidates, 3);
    assert_eq!(collected.removed, vec![orphan]);
    assert_eq!(oss_read_all(&oss, &root, "kept"), b"object body");
    oss.complete_upload(Call::new(&root, Op::CompleteMultipartUpload, "bkt", "mp"), &upload.upload_id, Some(&[(1, p1.etag)]), false)
        .unwrap();
    assert_eq!(oss_read_all(&oss, &root, "mp"), b"part one");
    assert!(orphans::collect(store.as_ref(), &aged, std::time::SystemTime::now()).unwrap().removed.is_empty());
    drop(unindexed);
    // Without a crash, a body that no record came to name is removed when it is dropped.
    let unused = oss_body(&oss, b"refused");
    let id = unused.segment().blob;
    assert!(aged.blobs.lock().unwrap().contains_key(&id.0));
    drop(unused);
    assert!(!aged.blobs.lock().unwrap().contains_key(&id.0));
}

/// The scans behind orphan collection visit every object and part exactly once, across pages.
pub fn oss_scans_page_through_everything(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    for (b, k) in [("b1", "x"), ("b1", "y"), ("b2", "a"), ("b10", "z")] {
        tx.oss_object_put(b, k, &json(&format!("{b}/{k}"))).unwrap();
    }
    for (u, n) in [("u1", 1), ("u1", 2), ("u2", 1)] {
        tx.oss_part_put(u, n, &json(&format!("{u}#{n}"))).unwrap();
    }
    tx.commit().unwrap();
    let mut tx = store.begin().unwrap();
    let first = tx.oss_objects_scan(None, 2).unwrap();
    assert_eq!(first.iter().map(|(b, k, _)| format!("{b}/{k}")).collect::<Vec<_>>(), ["b1/x", "b1/y"]);
    let rest = tx.oss_objects_scan(Some(("b1", "y")), 10).unwrap();
    assert_eq!(rest.iter().map(|(b, k, _)| format!("{b}/{k}")).collect::<Vec<_>>(), ["b10/z", "b2/a"]);
    let parts = tx.oss_parts_scan(None, 2).unwrap();
    assert_eq!(parts.iter().map(|(u, n, _)| format!("{u}#{n}")).collect::<Vec<_>>(), ["u1#1", "u1#2"]);
    let parts = tx.oss_parts_scan(Some(("u1", 2)), 2).unwrap();
    assert_eq!(parts.iter().map(|(u, n, d)| (format!("{u}#{n}"), d.clone())).collect::<Vec<_>>(), [("u2#1".to_string(), json("u2#1"))]);
}

/// Stored versions: looked up by id, newest first (smallest `ord`), listed together with the
/// current objects — the current one first within a key — and paged by (key, ord); a whole key
/// or key prefix can be skipped; the scan visits every stored version once.
pub fn oss_versions_store_order_and_pages(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    tx.oss_object_put("b", "k", &json("k current")).unwrap();
    tx.oss_object_put("b", "a/x", &json("a/x current")).unwrap();
    for (k, ord, id) in [("k", "0002", "v2"), ("k", "0001", "v1"), ("k", "0003", "null"), ("m", "0005", "m1"), ("a/y", "0009", "y1")] {
        tx.oss_version_put("b", k, ord, id, &json(&format!("{k} {id}"))).unwrap();
    }
    tx.oss_version_put("other", "k", "0001", "v1", &json("other")).unwrap();
    tx.commit().unwrap();
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.oss_version_get("b", "k", "v2").unwrap(), Some(("0002".to_string(), json("k v2"))));
    assert!(tx.oss_version_get("b", "K", "v2").unwrap().is_none());
    assert_eq!(tx.oss_version_latest("b", "k").unwrap().map(|(o, _)| o).as_deref(), Some("0001"));
    let rows = |v: Vec<(String, String, String)>| v.into_iter().map(|(k, o, _)| format!("{k}@{o}")).collect::<Vec<_>>();
    assert_eq!(
        rows(tx.oss_version_list("b", "", b"", None, 100).unwrap()),
        ["a/x@", "a/y@0009", "k@", "k@0001", "k@0002", "k@0003", "m@0005"]
    );
    assert_eq!(rows(tx.oss_version_list("b", "", b"k", Some("0001"), 2).unwrap()), ["k@0002", "k@0003"]);
    assert_eq!(rows(tx.oss_version_list("b", "", b"k", Some(""), 1).unwrap()), ["k@0001"]);
    assert_eq!(rows(tx.oss_version_list("b", "", b"k", None, 100).unwrap()), ["m@0005"]);
    assert_eq!(rows(tx.oss_version_list("b", "", b"a/\xFF", None, 100).unwrap())[0], "k@");
    assert_eq!(rows(tx.oss_version_list("b", "a/", b"", None, 100).unwrap()), ["a/x@", "a/y@0009"]);
    assert_eq!(tx.oss_version_delete("b", "k", "0001").unwrap(), Some(json("k v1")));
    assert!(tx.oss_version_delete("b", "k", "0001").unwrap().is_none());
    assert_eq!(tx.oss_version_latest("b", "k").unwrap().map(|(o, _)| o).as_deref(), Some("0002"));
    let first = tx.oss_versions_scan(None, 3).unwrap();
    let names = |v: &[(String, String, String, String)]| v.iter().map(|(b, k, o, _)| format!("{b}/{k}@{o}")).collect::<Vec<_>>();
    assert_eq!(names(&first), ["b/a/y@0009", "b/k@0002", "b/k@0003"]);
    let rest = tx.oss_versions_scan(Some(("b", "k", "0003")), 10).unwrap();
    assert_eq!(names(&rest), ["b/m@0005", "other/k@0001"]);
}

/// A versioned bucket keeps every version: overwrites and deletes (delete markers) keep the old
/// bodies, which stay readable by version id and are not collected as orphans; deleting the
/// current version for good brings the previous one back; a suspended bucket replaces the
/// `null` version.
pub fn oss_versioning_keeps_versions_and_markers(store: Arc<dyn Store>) {
    use crate::oss::versioning::VersioningStatus;
    let aged = Arc::new(AgedBlobs::default());
    let (oss, root) = oss_setup_with(store.clone(), Arc::new(aged.clone()));
    oss_put(&oss, &root, "k", b"before versioning");
    oss.put_bucket_versioning(Call::new(&root, Op::PutBucketVersioning, "bkt", ""), VersioningStatus::Enabled).unwrap();
    oss_put(&oss, &root, "k", b"one");
    oss_put(&oss, &root, "k", b"two");
    let read = |version: Option<&str>| -> Result<Vec<u8>, OssError> {
        let o = oss.get_object(Call::new(&root, Op::GetObject, "bkt", "k").with_version(version))?;
        let mut out = Vec::new();
        oss.reader(&o, 0, o.size).unwrap().read_to_end(&mut out).unwrap();
        Ok(out)
    };
    let list = || {
        let q = VersionQuery { max_keys: 100, ..Default::default() };
        oss.list_object_versions(Call::new(&root, Op::ListObjectVersions, "bkt", ""), &q).unwrap().1
    };
    let page = list();
    let ids: Vec<String> = page.versions.iter().map(|v| v.object.version().to_string()).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[2], "null");
    assert_eq!(page.versions.iter().map(|v| v.is_latest).collect::<Vec<_>>(), [true, false, false]);
    assert_eq!(read(None).unwrap(), b"two");
    assert_eq!(read(Some(&ids[1])).unwrap(), b"one");
    assert_eq!(read(Some("null")).unwrap(), b"before versioning");
    // Noncurrent bodies are referenced: nothing is collected.
    assert!(orphans::collect(store.as_ref(), &aged, std::time::SystemTime::now()).unwrap().removed.is_empty());

    let deletion = oss.delete_object(Call::new(&root, Op::DeleteObject, "bkt", "k")).unwrap();
    assert!(deletion.delete_marker);
    let marker = deletion.delete_marker_version_id.unwrap();
    assert!(matches!(read(None), Err(OssError::DeleteMarkerCurrent { .. })));
    assert!(matches!(read(Some(&marker)), Err(OssError::DeleteMarkerRead { .. })));
    assert!(matches!(read(Some("CAEQJhiBgIDVmYrr1RYiIGE5ZmUxMjViZDIwYjQwY2I5ODA1YWIxNmIyNDNjYjk4")), Err(OssError::NoSuchVersion { .. })));
    assert!(matches!(read(Some("IllegalVersion")), Err(OssError::InvalidArgument(_))));
    let (_, listing) =
        oss.list_objects(Call::new(&root, Op::ListObjects, "bkt", ""), &ListQuery { max_keys: 100, ..Default::default() }).unwrap();
    assert!(listing.objects.is_empty());
    let page = list();
    assert_eq!(page.versions.len(), 4);
    assert!(page.versions[0].object.delete_marker && page.versions[0].is_latest);
    assert!(matches!(oss.delete_bucket(Call::new(&root, Op::DeleteBucket, "bkt", "")), Err(OssError::BucketNotEmpty { .. })));

    // Removing the marker makes "two" current again; removing "two" for good makes "one" current.
    let by_version = |v: &str| oss.delete_object(Call::new(&root, Op::DeleteObject, "bkt", "k").with_version(Some(v))).unwrap();
    assert!(by_version(&marker).delete_marker);
    assert_eq!(read(None).unwrap(), b"two");
    assert!(!by_version(&ids[0]).delete_marker);
    assert_eq!(read(None).unwrap(), b"one");
    assert_eq!(aged.blobs.lock().unwrap().len(), 2);

    // Suspended: writes make the `null` version, replacing the stored one.
    oss.put_bucket_versioning(Call::new(&root, Op::PutBucketVersioning, "bkt", ""), VersioningStatus::Suspended).unwrap();
    oss_put(&oss, &root, "k", b"suspended");
    let page = list();
    let ids: Vec<&str> = page.versions.iter().map(|v| v.object.version()).collect();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert_eq!(ids[0], "null");
    assert_eq!(read(Some("null")).unwrap(), b"suspended");
    assert_eq!(aged.blobs.lock().unwrap().len(), 2);
    for v in page.versions.iter().map(|v| v.object.version().to_string()).collect::<Vec<_>>() {
        by_version(&v);
    }
    assert!(list().versions.is_empty());
    assert!(aged.blobs.lock().unwrap().is_empty());
    oss.delete_bucket(Call::new(&root, Op::DeleteBucket, "bkt", "")).unwrap();
}

/// ActionTrail events: filtered by account, window and attribute, paged both ways by
/// `(time, id)`, pruned by age and by count.
pub fn events_filter_page_and_prune(store: Arc<dyn Store>) {
    use crate::audit::{attribute_terms, resource_terms, Attribute, EventQuery, EventRow, EventType};
    let row = |t: i64, id: &str, name: &str, account: &str| EventRow {
        time_ms: t,
        id: id.into(),
        account: account.into(),
        event_name: name.into(),
        event_rw: if name.starts_with("Get") { "Read" } else { "Write" }.into(),
        service_name: "Ram".into(),
        user_name: "alice".into(),
        access_key_id: "LTAIa".into(),
        resources: resource_terms(&[("ACS::RAM::Role".into(), format!("role_{t}"))])
            + &attribute_terms(&format!("10.0.0.{t}"), EventType::ApiCall, (t == 1).then_some("app")),
        data: json(name),
    };
    let mut tx = store.begin().unwrap();
    tx.events_append(&[
        row(1, "b", "CreateRole", "1"),
        row(2, "a", "GetRole", "1"),
        row(2, "c", "CreateRole", "1"),
        row(3, "d", "CreateRole", "2"),
    ])
    .unwrap();
    tx.commit().unwrap();
    let q = |attributes: Vec<Attribute>, forward: bool, after: Option<(i64, &str)>, limit: usize| EventQuery {
        account: "1".into(),
        start_ms: 0,
        end_ms: 10,
        attributes,
        forward,
        after: after.map(|(t, i)| (t, i.to_string())),
        limit,
    };
    let ids = |rows: Vec<EventRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let mut tx = store.begin().unwrap();
    assert_eq!(ids(tx.events_query(&q(vec![], false, None, 10)).unwrap()), ["c", "a", "b"]);
    assert_eq!(ids(tx.events_query(&q(vec![], true, None, 2)).unwrap()), ["b", "a"]);
    assert_eq!(ids(tx.events_query(&q(vec![], true, Some((2, "a")), 2)).unwrap()), ["c"]);
    assert_eq!(ids(tx.events_query(&q(vec![], false, Some((2, "c")), 5)).unwrap()), ["a", "b"]);
    assert_eq!(ids(tx.events_query(&q(vec![Attribute::EventName("CreateRole".into())], false, None, 5)).unwrap()), ["c", "b"]);
    assert_eq!(ids(tx.events_query(&q(vec![Attribute::EventRw("Read".into())], false, None, 5)).unwrap()), ["a"]);
    // ServiceName and EventRW match case-sensitively (ActionTrail's LookupAttribute page), like every value.
    assert!(tx.events_query(&q(vec![Attribute::EventRw("read".into())], false, None, 5)).unwrap().is_empty());
    assert_eq!(tx.events_query(&q(vec![Attribute::ServiceName("Ram".into())], false, None, 5)).unwrap().len(), 3);
    for other_case in ["ram", "RAM"] {
        assert!(tx.events_query(&q(vec![Attribute::ServiceName(other_case.into())], false, None, 5)).unwrap().is_empty());
    }
    assert_eq!(ids(tx.events_query(&q(vec![Attribute::ResourceName("role_1".into())], false, None, 5)).unwrap()), ["b"]);
    assert_eq!(tx.events_query(&q(vec![Attribute::ResourceType("ACS::RAM::Role".into())], false, None, 5)).unwrap().len(), 3);
    assert!(tx.events_query(&q(vec![Attribute::ResourceName("role_%".into())], false, None, 5)).unwrap().is_empty());
    assert_eq!(ids(tx.events_query(&q(vec![Attribute::SourceIpAddress("10.0.0.2".into())], false, None, 5)).unwrap()), ["c", "a"]);
    assert!(tx.events_query(&q(vec![Attribute::SourceIpAddress("10.0.0.%".into())], false, None, 5)).unwrap().is_empty());
    assert_eq!(tx.events_query(&q(vec![Attribute::EventType("ApiCall".into())], false, None, 5)).unwrap().len(), 3);
    assert_eq!(ids(tx.events_query(&q(vec![Attribute::RoleName("app".into())], false, None, 5)).unwrap()), ["b"]);
    let two = vec![Attribute::EventName("CreateRole".into()), Attribute::SourceIpAddress("10.0.0.2".into())];
    assert_eq!(ids(tx.events_query(&q(two, false, None, 5)).unwrap()), ["c"]);
    assert_eq!(tx.events_prune(2, 100).unwrap(), 1, "older than the cut-off");
    assert_eq!(tx.events_prune(0, 1).unwrap(), 2, "beyond the newest one");
    tx.commit().unwrap();
}

/// The nonces that have not expired are what a restart loads back.
pub fn live_nonces_reload(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    assert!(tx.use_nonce("k", "old", 100, 150).unwrap());
    assert!(tx.use_nonce("k", "new", 100, 400).unwrap());
    tx.commit().unwrap();
    let mut tx = store.begin_read().unwrap();
    assert_eq!(tx.nonces_live(200).unwrap(), vec![("k".to_string(), "new".to_string(), 400)]);
}

/// `writers` threads each writing `work(i, tx)` through `group` at once; their results, in order
/// (`Err` for a writer whose thread panicked).
fn write_concurrently(
    group: &Arc<crate::group_commit::GroupCommit<crate::Error>>,
    writers: usize,
    work: fn(usize, &mut dyn crate::store::Tx) -> crate::Result<usize>,
) -> Vec<std::thread::Result<crate::Result<usize>>> {
    let threads: Vec<_> = (0..writers)
        .map(|i| {
            let group = group.clone();
            std::thread::spawn(move || group.write(move |tx| work(i, tx)))
        })
        .collect();
    threads.into_iter().map(|t| t.join()).collect()
}

/// Concurrent writers through [`crate::group_commit::GroupCommit`] all land; one that writes and
/// then fails leaves nothing behind and takes nobody down with it.
pub fn group_commit_shares_commits_and_isolates_failures(store: Arc<dyn Store>) {
    let group = Arc::new(crate::group_commit::GroupCommit::<crate::Error>::new(store.clone()));
    let results = write_concurrently(&group, 16, |i, tx| {
        if i == 7 {
            tx.insert(Kind::Role, "gc", "failed", "{}")?;
            return Err(crate::Error::Store("this one fails".into()));
        }
        tx.insert(Kind::Role, "gc", &format!("r{i:02}"), "{}")?;
        Ok(i)
    });
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap().ok(), (i != 7).then_some(i), "writer {i}");
    }
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.count(Kind::Role, "gc", "r").unwrap(), 15);
    assert!(tx.get(Kind::Role, "gc", "failed").unwrap().is_none());
}

/// A piece of work that panics inside a group fails its own write, not the group commit: the
/// others land, nobody waits forever, and writes go on afterwards.
pub fn group_commit_outlives_a_panicking_writer(store: Arc<dyn Store>) {
    let group = Arc::new(crate::group_commit::GroupCommit::<crate::Error>::new(store.clone()));
    let results = write_concurrently(&group, 12, |i, tx| {
        tx.insert(Kind::Role, "gp", &format!("r{i:02}"), "{}")?;
        if i % 4 == 1 {
            panic!("writer {i} panics");
        }
        Ok(i)
    });
    for (i, r) in results.into_iter().enumerate() {
        let r = r.expect("a writer's panic stays in the group commit");
        assert_eq!(r.ok(), (i % 4 != 1).then_some(i), "writer {i}");
    }
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.count(Kind::Role, "gp", "r").unwrap(), 9);
    assert!(tx.get(Kind::Role, "gp", "r01").unwrap().is_none());
    drop(tx);
    assert!(group.write(|tx| tx.insert(Kind::Role, "gp", "after", "{}")).unwrap());
}

/// [`Store::version`], where a store gives one, moves after a committed change to records,
/// links or OSS buckets and after nothing else (a rollback, nonces, OSS objects, a read).
pub fn version_moves_with_committed_record_changes(store: Arc<dyn Store>) {
    let Some(v0) = store.version() else { return };
    {
        let mut tx = store.begin().unwrap();
        tx.insert(Kind::Role, "v", "rolled-back", "{}").unwrap();
    }
    assert_eq!(store.version(), Some(v0), "a rollback changes nothing");
    {
        let mut tx = store.begin().unwrap();
        tx.use_nonce("k", "n", 100, 200).unwrap();
        tx.commit().unwrap();
    }
    assert_eq!(store.version(), Some(v0), "nonces are not records");
    {
        let mut tx = store.begin().unwrap();
        assert!(!tx.update(Kind::Role, "v", "missing", "{}").unwrap());
        tx.commit().unwrap();
    }
    assert_eq!(store.version(), Some(v0), "a write that changed nothing");
    {
        let mut tx = store.begin().unwrap();
        tx.insert(Kind::Role, "v", "r", "{}").unwrap();
        tx.commit().unwrap();
    }
    let v1 = store.version().unwrap();
    assert_ne!(v1, v0, "an insert");
    {
        let mut tx = store.begin().unwrap();
        tx.link(Relation::Attachment, "v", "role/r", "System/p", "2020").unwrap();
        tx.commit().unwrap();
    }
    let v2 = store.version().unwrap();
    assert_ne!(v2, v1, "a link");
    {
        let mut tx = store.begin().unwrap();
        assert!(tx.oss_bucket_insert("version-bucket", "v", "{}").unwrap());
        tx.commit().unwrap();
    }
    let v3 = store.version().unwrap();
    assert_ne!(v3, v2, "a new bucket");
    {
        let mut tx = store.begin().unwrap();
        assert!(tx.oss_object_put("version-bucket", "k", "{}").unwrap().is_none());
        tx.commit().unwrap();
    }
    assert_eq!(store.version(), Some(v3), "objects are not cached by version");
    {
        let mut tx = store.begin().unwrap();
        assert!(tx.oss_bucket_update("version-bucket", "{\"acl\":1}").unwrap());
        tx.commit().unwrap();
    }
    let v4 = store.version().unwrap();
    assert_ne!(v4, v3, "a bucket's change");
    {
        let mut tx = store.begin().unwrap();
        assert!(tx.oss_object_delete("version-bucket", "k").unwrap().is_some());
        assert!(tx.oss_bucket_delete("version-bucket").unwrap());
        tx.commit().unwrap();
    }
    assert_ne!(store.version().unwrap(), v4, "a bucket's removal");
}

fn fault_row(instance: &str, id: &str, created_ms: i64, until_ms: Option<i64>, remaining: Option<i64>) -> crate::store::FaultRow {
    crate::store::FaultRow {
        account: "1".into(),
        instance_id: instance.into(),
        id: id.into(),
        created_ms,
        until_ms,
        remaining,
        spec: json(id),
    }
}

/// Faults are kept per instance in creation order, a counted one gives exactly its uses, and
/// pruning removes what ended (by time or uses), clearing removes the rest; both move the version.
pub fn faults_list_take_and_prune(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    tx.faults_insert(&fault_row("i-a", "f2", 20, None, Some(2))).unwrap();
    tx.faults_insert(&fault_row("i-a", "f1", 10, Some(100), None)).unwrap();
    tx.faults_insert(&fault_row("i-b", "f3", 5, None, None)).unwrap();
    tx.commit().unwrap();
    let v0 = store.version();
    let mut tx = store.begin().unwrap();
    let listed = tx.faults_list("1", "i-a").unwrap();
    assert_eq!(listed, vec![fault_row("i-a", "f1", 10, Some(100), None), fault_row("i-a", "f2", 20, None, Some(2))]);
    assert!(tx.faults_list("2", "i-a").unwrap().is_empty(), "per account");
    assert!(tx.faults_list("1", "I-A").unwrap().is_empty(), "instance ids are exact");
    assert!(tx.fault_take("1", "i-a", "f2").unwrap());
    assert!(tx.fault_take("1", "i-a", "f2").unwrap());
    assert!(!tx.fault_take("1", "i-a", "f2").unwrap(), "two uses only");
    assert!(!tx.fault_take("1", "i-a", "f1").unwrap(), "not counted");
    assert!(!tx.fault_take("1", "i-a", "missing").unwrap());
    assert_eq!(tx.faults_list("1", "i-a").unwrap()[1].remaining, Some(0));
    tx.commit().unwrap();
    if let Some(v0) = v0 {
        assert_ne!(store.version(), Some(v0), "taking a use moves the version");
    }
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.faults_delete("1", "i-a", Some(50)).unwrap(), 1, "the used-up one");
    assert_eq!(tx.faults_delete("1", "i-a", Some(100)).unwrap(), 1, "the one ended by time");
    assert_eq!(tx.faults_delete("1", "i-b", Some(i64::MAX)).unwrap(), 0, "an open-ended fault never ends");
    assert_eq!(tx.faults_delete("1", "i-b", None).unwrap(), 1, "clear");
    tx.commit().unwrap();
    let mut tx = store.begin_read().unwrap();
    assert!(tx.faults_list("1", "i-a").unwrap().is_empty());
    assert!(tx.faults_list("1", "i-b").unwrap().is_empty());
}

/// Servers sharing a store take a counted fault's uses together: of many concurrent takers,
/// exactly as many succeed as the fault had uses.
pub fn fault_uses_are_taken_once_under_concurrency(store: Arc<dyn Store>) {
    let mut tx = store.begin().unwrap();
    tx.faults_insert(&fault_row("i-c", "f", 1, None, Some(5))).unwrap();
    tx.commit().unwrap();
    let taken: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let store = store.clone();
                s.spawn(move || {
                    (0..4)
                        .filter(|_| {
                            let mut tx = store.begin().unwrap();
                            let ok = tx.fault_take("1", "i-c", "f").unwrap();
                            tx.commit().unwrap();
                            ok
                        })
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(taken, 5);
}

/// An instance's events list newest first, per instance, and go with the instance.
pub fn instance_events_newest_first(store: Arc<dyn Store>) {
    use crate::store::InstanceEventRow;
    let ev = |instance: &str, t: i64, id: &str| InstanceEventRow {
        account: "1".into(),
        instance_id: instance.into(),
        time_ms: t,
        id: id.into(),
        data: json(id),
    };
    let mut tx = store.begin().unwrap();
    for e in [ev("i-a", 1, "a"), ev("i-a", 3, "c"), ev("i-a", 2, "b"), ev("i-b", 2, "x")] {
        tx.instance_events_append(&e).unwrap();
    }
    tx.commit().unwrap();
    let mut tx = store.begin().unwrap();
    let ids = |rows: Vec<InstanceEventRow>| rows.into_iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(tx.instance_events_list("1", "i-a", 10).unwrap()), ["c", "b", "a"]);
    assert_eq!(ids(tx.instance_events_list("1", "i-a", 2).unwrap()), ["c", "b"]);
    assert_eq!(tx.instance_events_list("1", "i-b", 10).unwrap(), vec![ev("i-b", 2, "x")]);
    assert_eq!(tx.instance_events_delete("1", "i-a").unwrap(), 3);
    assert!(tx.instance_events_list("1", "i-a", 10).unwrap().is_empty());
    tx.commit().unwrap();
}

/// An account-wide RAM quota (`crate::ram::insert_within_quota`) holds when creates race for its
/// last places: the count and the insert share one transaction, so of 4 threads × 5 creates of
/// distinct names exactly `max` land and every other one gets `LimitExceeded.Group`; on the full
/// account a taken name still answers "already exists" (`Ok(false)`).
pub fn quota_holds_under_concurrent_creates(store: Arc<dyn Store>) {
    use crate::model::Group;
    use crate::ram::{insert_within_quota, Quota};
    let quota = Quota { max: 7, entity: "Group", message: "The count of groups beyond the current limits." };
    let group = |name: &str| Group { id: name.to_string(), name: name.to_string(), ..Default::default() };
    let results: Vec<(String, crate::Result<bool>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                s.spawn(move || {
                    (0..5)
                        .map(|i| {
                            let name = format!("g{t}-{i}");
                            let result = crate::store::retry(|| {
                                let mut tx = store.begin()?;
                                let inserted = insert_within_quota(&mut *tx, "acct", &name, &group(&name), quota)?;
                                std::thread::yield_now();
                                tx.commit()?;
                                Ok(inserted)
                            });
                            (name, result)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let landed: Vec<&String> = results.iter().filter(|(_, r)| matches!(r, Ok(true))).map(|(n, _)| n).collect();
    assert_eq!(landed.len(), quota.max);
    for (_, r) in results.iter().filter(|(_, r)| !matches!(r, Ok(true))) {
        assert!(matches!(r, Err(e) if e.code() == "LimitExceeded.Group"), "{r:?}");
    }
    let mut tx = store.begin().unwrap();
    assert_eq!(tx.count(Kind::Group, "acct", "").unwrap(), quota.max);
    assert!(matches!(insert_within_quota(&mut *tx, "acct", landed[0], &group(landed[0]), quota), Ok(false)));
    assert!(insert_within_quota(&mut *tx, "acct", "fresh", &group("fresh"), quota).is_err());
}
