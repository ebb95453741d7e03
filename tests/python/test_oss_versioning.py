"""OSS bucket versioning through oss2 (signature V1 and V4) and alibabacloud-oss-v2 (V4 and V1):
Put/GetBucketVersioning (Enabled, Suspended, never back), a version per write with
`x-oss-version-id` (Put, Copy, Append, CompleteMultipartUpload, PutSymlink), `versionId` on
Get/Head/GetObjectMeta/Delete, copy sources (CopyObject, UploadPartCopy), ACL and tagging,
delete markers (`x-oss-delete-marker`, NoSuchKey / MethodNotAllowed), DeleteMultipleObjects
with versions, ListObjectVersions with paging, prefix and delimiter, the `null` version of a
suspended bucket, the *Version* RAM actions, and lifecycle on a versioned bucket run by the
server's clock (Expiration makes a delete marker, NoncurrentVersionExpiration/Transition,
ExpiredObjectDeleteMarker)."""

from __future__ import annotations

import oss2
import pytest
from oss2.models import (BatchDeleteObjectVersion, BatchDeleteObjectVersionList, BucketLifecycle, BucketVersioningConfig,
                         LifecycleExpiration, LifecycleRule, NoncurrentVersionExpiration, NoncurrentVersionStorageTransition,
                         Tagging, TaggingRule)

import rshelpers as h
from test_oss import REGION, bucket_name, created_bucket, expect_oss_error, oss2_bucket, v2_client
from test_oss_lifecycle import advance, eventually, fc  # noqa: F401  (fc: the fake-clock server fixture)

ENABLED, SUSPENDED = oss2.BUCKET_VERSIONING_ENABLE, oss2.BUCKET_VERSIONING_SUSPEND


def set_versioning(bucket, status):
    config = BucketVersioningConfig()
    config.status = status
    assert bucket.put_bucket_versioning(config).status == 200


def all_versions(bucket, **kw):
    """Every version and delete marker, following NextKeyMarker / NextVersionIdMarker."""
    versions, markers, prefixes = [], [], []
    key_marker = version_marker = ""
    while True:
        page = bucket.list_object_versions(key_marker=key_marker, versionid_marker=version_marker, **kw)
        versions += page.versions
        markers += page.delete_marker
        prefixes += page.common_prefix
        if not page.is_truncated:
            return versions, markers, prefixes
        key_marker, version_marker = page.next_key_marker, page.next_versionid_marker


def purge(bucket):
    """Deletes every version and marker, then the bucket."""
    versions, markers, _ = all_versions(bucket)
    for v in versions + markers:
        bucket.delete_object(v.key, params={"versionId": v.versionid})
    for upload in oss2.MultipartUploadIterator(bucket):
        bucket.abort_multipart_upload(upload.key, upload.upload_id)
    bucket.delete_bucket()


@pytest.fixture(params=["v1", "v4"])
def vbucket(request, server, root):
    b = created_bucket(server.endpoint, root, request.param, "ver")
    set_versioning(b, ENABLED)
    yield b
    purge(b)


def test_bucket_versioning_states(server, root):
    b = created_bucket(server.endpoint, root, "v4", "vst")
    try:
        assert b.get_bucket_versioning().status is None
        assert b.get_bucket_info().versioning_status is None
        b.put_object("plain", b"x")
        assert b.head_object("plain").versionid is None, "an unversioned bucket shows no version ids"
        for bad in ["Disabled", None]:
            config = BucketVersioningConfig()
            config.status = bad
            expect_oss_error(lambda: b.put_bucket_versioning(config), "MalformedXML", 400)
        set_versioning(b, ENABLED)
        assert b.get_bucket_versioning().status == "Enabled"
        assert b.get_bucket_info().versioning_status == "Enabled"
        # What was there before is the `null` version.
        assert b.head_object("plain").versionid == "null"
        set_versioning(b, SUSPENDED)
        assert b.get_bucket_versioning().status == "Suspended"
        assert b.get_bucket_info().versioning_status == "Suspended"
    finally:
        purge(b)


def test_versions_markers_and_reads_by_version(vbucket):
    b = vbucket
    v1 = b.put_object("k", b"one").versionid
    v2 = b.put_object("k", b"two!").versionid
    assert v1 and v2 and v1 != v2 and v1.startswith("CAEQ")
    assert b.get_object("k").read() == b"two!"
    got = b.get_object("k", params={"versionId": v1})
    assert (got.read(), got.versionid) == (b"one", v1)
    assert b.head_object("k", params={"versionId": v1}).content_length == 3
    assert b.head_object("k").versionid == v2
    assert b.get_object_meta("k", params={"versionId": v1}).content_length == 3
    # Malformed and unknown version ids.
    expect_oss_error(lambda: b.get_object("k", params={"versionId": "IllegalVersion"}), "InvalidArgument", 400)
    expect_oss_error(lambda: b.get_object("k", params={"versionId": "CAEQJhiBgIDVmYrr1RYiIGE5ZmUxMjViZDIwYjQwY2I5ODA1YWIxNmIyNDNjYjk4"}),
                     "NoSuchVersion", 404)
    # DELETE without a version makes a delete marker.
    d = b.delete_object("k")
    assert d.status == 204 and d.delete_marker is True and d.versionid not in (None, "", v1, v2)
    marker = d.versionid
    e = expect_oss_error(lambda: b.get_object("k"), "NoSuchKey", 404)
    assert e.headers.get("x-oss-delete-marker") == "true" and e.headers.get("x-oss-version-id") == marker
    e = expect_oss_error(lambda: b.head_object("k"), "NoSuchKey", 404)
    assert e.headers.get("x-oss-delete-marker") == "true"
    e = expect_oss_error(lambda: b.get_object("k", params={"versionId": marker}), "MethodNotAllowed", 405)
    assert e.headers.get("x-oss-delete-marker") == "true"
    # The old versions stay readable; listings of objects do not show the key.
    assert b.get_object("k", params={"versionId": v2}).read() == b"two!"
    assert [o.key for o in oss2.ObjectIterator(b)] == []
    assert [o.key for o in oss2.ObjectIteratorV2(b)] == []
    versions, markers, _ = all_versions(b)
    assert [(m.versionid, m.is_latest) for m in markers] == [(marker, True)]
    assert [(v.versionid, v.is_latest) for v in versions] == [(v2, False), (v1, False)]
    expect_oss_error(lambda: b.delete_bucket(), "BucketNotEmpty", 409)
    # Deleting the marker brings v2 back; deleting v2 for good makes v1 current.
    d = b.delete_object("k", params={"versionId": marker})
    assert (d.delete_marker, d.versionid) == (True, marker)
    assert b.get_object("k").read() == b"two!"
    d = b.delete_object("k", params={"versionId": v2})
    assert not d.delete_marker and d.versionid == v2
    assert b.get_object("k").versionid == v1
    expect_oss_error(lambda: b.get_object("k", params={"versionId": v2}), "NoSuchVersion", 404)


def test_every_write_makes_a_version(vbucket):
    b = vbucket
    src1 = b.put_object("src", b"first source").versionid
    # Nothing is overwritten on a versioned bucket: x-oss-forbid-overwrite does not apply.
    b.put_object("src", b"second source", headers={"x-oss-forbid-overwrite": "true"})
    # CopyObject from a version of the source.
    c = b.copy_object(b.bucket_name, "src", "copy", params={"versionId": src1})
    assert c.versionid and c.headers["x-oss-copy-source-version-id"] == src1
    assert b.get_object("copy").read() == b"first source"
    expect_oss_error(lambda: b.copy_object(b.bucket_name, "src", "x", params={"versionId": "NotExistVersionID"}), "InvalidArgument", 400)
    # a well-formed id no version has: NoSuchVersion with the copy source's EC
    gone = "CAEQJhiBgIDVmYrr1RYiIGE5ZmUxMjViZDIwYjQwY2I5ODA1YWIxNmIyNDNjYjk4"
    e = expect_oss_error(lambda: b.copy_object(b.bucket_name, "src", "x", params={"versionId": gone}), "NoSuchVersion", 404)
    assert e.ec == "0012-00000203"
    # Multipart, with UploadPartCopy from a version.
    up = b.init_multipart_upload("mp")
    part = b.upload_part_copy(b.bucket_name, "src", (0, 4), "mp", up.upload_id, 1, params={"versionId": src1})
    done = b.complete_multipart_upload("mp", up.upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert done.versionid and b.get_object("mp").read() == b"first"
    # A delete marker is no copy source: 404 when it is current, 400 (EC 0016-00000307) when
    # named by its version id, for CopyObject and UploadPartCopy alike.
    marker = b.delete_object("src").versionid
    expect_oss_error(lambda: b.copy_object(b.bucket_name, "src", "x"), "NoSuchKey", 404)
    up = b.init_multipart_upload("mp2")
    for copy in (lambda: b.copy_object(b.bucket_name, "src", "x", params={"versionId": marker}),
                 lambda: b.upload_part_copy(b.bucket_name, "src", (0, 4), "mp2", up.upload_id, 1, params={"versionId": marker})):
        e = expect_oss_error(copy, "InvalidArgument", 400)
        assert e.ec == "0016-00000307"
    b.abort_multipart_upload("mp2", up.upload_id)
    assert not b.object_exists("x")
    b.delete_object("src", params={"versionId": marker})
    # AppendObject creates a version; appending keeps it.
    a = b.append_object("log", 0, b"ab")
    assert a.versionid
    assert b.append_object("log", a.next_position, b"cd").versionid == a.versionid
    # PutSymlink.
    s = b.put_symlink("src", "link")
    assert s.versionid
    assert b.get_symlink("link", params={"versionId": s.versionid}).target_key == "src"
    assert b.get_object("link").read() == b"second source"


def test_acl_and_tagging_by_version(vbucket):
    b = vbucket
    v1 = b.put_object("o", b"1").versionid
    v2 = b.put_object("o", b"2").versionid
    b.put_object_acl("o", oss2.OBJECT_ACL_PUBLIC_READ, params={"versionId": v1})
    assert b.get_object_acl("o", params={"versionId": v1}).acl == "public-read"
    assert b.get_object_acl("o").acl == "default"
    rule = TaggingRule()
    rule.add("old", "yes")
    r = b.put_object_tagging("o", Tagging(rule), params={"versionId": v1})
    assert r.headers["x-oss-version-id"] == v1
    assert dict(b.get_object_tagging("o", params={"versionId": v1}).tag_set.tagging_rule) == {"old": "yes"}
    assert dict(b.get_object_tagging("o").tag_set.tagging_rule) == {}
    b.delete_object_tagging("o", params={"versionId": v1})
    assert dict(b.get_object_tagging("o", params={"versionId": v1}).tag_set.tagging_rule) == {}
    assert b.head_object("o").versionid == v2


def test_delete_multiple_objects_with_versions(vbucket):
    b = vbucket
    a1 = b.put_object("a", b"1").versionid
    a2 = b.put_object("a", b"2").versionid
    b.put_object("b", b"x")
    # Without versions: delete markers.
    r = b.batch_delete_objects(["b"])
    assert r.deleted_keys == ["b"]
    versions, markers, _ = all_versions(b)
    marker_b = [m.versionid for m in markers if m.key == "b"][0]
    listing = BatchDeleteObjectVersionList()
    for key, version in [("a", a1), ("a", a2), ("b", marker_b)]:
        listing.append(BatchDeleteObjectVersion(key, version))
    r = b.delete_object_versions(listing)
    got = {(d.key, d.versionid): (d.delete_marker, d.delete_marker_versionid) for d in r.delete_versions}
    assert got[("a", a1)] == (False, "")
    assert got[("b", marker_b)] == (True, marker_b)
    versions, markers, _ = all_versions(b)
    assert [v.key for v in versions] == ["b"] and markers == []
    bad = BatchDeleteObjectVersionList()
    bad.append(BatchDeleteObjectVersion("a", "234"))
    expect_oss_error(lambda: b.delete_object_versions(bad), "InvalidArgument", 400)


def test_list_object_versions_pages(vbucket):
    b = vbucket
    for i in range(7):
        b.put_object("dir/k", f"v{i}".encode())
    b.put_object("dir/sub/x", b"x")
    b.put_object("dir/sub/y", b"y")
    b.put_object("other", b"o")
    b.delete_object("other")
    versions, markers, prefixes = all_versions(b, prefix="dir/", delimiter="/", max_keys=3)
    assert [v.key for v in versions] == ["dir/k"] * 7 and prefixes == ["dir/sub/"]
    assert [v.is_latest for v in versions] == [True] + [False] * 6
    assert [int(b.get_object("dir/k", params={"versionId": v.versionid}).read()[1:]) for v in versions] == list(range(6, -1, -1))
    versions, markers, prefixes = all_versions(b, max_keys=2)
    assert len(versions) == 10 and [m.key for m in markers] == ["other"] and prefixes == []
    assert [v.key for v in versions].count("other") == 1
    expect_oss_error(lambda: b.list_object_versions(max_keys=1001), "InvalidArgument", 400)
    expect_oss_error(lambda: b.list_object_versions(prefix="a" * 1025), "InvalidArgument", 400)
    expect_oss_error(lambda: b.list_object_versions(versionid_marker="a" * 1025), "InvalidArgument", 400)


def test_a_page_delete_continue_loop_empties_the_bucket(vbucket):
    """The usual purge loop: list a page of versions, delete each, continue from the page's
    markers. The marker's version is gone by then (and a deleted current version made the next one
    current): the listing goes on from where the marker stood, not after the whole key."""
    for i in range(10):
        vbucket.put_object("k", str(i).encode())
    vbucket.put_object("m", b"m")
    km = vm = ""
    for _ in range(20):
        r = vbucket.list_object_versions(max_keys=3, key_marker=km, versionid_marker=vm)
        for v in r.versions:
            vbucket.delete_object(v.key, params={"versionId": v.versionid})
        if not r.is_truncated:
            break
        km, vm = r.next_key_marker, r.next_versionid_marker
    assert vbucket.list_object_versions(max_keys=1000).versions == []


def test_suspended_bucket_writes_the_null_version(vbucket):
    b = vbucket
    kept = b.put_object("k", b"versioned").versionid
    set_versioning(b, SUSPENDED)
    assert b.put_object("k", b"null 1").versionid == "null"
    assert b.put_object("k", b"null 2").versionid == "null"
    versions, _, _ = all_versions(b)
    assert [v.versionid for v in versions] == ["null", kept]
    assert b.get_object("k", params={"versionId": "null"}).read() == b"null 2"
    # A delete makes a `null` delete marker that replaces the null version.
    d = b.delete_object("k")
    assert (d.delete_marker, d.versionid) == (True, "null")
    versions, markers, _ = all_versions(b)
    assert [v.versionid for v in versions] == [kept] and [m.versionid for m in markers] == ["null"]


def test_version_actions_are_authorized_apart(server, root, root_api, vbucket, ram_user):
    """A RAM user allowed GetObject/DeleteObject/GetObjectAcl/...Tagging but none of the *Version*
    actions reads and deletes current objects, and is refused every request naming a version."""
    b = vbucket
    v1 = b.put_object("o", b"1").versionid
    b.put_object("o", b"2")
    actions = ["oss:GetObject", "oss:DeleteObject", "oss:PutObject", "oss:ListObjects", "oss:GetObjectAcl", "oss:PutObjectAcl",
               "oss:GetObjectTagging", "oss:PutObjectTagging"]
    pol = h.unique_name("nover")
    stmt = {"Effect": "Allow", "Action": actions, "Resource": [f"acs:oss:*:*:{b.bucket_name}", f"acs:oss:*:*:{b.bucket_name}/*"]}
    root_api.call("CreatePolicy", {"PolicyName": pol, "PolicyDocument": h.policy_doc([stmt])})
    _, ak, sk = ram_user(policies=[pol])
    user = oss2_bucket(server.endpoint, oss2.AuthV4(ak, sk), b.bucket_name)
    assert user.get_object("o").read() == b"2"
    for call, action in [
        (lambda: user.get_object("o", params={"versionId": v1}), "oss:GetObjectVersion"),
        (lambda: user.head_object("o", params={"versionId": v1}), None),
        (lambda: user.get_object_acl("o", params={"versionId": v1}), "oss:GetObjectVersionAcl"),
        (lambda: user.get_object_tagging("o", params={"versionId": v1}), "oss:GetObjectVersionTagging"),
        (lambda: user.delete_object("o", params={"versionId": v1}), "oss:DeleteObjectVersion"),
        (lambda: user.copy_object(b.bucket_name, "o", "copy", params={"versionId": v1}), "oss:GetObjectVersion"),
        (lambda: user.list_object_versions(), "oss:ListObjectVersions"),
        (lambda: user.get_bucket_versioning(), "oss:GetBucketVersioning"),
    ]:
        e = expect_oss_error(call, "AccessDenied", 403)
        if action:
            assert action in e.message, e.message
    # The version still exists; deleting without a version (a marker) is oss:DeleteObject.
    assert b.get_object("o", params={"versionId": v1}).read() == b"1"
    assert user.delete_object("o").delete_marker is True


@pytest.mark.parametrize("sig", ["v4", "v1"])
def test_oss_v2_versioning(server, root, sig):
    import alibabacloud_oss_v2 as oss
    c = v2_client(server.endpoint, root["AccessKeyId"], root["AccessKeySecret"], signature_version=sig)
    name = bucket_name("v2ver")
    c.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        assert c.get_bucket_versioning(oss.GetBucketVersioningRequest(bucket=name)).version_status is None
        c.put_bucket_versioning(oss.PutBucketVersioningRequest(
            bucket=name, versioning_configuration=oss.VersioningConfiguration(status="Enabled")))
        assert c.get_bucket_versioning(oss.GetBucketVersioningRequest(bucket=name)).version_status == "Enabled"
        v1 = c.put_object(oss.PutObjectRequest(bucket=name, key="k", body=b"one")).version_id
        v2 = c.put_object(oss.PutObjectRequest(bucket=name, key="k", body=b"two")).version_id
        assert v1 and v2 and v1 != v2
        got = c.get_object(oss.GetObjectRequest(bucket=name, key="k", version_id=v1))
        assert (got.body.read(), got.version_id) == (b"one", v1)
        assert c.head_object(oss.HeadObjectRequest(bucket=name, key="k")).version_id == v2
        copied = c.copy_object(oss.CopyObjectRequest(bucket=name, key="c", source_key="k", source_version_id=v1))
        assert copied.source_version_id == v1 and copied.version_id
        d = c.delete_object(oss.DeleteObjectRequest(bucket=name, key="k"))
        assert d.delete_marker is True and d.version_id
        with pytest.raises(oss.exceptions.OperationError) as info:
            c.get_object(oss.GetObjectRequest(bucket=name, key="k"))
        err = info.value.unwrap()
        assert (err.code, err.status_code) == ("NoSuchKey", 404)
        listed = c.list_object_versions(oss.ListObjectVersionsRequest(bucket=name))
        assert sorted((v.key, v.version_id) for v in listed.version) == sorted([("k", v1), ("k", v2), ("c", copied.version_id)])
        assert [(m.key, m.version_id, m.is_latest) for m in listed.delete_marker] == [("k", d.version_id, True)]
        deleted = c.delete_multiple_objects(oss.DeleteMultipleObjectsRequest(bucket=name, objects=[
            oss.DeleteObject(key=v.key, version_id=v.version_id) for v in listed.version
        ] + [oss.DeleteObject(key="k", version_id=d.version_id)]))
        assert len(deleted.deleted_objects) == 4
        assert [x for x in deleted.deleted_objects if x.version_id == d.version_id][0].delete_marker is True
        listed = c.list_object_versions(oss.ListObjectVersionsRequest(bucket=name))
        assert not listed.version and not listed.delete_marker
    finally:
        c.delete_bucket(oss.DeleteBucketRequest(bucket=name))


@pytest.mark.parametrize("signature", ["s3v4", "s3"])
def test_s3_api_versioning(server, root, signature):
    """The same versions through the S3-compatible API (boto3, SigV4 and SigV2)."""
    from test_s3 import s3_client
    c = s3_client(server.endpoint, root["AccessKeyId"], root["AccessKeySecret"], signature=signature)
    name = bucket_name("s3ver")
    c.create_bucket(Bucket=name)
    try:
        c.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        assert c.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
        v1 = c.put_object(Bucket=name, Key="k", Body=b"one")["VersionId"]
        v2 = c.put_object(Bucket=name, Key="k", Body=b"two")["VersionId"]
        assert c.get_object(Bucket=name, Key="k", VersionId=v1)["Body"].read() == b"one"
        d = c.delete_object(Bucket=name, Key="k")
        assert d["DeleteMarker"] is True
        listed = c.list_object_versions(Bucket=name)
        assert [(v["VersionId"], v["IsLatest"]) for v in listed["Versions"]] == [(v2, False), (v1, False)]
        assert [(m["VersionId"], m["IsLatest"]) for m in listed["DeleteMarkers"]] == [(d["VersionId"], True)]
        gone = c.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "k", "VersionId": v} for v in (v1, v2, d["VersionId"])]})
        assert len(gone["Deleted"]) == 3
        assert "Versions" not in c.list_object_versions(Bucket=name)
    finally:
        c.delete_bucket(Bucket=name)


def test_lifecycle_on_a_versioned_bucket(fc):  # noqa: F811
    r = fc.root
    b = oss2.Bucket(oss2.AuthV4(r["AccessKeyId"], r["AccessKeySecret"]), f"http://{fc.endpoint}", bucket_name("lcv"), region=REGION)
    b.create_bucket()
    set_versioning(b, ENABLED)
    try:
        rule = LifecycleRule("versions", "v/", status=LifecycleRule.ENABLED,
                             noncurrent_version_expiration=NoncurrentVersionExpiration(5),
                             noncurrent_version_sotrage_transitions=[NoncurrentVersionStorageTransition(2, oss2.BUCKET_STORAGE_CLASS_IA)])
        current = LifecycleRule("current", "c/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1))
        markers = LifecycleRule("markers", "m/", status=LifecycleRule.ENABLED,
                                expiration=LifecycleExpiration(expired_detete_marker=True))
        b.put_bucket_lifecycle(BucketLifecycle([rule, current, markers]))
        got = {x.id: x for x in b.get_bucket_lifecycle().rules}
        assert got["versions"].noncurrent_version_expiration.noncurrent_days == 5
        assert got["markers"].expiration.expired_detete_marker is True
        old = b.put_object("v/k", b"old").versionid
        b.put_object("v/k", b"new")
        b.put_object("c/k", b"expires into a marker")
        b.put_object("m/k", b"x")
        lone = b.delete_object("m/k").versionid
        b.delete_object("m/k", params={"versionId": [v.versionid for v in all_versions(b, prefix="m/")[0]][0]})

        def classes():
            return {(v.key, v.versionid): v.storage_class for v in all_versions(b)[0]}

        advance(fc, "49h")
        eventually(lambda: classes().get(("v/k", old)) == "IA", "move the noncurrent version to IA")
        eventually(lambda: not all_versions(b, prefix="m/")[1], "remove the lone delete marker")
        # Expiration of a current version on a versioned bucket makes a delete marker.
        _, markers_now, _ = all_versions(b, prefix="c/")
        assert [m.is_latest for m in markers_now] == [True]
        assert lone not in [m.versionid for m in markers_now]
        assert [v.key for v in all_versions(b, prefix="c/")[0]] == ["c/k"]
        assert b.get_object("v/k").read() == b"new"
        advance(fc, "73h")
        eventually(lambda: ("v/k", old) not in classes(), "expire the noncurrent version")
        assert b.get_object("v/k").read() == b"new"
    finally:
        b.delete_bucket_lifecycle()
        purge(b)


def test_bucket_stat_counts_versions_and_markers(vbucket):
    """GetBucketStat on a versioned bucket: noncurrent versions are objects (their bytes are
    stored), delete markers are counted apart."""
    vbucket.put_object("s/a", b"1234")
    vbucket.put_object("s/a", b"123456")
    vbucket.put_object("s/b", b"12")
    vbucket.delete_object("s/b")
    stat = vbucket.get_bucket_stat()
    assert (stat.object_count, stat.storage_size_in_bytes, stat.delete_marker_count) == (3, 12, 1)
