"""OSS PostObject (browser form uploads): forms built with `requests` as a browser sends them
(multipart/form-data, the file last), signed as application backends sign them — V1
(`OSSAccessKeyId` + `Signature` = base64 HMAC-SHA1 of the base64 policy) and V4
(`x-oss-credential` + `x-oss-signature` = hex HMAC-SHA256 with the V4 signing key), with STS
credentials of a role — and every refusal: policy conditions, expiry, sizes, signatures,
authorization (docs/oss.md, "PostObject")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
import xml.etree.ElementTree as ET

import oss2
import pytest
import requests

import rshelpers as h
from test_actiontrail import lookup, trail
from test_oss_browser_features import _App, app  # noqa: F401 (the callback application fixture)
from test_oss import REGION, assume, bucket_name, empty_and_delete, oss2_bucket

EXPIRES = h.POST_EXPIRES
encode_policy, v1_form, v4_form, v4_signing_key = h.post_policy, h.post_form_v1, h.post_form_v4, h.oss_v4_signing_key


post = h.post_object


def error_of(r):
    root = ET.fromstring(r.content)
    return {child.tag: child.text for child in root}


def expect_error(r, status, code, ec=None):
    assert r.status_code == status, (r.status_code, r.text)
    e = error_of(r)
    assert e["Code"] == code, e
    assert len(e["RequestId"]) == 24
    if ec:
        assert e["EC"] == ec, e
    return e


@pytest.fixture
def bucket(server, root):
    b = oss2_bucket(server.endpoint, oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), bucket_name("post"))
    b.create_bucket()
    yield b
    empty_and_delete(b)


@pytest.fixture(scope="module")
def full_role(apis, account_id):
    root_api = apis["v3"]
    role = h.unique_name("oss-post")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    root_api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSFullAccess", "RoleName": role})
    return role


def test_v1_form_upload(server, root, bucket):
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    conditions = [{"bucket": bucket.bucket_name}, ["starts-with", "$key", "user/"], ["content-length-range", 1, 1024],
                  ["eq", "$success_action_status", "201"], ["in", "$content-type", ["text/plain", "image/png"]]]
    fields = {"key": "user/${filename}", "success_action_status": "201", "Content-Type": "text/plain",
              "Cache-Control": "no-cache", "x-oss-meta-uuid": "u-1", **v1_form(ak, sk, conditions)}
    r = post(server.endpoint, bucket.bucket_name, fields, b"form body", filename="pic.txt", file_type="text/plain")
    assert r.status_code == 201, r.text
    doc = error_of(r)  # the PostResponse document
    assert ET.fromstring(r.content).tag == "PostResponse"
    assert (doc["Bucket"], doc["Key"]) == (bucket.bucket_name, "user/pic.txt")
    assert doc["ETag"] == r.headers["ETag"] == f'"{hashlib.md5(b"form body").hexdigest().upper()}"'
    assert doc["Location"].endswith(f"/{bucket.bucket_name}/user/pic.txt")
    assert r.headers["x-oss-request-id"] and r.headers["x-oss-hash-crc64ecma"]
    got = bucket.get_object("user/pic.txt")
    assert got.read() == b"form body"
    assert got.headers["Content-Type"] == "text/plain"
    assert got.headers["Cache-Control"] == "no-cache"
    assert got.headers["x-oss-meta-uuid"] == "u-1"


def test_v4_form_upload_with_role_session(server, root, bucket, api_for, account_id, full_role):
    creds = assume(api_for, root, account_id, full_role)
    ak, sk, token = creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"]
    fields = {"key": "v4/obj.bin", **v4_form(ak, sk, [["starts-with", "$key", "v4/"]], token=token)}
    r = post(server.endpoint, bucket.bucket_name, fields, b"\x00\x01v4")
    assert r.status_code == 204 and r.content == b"", r.text  # the default status
    assert bucket.get_object("v4/obj.bin").read() == b"\x00\x01v4"
    # ActionTrail records it as it records PutObject: the session that signed the form, the object
    events = lookup(trail(server), ("ResourceName", f"{bucket.bucket_name}/v4/obj.bin"), ("EventName", "PostObject")).events
    assert [e["eventName"] for e in events] == ["PostObject"], events
    assert events[0]["serviceName"] == "Oss" and events[0]["eventRW"] == "Write"
    assert events[0]["requestId"] == r.headers["x-oss-request-id"]
    assert events[0]["userIdentity"]["type"] == "assumed-role" and events[0]["userIdentity"]["accessKeyId"] == ak
    # V1 with the same session; field names are case-insensitive
    fields = {"KEY": "v1/obj.bin", "Success_Action_Status": "200", **v1_form(ak, sk, [["starts-with", "$key", "v1/"]], token=token)}
    fields["ossaccesskeyid"] = fields.pop("OSSAccessKeyId")
    r = post(server.endpoint, bucket.bucket_name, fields, b"v1")
    assert r.status_code == 200, r.text
    assert bucket.get_object("v1/obj.bin").read() == b"v1"
    # the session's key without its token
    fields = {"key": "v1/x", **v1_form(ak, sk, [["starts-with", "$key", "v1/"]])}
    expect_error(post(server.endpoint, bucket.bucket_name, fields), 403, "InvalidAccessKeyId", "0002-00000003")


def test_redirect_and_status(server, root, bucket):
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    fields = {"key": "r.txt", "success_action_redirect": "http://127.0.0.1:9/done?x=1", **v1_form(ak, sk, [{"key": "r.txt"}])}
    r = post(server.endpoint, bucket.bucket_name, fields, b"r")
    assert r.status_code == 303, r.text
    target = urllib.parse.urlsplit(r.headers["Location"])
    q = urllib.parse.parse_qs(target.query)
    assert (target.netloc, q["x"], q["bucket"], q["key"]) == ("127.0.0.1:9", ["1"], [bucket.bucket_name], ["r.txt"])
    assert q["etag"] == [bucket.head_object("r.txt").etag and f'"{bucket.head_object("r.txt").etag}"']
    # an unknown success_action_status answers 204
    fields = {"key": "s.txt", "success_action_status": "299", **v1_form(ak, sk, [{"key": "s.txt"}])}
    assert post(server.endpoint, bucket.bucket_name, fields).status_code == 204


def test_redirect_with_control_characters_refused(server, root, bucket):
    # a redirect that cannot be a Location header is refused before anything is stored
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    for url in ("http://app.example/done\r\nX-Injected: 1", "http://app.example/done\nx", "http://app.example/\x00"):
        fields = {"key": "red", "success_action_redirect": url, **v1_form(ak, sk, [{"key": "red"}])}
        expect_error(post(server.endpoint, bucket.bucket_name, fields), 400, "InvalidArgument")
    assert list(oss2.ObjectIterator(bucket)) == []


def test_repeated_fields_first_value_only(server, root, bucket):
    # the object gets exactly what the policy checked: the first value of a repeated field
    # (names compared without case), never a later one
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    pinned = {"x-oss-meta-role": ("viewer", "admin"), "Content-Disposition": ("attachment", "inline"),
              "Cache-Control": ("no-store", "public, max-age=99999"), "Content-Encoding": ("identity", "gzip"),
              "Expires": ("Thu, 01 Jan 2037 00:00:00 GMT", "Fri, 01 Jan 2038 00:00:00 GMT"),
              "x-oss-object-acl": ("private", "public-read-write")}
    conds = [{"bucket": bucket.bucket_name}] + [["eq", f"${k}", first] for k, (first, _) in pinned.items()]
    fields = [("key", "k")]
    for k, (first, later) in pinned.items():
        fields += [(k, first), (k.upper() if k.startswith("x-") else k.lower(), later)]
    fields += [("x:var", "1"), ("x:var", "2")]
    fields += list(v1_form(ak, sk, conds).items())
    r = post(server.endpoint, bucket.bucket_name, fields, b"dup")
    assert r.status_code == 204, r.text
    got = bucket.head_object("k").headers
    for k, (first, _) in pinned.items():
        if k != "x-oss-object-acl":
            assert got[k] == first, (k, got.get(k))
    assert bucket.get_object_acl("k").acl == "private"
    # the later key field does not move the object either
    fields = [("key", "in/a"), ("key", "out/b")] + list(v1_form(ak, sk, [["starts-with", "$key", "in/"]]).items())
    assert post(server.endpoint, bucket.bucket_name, fields).status_code == 204
    assert sorted(o.key for o in oss2.ObjectIterator(bucket)) == ["in/a", "k"]


def test_fields_after_file_refused(server, root, bucket):
    # the file must be the last field (EC 0006-00000103): a part after it refuses the form
    # and nothing is stored
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    ep, name = server.endpoint, bucket.bucket_name
    fields = {"key": "after", **v1_form(ak, sk, [{"bucket": name}])}
    for after in ({"success_action_status": "201"}, {"x-oss-forbid-overwrite": "true"}, {"file": "second"}):
        r = post(ep, name, fields, b"body", extra_after_file=after)
        expect_error(r, 400, "MalformedPOSTRequest", "0006-00000103")
    big = b"y" * (2 * 1024 * 1024)  # the file streamed to a blob first: dropped with the refusal
    expect_error(post(ep, name, fields, big, extra_after_file={"x": "1"}), 400, "MalformedPOSTRequest", "0006-00000103")
    assert list(oss2.ObjectIterator(bucket)) == []
    assert post(ep, name, fields, b"body").status_code == 204


def test_policy_refusals(server, root, bucket):
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    ep, name = server.endpoint, bucket.bucket_name
    inside = [["starts-with", "$key", "in/"]]
    # a key outside the policy's starts-with
    e = expect_error(post(ep, name, {"key": "out/x", **v1_form(ak, sk, inside)}), 403, "AccessDenied", "0006-00000227")
    assert "Invalid according to Policy" in e["Message"] and "starts-with" in e["Message"]
    # a field the policy names is missing
    cond = inside + [["eq", "$success_action_status", "201"]]
    expect_error(post(ep, name, {"key": "in/x", **v1_form(ak, sk, cond)}), 403, "AccessDenied", "0006-00000226")
    # not-in
    cond = inside + [["not-in", "$content-type", ["text/html"]]]
    expect_error(post(ep, name, {"key": "in/x", "content-type": "text/html", **v1_form(ak, sk, cond)}), 403, "AccessDenied")
    # expired
    expect_error(post(ep, name, {"key": "in/x", **v1_form(ak, sk, inside, expiration="2020-01-01T00:00:00Z")}),
                 403, "AccessDenied", "0006-00000213")
    # sizes
    cond = inside + [["content-length-range", 2, 4]]
    expect_error(post(ep, name, {"key": "in/big", **v1_form(ak, sk, cond)}, b"12345"), 400, "EntityTooLarge", "0006-00000003")
    expect_error(post(ep, name, {"key": "in/small", **v1_form(ak, sk, cond)}, b"1"), 400, "EntityTooSmall", "0006-00000004")
    big = b"x" * (3 * 1024 * 1024)  # cut off while streaming: nothing is stored
    expect_error(post(ep, name, {"key": "in/huge", **v1_form(ak, sk, inside + [["content-length-range", 0, 1024]])}, big),
                 400, "EntityTooLarge")
    assert post(ep, name, {"key": "in/ok", **v1_form(ak, sk, cond)}, b"123").status_code == 204
    assert [o.key for o in oss2.ObjectIterator(bucket)] == ["in/ok"]
    # malformed policy documents
    bad = {"key": "in/x", **v1_form(ak, sk, inside)}
    bad["policy"] = base64.b64encode(b'{"expiration": "2099-01-01T00:00:00Z"}').decode()
    bad["Signature"] = base64.b64encode(hmac.new(sk.encode(), bad["policy"].encode(), hashlib.sha1).digest()).decode()
    expect_error(post(ep, name, bad), 400, "InvalidPolicyDocument", "0006-00000207")
    expect_error(post(ep, name, {"key": "in/x", **v1_form(ak, sk, [])}), 400, "InvalidPolicyDocument", "0006-00000215")


def test_signature_refusals(server, root, bucket):
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    ep, name = server.endpoint, bucket.bucket_name
    cond = [["starts-with", "$key", "k"]]
    forged = {"key": "k1", **v1_form(ak, "not-the-secret", cond)}
    e = expect_error(post(ep, name, forged), 403, "SignatureDoesNotMatch")
    assert e["StringToSign"] == forged["policy"]
    forged = {"key": "k1", **v4_form(ak, "not-the-secret", cond)}
    expect_error(post(ep, name, forged), 403, "SignatureDoesNotMatch")
    # the policy changed after signing
    tampered = {"key": "k1", **v1_form(ak, sk, cond)}
    tampered["policy"] = encode_policy([["starts-with", "$key", ""]])
    expect_error(post(ep, name, tampered), 403, "SignatureDoesNotMatch")
    expect_error(post(ep, name, {"key": "k1", **v1_form("LTAInotakey", sk, cond)}), 403, "InvalidAccessKeyId")
    no_sig = {"key": "k1", **v1_form(ak, sk, cond)}
    del no_sig["Signature"]
    expect_error(post(ep, name, no_sig), 400, "InvalidArgument", "0002-00000703")
    no_policy = {"key": "k1", **v1_form(ak, sk, cond)}
    del no_policy["policy"]
    expect_error(post(ep, name, no_policy), 400, "InvalidArgument", "0002-00000702")
    expect_error(post(ep, name, {**no_policy, "policy": ""}), 400, "InvalidPolicyDocument", "0006-00000205")
    # V4: the credential's scope, its date, its region
    v4 = {"key": "k1", **v4_form(ak, sk, cond)}
    v4["x-oss-credential"] = v4["x-oss-credential"].replace("aliyun_v4_request", "abc")
    expect_error(post(ep, name, v4), 400, "InvalidArgument", "0002-00000710")
    stale = {"key": "k1", **v4_form(ak, sk, cond, when=time.time() - 8 * 24 * 3600)}
    expect_error(post(ep, name, stale), 403, "AccessDenied")
    expect_error(post(ep, name, {"key": "k1", **v4_form(ak, sk, cond, region="mars-north-1")}), 400, "InvalidArgument")
    # a V4 policy must bind the signing fields
    unbound = {"key": "k1", **v4_form(ak, sk, cond)}
    unbound["policy"] = encode_policy(cond)
    day = unbound["x-oss-date"][:8]
    unbound["x-oss-signature"] = hmac.new(v4_signing_key(sk, day, REGION), unbound["policy"].encode(), hashlib.sha256).hexdigest()
    expect_error(post(ep, name, unbound), 400, "InvalidPolicyDocument")
    assert list(oss2.ObjectIterator(bucket)) == []


def test_form_shape_refusals(server, root, bucket):
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    ep, name = server.endpoint, bucket.bucket_name
    signed = v1_form(ak, sk, [["starts-with", "$key", ""]])
    r = requests.post(f"http://{ep}/{name}", files=[(k, (None, v)) for k, v in {"key": "x", **signed}.items()], timeout=30)
    expect_error(r, 400, "MalformedPOSTRequest")
    expect_error(post(ep, name, signed), 400, "InvalidArgument")  # no key
    # any of OSSAccessKeyId, Signature and policy makes the other two required
    expect_error(post(ep, name, {"key": "x", "policy": signed["policy"]}), 400, "InvalidArgument")
    # PutObject's rules hold: forbid-overwrite, Content-MD5
    assert post(ep, name, {"key": "dup", **signed}).status_code == 204
    expect_error(post(ep, name, {"key": "dup", "x-oss-forbid-overwrite": "true", **signed}), 409, "FileAlreadyExists")
    wrong_md5 = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    expect_error(post(ep, name, {"key": "md5", "Content-MD5": wrong_md5, **signed}), 400, "InvalidDigest")
    right_md5 = base64.b64encode(hashlib.md5(b"hello form").digest()).decode()
    assert post(ep, name, {"key": "md5", "Content-MD5": right_md5, **signed}).status_code == 204


def test_authorization_as_put_object(server, root, bucket, api_for, account_id, root_api):
    ep, name = server.endpoint, bucket.bucket_name
    anything = [["starts-with", "$key", ""]]
    # a read-only role session
    role = h.unique_name("oss-post-ro")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    root_api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess", "RoleName": role})
    creds = assume(api_for, root, account_id, role)
    ro = v4_form(creds["AccessKeyId"], creds["AccessKeySecret"], anything, token=creds["SecurityToken"])
    e = expect_error(post(ep, name, {"key": "ro.txt", **ro}), 403, "AccessDenied")
    assert "oss:PutObject" in e["Message"]
    # anonymous: refused on a private bucket, allowed where anonymous PUT is (public-read-write)
    r = requests.post(f"http://{ep}/{name}", files=[("key", (None, "anon.txt")), ("file", ("a", b"anon"))], timeout=30)
    expect_error(r, 403, "AccessDenied")
    bucket.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    r = requests.post(f"http://{ep}/{name}", files=[("key", (None, "anon.txt")), ("file", ("a", b"anon"))], timeout=30)
    assert r.status_code == 204, r.text
    assert bucket.get_object("anon.txt").read() == b"anon"


def test_callback_fields(server, root, bucket, app):
    """`callback` and `x:` fields: the upload callback of PutObject, from a form."""
    port = app.server_address[1]
    cb = {"callbackUrl": f"http://127.0.0.1:{port}/posted", "callbackBody": "object=${object}&size=${size}&who=${x:user}",
          "callbackBodyType": "application/x-www-form-urlencoded"}
    callback = base64.b64encode(json.dumps(cb).encode()).decode()
    fields = {"key": "cb.txt", "callback": callback, "x:user": "grace", **v1_form(root["AccessKeyId"], root["AccessKeySecret"], [{"key": "cb.txt"}])}
    r = post(server.endpoint, bucket.bucket_name, fields, b"12345")
    assert r.status_code == 200 and r.json() == {"Status": "OK"}, r.text
    path, _, body = _App.seen[0]
    assert path == "/posted" and body == b"object=cb.txt&size=5&who=grace"
    assert bucket.get_object("cb.txt").read() == b"12345"


# -- the S3-compatible dialect: boto3's generate_presigned_post ---------------------------------------

def boto3_post(client, bucket, key, content, **kwargs):
    """A boto3 presigned POST sent as a browser sends it (its URL is the loopback endpoint)."""
    signed = client.generate_presigned_post(bucket, key, **kwargs)
    assert signed["url"].startswith("http://127.0.0.1:"), signed["url"]
    files = [(k, (None, v)) for k, v in signed["fields"].items()] + [("file", ("f.bin", content))]
    return requests.post(signed["url"], files=files, timeout=30, allow_redirects=False), signed["fields"]


@pytest.mark.parametrize("signature", ["s3v4", "s3"])
def test_s3_presigned_post(server, root, bucket, api_for, account_id, full_role, signature):
    from test_s3 import s3_client

    s3 = s3_client(server.endpoint, root["AccessKeyId"], root["AccessKeySecret"], signature=signature)
    r, fields = boto3_post(s3, bucket.bucket_name, "s3/${filename}", b"from boto3",
                           Fields={"acl": "public-read", "x-amz-meta-origin": "boto3", "Content-Type": "text/plain"},
                           Conditions=[["starts-with", "$key", "s3/"], {"acl": "public-read"}, {"x-amz-meta-origin": "boto3"},
                                       {"Content-Type": "text/plain"}, ["content-length-range", 1, 100]])
    assert ("x-amz-signature" in fields) == (signature == "s3v4") and ("AWSAccessKeyId" in fields) == (signature == "s3")
    assert r.status_code == 204, r.text
    got = bucket.get_object("s3/f.bin")
    assert got.read() == b"from boto3"
    assert got.headers["x-oss-meta-origin"] == "boto3" and got.headers["Content-Type"] == "text/plain"
    assert bucket.get_object_acl("s3/f.bin").acl == "public-read"
    # a session of a role, its token in x-amz-security-token; a key outside the policy; a forged one
    creds = assume(api_for, root, account_id, full_role)
    session = s3_client(server.endpoint, creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"], signature=signature)
    r, fields = boto3_post(session, bucket.bucket_name, "s3/sts.bin", b"sts", Conditions=[["starts-with", "$key", "s3/"]])
    assert fields["x-amz-security-token"] == creds["SecurityToken"]
    assert r.status_code == 204, r.text
    signed = session.generate_presigned_post(bucket.bucket_name, "s3/in.bin", Conditions=[["starts-with", "$key", "s3/in"]])
    signed["fields"]["key"] = "other.bin"
    r = requests.post(signed["url"], files=[(k, (None, v)) for k, v in signed["fields"].items()] + [("file", ("f", b"x"))], timeout=30)
    expect_error(r, 403, "AccessDenied", "0006-00000227")
    forged = s3_client(server.endpoint, root["AccessKeyId"], "not-the-secret", signature=signature)
    r, _ = boto3_post(forged, bucket.bucket_name, "s3/forged.bin", b"x")
    expect_error(r, 403, "SignatureDoesNotMatch", "0002-00000429")
    assert sorted(o.key for o in oss2.ObjectIterator(bucket)) == ["s3/f.bin", "s3/sts.bin"]


def test_virtual_hosted_form(server, root, bucket):
    """The form posted to `/` of the bucket's own host (as browsers post to `<bucket>.<endpoint>`)."""
    fields = {"key": "vh.txt", "success_action_status": "201",
              **v1_form(root["AccessKeyId"], root["AccessKeySecret"], [{"bucket": bucket.bucket_name}])}
    files = [(k, (None, v)) for k, v in fields.items()] + [("file", ("f", b"virtual"))]
    host = f"{bucket.bucket_name}.{server.endpoint}"
    r = requests.post(f"http://{server.endpoint}/", headers={"Host": host}, files=files, timeout=30)
    assert r.status_code == 201, r.text
    assert error_of(r)["Location"] == f"http://{host}/vh.txt"
    assert bucket.get_object("vh.txt").read() == b"virtual"


def test_content_type(server, root, bucket):
    """The object's type: `x-oss-content-type`, else the file part's own type (browsers always
    send one), else the `Content-Type` field."""
    signed = v1_form(root["AccessKeyId"], root["AccessKeySecret"], [["starts-with", "$key", "t/"]])
    ep, name = server.endpoint, bucket.bucket_name
    for key, extra, file_type, expected in [
        ("t/part", {}, "image/png", "image/png"),
        ("t/field", {"Content-Type": "text/plain"}, None, "text/plain"),  # a part without its own type
        ("t/field-and-part", {"Content-Type": "text/plain"}, "image/png", "image/png"),
        ("t/x-oss", {"Content-Type": "text/plain", "x-oss-content-type": "text/csv"}, "image/png", "text/csv"),
    ]:
        assert post(ep, name, {"key": key, **extra, **signed}, file_type=file_type).status_code == 204
        assert bucket.head_object(key).content_type == expected, key


def test_oss2_example_form(server, root, bucket, app):
    """oss2's examples/object_post.py (PostObject without the SDK: the form built by hand), ported
    to Python 3: `["eq", "$bucket", ...]`, an empty `x-oss-security-token` for a permanent key,
    Content-Disposition, user metadata, a callback with an `x:` variable, the body assembled by
    hand with the file last; sent to the bucket's virtual host (here through the loopback
    endpoint with its Host header) and answered with the application's callback answer."""
    port = app.server_address[1]
    policy = base64.b64encode(json.dumps({"expiration": EXPIRES, "conditions": [
        ["eq", "$bucket", bucket.bucket_name], ["content-length-range", 0, 104857600]]}).strip().encode()).decode()
    signature = base64.b64encode(hmac.new(root["AccessKeySecret"].encode(), policy.encode(), hashlib.sha1).digest()).decode()
    callback = base64.b64encode(json.dumps({"callbackUrl": f"http://127.0.0.1:{port}", "callbackBody":
                                            "filename=${object}&size=${size}&mimeType=${mimeType}&v=${x:var1}",
                                            "callbackBodyType": "application/x-www-form-urlencoded"}).encode()).decode()
    field_dict = {"key": "post.txt", "OSSAccessKeyId": root["AccessKeyId"], "policy": policy, "Signature": signature,
                  "x-oss-security-token": "", "Content-Disposition": "attachment;filename=download.txt",
                  "x-oss-meta-uuid": "uuid-xxx", "callback": callback, "x:var1": "callback-var1-val"}
    content, boundary = "a" * 64, "9431149156168"
    body = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in field_dict.items())
    body += f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="post.txt"\r\nContent-Type: text/plain\r\n\r\n{content}'
    body += f"\r\n--{boundary}--\r\n"
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Host": f"{bucket.bucket_name}.{server.endpoint}"}
    resp = requests.post(f"http://{server.endpoint}/", data=body.encode(), headers=headers, timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.content == b'{"Status":"OK"}'
    crc64 = oss2.utils.Crc64()
    crc64.update(content.encode())
    assert resp.headers["x-oss-hash-crc64ecma"] == str(crc64.crc)
    assert _App.seen[0][2] == b"filename=post.txt&size=64&mimeType=text%2Fplain&v=callback-var1-val"
    stored = bucket.get_object("post.txt")
    assert stored.read() == content.encode()
    assert stored.headers["Content-Disposition"] == "attachment;filename=download.txt"
    assert stored.headers["x-oss-meta-uuid"] == "uuid-xxx"
