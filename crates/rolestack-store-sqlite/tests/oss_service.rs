//! The OSS service over the SQLite store and in-memory blobs: listing with delimiters and
//! markers, multipart ETag/CRC, append, copy, conditional checks, bucket deletion rules.

use std::io::{Read, Write};
use std::sync::Arc;

use rolestack_core::caller::{Caller, Principal, RequestFacts};
use rolestack_core::oss::blob::{MemoryBlobStore, CRC64};
use rolestack_core::oss::listing::ListQuery;
use rolestack_core::oss::model::ObjectSettings;
use rolestack_core::oss::service::{Body, Conditions, MetadataDirective};
use rolestack_core::oss::{Oss, OssError, Requester};
use rolestack_store_sqlite::SqliteStore;

fn setup() -> (Oss, Requester) {
    let oss = Oss::new(Arc::new(SqliteStore::in_memory().unwrap()), Arc::new(MemoryBlobStore::default()));
    let root = Requester::Caller(Caller {
        account_id: "1000".into(),
        principal: Principal::Root,
        access_key_id: "LTAIroot".into(),
        facts: RequestFacts { source_ip: None, secure_transport: false, user_agent: None, time: time::OffsetDateTime::now_utc() },
    });
    oss.put_bucket(&root, "bkt", None, None).unwrap();
    (oss, root)
}

fn body(oss: &Oss, data: &[u8]) -> Body {
    let mut w = oss.new_body().unwrap();
    w.write_all(data).unwrap();
    oss.finish_body(w).unwrap()
}

fn put(oss: &Oss, who: &Requester, key: &str, data: &[u8]) {
    let ticket = oss.authorize_write(who, "bkt", key).unwrap();
    oss.put_object(&ticket, body(oss, data), ObjectSettings::default(), None, false).unwrap();
}

fn read_all(oss: &Oss, who: &Requester, key: &str) -> Vec<u8> {
    let o = oss.get_object(who, "bkt", key).unwrap();
    let mut out = Vec::new();
    oss.reader(&o, 0, o.size).read_to_end(&mut out).unwrap();
    out
}

#[test]
fn listing_with_delimiter_and_markers() {
    let (oss, root) = setup();
    for k in ["a/1", "a/2", "a/3", "b/1", "c", "d/e/f"] {
        put(&oss, &root, k, b"x");
    }
    let q = |after: &str, max| ListQuery { prefix: String::new(), delimiter: "/".into(), after: after.into(), max_keys: max };
    let (_, page) = oss.list_objects(&root, "bkt", &q("", 2)).unwrap();
    assert_eq!(page.common_prefixes, ["a/", "b/"]);
    assert!(page.truncated);
    assert_eq!(page.next_marker.as_deref(), Some("b/"));
    let (_, page) = oss.list_objects(&root, "bkt", &q("b/", 2)).unwrap();
    assert_eq!(page.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["c"]);
    assert_eq!(page.common_prefixes, ["d/"]);
    assert!(!page.truncated && page.next_marker.is_none());
    let flat = ListQuery { prefix: "a/".into(), delimiter: String::new(), after: "a/1".into(), max_keys: 100 };
    let (_, page) = oss.list_objects(&root, "bkt", &flat).unwrap();
    assert_eq!(page.objects.iter().map(|o| o.key.as_str()).collect::<Vec<_>>(), ["a/2", "a/3"]);
    assert!(matches!(oss.delete_bucket(&root, "bkt"), Err(OssError::BucketNotEmpty { .. })));
}

#[test]
fn multipart_etag_and_crc_and_append() {
    let (oss, root) = setup();
    let upload = oss.initiate_upload(&root, "bkt", "mp", ObjectSettings::default()).unwrap();
    let part1 = vec![1u8; 100 * 1024];
    let part2 = b"tail".to_vec();
    let t = oss.authorize_part(&root, "bkt", "mp", &upload.upload_id, 1).unwrap();
    let p1 = oss.put_part(&t, &upload.upload_id, 1, body(&oss, &part1), None).unwrap();
    let p2 = oss.put_part(&t, &upload.upload_id, 2, body(&oss, &part2), None).unwrap();
    let object = oss.complete_upload(&root, "bkt", "mp", &upload.upload_id, &[(1, p1.etag.clone()), (2, format!("\"{}\"", p2.etag))]).unwrap();
    let whole = [part1.clone(), part2.clone()].concat();
    assert_eq!(object.crc64, CRC64.checksum(&whole));
    assert!(object.etag.ends_with("-2"));
    assert_eq!(read_all(&oss, &root, "mp"), whole);
    let mid = oss.get_object(&root, "bkt", "mp").unwrap();
    let mut slice = Vec::new();
    oss.reader(&mid, 100 * 1024 - 2, 4).read_to_end(&mut slice).unwrap();
    assert_eq!(slice, [1, 1, b't', b'a']);

    let t = oss.authorize_append(&root, "bkt", "log", 0).unwrap();
    oss.append_object(&t, 0, body(&oss, b"ab"), ObjectSettings::default(), None).unwrap();
    assert!(matches!(oss.authorize_append(&root, "bkt", "log", 1), Err(OssError::PositionNotEqualToLength { next_position: 2 })));
    let o = oss.append_object(&t, 2, body(&oss, b"cd"), ObjectSettings::default(), None).unwrap();
    assert_eq!(o.crc64, CRC64.checksum(b"abcd"));
    assert_eq!(read_all(&oss, &root, "log"), b"abcd");
}

#[test]
fn copy_conditions_and_digest() {
    let (oss, root) = setup();
    put(&oss, &root, "src", b"payload");
    let src = oss.get_object(&root, "bkt", "src").unwrap();
    let copied = oss.copy_object(&root, ("bkt", "src"), ("bkt", "dst"), &Conditions::default(), MetadataDirective::Copy, None, false).unwrap();
    assert_eq!(copied.etag, src.etag);
    assert_eq!(read_all(&oss, &root, "dst"), b"payload");
    let stale = Conditions { if_match: Some("\"0000\"".into()), ..Default::default() };
    assert!(matches!(stale.check(&src), Err(OssError::PreconditionFailed)));
    let fresh = Conditions { if_none_match: Some(format!("\"{}\"", src.etag)), ..Default::default() };
    assert!(matches!(fresh.check(&src), Err(OssError::NotModified)));
    let ticket = oss.authorize_write(&root, "bkt", "md5").unwrap();
    let wrong = oss.put_object(&ticket, body(&oss, b"data"), ObjectSettings::default(), Some([0; 16]), false);
    assert!(matches!(wrong, Err(OssError::InvalidDigest)));
    assert!(matches!(oss.get_object(&root, "bkt", "md5"), Err(OssError::NoSuchKey { .. })));
    let anonymous = Requester::Anonymous(RequestFacts { source_ip: None, secure_transport: false, user_agent: None, time: time::OffsetDateTime::now_utc() });
    assert!(matches!(oss.get_object(&anonymous, "bkt", "src"), Err(OssError::AccessDenied { .. })));
}
