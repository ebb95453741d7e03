"""OSS storage classes and the restore of archived objects, through oss2 (V1 and V4) and
alibabacloud-oss-v2, on a server started with --fake-clock: the class given at bucket creation,
on PutObject / CopyObject / InitiateMultipartUpload / AppendObject, reported by HEAD, GET,
ListObjects (v1 and v2) and ListMultipartUploads; GET of an archived object refused with
InvalidObjectState until RestoreObject finishes — `rolestack clock advance` moves it from
`ongoing-request="true"` to readable, and later back to frozen; RestoreAlreadyInProgress,
MalformedXML for JobParameters on Archive, InvalidArgument for a wrong tier, OperationNotSupported
for a Standard object; oss:RestoreObject in a RAM policy."""

from __future__ import annotations

import uuid

import oss2
import pytest
from oss2.models import RestoreConfiguration, RestoreJobParameters

import rshelpers as h
from instancekit import cli
from test_oss import REGION, empty_and_delete, expect_oss_error, v2_client


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    d = tmp_path_factory.mktemp("archive")
    srv = h.RolestackServer(d / "data", d / "server.log", extra_args=["--fake-clock"])
    srv.start()
    yield srv
    srv.stop()


def advance(fc, by):
    r = cli(fc, "clock", "advance", by)
    assert r.returncode == 0, r.stderr


def make_bucket(fc, version, storage_class=None):
    r = fc.root
    auth = oss2.AuthV4(r["AccessKeyId"], r["AccessKeySecret"]) if version == "v4" else oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"])
    b = oss2.Bucket(auth, f"http://{fc.endpoint}", f"arc-{uuid.uuid4().hex[:12]}", region=REGION)
    config = oss2.models.BucketCreateConfig(storage_class) if storage_class else None
    b.create_bucket(oss2.BUCKET_ACL_PRIVATE, config)
    return b


@pytest.fixture(params=["v1", "v4"])
def version(request):
    return request.param


def test_storage_classes_reported(fc, version):
    b = make_bucket(fc, version, oss2.BUCKET_STORAGE_CLASS_IA)
    try:
        assert b.get_bucket_info().storage_class == "IA"
        b.put_object("default", b"x")
        assert b.head_object("default").headers["x-oss-storage-class"] == "IA"
        for cls in ["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"]:
            b.put_object(f"put-{cls}", b"x", headers={"x-oss-storage-class": cls})
            assert b.head_object(f"put-{cls}").headers["x-oss-storage-class"] == cls
        b.copy_object(b.bucket_name, "default", "copied", headers={"x-oss-storage-class": "ColdArchive"})
        assert b.head_object("copied").headers["x-oss-storage-class"] == "ColdArchive"
        up = b.init_multipart_upload("mp", headers={"x-oss-storage-class": "Archive"})
        assert [u.key for u in oss2.MultipartUploadIterator(b)] == ["mp"]
        part = b.upload_part("mp", up.upload_id, 1, b"p")
        b.complete_multipart_upload("mp", up.upload_id, [oss2.models.PartInfo(1, part.etag)])
        assert b.head_object("mp").headers["x-oss-storage-class"] == "Archive"
        b.append_object("log", 0, b"a", headers={"x-oss-storage-class": "Standard"})
        assert b.head_object("log").headers["x-oss-storage-class"] == "Standard"
        listed = {o.key: o.storage_class for o in b.list_objects().object_list}
        assert listed["put-DeepColdArchive"] == "DeepColdArchive" and listed["default"] == "IA" and listed["mp"] == "Archive"
        listed = {o.key: o.storage_class for o in b.list_objects_v2().object_list}
        assert listed["copied"] == "ColdArchive"
        expect_oss_error(lambda: b.put_object("bad", b"x", headers={"x-oss-storage-class": "Glacier"}), "InvalidArgument", 400)
    finally:
        empty_and_delete(b)


def test_archive_restore_by_the_server_clock(fc, version):
    b = make_bucket(fc, version, oss2.BUCKET_STORAGE_CLASS_ARCHIVE)
    try:
        b.put_object("a.txt", b"content")
        head = b.head_object("a.txt")
        assert head.headers["x-oss-storage-class"] == "Archive" and "x-oss-restore" not in head.headers
        e = expect_oss_error(lambda: b.get_object("a.txt"), "InvalidObjectState", 403)
        assert e.ec == "0016-00000404"
        expect_oss_error(lambda: b.copy_object(b.bucket_name, "a.txt", "copy"), "InvalidObjectState", 403)
        assert b.restore_object("a.txt", input=RestoreConfiguration(days=2)).status == 202
        assert b.head_object("a.txt").headers["x-oss-restore"] == 'ongoing-request="true"'
        assert 'ongoing-request="true"' in b.list_objects().object_list[0].restore_info
        assert 'ongoing-request="true"' in b.list_objects_v2().object_list[0].restore_info
        e = expect_oss_error(lambda: b.restore_object("a.txt"), "RestoreAlreadyInProgress", 409)
        assert e.ec == "0016-00000701"
        expect_oss_error(lambda: b.get_object("a.txt"), "InvalidObjectState", 403)
        advance(fc, "61s")
        restored = b.head_object("a.txt").headers["x-oss-restore"]
        assert restored.startswith('ongoing-request="false", expiry-date="') and restored.endswith(' GMT"')
        assert b.get_object("a.txt").read() == b"content"
        b.copy_object(b.bucket_name, "a.txt", "copy")
        assert b.restore_object("a.txt").status == 200  # already restored: extended by a day
        advance(fc, "25h")
        expect_oss_error(lambda: b.get_object("a.txt"), "InvalidObjectState", 403)
        assert "x-oss-restore" not in b.head_object("a.txt").headers
    finally:
        empty_and_delete(b)


def test_cold_archive_tiers_and_errors(fc, version):
    b = make_bucket(fc, version)
    try:
        for i, tier in enumerate(["Expedited", "Standard", "Bulk"]):
            b.put_object(f"c{i}", b"123", headers={"x-oss-storage-class": "ColdArchive"})
            r = b.restore_object(f"c{i}", input=RestoreConfiguration(days=5, job_parameters=RestoreJobParameters(tier)))
            assert r.status == 202 and r.resp.headers["x-oss-object-restore-priority"] == tier
        advance(fc, "1h1m")
        assert b.get_object("c0").read() == b"123"
        expect_oss_error(lambda: b.get_object("c1"), "InvalidObjectState", 403)
        b.put_object("wrong", b"1", headers={"x-oss-storage-class": "ColdArchive"})
        with pytest.raises(oss2.exceptions.InvalidArgument):
            b.restore_object("wrong", input=RestoreConfiguration(days=5, job_parameters=RestoreJobParameters("wrong-tier")))
        b.put_object("arch", b"1", headers={"x-oss-storage-class": "Archive"})
        with pytest.raises(oss2.exceptions.MalformedXml):
            b.restore_object("arch", input=RestoreConfiguration(days=5, job_parameters=RestoreJobParameters("Bulk")))
        b.put_object("std", b"1")
        assert expect_oss_error(lambda: b.restore_object("std"), "OperationNotSupported", 400).ec == "0016-00000702"
        b.put_object("ia", b"1", headers={"x-oss-storage-class": "IA"})
        assert expect_oss_error(lambda: b.restore_object("ia"), "OperationNotSupported", 400).ec == "0016-00000702"
        expect_oss_error(lambda: b.restore_object("missing"), "NoSuchKey", 404)
    finally:
        empty_and_delete(b)


def test_restore_needs_its_ram_action(fc):
    b = make_bucket(fc, "v1", oss2.BUCKET_STORAGE_CLASS_ARCHIVE)
    try:
        b.put_object("a", b"x")
        ram = h.RpcApi("v3", fc.endpoint, fc.root["AccessKeyId"], fc.root["AccessKeySecret"])
        user = h.unique_name("arc")
        ram.call("CreateUser", {"UserName": user})
        ram.call("AttachPolicyToUser", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess", "UserName": user})
        key = ram.call("CreateAccessKey", {"UserName": user})["AccessKey"]
        reader = oss2.Bucket(oss2.Auth(key["AccessKeyId"], key["AccessKeySecret"]), f"http://{fc.endpoint}", b.bucket_name)
        e = expect_oss_error(lambda: reader.restore_object("a"), "AccessDenied", 403)
        assert "oss:RestoreObject" in e.message
        pol = h.unique_name("restore")
        ram.call("CreatePolicy", {"PolicyName": pol, "PolicyDocument": h.policy_doc([h.allow("oss:RestoreObject", f"acs:oss:*:*:{b.bucket_name}/*")])})
        ram.call("AttachPolicyToUser", {"PolicyType": "Custom", "PolicyName": pol, "UserName": user})
        assert reader.restore_object("a").status == 202
    finally:
        empty_and_delete(b)


@pytest.mark.parametrize("sig", ["v4", "v1"])
def test_oss_v2_restore(fc, sig):
    import alibabacloud_oss_v2 as oss
    c = v2_client(fc.endpoint, fc.root["AccessKeyId"], fc.root["AccessKeySecret"], signature_version=sig)
    name = f"arc-v2-{uuid.uuid4().hex[:10]}"
    c.put_bucket(oss.PutBucketRequest(bucket=name, create_bucket_configuration=oss.CreateBucketConfiguration(storage_class="Archive")))
    try:
        c.put_object(oss.PutObjectRequest(bucket=name, key="o", body=b"v2"))
        assert c.head_object(oss.HeadObjectRequest(bucket=name, key="o")).storage_class == "Archive"
        with pytest.raises(oss.exceptions.OperationError) as info:
            c.get_object(oss.GetObjectRequest(bucket=name, key="o"))
        assert info.value.unwrap().code == "InvalidObjectState"
        r = c.restore_object(oss.RestoreObjectRequest(bucket=name, key="o", restore_request=oss.RestoreRequest(days=1)))
        assert r.status_code == 202
        assert c.head_object(oss.HeadObjectRequest(bucket=name, key="o")).restore == 'ongoing-request="true"'
        advance(fc, "2m")
        assert c.get_object(oss.GetObjectRequest(bucket=name, key="o")).body.read() == b"v2"
        c.delete_object(oss.DeleteObjectRequest(bucket=name, key="o"))
    finally:
        c.delete_bucket(oss.DeleteBucketRequest(bucket=name))
