"""OSS bucket settings through oss2 (V1 and V4) and alibabacloud-oss-v2, on a server started with
--fake-clock: default encryption (Put/Get/DeleteBucketEncryption, the PutBucket headers, the
bucket default on new objects and an object's own `x-oss-server-side-encryption`), logging
(target checks), GetBucketStat counted from the records, storage capacity, resource groups (the
default group, GetBucketInfo, ListBuckets filtered by `x-oss-resource-group-id`), the argument
errors with ArgumentName/ArgumentValue, the RAM actions, and lifecycle `Filter` (Not, object
sizes) run by the server's clock after `rolestack clock advance`."""

from __future__ import annotations

import uuid

import oss2
import pytest
from oss2.models import (BucketLifecycle, BucketLogging, BucketUserQos, FilterNot, FilterNotTag, LifecycleExpiration,
                         LifecycleFilter, LifecycleRule, ServerSideEncryptionRule)

import rshelpers as h
from instancekit import started_server
from test_oss import REGION, bucket_name, empty_and_delete, expect_oss_error, oss2_auth, oss2_bucket, v2_client
from test_oss_lifecycle import advance, eventually


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    yield from started_server(tmp_path_factory, "bucketcfg", "--fake-clock")


def auth(fc, version):
    r = fc.root
    return oss2_auth(r["AccessKeyId"], r["AccessKeySecret"], version)


def new_bucket(fc, version, headers=None, prefix="cfg"):
    b = oss2_bucket(fc.endpoint, auth(fc, version), bucket_name(prefix))
    b.create_bucket(headers=headers)
    return b


@pytest.fixture(params=["v1", "v4"])
def bucket(request, fc):
    b = new_bucket(fc, request.param)
    yield b
    empty_and_delete(b)


def sse(algorithm, key_id=None, data_encryption=None):
    rule = ServerSideEncryptionRule()
    rule.sse_algorithm = algorithm
    rule.kms_master_keyid = key_id
    rule.kms_data_encryption = data_encryption
    return rule


def test_bucket_encryption(bucket):
    b = bucket
    expect_oss_error(b.get_bucket_encryption, "NoSuchServerSideEncryptionRule", 404)
    assert b.get_bucket_info().bucket_encryption_rule.sse_algorithm is None  # "None"
    b.put_object("before", b"x")
    assert "x-oss-server-side-encryption" not in b.head_object("before").headers

    b.put_bucket_encryption(sse("KMS", "key-1", "SM4"))
    got = b.get_bucket_encryption()
    assert (got.sse_algorithm, got.kms_master_keyid, got.kms_data_encryption) == ("KMS", "key-1", "SM4")
    info = b.get_bucket_info().bucket_encryption_rule
    assert (info.sse_algorithm, info.kms_master_keyid, info.kms_data_encryption) == ("KMS", "key-1", "SM4")
    # New objects take the bucket's default (recorded and answered; the body is stored as sent).
    b.put_object("after", b"secret")
    h_ = b.head_object("after").headers
    assert h_["x-oss-server-side-encryption"] == "KMS" and h_["x-oss-server-side-encryption-key-id"] == "key-1"
    assert h_["x-oss-server-side-data-encryption"] == "SM4"
    assert b.get_object("after").read() == b"secret"
    # An object's own setting wins over the default.
    b.put_object("own", b"x", headers={"x-oss-server-side-encryption": "AES256"})
    h_ = b.get_object("own").headers
    assert h_["x-oss-server-side-encryption"] == "AES256" and "x-oss-server-side-encryption-key-id" not in h_
    assert "x-oss-server-side-encryption" not in b.head_object("before").headers, "existing objects are unchanged"
    # Multipart and append: the upload's own setting, else the bucket's default.
    up = b.init_multipart_upload("mp", headers={"x-oss-server-side-encryption": "AES256"})
    part = b.upload_part("mp", up.upload_id, 1, b"part")
    b.complete_multipart_upload("mp", up.upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert b.head_object("mp").headers["x-oss-server-side-encryption"] == "AES256"
    b.append_object("app", 0, b"a")
    assert b.head_object("app").headers["x-oss-server-side-encryption"] == "KMS"
    # A copy never takes the source's encryption: the request's, else the bucket's default.
    b.copy_object(b.bucket_name, "own", "copied")
    assert b.head_object("copied").headers["x-oss-server-side-encryption"] == "KMS"
    b.copy_object(b.bucket_name, "after", "copied-sm4", headers={"x-oss-server-side-encryption": "SM4"})
    h_ = b.head_object("copied-sm4").headers
    assert h_["x-oss-server-side-encryption"] == "SM4" and "x-oss-server-side-encryption-key-id" not in h_

    # Refusals: an unknown algorithm, a key id without KMS, data encryption other than SM4.
    expect_oss_error(lambda: b.put_bucket_encryption(sse("random")), "InvalidEncryptionAlgorithmError", 400)
    expect_oss_error(lambda: b.put_bucket_encryption(sse("AES256", "k")), "InvalidArgument", 400)
    expect_oss_error(lambda: b.put_bucket_encryption(sse("KMS", None, "AES256")), "InvalidArgument", 400)
    expect_oss_error(lambda: b.put_object("bad", b"x", headers={"x-oss-server-side-encryption": "DES"}),
                     "InvalidEncryptionAlgorithmError", 400)
    assert b.get_bucket_encryption().sse_algorithm == "KMS", "a refused change changes nothing"

    assert b.delete_bucket_encryption().status == 204
    expect_oss_error(b.get_bucket_encryption, "NoSuchServerSideEncryptionRule", 404)
    b.put_object("later", b"x")
    assert "x-oss-server-side-encryption" not in b.head_object("later").headers


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_put_bucket_with_encryption_and_group_headers(fc, version):
    b = new_bucket(fc, version, headers={"x-oss-server-side-encryption": "SM4", "x-oss-resource-group-id": "rg-cfgtest1"})
    try:
        info = b.get_bucket_info()
        assert info.bucket_encryption_rule.sse_algorithm == "SM4"
        assert info.resource_group_id == "rg-cfgtest1"
        b.put_object("o", b"x")
        assert b.head_object("o").headers["x-oss-server-side-encryption"] == "SM4"
    finally:
        empty_and_delete(b)
    name = f"cfg-{uuid.uuid4().hex[:12]}"
    bad = oss2.Bucket(auth(fc, version), f"http://{fc.endpoint}", name, region=REGION)
    expect_oss_error(lambda: bad.create_bucket(headers={"x-oss-server-side-encryption": "KMS",
                                                        "x-oss-server-side-data-encryption": "AES"}), "InvalidArgument", 400)
    e = expect_oss_error(lambda: bad.create_bucket(headers={"x-oss-resource-group-id": "group-1"}), "InvalidArgument", 400)
    assert e.details["ArgumentName"] == "ResourceGroupId"
    expect_oss_error(bad.get_bucket_info, "NoSuchBucket", 404)


def test_logging(fc, bucket):
    b = bucket
    target = new_bucket(fc, "v1", prefix="cfglog")
    try:
        assert b.get_bucket_logging().target_bucket == ""
        b.put_bucket_logging(BucketLogging(target.bucket_name, "日志+/"))
        got = b.get_bucket_logging()
        assert (got.target_bucket, got.target_prefix) == (target.bucket_name, "日志+/")
        e = expect_oss_error(lambda: b.put_bucket_logging(BucketLogging(f"missing-{uuid.uuid4().hex[:8]}", "x/")),
                             "InvalidTargetBucketForLogging", 400)
        assert "does not exist" in e.message
        e = expect_oss_error(lambda: b.put_bucket_logging(BucketLogging(target.bucket_name, "p" * 33)), "InvalidArgument", 400)
        assert e.details["ArgumentName"] == "TargetPrefix"
        assert b.get_bucket_logging().target_bucket == target.bucket_name, "a refused change changes nothing"
        # A BucketLoggingStatus without LoggingEnabled turns logging off, as DeleteBucketLogging does.
        b.put_bucket_logging(BucketLogging("", ""))
        assert b.get_bucket_logging().target_bucket == ""
        b.put_bucket_logging(BucketLogging(target.bucket_name, "l/"))
        assert b.delete_bucket_logging().status == 204
        assert b.delete_bucket_logging().status == 204
        assert b.get_bucket_logging().target_bucket == ""
    finally:
        empty_and_delete(target)


def test_bucket_stat(fc, bucket):
    b = bucket
    s = b.get_bucket_stat()
    assert (s.object_count, s.storage_size_in_bytes, s.multi_part_upload_count, s.multipart_part_count) == (0, 0, 0, 0)
    assert s.delete_marker_count == 0 and s.live_channel_count == 0
    # LastModifiedTime: when the figures were counted (by the server's clock).
    assert s.last_modified_time > 0
    b.put_object("s1", b"1234567")
    b.put_object("s2", b"abc")
    b.put_object("ia", b"12345", headers={"x-oss-storage-class": "IA"})
    b.put_object("cold", b"1", headers={"x-oss-storage-class": "ColdArchive"})
    b.put_object("deep", b"12", headers={"x-oss-storage-class": "DeepColdArchive"})
    up = b.init_multipart_upload("mp")
    b.upload_part("mp", up.upload_id, 1, b"p" * 10)
    b.upload_part("mp", up.upload_id, 2, b"q" * 10)
    b.init_multipart_upload("mp2")
    s = b.get_bucket_stat()
    assert (s.object_count, s.storage_size_in_bytes) == (5, 18)
    assert (s.standard_storage, s.standard_object_count) == (10, 2)
    assert (s.infrequent_access_storage, s.infrequent_access_real_storage, s.infrequent_access_object_count) == (5, 5, 1)
    assert (s.archive_storage, s.archive_object_count) == (0, 0)
    assert (s.cold_archive_storage, s.cold_archive_object_count) == (1, 1)
    assert (s.deep_cold_archive_storage, s.deep_cold_archive_real_storage, s.deep_cold_archive_object_count) == (2, 2, 1)
    assert (s.multi_part_upload_count, s.multipart_part_count) == (2, 2)
    assert s.last_modified_time >= b.head_object("deep").last_modified
    # Deleting and overwriting are counted at once.
    b.delete_object("s1")
    b.put_object("s2", b"abcdef")
    b.abort_multipart_upload("mp", up.upload_id)
    s = b.get_bucket_stat()
    assert (s.object_count, s.storage_size_in_bytes, s.standard_storage, s.multi_part_upload_count, s.multipart_part_count) == \
        (4, 14, 6, 1, 0)


def test_storage_capacity(bucket):
    b = bucket
    assert b.get_bucket_storage_capacity().storage_capacity == -1
    b.set_bucket_storage_capacity(BucketUserQos(100))
    assert b.get_bucket_storage_capacity().storage_capacity == 100
    e = expect_oss_error(lambda: b.set_bucket_storage_capacity(BucketUserQos(-2)), "InvalidArgument", 400)
    assert (e.details["ArgumentName"], e.details["ArgumentValue"]) == ("StorageCapacity", "-2")
    assert b.get_bucket_storage_capacity().storage_capacity == 100
    b.set_bucket_storage_capacity(BucketUserQos(-1))
    assert b.get_bucket_storage_capacity().storage_capacity == -1


def test_resource_groups(fc, bucket):
    b = bucket
    service = oss2.Service(b.auth, f"http://{fc.endpoint}", region=REGION)
    default = b.get_bucket_info().resource_group_id
    assert default.startswith("rg-") and b.get_bucket_resource_group().resource_group_id == default
    other = new_bucket(fc, "v1", prefix="cfgrg")
    try:
        assert other.get_bucket_info().resource_group_id == default, "one default group per account"
        b.put_bucket_resource_group("rg-cfgmoved")
        assert b.get_bucket_resource_group().resource_group_id == "rg-cfgmoved"
        assert b.get_bucket_info().resource_group_id == "rg-cfgmoved"
        in_group = service.list_buckets(headers={"x-oss-resource-group-id": "rg-cfgmoved"}).buckets
        assert [x.name for x in in_group] == [b.bucket_name] and in_group[0].resource_group_id == "rg-cfgmoved"
        in_default = [x.name for x in service.list_buckets(headers={"x-oss-resource-group-id": default}, max_keys=1000).buckets]
        assert other.bucket_name in in_default and b.bucket_name not in in_default
        e = expect_oss_error(lambda: b.put_bucket_resource_group("default"), "InvalidArgument", 400)
        assert e.details["ArgumentName"] == "ResourceGroupId"
        b.put_bucket_resource_group(default)
        assert b.get_bucket_resource_group().resource_group_id == default
    finally:
        empty_and_delete(other)


def test_cors_argument_error_names_the_argument(bucket):
    rule = oss2.models.CorsRule(allowed_origins=["*"], allowed_methods=["GET"], allowed_headers=["*"], max_age_seconds=-1)
    e = expect_oss_error(lambda: bucket.put_bucket_cors(oss2.models.BucketCors([rule])), "InvalidArgument", 400)
    assert (e.details["ArgumentName"], e.details["ArgumentValue"], e.ec) == ("MaxAgeSeconds", "-1", "0017-00000001")
    expect_oss_error(lambda: bucket.put_bucket_lifecycle("<This is a bad xml></bad as I am>"), "MalformedXML", 400)
    # Every XML-body bucket operation answers a body that is not XML with MalformedXML (oss2's own
    # request method, the one its put_bucket_* helpers use, with a broken body).
    for sub in ["encryption", "logging", "qos", "resourceGroup", "cors", "referer", "tagging", "lifecycle"]:
        e = expect_oss_error(lambda: bucket._Bucket__do_bucket("PUT", data=b"<x><y></x>", params={sub: ""}), "MalformedXML", 400)
        assert e.ec == "0017-00000002", sub


def test_lifecycle_filter_round_trip_and_checks(bucket):
    b = bucket
    rule = LifecycleRule("f", "中文前缀/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=3),
                         filter=LifecycleFilter([FilterNot("中文前缀/keep", FilterNotTag("k", "v"))],
                                                object_size_greater_than=203, object_size_less_than=311))
    b.put_bucket_lifecycle(BucketLifecycle([rule]))
    got = b.get_bucket_lifecycle().rules[0].filter
    assert (got.object_size_greater_than, got.object_size_less_than) == (203, 311)
    assert (got.filter_not[0].prefix, got.filter_not[0].tag.key, got.filter_not[0].tag.value) == ("中文前缀/keep", "k", "v")
    for bad in [
        LifecycleFilter(object_size_greater_than=500, object_size_less_than=100),
        LifecycleFilter([FilterNot("elsewhere/")]),
        LifecycleFilter([FilterNot("中文前缀/a"), FilterNot("中文前缀/b")]),
    ]:
        r = LifecycleRule("bad", "中文前缀/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=3), filter=bad)
        expect_oss_error(lambda: b.put_bucket_lifecycle(BucketLifecycle([r])), "InvalidArgument", 400)
    assert b.get_bucket_lifecycle().rules[0].filter.object_size_less_than == 311, "a refused change changes nothing"


def test_lifecycle_filter_run_by_the_server_clock(fc, bucket):
    b = bucket
    tagged = {"x-oss-tagging": "keep=yes"}
    b.put_object("logs/small", b"x" * 5)
    b.put_object("logs/mid", b"x" * 50)
    b.put_object("logs/big", b"x" * 500)
    b.put_object("logs/keep/mid", b"x" * 50, headers=tagged)
    b.put_object("logs/keep/untagged", b"x" * 50)
    b.put_object("logs/skip/mid", b"x" * 50)
    b.put_bucket_lifecycle(BucketLifecycle([
        LifecycleRule("sized", "logs/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=1),
                      filter=LifecycleFilter([FilterNot("logs/keep/", FilterNotTag("keep", "yes"))],
                                             object_size_greater_than=10, object_size_less_than=100)),
    ]))
    keys = lambda: sorted(o.key for o in oss2.ObjectIterator(b))  # noqa: E731
    advance(fc, "25h")
    eventually(lambda: keys() == ["logs/big", "logs/keep/mid", "logs/small"], "expire what the filter admits")


@pytest.mark.parametrize("sig", ["v4", "v1"])
def test_oss_v2_bucket_settings(fc, sig):
    import alibabacloud_oss_v2 as oss
    c = v2_client(fc.endpoint, fc.root["AccessKeyId"], fc.root["AccessKeySecret"], signature_version=sig)
    name, target = f"cfg-v2-{uuid.uuid4().hex[:10]}", f"cfg-v2t-{uuid.uuid4().hex[:10]}"
    c.put_bucket(oss.PutBucketRequest(bucket=name))
    c.put_bucket(oss.PutBucketRequest(bucket=target))
    try:
        c.put_bucket_encryption(oss.PutBucketEncryptionRequest(bucket=name, server_side_encryption_rule=oss.ServerSideEncryptionRule(
            apply_server_side_encryption_by_default=oss.ApplyServerSideEncryptionByDefault(sse_algorithm="KMS", kms_master_key_id="k2"))))
        got = c.get_bucket_encryption(oss.GetBucketEncryptionRequest(bucket=name)).server_side_encryption_rule
        assert (got.apply_server_side_encryption_by_default.sse_algorithm, got.apply_server_side_encryption_by_default.kms_master_key_id) \
            == ("KMS", "k2")
        info = c.get_bucket_info(oss.GetBucketInfoRequest(bucket=name)).bucket_info
        assert info.sse_rule.sse_algorithm == "KMS" and info.resource_group_id.startswith("rg-")
        c.put_object(oss.PutObjectRequest(bucket=name, key="o", body=b"hello"))
        assert c.head_object(oss.HeadObjectRequest(bucket=name, key="o")).server_side_encryption == "KMS"
        c.delete_bucket_encryption(oss.DeleteBucketEncryptionRequest(bucket=name))
        with pytest.raises(oss.exceptions.OperationError) as info_:
            c.get_bucket_encryption(oss.GetBucketEncryptionRequest(bucket=name))
        assert info_.value.unwrap().code == "NoSuchServerSideEncryptionRule"

        c.put_bucket_logging(oss.PutBucketLoggingRequest(bucket=name, bucket_logging_status=oss.BucketLoggingStatus(
            logging_enabled=oss.LoggingEnabled(target_bucket=target, target_prefix="v2/"))))
        le = c.get_bucket_logging(oss.GetBucketLoggingRequest(bucket=name)).bucket_logging_status.logging_enabled
        assert (le.target_bucket, le.target_prefix) == (target, "v2/")
        c.delete_bucket_logging(oss.DeleteBucketLoggingRequest(bucket=name))

        stat = c.get_bucket_stat(oss.GetBucketStatRequest(bucket=name))
        assert (stat.object_count, stat.storage, stat.standard_object_count, stat.deep_cold_archive_object_count) == (1, 5, 1, 0)

        c.put_bucket_resource_group(oss.PutBucketResourceGroupRequest(
            bucket=name, bucket_resource_group_configuration=oss.BucketResourceGroupConfiguration(resource_group_id="rg-v2group")))
        rg = c.get_bucket_resource_group(oss.GetBucketResourceGroupRequest(bucket=name)).bucket_resource_group_configuration
        assert rg.resource_group_id == "rg-v2group"
        c.delete_object(oss.DeleteObjectRequest(bucket=name, key="o"))
    finally:
        c.delete_bucket(oss.DeleteBucketRequest(bucket=name))
        c.delete_bucket(oss.DeleteBucketRequest(bucket=target))


def test_bucket_settings_need_their_ram_actions(fc):
    r = fc.root
    owner = new_bucket(fc, "v1", prefix="cfgram")
    try:
        ram = h.RpcApi("v3", fc.endpoint, r["AccessKeyId"], r["AccessKeySecret"])
        user = h.unique_name("cfg")
        ram.call("CreateUser", {"UserName": user})
        ram.call("AttachPolicyToUser", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess", "UserName": user})
        key = ram.call("CreateAccessKey", {"UserName": user})["AccessKey"]
        reader = oss2.Bucket(oss2.Auth(key["AccessKeyId"], key["AccessKeySecret"]), f"http://{fc.endpoint}", owner.bucket_name)
        for action, call in [
            ("oss:PutBucketEncryption", lambda: reader.put_bucket_encryption(sse("AES256"))),
            ("oss:DeleteBucketEncryption", reader.delete_bucket_encryption),
            ("oss:PutBucketLogging", lambda: reader.put_bucket_logging(BucketLogging(owner.bucket_name, "x/"))),
            ("oss:DeleteBucketLogging", reader.delete_bucket_logging),
            ("oss:PutBucketStorageCapacity", lambda: reader.set_bucket_storage_capacity(BucketUserQos(5))),
            ("oss:PutBucketResourceGroup", lambda: reader.put_bucket_resource_group("rg-nope")),
        ]:
            e = expect_oss_error(call, "AccessDenied", 403)
            assert action in e.message, (action, e.message)
        # oss:Get* reads every setting.
        owner.put_bucket_encryption(sse("AES256"))
        assert reader.get_bucket_encryption().sse_algorithm == "AES256"
        assert reader.get_bucket_stat().object_count == 0
        assert reader.get_bucket_logging().target_bucket == ""
        assert reader.get_bucket_storage_capacity().storage_capacity == -1
        assert reader.get_bucket_resource_group().resource_group_id.startswith("rg-")
    finally:
        empty_and_delete(owner)
