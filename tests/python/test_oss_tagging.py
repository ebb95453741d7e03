"""OSS object and bucket tagging through oss2 (signature V1 and V4) and alibabacloud-oss-v2:
Put/Get/DeleteObjectTagging, `x-oss-tagging` on PutObject / CopyObject (Copy and Replace
directives) / AppendObject / InitiateMultipartUpload, `x-oss-tagging-count`, the tag limits with
OSS's `InvalidTag` and `EC`, bucket tags (delete by key, ListBuckets by `tag-key`), and
`oss:ExistingObjectTag/<key>` in a RAM policy."""

from __future__ import annotations

import oss2
import pytest
from oss2.headers import OSS_OBJECT_TAGGING, OSS_OBJECT_TAGGING_COPY_DIRECTIVE
from oss2.models import Tagging, TaggingRule

import rshelpers as h
from test_oss import created_bucket, REGION, bucket_name, empty_and_delete, expect_oss_error, oss2_bucket, v2_client


@pytest.fixture(params=["v1", "v4"])
def tagged_bucket(request, server, root):
    b = created_bucket(server.endpoint, root, request.param, "tag")
    yield b
    empty_and_delete(b)


def tagging(**tags):
    rule = TaggingRule()
    for k, v in tags.items():
        rule.add(k, v)
    return Tagging(rule)


def tags_of(bucket, key):
    return dict(bucket.get_object_tagging(key).tag_set.tagging_rule)


def test_object_tagging_round_trip(tagged_bucket):
    b = tagged_bucket
    b.put_object("o", b"x")
    assert tags_of(b, "o") == {}
    assert b.head_object("o").headers.get("x-oss-tagging-count") is None
    rule = TaggingRule()
    rule.add("a" * 128, "b" * 256)
    rule.add("+-.:", "_/")
    rule.add("中文", "值 1")
    assert b.put_object_tagging("o", Tagging(rule)).status == 200
    assert tags_of(b, "o") == {"a" * 128: "b" * 256, "+-.:": "_/", "中文": "值 1"}
    assert b.head_object("o").headers["x-oss-tagging-count"] == "3"
    assert b.get_object("o").headers["x-oss-tagging-count"] == "3"
    assert b.delete_object_tagging("o").status == 204
    assert tags_of(b, "o") == {}
    expect_oss_error(lambda: b.get_object_tagging("missing"), "NoSuchKey", 404)


def test_tagging_header_on_writes(tagged_bucket):
    b = tagged_bucket
    b.put_object("src", b"payload", headers={OSS_OBJECT_TAGGING: "k1=v1&k2=v2&k3"})
    assert tags_of(b, "src") == {"k1": "v1", "k2": "v2", "k3": ""}
    # CopyObject keeps the source's tags by default, replaces them with Replace.
    b.copy_object(b.bucket_name, "src", "copy")
    assert tags_of(b, "copy") == {"k1": "v1", "k2": "v2", "k3": ""}
    b.copy_object(b.bucket_name, "src", "copy2", headers={OSS_OBJECT_TAGGING: "n=%2B%3A", OSS_OBJECT_TAGGING_COPY_DIRECTIVE: "Replace"})
    assert tags_of(b, "copy2") == {"n": "+:"}
    # The first AppendObject sets the tags; later ones' x-oss-tagging is ignored (even an invalid one).
    first = b.append_object("log", 0, b"ab", headers={OSS_OBJECT_TAGGING: "t=1"})
    many = "&".join(f"k{i}=v" for i in range(15))
    b.append_object("log", first.next_position, b"cd", headers={OSS_OBJECT_TAGGING: many})
    assert tags_of(b, "log") == {"t": "1"}
    # Multipart: the tags given at initiation land on the completed object.
    up = b.init_multipart_upload("mp", headers={OSS_OBJECT_TAGGING: "stage=raw"})
    part = b.upload_part("mp", up.upload_id, 1, b"p")
    b.complete_multipart_upload("mp", up.upload_id, [oss2.models.PartInfo(1, part.etag)])
    assert tags_of(b, "mp") == {"stage": "raw"}


@pytest.mark.parametrize("header, ec", [
    ("=a&b=a", "0010-00000217"),                       # empty key
    ("a" * 129 + "=b", "0010-00000209"),               # key too long
    ("a=" + "v" * 257, "0010-00000217"),               # value too long
    ("a=b&a=b", "0010-00000218"),                      # duplicate key
    ("&".join(f"a{i}=b" for i in range(11)), "0010-00000218"),  # 11 tags
    ("aa=bb=cc", "0010-00000219"),                     # not key=value
    ("a=%25abc", "0010-00000217"),                     # '%' is not allowed
])
def test_tag_limits(tagged_bucket, header, ec):
    e = expect_oss_error(lambda: tagged_bucket.put_object("bad", b"x", headers={OSS_OBJECT_TAGGING: header}), "InvalidTag", 400)
    assert e.ec == ec
    expect_oss_error(lambda: tagged_bucket.init_multipart_upload("bad", headers={OSS_OBJECT_TAGGING: header}), "InvalidTag", 400)
    expect_oss_error(lambda: tagged_bucket.head_object("bad"), "NoSuchKey", 404)


def test_put_object_tagging_limits(tagged_bucket):
    b = tagged_bucket
    b.put_object("o", b"x")
    t = Tagging()
    t.tag_set.tagging_rule["k"] = "%abc"
    expect_oss_error(lambda: b.put_object_tagging("o", t), "InvalidTag", 400)
    t = Tagging()
    for i in range(12):
        t.tag_set.add(f"k{i}", "v")
    expect_oss_error(lambda: b.put_object_tagging("o", t), "InvalidTag", 400)
    t = Tagging()
    t.tag_set.tagging_rule["k"] = ""
    b.put_object_tagging("o", t)
    assert tags_of(b, "o") == {"k": ""}


def test_bucket_tags(server, root, tagged_bucket):
    b = tagged_bucket
    assert dict(b.get_bucket_tagging().tag_set.tagging_rule) == {}
    t = Tagging()
    for k, v in {"%@abc": "abc", "123++": "++123%", "test": "abc"}.items():
        t.tag_set.tagging_rule[k] = v
    b.put_bucket_tagging(t)
    assert dict(b.get_bucket_tagging().tag_set.tagging_rule) == {"%@abc": "abc", "123++": "++123%", "test": "abc"}
    assert b.delete_bucket_tagging(params={"tagging": "%@abc,test"}).status == 204
    assert dict(b.get_bucket_tagging().tag_set.tagging_rule) == {"123++": "++123%"}
    bad = Tagging()
    bad.tag_set.tagging_rule["Aliyun-x"] = "v"
    expect_oss_error(lambda: b.put_bucket_tagging(bad), "InvalidTag", 400)
    # ListBuckets filtered by tag.
    unique = "only-" + bucket_name()
    b.put_bucket_tagging(tagging(**{unique: "yes"}))
    service = oss2.Service(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), f"http://{server.endpoint}", region=REGION)
    assert [x.name for x in service.list_buckets(params={"tag-key": unique}).buckets] == [b.bucket_name]
    assert [x.name for x in service.list_buckets(params={"tag-key": unique, "tag-value": "yes"}).buckets] == [b.bucket_name]
    assert service.list_buckets(params={"tag-key": unique, "tag-value": "no"}).buckets == []
    assert b.delete_bucket_tagging().status == 204
    assert dict(b.get_bucket_tagging().tag_set.tagging_rule) == {}


def test_existing_object_tag_condition(server, root, tagged_bucket, ram_user):
    b = tagged_bucket
    b.put_object("public", b"p", headers={OSS_OBJECT_TAGGING: "class=public"})
    b.put_object("secret", b"s", headers={OSS_OBJECT_TAGGING: "class=secret"})
    policy = {"Effect": "Allow", "Action": ["oss:GetObject"], "Resource": [f"acs:oss:*:*:{b.bucket_name}/*"],
              "Condition": {"StringEquals": {"oss:ExistingObjectTag/class": ["public"]}}}
    root_api = h.RpcApi("v3", server.endpoint, root["AccessKeyId"], root["AccessKeySecret"])
    pol = h.unique_name("tagcond")
    root_api.call("CreatePolicy", {"PolicyName": pol, "PolicyDocument": h.policy_doc([policy])})
    _, ak, sk = ram_user(policies=[pol])
    reader = oss2_bucket(server.endpoint, oss2.Auth(ak, sk), b.bucket_name)
    assert reader.get_object("public").read() == b"p"
    e = expect_oss_error(lambda: reader.get_object("secret"), "AccessDenied", 403)
    assert "oss:GetObject" in e.message
    # Retagging the object changes the answer on the next request.
    b.put_object_tagging("secret", tagging(**{"class": "public"}))
    assert reader.get_object("secret").read() == b"s"
    # A policy naming the key without a tag key is refused when written.
    bad = {"Effect": "Allow", "Action": ["oss:GetObject"], "Resource": ["*"],
           "Condition": {"StringEquals": {"oss:ExistingObjectTag": ["x"]}}}
    with pytest.raises(Exception) as info:
        root_api.call("CreatePolicy", {"PolicyName": h.unique_name("badtag"), "PolicyDocument": h.policy_doc([bad])})
    assert "ExistingObjectTag/<tag-key>" in str(info.value)


@pytest.mark.parametrize("sig", ["v4", "v1"])
def test_oss_v2_tagging(server, root, sig):
    import alibabacloud_oss_v2 as oss
    c = v2_client(server.endpoint, root["AccessKeyId"], root["AccessKeySecret"], signature_version=sig)
    name = bucket_name("v2tag")
    c.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        c.put_object(oss.PutObjectRequest(bucket=name, key="o", body=b"x", tagging="a=1&b=2"))
        got = c.get_object_tagging(oss.GetObjectTaggingRequest(bucket=name, key="o"))
        assert {t.key: t.value for t in got.tag_set.tags} == {"a": "1", "b": "2"}
        c.put_object_tagging(oss.PutObjectTaggingRequest(bucket=name, key="o", tagging=oss.Tagging(
            tag_set=oss.TagSet(tags=[oss.Tag(key="c", value="3")]))))
        got = c.get_object_tagging(oss.GetObjectTaggingRequest(bucket=name, key="o"))
        assert [(t.key, t.value) for t in got.tag_set.tags] == [("c", "3")]
        assert c.head_object(oss.HeadObjectRequest(bucket=name, key="o")).tagging_count == 1
        c.delete_object_tagging(oss.DeleteObjectTaggingRequest(bucket=name, key="o"))
        got = c.get_object_tagging(oss.GetObjectTaggingRequest(bucket=name, key="o"))
        assert not got.tag_set or not got.tag_set.tags
        with pytest.raises(oss.exceptions.OperationError) as info:
            c.put_object(oss.PutObjectRequest(bucket=name, key="bad", body=b"x", tagging="aa=bb=cc"))
        err = info.value.unwrap()
        assert (err.code, err.status_code, err.ec) == ("InvalidTag", 400, "0010-00000219")
        c.put_bucket_tags(oss.PutBucketTagsRequest(bucket=name, tagging=oss.Tagging(
            tag_set=oss.TagSet(tags=[oss.Tag(key="team", value="blue")]))))
        got = c.get_bucket_tags(oss.GetBucketTagsRequest(bucket=name))
        assert [(t.key, t.value) for t in got.tagging.tag_set.tags] == [("team", "blue")]
        c.delete_bucket_tags(oss.DeleteBucketTagsRequest(bucket=name))
        c.delete_object(oss.DeleteObjectRequest(bucket=name, key="o"))
    finally:
        c.delete_bucket(oss.DeleteBucketRequest(bucket=name))
