"""OSS bucket lifecycle through oss2 (V1 and V4) and alibabacloud-oss-v2 on a server started with
--fake-clock: Put/Get/DeleteBucketLifecycle round trips (days, dates, transitions, multipart
aborts, tag filters), the rule checks, NoSuchLifecycle, the RAM action, and the rules run by the
server's clock — after `rolestack clock advance` objects under a rule expire, move to a colder
class and incomplete uploads are aborted, while objects outside the rule stay."""

from __future__ import annotations

import time
import uuid

import oss2
import pytest
from oss2.models import (AbortMultipartUpload, BucketLifecycle, LifecycleExpiration, LifecycleRule, StorageTransition,
                         Tagging, TaggingRule)

import rshelpers as h
from instancekit import cli
from test_oss import REGION, empty_and_delete, expect_oss_error, v2_client


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    d = tmp_path_factory.mktemp("lifecycle")
    srv = h.RolestackServer(d / "data", d / "server.log", extra_args=["--fake-clock"])
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(params=["v1", "v4"])
def bucket(request, fc):
    r = fc.root
    auth = oss2.AuthV4(r["AccessKeyId"], r["AccessKeySecret"]) if request.param == "v4" else oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"])
    b = oss2.Bucket(auth, f"http://{fc.endpoint}", f"lc-{uuid.uuid4().hex[:12]}", region=REGION)
    b.create_bucket()
    yield b
    empty_and_delete(b)


def advance(fc, by):
    r = cli(fc, "clock", "advance", by)
    assert r.returncode == 0, r.stderr


def eventually(check, what):
    """The rules run on the server's own timer (once a second it looks whether an hour of its clock
    has passed): wait for their effect, a bounded number of times."""
    for _ in range(100):
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"lifecycle did not {what}")


def test_round_trip_and_checks(bucket):
    b = bucket
    expect_oss_error(lambda: b.get_bucket_lifecycle(), "NoSuchLifecycle", 404)
    tagging = Tagging(TaggingRule())
    tagging.tag_set.add("class", "tmp")
    rules = [
        LifecycleRule("logs", "logs/", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=30),
                      storage_transitions=[StorageTransition(days=10, storage_class=oss2.BUCKET_STORAGE_CLASS_IA)],
                      abort_multipart_upload=AbortMultipartUpload(days=3)),
        LifecycleRule("old", "old/", status=LifecycleRule.DISABLED,
                      expiration=LifecycleExpiration(created_before_date=__import__("datetime").date(2024, 1, 1))),
        LifecycleRule("tagged", "", status=LifecycleRule.ENABLED, expiration=LifecycleExpiration(days=7), tagging=tagging),
    ]
    b.put_bucket_lifecycle(BucketLifecycle(rules))
    got = {r.id: r for r in b.get_bucket_lifecycle().rules}
    assert set(got) == {"logs", "old", "tagged"}
    assert got["logs"].prefix == "logs/" and got["logs"].expiration.days == 30
    assert got["logs"].storage_transitions[0].days == 10 and got["logs"].storage_transitions[0].storage_class == "IA"
    assert got["logs"].abort_multipart_upload.days == 3
    assert got["old"].status == "Disabled" and got["old"].expiration.created_before_date.isoformat() == "2024-01-01"
    assert got["tagged"].tagging.tag_set.tagging_rule == {"class": "tmp"}
    # A transition must come before the expiration; a rule needs an action; IDs are unique.
    bad = LifecycleRule("bad", "x/", expiration=LifecycleExpiration(days=5),
                        storage_transitions=[StorageTransition(days=5, storage_class=oss2.BUCKET_STORAGE_CLASS_IA)])
    expect_oss_error(lambda: b.put_bucket_lifecycle(BucketLifecycle([bad])), "InvalidArgument", 400)
    twice = [LifecycleRule("same", "a/", expiration=LifecycleExpiration(days=1)),
             LifecycleRule("same", "b/", expiration=LifecycleExpiration(days=1))]
    expect_oss_error(lambda: b.put_bucket_lifecycle(BucketLifecycle(twice)), "InvalidArgument", 400)
    # Mixing days and dates in one rule is InvalidRequest.
    mixed = LifecycleRule("mixed", "m/", expiration=LifecycleExpiration(created_before_date=__import__("datetime").date(2016, 12, 25)),
                          storage_transitions=[StorageTransition(days=356, storage_class=oss2.BUCKET_STORAGE_CLASS_IA)])
    expect_oss_error(lambda: b.put_bucket_lifecycle(BucketLifecycle([mixed])), "InvalidRequest", 400)
    # A Filter is checked like the rest (test_oss_bucket_config.py has its round trip and run).
    filtered = LifecycleRule("f", "f/", expiration=LifecycleExpiration(days=1),
                             filter=oss2.models.LifecycleFilter(object_size_greater_than=500, object_size_less_than=10))
    expect_oss_error(lambda: b.put_bucket_lifecycle(BucketLifecycle([filtered])), "InvalidArgument", 400)
    assert {r.id for r in b.get_bucket_lifecycle().rules} == {"logs", "old", "tagged"}, "a refused change changes nothing"
    assert b.delete_bucket_lifecycle().status == 204
    expect_oss_error(lambda: b.get_bucket_lifecycle(), "NoSuchLifecycle", 404)


def test_rules_run_by_the_server_clock(fc, bucket):
    b = bucket
    for k in ["tmp/a", "tmp/b", "keep/c", "cold/d"]:
        b.put_object(k, b"x")
    up = b.init_multipart_upload("tmp/upload")
    b.put_bucket_lifecycle(BucketLifecycle([
        LifecycleRule("expire-tmp", "tmp/", expiration=LifecycleExpiration(days=1), abort_multipart_upload=AbortMultipartUpload(days=1)),
        LifecycleRule("cool", "cold/", storage_transitions=[StorageTransition(days=1, storage_class=oss2.BUCKET_STORAGE_CLASS_ARCHIVE)]),
    ]))
    keys = lambda: sorted(o.key for o in oss2.ObjectIterator(b))  # noqa: E731
    assert keys() == ["cold/d", "keep/c", "tmp/a", "tmp/b"]
    advance(fc, "25h")
    eventually(lambda: keys() == ["cold/d", "keep/c"], "expire tmp/")
    eventually(lambda: b.head_object("cold/d").headers["x-oss-storage-class"] == "Archive", "move cold/ to Archive")
    assert b.head_object("keep/c").headers["x-oss-storage-class"] == "Standard"
    eventually(lambda: [u.upload_id for u in oss2.MultipartUploadIterator(b)] == [], "abort the upload")
    expect_oss_error(lambda: b.list_parts("tmp/upload", up.upload_id), "NoSuchUpload", 404)


def test_lifecycle_needs_its_ram_actions(fc):
    r = fc.root
    owner = oss2.Bucket(oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"]), f"http://{fc.endpoint}", f"lc-{uuid.uuid4().hex[:12]}")
    owner.create_bucket()
    try:
        ram = h.RpcApi("v3", fc.endpoint, r["AccessKeyId"], r["AccessKeySecret"])
        user = h.unique_name("lc")
        ram.call("CreateUser", {"UserName": user})
        ram.call("AttachPolicyToUser", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess", "UserName": user})
        key = ram.call("CreateAccessKey", {"UserName": user})["AccessKey"]
        reader = oss2.Bucket(oss2.Auth(key["AccessKeyId"], key["AccessKeySecret"]), f"http://{fc.endpoint}", owner.bucket_name)
        rule = LifecycleRule("r", "x/", expiration=LifecycleExpiration(days=1))
        e = expect_oss_error(lambda: reader.put_bucket_lifecycle(BucketLifecycle([rule])), "AccessDenied", 403)
        assert "oss:PutBucketLifecycle" in e.message
        owner.put_bucket_lifecycle(BucketLifecycle([rule]))
        assert [x.id for x in reader.get_bucket_lifecycle().rules] == ["r"]
        expect_oss_error(lambda: reader.delete_bucket_lifecycle(), "AccessDenied", 403)
    finally:
        empty_and_delete(owner)


@pytest.mark.parametrize("sig", ["v4", "v1"])
def test_oss_v2_lifecycle(fc, sig):
    import alibabacloud_oss_v2 as oss
    c = v2_client(fc.endpoint, fc.root["AccessKeyId"], fc.root["AccessKeySecret"], signature_version=sig)
    name = f"lc-v2-{uuid.uuid4().hex[:10]}"
    c.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        c.put_bucket_lifecycle(oss.PutBucketLifecycleRequest(bucket=name, lifecycle_configuration=oss.LifecycleConfiguration(rules=[
            oss.LifecycleRule(id="v2", prefix="v2/", status="Enabled", expiration=oss.LifecycleRuleExpiration(days=2))])))
        got = c.get_bucket_lifecycle(oss.GetBucketLifecycleRequest(bucket=name))
        rule = got.lifecycle_configuration.rules[0]
        assert (rule.id, rule.prefix, rule.status, rule.expiration.days) == ("v2", "v2/", "Enabled", 2)
        c.delete_bucket_lifecycle(oss.DeleteBucketLifecycleRequest(bucket=name))
        with pytest.raises(oss.exceptions.OperationError) as info:
            c.get_bucket_lifecycle(oss.GetBucketLifecycleRequest(bucket=name))
        assert info.value.unwrap().code == "NoSuchLifecycle"
    finally:
        c.delete_bucket(oss.DeleteBucketRequest(bucket=name))
