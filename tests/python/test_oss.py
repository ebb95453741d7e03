"""OSS through the official clients, unchanged apart from the endpoint: oss2 (signature V1 and V4)
and alibabacloud-oss-v2 — buckets, objects, ranges, conditional GETs, listings (v1/v2, pagination,
delimiter), multipart, copy, append, non-ASCII keys, presigned URLs, error parsing — and the
authorization of every request: root, RAM users, role sessions (seed 003 step 4), bucket policies
(anonymous included)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from email.utils import formatdate
from itertools import islice

import oss2
import pytest
import requests

import rshelpers as h

STS = "2015-04-01"
REGION = "cn-hangzhou"


# -- helpers -----------------------------------------------------------------------------------

def bucket_name(prefix="rs"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def oss2_auth(ak, sk, version="v1", token=None):
    if token:
        return oss2.StsAuth(ak, sk, token, auth_version="v4" if version == "v4" else "v1") if version == "v4" \
            else oss2.StsAuth(ak, sk, token)
    return oss2.AuthV4(ak, sk) if version == "v4" else oss2.Auth(ak, sk)


def oss2_bucket(endpoint, auth, name):
    return oss2.Bucket(auth, f"http://{endpoint}", name, region=REGION)


def created_bucket(endpoint, creds, version, prefix):
    """A new bucket of the root (`creds`), signed with `version` ("v1" / "v4"); the caller empties
    and deletes it (`empty_and_delete`)."""
    b = oss2_bucket(endpoint, oss2_auth(creds["AccessKeyId"], creds["AccessKeySecret"], version), bucket_name(prefix))
    b.create_bucket()
    return b


def empty_and_delete(bucket):
    for upload in oss2.MultipartUploadIterator(bucket):
        bucket.abort_multipart_upload(upload.key, upload.upload_id)
    for obj in oss2.ObjectIterator(bucket):
        bucket.delete_object(obj.key)
    bucket.delete_bucket()


def list_ten_keys(access_key_id, access_key_secret, security_token, endpoint, bucket_name):
    """Seed 003 step 4, verbatim apart from the endpoint and the bucket name (and `print`
    collected so the test can check it). The lead runs the same function inside an instance with
    credentials from the metadata service."""
    printed = []
    print_ = printed.append
    import oss2
    from itertools import islice
    auth = oss2.StsAuth(access_key_id, access_key_secret, security_token)
    bucket = oss2.Bucket(auth, endpoint, bucket_name)
    for b in islice(oss2.ObjectIterator(bucket), 10):
        print_(b.key)
    return printed


@pytest.fixture(scope="module")
def oss_ep(server):
    return server.endpoint


@pytest.fixture
def root_bucket(oss_ep, root):
    """A fresh bucket owned by the root, deleted (with its contents) afterwards."""
    b = oss2_bucket(oss_ep, oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), bucket_name())
    b.create_bucket()
    yield b
    empty_and_delete(b)


@pytest.fixture(params=["v1", "v4"])
def auth_version(request):
    return request.param


@pytest.fixture
def bkt(oss_ep, root, root_bucket, auth_version):
    """The root's fresh bucket through oss2 with signature V1 or V4."""
    return oss2_bucket(oss_ep, oss2_auth(root["AccessKeyId"], root["AccessKeySecret"], auth_version), root_bucket.bucket_name)


def sts_api(api_for, root):
    return api_for(root["AccessKeyId"], root["AccessKeySecret"], "v3", version=STS, product="Sts")


@pytest.fixture
def read_only_role(root_api, account_id):
    """Seed 003 step 1: a role with the doc's read-only OSS policy (trusting the account here, so
    the test can AssumeRole; inside an instance the lead uses the ECS trust policy)."""
    role = h.unique_name("oss-role")
    policy = h.unique_name("oss-read")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    root_api.call("CreatePolicy", {"PolicyName": policy, "PolicyDocument": h.SEED_OSS_READ_POLICY})
    root_api.call("AttachPolicyToRole", {"PolicyType": "Custom", "PolicyName": policy, "RoleName": role})
    return role


def assume(api_for, root, account_id, role, **extra):
    params = {"RoleArn": f"acs:ram::{account_id}:role/{role}", "RoleSessionName": "oss-test"}
    params.update(extra)
    return sts_api(api_for, h.assumer_for(api_for, root)).call("AssumeRole", params)["Credentials"]


def expect_oss_error(fn, code, status):
    with pytest.raises(oss2.exceptions.OssError) as info:
        fn()
    e = info.value
    assert (e.status, e.code) == (status, code), f"expected {status} {code}, got {e.status} {e.code}: {e.message}"
    assert e.request_id and len(e.request_id) == 24
    return e


# -- seed 003 step 4 and role sessions ---------------------------------------------------------------

def test_seed_003_step4_role_session(oss_ep, root, root_bucket, api_for, account_id, read_only_role, root_api):
    for key in ["ramroletest.txt", "test.sh"]:
        root_bucket.put_object(key, b"seed")
    creds = assume(api_for, root, account_id, read_only_role)
    keys = list_ten_keys(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"],
                         f"http://{oss_ep}", root_bucket.bucket_name)
    assert keys == ["ramroletest.txt", "test.sh"]

    session = oss2_bucket(oss_ep, oss2.StsAuth(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"]),
                          root_bucket.bucket_name)
    assert session.get_object("test.sh").read() == b"seed"
    e = expect_oss_error(lambda: session.put_object("written-by-role.txt", b"x"), "AccessDenied", 403)
    assert "oss:PutObject" in e.message and e.ec

    root_api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSFullAccess", "RoleName": read_only_role})
    assert session.put_object("written-by-role.txt", b"x").status == 200
    assert "written-by-role.txt" in list_ten_keys(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"],
                                                  f"http://{oss_ep}", root_bucket.bucket_name)


def test_session_policy_narrows_oss(oss_ep, root, root_bucket, api_for, account_id, root_api):
    role = h.unique_name("oss-full")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    root_api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSFullAccess", "RoleName": role})
    only_pub = h.policy_doc([h.allow(["oss:GetObject", "oss:PutObject"], f"acs:oss:*:*:{root_bucket.bucket_name}/pub/*")])
    creds = assume(api_for, root, account_id, role, Policy=only_pub)
    for version in ["v1", "v4"]:
        b = oss2_bucket(oss_ep, oss2_auth(creds["AccessKeyId"], creds["AccessKeySecret"], version, creds["SecurityToken"]),
                        root_bucket.bucket_name)
        b.put_object("pub/a", b"1")
        expect_oss_error(lambda: b.put_object("private/a", b"1"), "AccessDenied", 403)
        expect_oss_error(lambda: list(oss2.ObjectIterator(b)), "AccessDenied", 403)


def test_security_token_must_be_valid(oss_ep, root, root_bucket, api_for, account_id, read_only_role):
    creds = assume(api_for, root, account_id, read_only_role)
    bad = oss2_bucket(oss_ep, oss2.StsAuth(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"][:-4] + "AAAA"),
                      root_bucket.bucket_name)
    wrong = expect_oss_error(lambda: bad.get_bucket_info(), "InvalidSecurityToken", 403)
    assert wrong.ec == "0002-00000008"  # OSS's page for a token that does not match its key
    no_token = oss2_bucket(oss_ep, oss2.Auth(creds["AccessKeyId"], creds["AccessKeySecret"]), root_bucket.bucket_name)
    # An STS key without its token: OSS's own EC and message for it (docs/oss.md, signatures).
    missing = expect_oss_error(lambda: no_token.get_bucket_info(), "InvalidAccessKeyId", 403)
    assert missing.ec == "0002-00000003" and "Security Token may be lost" in missing.message
    assert missing.details["OSSAccessKeyId"] == creds["AccessKeyId"]


def test_security_token_in_header_and_url_is_refused(oss_ep, root, root_bucket, api_for, account_id, read_only_role):
    # OSS refuses a token given twice (EC 0002-00000010, docs/oss.md, the "signatures" row), even when
    # both copies are the right token; the presigned URL alone works.
    root_bucket.put_object("twice.txt", b"t")
    creds = assume(api_for, root, account_id, read_only_role)
    session = oss2_bucket(oss_ep, oss2.StsAuth(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"]),
                          root_bucket.bucket_name)
    url = session.sign_url("GET", "twice.txt", 300)
    assert "security-token=" in url
    assert requests.get(url, timeout=10).content == b"t"
    r = requests.get(url, headers={"x-oss-security-token": creds["SecurityToken"]}, timeout=10)
    assert r.status_code == 400, r.text
    error = ET.fromstring(r.content)
    assert (error.findtext("Code"), error.findtext("EC")) == ("InvalidArgument", "0002-00000010"), r.text



def test_response_overrides_need_a_signature(oss_ep, root, root_bucket, api_for, account_id, read_only_role):
    """`response-*` overrides work for signed requests — a role session's header-signed GET and
    its presigned URL — and OSS sets none for an anonymous GET: refused (`InvalidRequest`, 400),
    even on a public-read bucket, so an unsigned link cannot make an object answer as HTML."""
    root_bucket.put_object("page.txt", b"<b>hi</b>", headers={"Content-Type": "text/plain"})
    overrides = {"response-content-type": "text/html", "response-content-disposition": "inline"}
    creds = assume(api_for, root, account_id, read_only_role)
    session = oss2_bucket(oss_ep, oss2.StsAuth(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"]),
                          root_bucket.bucket_name)
    got = session.get_object("page.txt", params=dict(overrides))  # oss2 adds the token to the dict it gets
    # The type is overridden, but an HTML answer is forced to download as on OSS's default domain.
    assert (got.headers["content-type"], got.headers["content-disposition"]) == ("text/html", "attachment")
    assert got.headers["x-oss-force-download"] == "true"
    got = session.get_object("page.txt", params={"response-content-disposition": "inline"})
    assert got.headers["content-disposition"] == "inline" and "x-oss-force-download" not in got.headers
    r = requests.get(session.sign_url("GET", "page.txt", 300, params=dict(overrides)), timeout=10)
    assert (r.status_code, r.headers["content-type"]) == (200, "text/html")
    root_bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    anon = oss2_bucket(oss_ep, oss2.AnonymousAuth(), root_bucket.bucket_name)
    assert anon.get_object("page.txt").headers["content-type"] == "text/plain"
    for param, value in overrides.items():
        r = requests.get(f"http://{oss_ep}/{root_bucket.bucket_name}/page.txt", params={param: value}, timeout=10)
        e = oss2.exceptions.make_exception(oss2.http.Response(r))
        assert (e.status, e.code) == (400, "InvalidRequest"), (param, e)

# -- RAM users ---------------------------------------------------------------------------------------

def test_ram_user_policies(oss_ep, root_bucket, ram_user):
    root_bucket.put_object("doc.txt", b"d")
    _, ak, sk = ram_user()
    nobody = oss2_bucket(oss_ep, oss2.Auth(ak, sk), root_bucket.bucket_name)
    e = expect_oss_error(lambda: nobody.get_object("doc.txt"), "AccessDenied", 403)
    assert "oss:GetObject" in e.message
    _, ak, sk = ram_user(policies=["AliyunOSSReadOnlyAccess"])
    reader = oss2_bucket(oss_ep, oss2.AuthV4(ak, sk), root_bucket.bucket_name)
    assert reader.get_object("doc.txt").read() == b"d"
    expect_oss_error(lambda: reader.delete_object("doc.txt"), "AccessDenied", 403)
    expect_oss_error(lambda: reader.head_object("doc.txt") and reader.put_object("x", b""), "AccessDenied", 403)
    _, ak, sk = ram_user(policies=["AliyunOSSFullAccess"])
    writer = oss2_bucket(oss_ep, oss2.Auth(ak, sk), root_bucket.bucket_name)
    writer.put_object("by-user", b"u")
    assert writer.get_object("by-user").read() == b"u"
    # a HEAD denial arrives as x-oss-err and still parses as AccessDenied
    e = expect_oss_error(lambda: nobody.head_object("doc.txt"), "AccessDenied", 403)
    assert e.ec


def test_user_list_buckets_needs_oss_listbuckets(oss_ep, root_bucket, ram_user):
    _, ak, sk = ram_user()
    service = oss2.Service(oss2.Auth(ak, sk), f"http://{oss_ep}")
    expect_oss_error(lambda: service.list_buckets(), "AccessDenied", 403)
    _, ak, sk = ram_user(policies=["AliyunOSSReadOnlyAccess"])
    names = [b.name for b in oss2.BucketIterator(oss2.Service(oss2.Auth(ak, sk), f"http://{oss_ep}"))]
    assert root_bucket.bucket_name in names


# -- bucket policies ---------------------------------------------------------------------------------

def test_bucket_policy_anonymous_allow_and_deny_wins(oss_ep, root, root_bucket, ram_user, account_id):
    name = root_bucket.bucket_name
    root_bucket.put_object("pub/hello.txt", b"public")
    root_bucket.put_object("secret.txt", b"secret")
    anon = oss2_bucket(oss_ep, oss2.AnonymousAuth(), name)
    expect_oss_error(lambda: anon.get_object("pub/hello.txt"), "AccessDenied", 403)

    user, ak, sk = ram_user(policies=["AliyunOSSFullAccess"])
    user_id = h.RpcApi("v3", oss_ep, root["AccessKeyId"], root["AccessKeySecret"]).call("GetUser", {"UserName": user})["User"]["UserId"]
    _, ak2, sk2 = ram_user()  # no RAM policy at all
    uid2 = None
    policy = {
        "Version": "1",
        "Statement": [
            {"Effect": "Allow", "Action": ["oss:GetObject"], "Principal": ["*"], "Resource": [f"acs:oss:*:{account_id}:{name}/pub/*"]},
            {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": [user_id], "Resource": [f"acs:oss:*:{account_id}:{name}/secret.txt"]},
        ],
    }
    root_bucket.put_bucket_policy(json.dumps(policy))
    assert json.loads(root_bucket.get_bucket_policy().policy) == policy

    assert anon.get_object("pub/hello.txt").read() == b"public"
    assert requests.get(f"http://{oss_ep}/{name}/pub/hello.txt").content == b"public"
    expect_oss_error(lambda: anon.get_object("secret.txt"), "AccessDenied", 403)
    expect_oss_error(lambda: anon.put_object("pub/x", b"x"), "AccessDenied", 403)

    full = oss2_bucket(oss_ep, oss2.Auth(ak, sk), name)
    e = expect_oss_error(lambda: full.get_object("secret.txt"), "AccessDenied", 403)
    assert "bucket policy" in e.message
    assert full.get_object("pub/hello.txt").read() == b"public"
    # a user without any RAM policy is granted by the bucket policy alone
    none = oss2_bucket(oss_ep, oss2.Auth(ak2, sk2), name)
    assert none.get_object("pub/hello.txt").read() == b"public"
    expect_oss_error(lambda: none.get_object("secret.txt"), "AccessDenied", 403)
    del uid2

    root_bucket.delete_bucket_policy()
    expect_oss_error(lambda: anon.get_object("pub/hello.txt"), "AccessDenied", 403)
    expect_oss_error(lambda: root_bucket.get_bucket_policy(), "NoSuchBucketPolicy", 404)
    expect_oss_error(lambda: root_bucket.put_bucket_policy('{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource ":"*","Principal":["*"]}]}'),
                     "InvalidPolicyDocument", 400)


def test_bucket_policy_grants_role_session(oss_ep, root, root_bucket, api_for, account_id, root_api):
    role = h.unique_name("oss-none")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    creds = assume(api_for, root, account_id, role)
    name = root_bucket.bucket_name
    session = oss2_bucket(oss_ep, oss2.StsAuth(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"]), name)
    expect_oss_error(lambda: session.put_object("drop/a", b"1"), "AccessDenied", 403)
    root_bucket.put_bucket_policy(json.dumps({"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": ["oss:PutObject"], "Resource": [f"acs:oss:*:{account_id}:{name}/drop/*"],
        "Principal": [f"arn:sts::{account_id}:assumed-role/{role}/*"]}]}))
    session.put_object("drop/a", b"1")
    expect_oss_error(lambda: session.put_object("other/a", b"1"), "AccessDenied", 403)


def test_public_read_acl(oss_ep, root_bucket):
    root_bucket.put_object("o.txt", b"acl")
    anon = oss2_bucket(oss_ep, oss2.AnonymousAuth(), root_bucket.bucket_name)
    expect_oss_error(lambda: anon.get_object("o.txt"), "AccessDenied", 403)
    root_bucket.put_object_acl("o.txt", oss2.OBJECT_ACL_PUBLIC_READ)
    assert root_bucket.get_object_acl("o.txt").acl == "public-read"
    assert anon.get_object("o.txt").read() == b"acl"
    root_bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    assert root_bucket.get_bucket_acl().acl == "public-read"
    assert [o.key for o in oss2.ObjectIterator(anon)] == ["o.txt"]
    expect_oss_error(lambda: anon.put_object("p", b""), "AccessDenied", 403)


def test_key_must_be_utf8(oss_ep, root_bucket):
    """A path whose `%XX` bytes are not UTF-8 names no key: `InvalidObjectName` (400), as on OSS,
    not a write or read of the key its lossy decoding gives (U+FFFD in place of the bytes). oss2
    and ali-oss cannot send such a key, so the requests go as they are to a public-read-write
    bucket and oss2 parses the answers."""
    root_bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    anon = oss2_bucket(oss_ep, oss2.AnonymousAuth(), root_bucket.bucket_name)
    anon.put_object("a\ufffdb", b"stored")  # the replacement character itself is a valid key
    for method, path in [("PUT", "a%FFb"), ("GET", "a%FFb"), ("GET", "a%E4%B8b"), ("DELETE", "a%FEb")]:
        r = requests.request(method, f"http://{oss_ep}/{root_bucket.bucket_name}/{path}", data=b"x" if method == "PUT" else None)
        e = oss2.exceptions.make_exception(oss2.http.Response(r))
        assert (e.status, e.code, e.details.get("EC")) == (400, "InvalidObjectName", "0016-00000002"), (method, path, e)
    # a copy source (oss2 signs the header as given) is a key too
    copy = {"x-oss-copy-source": f"/{root_bucket.bucket_name}/a%FFb"}
    e = expect_oss_error(lambda: root_bucket.put_object("copied", b"", headers=copy), "InvalidObjectName", 400)
    assert e.ec == "0016-00000002"
    assert [o.key for o in oss2.ObjectIterator(root_bucket)] == ["a\ufffdb"]
    assert anon.get_object("a\ufffdb").read() == b"stored"
    # the other naming rules, with OSS's EC for each
    e = expect_oss_error(lambda: root_bucket.put_object("k" * 1024, b""), "InvalidObjectName", 400)
    assert e.ec == "0016-00000002"
    root_bucket.put_object("k" * 1023, b"")


# -- objects through oss2 V1 / V4 -------------------------------------------------------------------------

def test_put_get_head_delete(bkt):
    data = b"hello, rolestack"
    r = bkt.put_object("dir/hello.txt", data, headers={"Content-Type": "text/plain", "x-oss-meta-Color": "blue"})
    assert r.etag == hashlib.md5(data).hexdigest().upper()
    assert r.crc is not None  # oss2 checked it against its own CRC-64
    got = bkt.get_object("dir/hello.txt")
    assert got.read() == data
    assert got.headers["Content-Type"] == "text/plain"
    assert got.headers["x-oss-meta-color"] == "blue"
    meta = bkt.head_object("dir/hello.txt")
    assert meta.content_length == len(data) and meta.etag == r.etag and meta.object_type == "Normal"
    assert bkt.get_object_meta("dir/hello.txt").content_length == len(data)
    assert bkt.object_exists("dir/hello.txt")
    bkt.delete_object("dir/hello.txt")
    assert not bkt.object_exists("dir/hello.txt")
    bkt.delete_object("dir/hello.txt")  # deleting a missing key is fine


def test_range_and_conditions(bkt):
    bkt.put_object("r", b"0123456789")
    assert bkt.get_object("r", byte_range=(2, 5)).read() == b"2345"
    assert bkt.get_object("r", byte_range=(7, None)).read() == b"789"
    assert bkt.get_object("r", byte_range=(None, 3)).read() == b"789"
    # OSS ignores a range not wholly inside the object (200, the whole object, no Content-Range);
    # x-oss-range-behavior: standard cuts one running past the end instead (206)
    for rng in [(8, 100), (0, 10)]:
        resp = bkt.get_object("r", byte_range=rng)
        assert (resp.status, resp.read(), resp.headers.get("Content-Range")) == (200, b"0123456789", None), rng
    resp = bkt.get_object("r", headers={"Range": "bytes=-20"})
    assert (resp.status, resp.read()) == (200, b"0123456789")
    resp = bkt.get_object("r", byte_range=(8, 100), headers={"x-oss-range-behavior": "standard"})
    assert (resp.status, resp.read(), resp.headers["Content-Range"]) == (206, b"89", "bytes 8-9/10")
    expect_oss_error(lambda: bkt.get_object("r", byte_range=(10, 12), headers={"x-oss-range-behavior": "standard"}),
                     "InvalidRange", 416)
    etag = bkt.head_object("r").etag
    with pytest.raises(oss2.exceptions.NotModified):
        bkt.get_object("r", headers={"If-None-Match": f'"{etag}"'})
    e = expect_oss_error(lambda: bkt.get_object("r", headers={"If-Match": '"0000"'}), "PreconditionFailed", 412)
    assert e.ec == "0017-00001001"
    assert bkt.get_object("r", headers={"If-Match": f'"{etag}"'}).read() == b"0123456789"


def test_errors_parse(bkt, oss_ep, root):
    e = expect_oss_error(lambda: bkt.get_object("missing"), "NoSuchKey", 404)
    assert e.ec == "0026-00000001"
    with pytest.raises(oss2.exceptions.NotFound):
        bkt.head_object("missing")
    nob = oss2_bucket(oss_ep, oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), bucket_name("absent"))
    expect_oss_error(lambda: nob.get_object("k"), "NoSuchBucket", 404)
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        nob.object_exists("k")
    bad = oss2_bucket(oss_ep, oss2.Auth(root["AccessKeyId"], "wrong-secret"), bkt.bucket_name)
    e = expect_oss_error(lambda: bad.get_object("k"), "SignatureDoesNotMatch", 403)
    assert "StringToSign" in e.details or "StringToSign" in str(e)
    assert e.details.get("SignatureProvided"), "the header's signature is echoed"
    # ... exactly as sent: a presigned URL's Signature parameter comes back in SignatureProvided
    url = bad.sign_url("GET", "k", 60)
    sent = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["Signature"][0]
    r = requests.get(url)
    assert r.status_code == 403 and f"<SignatureProvided>{sent}</SignatureProvided>" in r.text
    unknown = oss2_bucket(oss_ep, oss2.Auth("LTAInotakey", "x"), bkt.bucket_name)
    expect_oss_error(lambda: unknown.get_object("k"), "InvalidAccessKeyId", 403)
    bkt.put_object("full", b"x")
    expect_oss_error(lambda: bkt.delete_bucket(), "BucketNotEmpty", 409)


def test_non_ascii_and_special_keys(bkt):
    keys = ["中文/文件 名.txt", "a+b=c&d?e#f", "emoji-🎉", "sp ace/ /x", "percent%2Fliteral", "ü/ñ"]
    for k in keys:
        bkt.put_object(k, k.encode())
    for k in keys:
        assert bkt.get_object(k).read() == k.encode()
    listed = [o.key for o in oss2.ObjectIterator(bkt)]
    assert listed == sorted(keys, key=lambda s: s.encode())
    assert [o.key for o in oss2.ObjectIteratorV2(bkt, prefix="中文/")] == ["中文/文件 名.txt"]
    result = bkt.batch_delete_objects(keys)
    assert sorted(result.deleted_keys) == sorted(keys)
    assert list(oss2.ObjectIterator(bkt)) == []


def test_list_v1_pagination_and_delimiter(bkt):
    keys = [f"a/{i}" for i in range(5)] + ["b/x", "b/y/z", "c"]
    for k in keys:
        bkt.put_object(k, b"")
    page = bkt.list_objects(max_keys=3)
    assert [o.key for o in page.object_list] == ["a/0", "a/1", "a/2"] and page.is_truncated
    page2 = bkt.list_objects(marker=page.next_marker, max_keys=3)
    assert [o.key for o in page2.object_list] == ["a/3", "a/4", "b/x"]
    assert [o.key for o in oss2.ObjectIterator(bkt, max_keys=2)] == sorted(keys)
    top = bkt.list_objects(delimiter="/")
    assert top.prefix_list == ["a/", "b/"] and [o.key for o in top.object_list] == ["c"]
    # pagination across common prefixes returns each prefix once
    it = list(oss2.ObjectIterator(bkt, delimiter="/", max_keys=1))
    assert [o.key for o in it] == ["a/", "b/", "c"]
    under_b = bkt.list_objects(prefix="b/", delimiter="/")
    assert under_b.prefix_list == ["b/y/"] and [o.key for o in under_b.object_list] == ["b/x"]


def test_list_v2(bkt):
    for k in ["k1", "k2", "k3", "p/q"]:
        bkt.put_object(k, b"v2")
    page = bkt.list_objects_v2(max_keys=2)
    assert [o.key for o in page.object_list] == ["k1", "k2"] and page.is_truncated
    page2 = bkt.list_objects_v2(continuation_token=page.next_continuation_token, max_keys=2)
    assert [o.key for o in page2.object_list] == ["k3", "p/q"] and not page2.is_truncated
    assert [o.key for o in bkt.list_objects_v2(start_after="k2").object_list] == ["k3", "p/q"]
    owned = bkt.list_objects_v2(fetch_owner=True)
    assert owned.object_list[0].owner is not None and owned.object_list[0].owner.id
    assert bkt.list_objects_v2().object_list[0].owner is None
    d = bkt.list_objects_v2(delimiter="/")
    assert d.prefix_list == ["p/"] and len(d.object_list) == 3
    assert [o.key for o in oss2.ObjectIteratorV2(bkt, max_keys=1)] == ["k1", "k2", "k3", "p/q"]


def test_list_argument_limits(bkt):
    """ListObjects (v1, v2) refuses a prefix, marker or start-after of 1024 bytes or more (no key
    is that long; 1023 bytes still list) and a delimiter of more than one character, with the ECs
    OSS documents for them; ListObjectVersions a prefix over 1024 bytes (EC 0012-00000103)."""
    bkt.put_object("k", b"")
    assert bkt.list_objects(prefix="p" * 1023).object_list == []
    e = expect_oss_error(lambda: bkt.list_objects(prefix="p" * 1024), "InvalidArgument", 400)
    assert e.ec == "0015-00000403"
    e = expect_oss_error(lambda: bkt.list_objects(marker="m" * 1024), "InvalidArgument", 400)
    assert e.ec == "0015-00000405"
    e = expect_oss_error(lambda: bkt.list_objects_v2(prefix="中" * 342), "InvalidArgument", 400)  # 1026 bytes
    assert e.ec == "0015-00000403"
    e = expect_oss_error(lambda: bkt.list_objects_v2(start_after="s" * 1024), "InvalidArgument", 400)
    assert e.ec == "0015-00000405"
    # the delimiter groups by one character (any script)
    assert bkt.list_objects(delimiter="中").object_list[0].key == "k"
    for listing in (bkt.list_objects, bkt.list_objects_v2):
        e = expect_oss_error(lambda: listing(delimiter="ab"), "InvalidArgument", 400)
        assert e.ec == "0015-00000406"
    e = expect_oss_error(lambda: bkt.list_object_versions(prefix="v" * 1025), "InvalidArgument", 400)
    assert e.ec == "0012-00000103"


def test_list_max_keys_range(bkt, oss_ep, root):
    """OSS lists with `max-keys` 1 to 1000: 0 and 1001 are `InvalidArgument` with the EC of each
    listing (ListObjects v1/v2 0015-00000402, ListObjectVersions 0012-00000102, ListBuckets
    0017-00000289); 1 and 1000 list."""
    bkt.put_object("k", b"")
    for n in (1, 1000):
        assert [o.key for o in bkt.list_objects(max_keys=n).object_list] == ["k"]
        assert [o.key for o in bkt.list_objects_v2(max_keys=n).object_list] == ["k"]
    service = oss2.Service(bkt.auth, f"http://{oss_ep}", region=REGION)
    for n in (0, 1001):
        for listing, ec in [(bkt.list_objects, "0015-00000402"), (bkt.list_objects_v2, "0015-00000402"),
                            (bkt.list_object_versions, "0012-00000102"), (service.list_buckets, "0017-00000289")]:
            e = expect_oss_error(lambda: listing(max_keys=n), "InvalidArgument", 400)
            assert e.ec == ec, (listing, n, e)


def test_query_must_be_utf8(oss_ep, root_bucket):
    """A query value whose `%XX` bytes are not UTF-8 (`prefix=%FF`) is `InvalidArgument`, not
    matched after a lossy decode that would make it the key with U+FFFD. oss2 cannot send one,
    so the requests go as they are to a public-read bucket and oss2 parses the answers."""
    root_bucket.put_object("a\ufffdb", b"")
    root_bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    base = f"http://{oss_ep}/{root_bucket.bucket_name}/"
    for query in ["prefix=a%FF", "marker=a%FE", "delimiter=%FF", "list-type=2&start-after=%E4%B8"]:
        r = requests.get(f"{base}?{query}", timeout=10)
        e = oss2.exceptions.make_exception(oss2.http.Response(r))
        assert (e.status, e.code) == (400, "InvalidArgument"), (query, e)
    # the replacement character itself, escaped as UTF-8, still lists the key
    r = requests.get(f"{base}?prefix=a%EF%BF%BD", timeout=10)
    assert r.status_code == 200 and "<Key>a\ufffdb</Key>" in r.text


def test_multipart(bkt):
    part_size = 100 * 1024
    data = bytes(range(256)) * ((2 * part_size + 5000) // 256 + 1)
    key = "multi/part 文件.bin"
    upload_id = bkt.init_multipart_upload(key, headers={"x-oss-meta-kind": "mp"}).upload_id
    parts = []
    for n, start in enumerate(range(0, len(data), part_size), start=1):
        r = bkt.upload_part(key, upload_id, n, data[start:start + part_size])
        parts.append(oss2.models.PartInfo(n, r.etag))
    listed = bkt.list_parts(key, upload_id)
    assert [p.part_number for p in listed.parts] == [1, 2, 3]
    uploads = [u.upload_id for u in oss2.MultipartUploadIterator(bkt)]
    assert upload_id in uploads
    result = bkt.complete_multipart_upload(key, upload_id, parts)
    assert result.status == 200 and result.crc is not None
    got = bkt.get_object(key)
    assert got.read() == data
    assert got.headers["x-oss-meta-kind"] == "mp" and got.headers["x-oss-object-type"] == "Multipart"
    assert bkt.head_object(key).etag.endswith("-3")
    expect_oss_error(lambda: bkt.list_parts(key, upload_id), "NoSuchUpload", 404)

    aborted = bkt.init_multipart_upload("aborted").upload_id
    bkt.upload_part("aborted", aborted, 1, b"x")
    bkt.abort_multipart_upload("aborted", aborted)
    assert aborted not in [u.upload_id for u in oss2.MultipartUploadIterator(bkt)]


def test_complete_multipart_forbid_overwrite(bkt):
    """CompleteMultipartUpload with `x-oss-forbid-overwrite: true` (listed parts or
    `x-oss-complete-all`) does not replace an existing object: `FileAlreadyExists` (409), the
    object and the upload stay as they were; a new key completes."""
    forbid = {"x-oss-forbid-overwrite": "true"}
    bkt.put_object("taken", b"old")
    upload_id = bkt.init_multipart_upload("taken").upload_id
    parts = [oss2.models.PartInfo(1, bkt.upload_part("taken", upload_id, 1, b"new").etag)]
    for attempt in [lambda: bkt.complete_multipart_upload("taken", upload_id, parts, headers=forbid),
                    lambda: bkt.complete_multipart_upload("taken", upload_id, None, headers={**forbid, "x-oss-complete-all": "yes"})]:
        e = expect_oss_error(attempt, "FileAlreadyExists", 409)
        assert e.ec == "0042-00000214"
    assert bkt.get_object("taken").read() == b"old"
    assert [p.part_number for p in bkt.list_parts("taken", upload_id).parts] == [1]
    bkt.complete_multipart_upload("taken", upload_id, parts)  # without the header it overwrites
    assert bkt.get_object("taken").read() == b"new"
    fresh = bkt.init_multipart_upload("fresh").upload_id
    fresh_parts = [oss2.models.PartInfo(1, bkt.upload_part("fresh", fresh, 1, b"f").etag)]
    assert bkt.complete_multipart_upload("fresh", fresh, fresh_parts, headers=forbid).status == 200


def test_initiate_multipart_forbid_overwrite(bkt):
    """InitiateMultipartUpload takes `x-oss-forbid-overwrite` too (OSS lists it): on a key that
    has an object it is `FileAlreadyExists` before any part is sent, and no upload is left;
    `false` (any case) or a free key starts one. A value other than true/false is refused on
    every write that takes it (EC 0017-00000279) and changes nothing."""
    bkt.put_object("held", b"old")
    e = expect_oss_error(lambda: bkt.init_multipart_upload("held", headers={"x-oss-forbid-overwrite": "TRUE"}), "FileAlreadyExists", 409)
    assert e.ec == "0042-00000214"
    assert [u.key for u in oss2.MultipartUploadIterator(bkt, prefix="held")] == []
    assert bkt.init_multipart_upload("held", headers={"x-oss-forbid-overwrite": "False"}).upload_id
    assert bkt.init_multipart_upload("free", headers={"x-oss-forbid-overwrite": "true"}).upload_id
    for write in [lambda h: bkt.put_object("held", b"new", headers=h),
                  lambda h: bkt.init_multipart_upload("held", headers=h),
                  lambda h: bkt.copy_object(bkt.bucket_name, "held", "held", headers=h),
                  lambda h: bkt.put_symlink("held", "held", headers=h)]:
        e = expect_oss_error(lambda: write({"x-oss-forbid-overwrite": "yes"}), "InvalidArgument", 400)
        assert e.ec == "0017-00000279"
    assert bkt.get_object("held").read() == b"old"
    assert len(list(oss2.MultipartUploadIterator(bkt, prefix="held"))) == 1


def test_complete_all_takes_no_part_list(bkt):
    """`x-oss-complete-all: yes` lets OSS list the parts; a part list beside it is refused (EC
    0042-00000216) and the upload stays, to complete without one."""
    upload_id = bkt.init_multipart_upload("all").upload_id
    part = bkt.upload_part("all", upload_id, 1, b"a")
    complete_all = {"x-oss-complete-all": "yes"}
    e = expect_oss_error(lambda: bkt.complete_multipart_upload("all", upload_id, [oss2.models.PartInfo(1, part.etag)], headers=complete_all),
                         "InvalidArgument", 400)
    assert e.ec == "0042-00000216"
    assert bkt.complete_multipart_upload("all", upload_id, None, headers=complete_all).status == 200
    assert bkt.get_object("all").read() == b"a"


def test_multipart_small_part_rejected_and_part_copy(bkt):
    key = "small"
    uid = bkt.init_multipart_upload(key).upload_id
    p1 = bkt.upload_part(key, uid, 1, b"a" * 10)
    p2 = bkt.upload_part(key, uid, 2, b"b" * 10)
    e = expect_oss_error(lambda: bkt.complete_multipart_upload(key, uid, [oss2.models.PartInfo(1, p1.etag), oss2.models.PartInfo(2, p2.etag)]),
                         "EntityTooSmall", 400)
    assert e.ec == "0042-00000213"
    for number in [0, 10001]:
        e = expect_oss_error(lambda: bkt.upload_part(key, uid, number, b"x"), "InvalidArgument", 400)
        assert (e.ec, e.details.get("ArgumentName"), e.details.get("ArgumentValue")) == ("0017-00000220", "PartNumber", str(number))
    bkt.abort_multipart_upload(key, uid)

    src = b"S" * (150 * 1024)
    bkt.put_object("copy-src", src)
    uid = bkt.init_multipart_upload("copied").upload_id
    r1 = bkt.upload_part_copy(bkt.bucket_name, "copy-src", (0, 102399), "copied", uid, 1)
    r2 = bkt.upload_part_copy(bkt.bucket_name, "copy-src", (102400, len(src) - 1), "copied", uid, 2)
    bkt.complete_multipart_upload("copied", uid, [oss2.models.PartInfo(1, r1.etag), oss2.models.PartInfo(2, r2.etag)])
    assert bkt.get_object("copied").read() == src


def test_resumable_upload_and_download(bkt, tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(b"R" * (300 * 1024 + 7))
    oss2.resumable_upload(bkt, "resumable.bin", str(src), multipart_threshold=100 * 1024, part_size=100 * 1024,
                          store=oss2.ResumableStore(root=str(tmp_path)))
    dst = tmp_path / "back.bin"
    oss2.resumable_download(bkt, "resumable.bin", str(dst), multiget_threshold=100 * 1024, part_size=100 * 1024,
                            store=oss2.ResumableDownloadStore(root=str(tmp_path)))
    assert dst.read_bytes() == src.read_bytes()


def test_copy_and_metadata_directive(bkt):
    bkt.put_object("orig", b"copy me", headers={"x-oss-meta-a": "1", "Content-Type": "text/x-orig"})
    bkt.copy_object(bkt.bucket_name, "orig", "dup")
    got = bkt.get_object("dup")
    assert got.read() == b"copy me" and got.headers["x-oss-meta-a"] == "1" and got.headers["Content-Type"] == "text/x-orig"
    bkt.update_object_meta("dup", {"x-oss-meta-b": "2", "Content-Type": "text/plain"})
    head = bkt.head_object("dup")
    assert head.headers.get("x-oss-meta-b") == "2" and "x-oss-meta-a" not in head.headers
    assert bkt.get_object("dup").read() == b"copy me"
    expect_oss_error(lambda: bkt.copy_object(bkt.bucket_name, "no-such", "x"), "NoSuchKey", 404)



def metadata_writes(bkt, new_key, existing_key, headers):
    """Every write that takes user metadata, with `headers`: PutObject and InitiateMultipartUpload
    and AppendObject of `new_key`, CopyObject with REPLACE of `existing_key` onto itself."""
    return [
        lambda: bkt.put_object(new_key, b"x", headers=headers),
        lambda: bkt.update_object_meta(existing_key, headers),
        lambda: bkt.init_multipart_upload(new_key, headers=headers),
        lambda: bkt.append_object(new_key, 0, b"x", headers=headers),
    ]

def test_user_metadata_below_8_kb(bkt):
    """All `x-oss-meta-*` names and values of a write together stay below 8 KB: PutObject,
    CopyObject with REPLACE, InitiateMultipartUpload and AppendObject refuse more (EC
    0011-00000002) and store nothing."""
    fits = {"x-oss-meta-a": "v" * (8191 - len("x-oss-meta-a"))}
    bkt.put_object("fits", b"x", headers=fits)
    assert len(bkt.head_object("fits").headers["x-oss-meta-a"]) == 8191 - len("x-oss-meta-a")
    split = {"x-oss-meta-a": "v" * 4090, "x-oss-meta-bb": "w" * 4090}  # 8192 bytes with the names
    for write in metadata_writes(bkt, "big", "fits", split):
        e = expect_oss_error(write, "InvalidArgument", 400)
        assert e.ec == "0011-00000002"
    assert not bkt.object_exists("big") and list(oss2.MultipartUploadIterator(bkt)) == []
    assert bkt.head_object("fits").headers["x-oss-meta-a"] == fits["x-oss-meta-a"]



def test_user_metadata_names(bkt):
    """OSS's user metadata names have letters, digits and `-` only: PutObject, CopyObject with
    REPLACE, InitiateMultipartUpload and AppendObject refuse `_`, `.` or a space (EC
    0011-00000004) and store nothing; upper case is folded, as before."""
    bkt.put_object("named", b"x", headers={"x-oss-meta-Last-Modified-2": "v"})
    assert bkt.head_object("named").headers["x-oss-meta-last-modified-2"] == "v"
    for name in ["x-oss-meta-my_key", "x-oss-meta-a.b"]:
        for write in metadata_writes(bkt, "bad", "named", {name: "v"}):
            e = expect_oss_error(write, "InvalidArgument", 400)
            assert e.ec == "0011-00000004", (name, e)
    assert not bkt.object_exists("bad") and list(oss2.MultipartUploadIterator(bkt)) == []
    assert bkt.head_object("named").headers["x-oss-meta-last-modified-2"] == "v"

def test_append(bkt):
    r1 = bkt.append_object("log", 0, b"first ")
    assert r1.next_position == 6
    r2 = bkt.append_object("log", r1.next_position, b"second", init_crc=r1.crc)
    assert r2.next_position == 12
    assert bkt.get_object("log").read() == b"first second"
    e = expect_oss_error(lambda: bkt.append_object("log", 3, b"x"), "PositionNotEqualToLength", 409)
    assert e.headers.get("x-oss-next-append-position") == "12" and e.ec == "0026-00000016"
    bkt.put_object("normal", b"n")
    e = expect_oss_error(lambda: bkt.append_object("normal", 1, b"x"), "ObjectNotAppendable", 409)
    assert e.ec == "0026-00000017"


def test_presigned_urls(bkt, auth_version):
    bkt.put_object("signed.txt", b"presigned")
    url = bkt.sign_url("GET", "signed.txt", 60)
    assert requests.get(url).content == b"presigned"
    put_url = bkt.sign_url("PUT", "uploaded.txt", 60)
    assert requests.put(put_url, data=b"via url").status_code == 200
    assert bkt.get_object("uploaded.txt").read() == b"via url"
    tampered = bkt.sign_url("GET", "signed.txt", 60).replace("signed.txt", "uploaded.txt")
    assert requests.get(tampered).status_code == 403
    expired = bkt.sign_url("GET", "signed.txt", -5 if auth_version == "v1" else 1)
    if auth_version == "v4":
        time.sleep(2.1)
    r = requests.get(expired)
    assert r.status_code == 403 and b"<Code>AccessDenied</Code>" in r.content


def test_presigned_urls_cannot_be_stretched_or_extended(oss_ep, root, root_bucket, monkeypatch):
    """A signed URL is exactly what was signed: a sub-resource appended after signing
    (`x-oss-process`) breaks the signature; a V4 URL dated ahead is not valid yet, so dating it a
    month ahead cannot stretch its seven days; expired URLs carry their scheme's EC."""
    root_bucket.put_object("pinned.txt", b"p")
    v1 = oss2_bucket(oss_ep, oss2_auth(root["AccessKeyId"], root["AccessKeySecret"]), root_bucket.bucket_name)
    url = v1.sign_url("GET", "pinned.txt", 60)
    assert requests.get(url).content == b"p"
    r = requests.get(url + "&x-oss-process=image/info")
    assert r.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in r.content, r.content
    r = requests.get(v1.sign_url("GET", "pinned.txt", -5))
    assert r.status_code == 403 and r.headers["x-oss-ec"] == "0002-00000069" and b"Request has expired" in r.content
    v4 = oss2_bucket(oss_ep, oss2_auth(root["AccessKeyId"], root["AccessKeySecret"], "v4"), root_bucket.bucket_name)
    import datetime as dt
    import oss2.auth

    class Ahead(dt.datetime):
        @classmethod
        def utcnow(cls):
            return dt.datetime.utcnow() + dt.timedelta(days=30)

    monkeypatch.setattr(oss2.auth, "datetime", Ahead)
    ahead = v4.sign_url("GET", "pinned.txt", 604800)
    monkeypatch.undo()
    r = requests.get(ahead)
    assert r.status_code == 403 and r.headers["x-oss-ec"] == "0002-00000235", r.content
    assert requests.get(v4.sign_url("GET", "pinned.txt", 60)).content == b"p"


def test_signature_v2(oss_ep, root, root_bucket, api_for, account_id, read_only_role):
    """oss2's AuthV2 (`OSS2`, HMAC-SHA256 over every query parameter): objects, listings and signed
    URLs with a key and with a role session; a changed or added parameter breaks the signature."""
    v2 = oss2.Bucket(oss2.AuthV2(root["AccessKeyId"], root["AccessKeySecret"]), f"http://{oss_ep}", root_bucket.bucket_name)
    v2.put_object("v2/a b+c.txt", b"two", headers={"x-oss-meta-k": "v"})
    got = v2.get_object("v2/a b+c.txt", byte_range=(0, 1))
    assert got.read() == b"tw" and got.headers["x-oss-meta-k"] == "v"
    assert [o.key for o in oss2.ObjectIterator(v2, prefix="v2/")] == ["v2/a b+c.txt"]
    assert v2.get_bucket_acl().acl == "private"
    url = v2.sign_url("GET", "v2/a b+c.txt", 60)
    assert requests.get(url).content == b"two"
    for tampered in (url + "&acl", url.replace("x-oss-expires=", "x-oss-expires=1")):
        r = requests.get(tampered)
        assert r.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in r.content, r.content
    r = requests.get(v2.sign_url("GET", "v2/a b+c.txt", -5))
    assert r.status_code == 403 and b"Request has expired" in r.content
    creds = assume(api_for, root, account_id, read_only_role)
    session = oss2.Bucket(oss2.StsAuth(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"], auth_version="v2"),
                          f"http://{oss_ep}", root_bucket.bucket_name)
    assert session.get_object("v2/a b+c.txt").read() == b"two"
    assert requests.get(session.sign_url("GET", "v2/a b+c.txt", 60)).content == b"two"
    expect_oss_error(lambda: session.put_object("v2/denied", b"x"), "AccessDenied", 403)
    wrong = oss2.Bucket(oss2.AuthV2(root["AccessKeyId"], "not-the-secret"), f"http://{oss_ep}", root_bucket.bucket_name)
    expect_oss_error(lambda: wrong.get_object("v2/a b+c.txt"), "SignatureDoesNotMatch", 403)


def test_presigned_url_with_sts_token(oss_ep, root, root_bucket, api_for, account_id, read_only_role):
    root_bucket.put_object("for-session", b"s")
    creds = assume(api_for, root, account_id, read_only_role)
    for version in ["v1", "v4"]:
        b = oss2_bucket(oss_ep, oss2_auth(creds["AccessKeyId"], creds["AccessKeySecret"], version, creds["SecurityToken"]),
                        root_bucket.bucket_name)
        url = b.sign_url("GET", "for-session", 60)
        assert "security-token" in url
        assert requests.get(url).content == b"s"


def test_batch_delete_and_quiet(bkt):
    for k in ["d1", "d2", "d3"]:
        bkt.put_object(k, b"")
    assert sorted(bkt.batch_delete_objects(["d1", "d2", "never"]).deleted_keys) == ["d1", "d2", "never"]
    assert [o.key for o in oss2.ObjectIterator(bkt)] == ["d3"]


def test_batch_delete_refuses_what_oss_refuses(bkt):
    """DeleteMultipleObjects as OSS checks it: Content-MD5 required, Quiet true/false, every Object
    with a non-empty Key — each refusal with its own EC, and nothing deleted."""
    bkt.put_object("kept", b"k")

    def post(doc: bytes, md5=True):
        headers = {"Content-MD5": base64.b64encode(hashlib.md5(doc).digest()).decode()} if md5 else {}
        return lambda: bkt._do("POST", bkt.bucket_name, "", params={"delete": ""}, data=doc, headers=headers)

    ok_doc = b"<Delete><Quiet>false</Quiet><Object><Key>kept</Key></Object></Delete>"
    cases = [
        (post(ok_doc, md5=False), "MissingArgument", "0016-00000606"),
        (post(b"<Delete><Quiet>maybe</Quiet><Object><Key>kept</Key></Object></Delete>"), "MalformedXML", "0016-00000610"),
        (post(b"<Delete><Object><Key></Key></Object></Delete>"), "MalformedXML", "0016-00000611"),
        (post(b"<Delete><Object><VersionId>x</VersionId></Object></Delete>"), "MalformedXML", "0016-00000613"),
        (post(b"<Delete><Quiet>true</Quiet></Delete>"), "MalformedXML", "0016-00000615"),
    ]
    for call, code, ec in cases:
        assert expect_oss_error(call, code, 400).ec == ec
    assert bkt.object_exists("kept")
    post(ok_doc)()
    assert not bkt.object_exists("kept")


def test_listing_and_encoding_arguments_are_checked(bkt):
    """list-type only accepts 2 and encoding-type only url (OSS's ECs); nothing else is ignored."""
    bkt.put_object("a", b"")
    e = expect_oss_error(lambda: bkt._do("GET", bkt.bucket_name, "", params={"list-type": "3"}), "InvalidArgument", 400)
    assert e.ec == "0015-00000401"
    for params in [{"encoding-type": "bogus"}, {"list-type": "2", "encoding-type": "urlencode"}]:
        e = expect_oss_error(lambda: bkt._do("GET", bkt.bucket_name, "", params=params), "InvalidArgument", 400)
        assert e.ec == "0017-00000235" and e.details.get("ArgumentName") == "encoding-type"
    assert [o.key for o in bkt.list_objects_v2(encoding_type="url").object_list] == ["a"]


def test_conditions_follow_http_precedence_and_304_names_the_object(bkt):
    bkt.put_object("c", b"c")
    head = bkt.head_object("c")
    past, future = formatdate(time.time() - 86400, usegmt=True), formatdate(time.time() + 86400, usegmt=True)
    # If-Match decides when present, If-Unmodified-Since only without it (RFC 7232 section 6)
    assert bkt.get_object("c", headers={"If-Match": f'"{head.etag}"', "If-Unmodified-Since": past}).read() == b"c"
    expect_oss_error(lambda: bkt.get_object("c", headers={"If-Unmodified-Since": past}), "PreconditionFailed", 412)
    # If-None-Match decides when present, If-Modified-Since only without it
    assert bkt.get_object("c", headers={"If-None-Match": '"0000"', "If-Modified-Since": future}).read() == b"c"
    r = requests.get(bkt.sign_url("GET", "c", 60), headers={"If-None-Match": f'"{head.etag}"'})
    assert r.status_code == 304 and r.content == b""
    assert r.headers["ETag"] == f'"{head.etag}"' and r.headers["Last-Modified"] == head.headers["Last-Modified"]


def test_buckets(oss_ep, root, auth_version):
    auth = oss2_auth(root["AccessKeyId"], root["AccessKeySecret"], auth_version)
    base = bucket_name("lb")
    names = [f"{base}-{i}" for i in range(3)]
    for n in names:
        oss2_bucket(oss_ep, auth, n).create_bucket(oss2.BUCKET_ACL_PRIVATE)
    try:
        service = oss2.Service(auth, f"http://{oss_ep}", region=REGION)
        page = service.list_buckets(prefix=base, max_keys=2)
        assert [b.name for b in page.buckets] == names[:2] and page.is_truncated
        assert [b.name for b in oss2.BucketIterator(service, prefix=base, max_keys=1)] == names
        b = oss2_bucket(oss_ep, auth, names[0])
        info = b.get_bucket_info()
        assert info.name == names[0] and info.acl.grant == "private" and info.owner.id == root["AccountId"]
        assert b.get_bucket_location().location == "oss-cn-hangzhou"
        # asked again by its owner: the same settings are fine, another storage class is not
        b0 = oss2_bucket(oss_ep, auth, names[0])
        b0.create_bucket(oss2.BUCKET_ACL_PRIVATE)
        e = expect_oss_error(lambda: b0.create_bucket(input=oss2.models.BucketCreateConfig(oss2.BUCKET_STORAGE_CLASS_IA)),
                             "BucketAlreadyExists", 409)
        assert "storage class" in e.message
        assert b0.get_bucket_info().storage_class == oss2.BUCKET_STORAGE_CLASS_STANDARD
        # oss2 refuses bad names client-side; a raw request gets the server's answer
        r = requests.put(f"http://{oss_ep}/Bad_Name/")
        assert r.status_code == 400 and b"<Code>InvalidBucketName</Code>" in r.content
    finally:
        for n in names:
            oss2_bucket(oss_ep, auth, n).delete_bucket()
    expect_oss_error(lambda: oss2_bucket(oss_ep, auth, names[0]).get_bucket_info(), "NoSuchBucket", 404)


def test_content_md5_checked(bkt):
    good = base64.b64encode(hashlib.md5(b"abc").digest()).decode()
    bkt.put_object("md5", b"abc", headers={"Content-MD5": good})
    bad = base64.b64encode(hashlib.md5(b"xyz").digest()).decode()
    e = expect_oss_error(lambda: bkt.put_object("md5", b"abc", headers={"Content-MD5": bad}), "InvalidDigest", 400)
    assert e.ec == "0017-00000503"
    e = expect_oss_error(lambda: bkt.put_object("md5", b"abc", headers={"Content-MD5": "bm90LWFuLW1kNQ=="}), "InvalidDigest", 400)
    assert e.ec == "0017-00000502"
    e = expect_oss_error(lambda: bkt.put_object("md5", b"abc", headers={"x-oss-forbid-overwrite": "true"}), "FileAlreadyExists", 409)
    assert e.ec == "0026-00000002"


def test_a_garbled_document_changes_nothing(oss_ep, root, root_bucket):
    """A Content-MD5 sent with a document (bucket settings, tags, CompleteMultipartUpload) is
    checked as for object bodies: a mismatch is InvalidDigest and nothing changes."""
    def md5(data):
        return base64.b64encode(hashlib.md5(data).digest()).decode()
    b = root_bucket
    versioning = b"<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"
    for bad in (md5(b"other"), "not-base64"):
        e = expect_oss_error(lambda: b._Bucket__do_bucket("PUT", data=versioning, params={"versioning": ""},
                                                          headers={"Content-MD5": bad}), "InvalidDigest", 400)
        assert e.ec in ("0017-00000502", "0017-00000503"), e.ec
    assert b.get_bucket_versioning().status is None
    b.put_object("tagged", b"t", headers={"x-oss-tagging": "k=1"})
    tags = b"<Tagging><TagSet><Tag><Key>k</Key><Value>2</Value></Tag></TagSet></Tagging>"
    expect_oss_error(lambda: b._Bucket__do_object("PUT", "tagged", data=tags, params={"tagging": ""},
                                                  headers={"Content-MD5": md5(b"x")}), "InvalidDigest", 400)
    assert b.get_object_tagging("tagged").tag_set.tagging_rule == {"k": "1"}
    upload = b.init_multipart_upload("parts").upload_id
    etag = b.upload_part("parts", upload, 1, b"p").etag
    done = f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"{etag}\"</ETag></Part></CompleteMultipartUpload>"
    expect_oss_error(lambda: b._Bucket__do_object("POST", "parts", data=done.encode(), params={"uploadId": upload},
                                                  headers={"Content-MD5": md5(b"x")}), "InvalidDigest", 400)
    assert not b.object_exists("parts")
    b._Bucket__do_object("POST", "parts", data=done.encode(), params={"uploadId": upload}, headers={"Content-MD5": md5(done.encode())})
    assert b.get_object("parts").read() == b"p"


def test_v4_signing_region(oss_ep, root, root_bucket):
    """A V4 signature scoped to a region rolestack does not serve is refused as OSS refuses it."""
    root_bucket.put_object("a.txt", b"a")
    bad = oss2.Bucket(oss2.AuthV4(root["AccessKeyId"], root["AccessKeySecret"]), f"http://{oss_ep}", root_bucket.bucket_name,
                      region="cn-hangzhou-test-1")
    for call in (lambda: bad.get_object("a.txt"), lambda: bad.head_object("a.txt")):
        e = expect_oss_error(call, "InvalidArgument", 400)
        assert e.ec == "0002-00000226" and e.message == "Invalid signing region in Authorization header."
    good = oss2.Bucket(oss2.AuthV4(root["AccessKeyId"], root["AccessKeySecret"]), f"http://{oss_ep}", root_bucket.bucket_name,
                       region="cn-shanghai")
    assert good.get_object("a.txt").read() == b"a"


def test_clock_skew(oss_ep, root, root_bucket):
    """A V1 request dated an hour ago: RequestTimeTooSkewed (signed correctly, so only the date is wrong)."""
    date = formatdate(time.time() - 3600, usegmt=True)
    resource = f"/{root_bucket.bucket_name}/"
    sts = f"GET\n\n\n{date}\n{resource}"
    import hmac
    sig = base64.b64encode(hmac.new(root["AccessKeySecret"].encode(), sts.encode(), hashlib.sha1).digest()).decode()
    r = requests.get(f"http://{oss_ep}{resource}", headers={"Date": date, "Authorization": f"OSS {root['AccessKeyId']}:{sig}"})
    assert r.status_code == 403 and b"<Code>RequestTimeTooSkewed</Code>" in r.content
    assert len(r.headers["x-oss-request-id"]) == 24


def test_large_object_streams(bkt):
    chunk = hashlib.sha256(b"seed").digest() * 1024  # 32 KiB
    body = io.BytesIO(chunk * 320)  # 10 MiB
    bkt.put_object("big", body)
    md5 = hashlib.md5()
    n = 0
    for piece in bkt.get_object("big"):
        md5.update(piece)
        n += len(piece)
    assert n == 10 * 1024 * 1024 and md5.hexdigest() == hashlib.md5(chunk * 320).hexdigest()


def test_virtual_hosted_style(oss_ep, root, root_bucket):
    """`<bucket>.<ip>:<port>` addressing reaches the same objects (Host header set by hand)."""
    root_bucket.put_object("vh.txt", b"virtual")
    root_bucket.put_object_acl("vh.txt", oss2.OBJECT_ACL_PUBLIC_READ)
    r = requests.get(f"http://{oss_ep}/vh.txt", headers={"Host": f"{root_bucket.bucket_name}.{oss_ep}"})
    assert r.status_code == 200 and r.content == b"virtual"


# -- alibabacloud-oss-v2 ------------------------------------------------------------------------------

def test_oss_v2_complete_parts_out_of_order(oss_ep, root, root_bucket):
    """oss-v2 sends the part list as given (oss2 sorts it): parts out of ascending order are
    `InvalidPartOrder` with OSS's EC 0042-00000209, and the upload stays."""
    import alibabacloud_oss_v2 as oss
    c = v2_client(oss_ep, root["AccessKeyId"], root["AccessKeySecret"])
    name = root_bucket.bucket_name
    init = c.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=name, key="order"))
    etags = [c.upload_part(oss.UploadPartRequest(bucket=name, key="order", upload_id=init.upload_id, part_number=n,
                                                 body=b"o" * (100 * 1024))).etag for n in (1, 2)]
    with pytest.raises(oss.exceptions.OperationError) as info:
        c.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
            bucket=name, key="order", upload_id=init.upload_id,
            complete_multipart_upload=oss.CompleteMultipartUpload(parts=[
                oss.UploadPart(part_number=2, etag=etags[1]), oss.UploadPart(part_number=1, etag=etags[0])])))
    err = info.value.unwrap()
    assert (err.status_code, err.code, err.ec) == (400, "InvalidPartOrder", "0042-00000209")
    assert [p.part_number for p in root_bucket.list_parts("order", init.upload_id).parts] == [1, 2]


def v2_client(endpoint, ak, sk, token=None, signature_version=None):
    import alibabacloud_oss_v2 as oss
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(ak, sk, token)
    cfg.region = REGION
    cfg.endpoint = f"http://{endpoint}"
    if signature_version:
        cfg.signature_version = signature_version
    return oss.Client(cfg)


@pytest.mark.parametrize("sig", ["v4", "v1"])
def test_oss_v2_client(oss_ep, root, sig):
    import alibabacloud_oss_v2 as oss
    c = v2_client(oss_ep, root["AccessKeyId"], root["AccessKeySecret"], signature_version=sig)
    name = bucket_name("v2")
    c.put_bucket(oss.PutBucketRequest(bucket=name))
    try:
        r = c.put_object(oss.PutObjectRequest(bucket=name, key="目录/v2.txt", body=b"from oss-v2"))
        assert r.status_code == 200 and r.etag
        assert c.get_object(oss.GetObjectRequest(bucket=name, key="目录/v2.txt")).body.read() == b"from oss-v2"
        assert c.get_object(oss.GetObjectRequest(bucket=name, key="目录/v2.txt", range_header="bytes=5-7")).body.read() == b"oss"
        assert c.head_object(oss.HeadObjectRequest(bucket=name, key="目录/v2.txt")).content_length == 11
        assert c.is_object_exist(name, "目录/v2.txt") and not c.is_object_exist(name, "nope")
        for i in range(3):
            c.put_object(oss.PutObjectRequest(bucket=name, key=f"p/{i}", body=b"x"))
        keys = []
        for page in c.list_objects_v2_paginator(limit=2).iter_page(oss.ListObjectsV2Request(bucket=name)):
            keys += [o.key for o in page.contents or []]
        assert keys == ["p/0", "p/1", "p/2", "目录/v2.txt"]
        listed = c.list_objects_v2(oss.ListObjectsV2Request(bucket=name, delimiter="/"))
        assert [p.prefix for p in listed.common_prefixes] == ["p/", "目录/"]
        with pytest.raises(oss.exceptions.OperationError) as info:
            c.get_object(oss.GetObjectRequest(bucket=name, key="missing"))
        err = info.value.unwrap()
        assert err.code == "NoSuchKey" and err.status_code == 404 and err.ec
        with pytest.raises(oss.exceptions.OperationError) as info:
            c.head_object(oss.HeadObjectRequest(bucket=name, key="missing"))
        assert info.value.unwrap().code == "NoSuchKey"
        # multipart
        init = c.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=name, key="mp"))
        part = b"m" * (100 * 1024)
        p1 = c.upload_part(oss.UploadPartRequest(bucket=name, key="mp", upload_id=init.upload_id, part_number=1, body=part))
        p2 = c.upload_part(oss.UploadPartRequest(bucket=name, key="mp", upload_id=init.upload_id, part_number=2, body=b"tail"))
        c.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
            bucket=name, key="mp", upload_id=init.upload_id,
            complete_multipart_upload=oss.CompleteMultipartUpload(parts=[
                oss.UploadPart(part_number=1, etag=p1.etag), oss.UploadPart(part_number=2, etag=p2.etag)])))
        assert c.get_object(oss.GetObjectRequest(bucket=name, key="mp")).body.read() == part + b"tail"
        c.copy_object(oss.CopyObjectRequest(bucket=name, key="mp-copy", source_key="mp", source_bucket=name))
        assert c.head_object(oss.HeadObjectRequest(bucket=name, key="mp-copy")).content_length == len(part) + 4
        pre = c.presign(oss.GetObjectRequest(bucket=name, key="目录/v2.txt"))
        assert requests.get(pre.url).content == b"from oss-v2"
        for o in c.list_objects_v2(oss.ListObjectsV2Request(bucket=name)).contents:
            c.delete_object(oss.DeleteObjectRequest(bucket=name, key=o.key))
    finally:
        c.delete_bucket(oss.DeleteBucketRequest(bucket=name))


@pytest.mark.parametrize("sig", ["v4", "v1"])
def test_oss_v2_with_sts(oss_ep, root, root_bucket, api_for, account_id, read_only_role, sig):
    """oss-v2 sends the token as x-oss-security-token (V4) or as a plain `security-token` header (V1)."""
    import alibabacloud_oss_v2 as oss
    root_bucket.put_object("v2-sts", b"t")
    creds = assume(api_for, root, account_id, read_only_role)
    c = v2_client(oss_ep, creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"], signature_version=sig)
    assert c.get_object(oss.GetObjectRequest(bucket=root_bucket.bucket_name, key="v2-sts")).body.read() == b"t"
    with pytest.raises(oss.exceptions.OperationError) as info:
        c.put_object(oss.PutObjectRequest(bucket=root_bucket.bucket_name, key="denied", body=b"x"))
    assert info.value.unwrap().code == "AccessDenied" and info.value.unwrap().status_code == 403
