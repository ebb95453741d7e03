"""OSS server-side encryption with KMS needs the `kms:` actions on the key (docs/oss.md,
"Authorization"): a write whose object is encrypted with KMS — its own
`x-oss-server-side-encryption: KMS` or the bucket's default — needs `kms:GenerateDataKey` and
`kms:Decrypt` (PutObject, PostObject, CopyObject's target, AppendObject, InitiateMultipartUpload,
UploadPart, UploadPartCopy, CompleteMultipartUpload), and reading a KMS object's body needs
`kms:Decrypt` (GetObject, a copy's source); HEAD answers metadata without it. Keys are
`acs:kms:<region>:<owner>:key/<id>`, OSS's managed key `acs:kms:<region>:<owner>:alias/acs/oss`.
Through oss2 (V1 and V4) and the S3 dialect (boto3), as RAM users, a role session and anonymously."""

from __future__ import annotations

import oss2
import pytest
import requests
from oss2.models import PartInfo, ServerSideEncryptionRule

import rshelpers as h
from test_oss import REGION, assume, bucket_name, empty_and_delete, expect_oss_error, oss2_auth, oss2_bucket

KMS = {"x-oss-server-side-encryption": "KMS"}
EC_IDENTITY_DENY, EC_IMPLICIT = "0003-00000201", "0003-00000202"


def with_key(key_id):
    return {**KMS, "x-oss-server-side-encryption-key-id": key_id}


def kms_rule(key_id=None):
    rule = ServerSideEncryptionRule()
    rule.sse_algorithm = "KMS"
    rule.kms_master_keyid = key_id
    return rule


@pytest.fixture(scope="module")
def world(server, root, account_id):
    """Buckets of the root: `plain`, `kmsdef` (default encryption KMS, managed key), their KMS objects."""
    r = oss2_auth(root["AccessKeyId"], root["AccessKeySecret"])
    plain = oss2_bucket(server.endpoint, r, bucket_name("kms"))
    plain.create_bucket()
    kmsdef = oss2_bucket(server.endpoint, r, bucket_name("kmsdef"))
    kmsdef.create_bucket()
    kmsdef.put_bucket_encryption(kms_rule())
    plain.put_object("plain.txt", b"plain")
    plain.put_object("managed.txt", b"managed", headers=KMS)
    plain.put_object("k1.txt", b"k1", headers=with_key("k1"))
    plain.put_object("k2.txt", b"k2", headers=with_key("k2"))
    kmsdef.put_object("default.txt", b"default")
    w = {"plain": plain, "kmsdef": kmsdef, "account": account_id, "server": server}
    yield w
    empty_and_delete(plain)
    empty_and_delete(kmsdef)


def user(root_api, statements, prefix="kms"):
    name = h.unique_name(prefix)
    root_api.call("CreateUser", {"UserName": name})
    policy = h.unique_name("kmspol")
    root_api.call("CreatePolicy", {"PolicyName": policy, "PolicyDocument": h.policy_doc(statements)})
    root_api.call("AttachPolicyToUser", {"PolicyType": "Custom", "PolicyName": policy, "UserName": name})
    key = root_api.call("CreateAccessKey", {"UserName": name})["AccessKey"]
    return key["AccessKeyId"], key["AccessKeySecret"]


def as_(world, creds, bucket="plain", version="v1", token=None):
    ak, sk = creds
    return oss2_bucket(world["server"].endpoint, oss2_auth(ak, sk, version, token), world[bucket].bucket_name)


OSS_ALL = {"Effect": "Allow", "Action": "oss:*", "Resource": "*"}
KMS_BOTH = {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"}


def managed(world):
    return f"acs:kms:{REGION}:{world['account']}:alias/acs/oss"


def refused(fn, action, resource, ec=EC_IMPLICIT):
    e = expect_oss_error(fn, "AccessDenied", 403)
    assert f"Action: {action}, Resource: {resource}." in e.message, e.message
    assert e.ec == ec, e.ec
    return e


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_oss_only_user_cannot_encrypt_or_decrypt_with_kms(world, root_api, version):
    u = user(root_api, [OSS_ALL])
    b, d = as_(world, u, version=version), as_(world, u, "kmsdef", version)
    name, gen = world["plain"].bucket_name, "kms:GenerateDataKey"
    # Writes that encrypt with KMS: the header, the bucket default, a key id.
    refused(lambda: b.put_object("w/own", b"x", headers=KMS), gen, managed(world))
    refused(lambda: b.put_object("w/k1", b"x", headers=with_key("k1")), gen, f"acs:kms:{REGION}:{world['account']}:key/k1")
    refused(lambda: d.put_object("w/default", b"x"), gen, managed(world))
    refused(lambda: b.copy_object(name, "plain.txt", "w/copy", headers=KMS), gen, managed(world))
    refused(lambda: d.copy_object(world["kmsdef"].bucket_name, "default.txt", "w/copy"), "kms:Decrypt", managed(world))
    refused(lambda: b.init_multipart_upload("w/mp", headers=KMS), gen, managed(world))
    refused(lambda: d.init_multipart_upload("w/mp"), gen, managed(world))
    refused(lambda: b.append_object("w/app", 0, b"x", headers=KMS), gen, managed(world))
    refused(lambda: d.append_object("w/app", 0, b"x"), gen, managed(world))
    # Reads of a KMS object's body.
    refused(lambda: b.get_object("managed.txt").read(), "kms:Decrypt", managed(world))
    refused(lambda: b.get_object("k1.txt").read(), "kms:Decrypt", f"acs:kms:{REGION}:{world['account']}:key/k1")
    refused(lambda: d.get_object("default.txt").read(), "kms:Decrypt", managed(world))
    refused(lambda: b.copy_object(name, "managed.txt", "w/from-kms"), "kms:Decrypt", managed(world))
    # Nothing of it happened.
    for key in ("w/own", "w/k1", "w/copy", "w/mp", "w/app", "w/from-kms"):
        assert not world["plain"].object_exists(key), key
    assert not world["kmsdef"].object_exists("w/default")
    # What involves no KMS key is allowed: plain and AES256 objects, HEAD of a KMS object.
    b.put_object("w/plain", b"x")
    b.put_object("w/aes", b"x", headers={"x-oss-server-side-encryption": "AES256"})
    b.copy_object(name, "plain.txt", "w/plain-copy")
    assert b.get_object("plain.txt").read() == b"plain"
    assert b.head_object("managed.txt").headers["x-oss-server-side-encryption"] == "KMS"
    assert b.get_object_meta("k1.txt").status == 200
    d.put_object("w/own-aes", b"x", headers={"x-oss-server-side-encryption": "AES256"})
    for key in ("w/plain", "w/aes", "w/plain-copy"):
        world["plain"].delete_object(key)
    world["kmsdef"].delete_object("w/own-aes")


def test_parts_of_a_kms_upload_need_the_key(world, root_api):
    r, name = world["plain"], world["plain"].bucket_name
    u = user(root_api, [OSS_ALL])
    b = as_(world, u)
    kms_up = r.init_multipart_upload("mp/kms", headers=KMS).upload_id
    plain_up = r.init_multipart_upload("mp/plain").upload_id
    refused(lambda: b.upload_part("mp/kms", kms_up, 1, b"part"), "kms:GenerateDataKey", managed(world))
    refused(lambda: b.upload_part_copy(name, "plain.txt", (0, 2), "mp/kms", kms_up, 1), "kms:GenerateDataKey", managed(world))
    # A plain upload takes plain parts, not a KMS object's bytes.
    part = b.upload_part("mp/plain", plain_up, 1, b"part")
    refused(lambda: b.upload_part_copy(name, "managed.txt", (0, 2), "mp/plain", plain_up, 2), "kms:Decrypt", managed(world))
    b.complete_multipart_upload("mp/plain", plain_up, [PartInfo(1, part.etag)])
    part = r.upload_part("mp/kms", kms_up, 1, b"part")
    refused(lambda: b.complete_multipart_upload("mp/kms", kms_up, [PartInfo(1, part.etag)]), "kms:GenerateDataKey", managed(world))
    assert not r.object_exists("mp/kms")
    # An upload initiated before the bucket's default became KMS is encrypted with it at Complete.
    late = r.init_multipart_upload("mp/late").upload_id
    r.put_bucket_encryption(kms_rule("k9"))
    try:
        refused(lambda: b.upload_part("mp/late", late, 1, b"part"), "kms:GenerateDataKey",
                f"acs:kms:{REGION}:{world['account']}:key/k9")
    finally:
        r.delete_bucket_encryption()
    r.abort_multipart_upload("mp/kms", kms_up)
    r.abort_multipart_upload("mp/late", late)
    r.delete_object("mp/plain")


def test_allowed_key_use(world, root_api):
    name = world["plain"].bucket_name
    u = user(root_api, [OSS_ALL, KMS_BOTH])
    b, d = as_(world, u), as_(world, u, "kmsdef")
    b.put_object("ok/own", b"x", headers=KMS)
    assert b.get_object("ok/own").read() == b"x"
    assert b.get_object("k1.txt").read() == b"k1"
    d.put_object("ok/default", b"y")
    assert d.get_object("ok/default").read() == b"y"
    b.copy_object(name, "managed.txt", "ok/copy", headers=with_key("k2"))
    assert b.head_object("ok/copy").headers["x-oss-server-side-encryption-key-id"] == "k2"
    up = b.init_multipart_upload("ok/mp", headers=KMS).upload_id
    part = b.upload_part_copy(name, "k1.txt", (0, 1), "ok/mp", up, 1)
    b.complete_multipart_upload("ok/mp", up, [PartInfo(1, part.etag)])
    assert b.get_object("ok/mp").read() == b"k1"
    b.append_object("ok/app", 0, b"a", headers=KMS)
    b.append_object("ok/app", 1, b"b")
    for key in ("ok/own", "ok/copy", "ok/mp", "ok/app"):
        world["plain"].delete_object(key)
    world["kmsdef"].delete_object("ok/default")


def test_key_scoped_allow_and_explicit_deny(world, root_api):
    acct = world["account"]
    k1 = f"acs:kms:{REGION}:{acct}:key/k1"
    scoped = as_(world, user(root_api, [OSS_ALL, dict(KMS_BOTH, Resource=k1)]))
    assert scoped.get_object("k1.txt").read() == b"k1"
    scoped.put_object("sc/k1", b"x", headers=with_key("k1"))
    refused(lambda: scoped.get_object("k2.txt").read(), "kms:Decrypt", f"acs:kms:{REGION}:{acct}:key/k2")
    refused(lambda: scoped.put_object("sc/managed", b"x", headers=KMS), "kms:GenerateDataKey", managed(world))
    # Decrypt alone reads but does not write.
    reader = as_(world, user(root_api, [OSS_ALL, {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]))
    assert reader.get_object("managed.txt").read() == b"managed"
    refused(lambda: reader.put_object("sc/r", b"x", headers=KMS), "kms:GenerateDataKey", managed(world))
    # GenerateDataKey alone does not write either: OSS lists both.
    gen = as_(world, user(root_api, [OSS_ALL, {"Effect": "Allow", "Action": "kms:GenerateDataKey", "Resource": "*"}]))
    refused(lambda: gen.put_object("sc/g", b"x", headers=KMS), "kms:Decrypt", managed(world))
    # An explicit Deny wins over an Allow of kms:*.
    denied = as_(world, user(root_api, [OSS_ALL, {"Effect": "Allow", "Action": "kms:*", "Resource": "*"},
                                        {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]))
    e = refused(lambda: denied.put_object("sc/d", b"x", headers=KMS), "kms:GenerateDataKey", managed(world), EC_IDENTITY_DENY)
    assert "explicitly denied" in e.message, e.message
    refused(lambda: denied.get_object("managed.txt").read(), "kms:Decrypt", managed(world), EC_IDENTITY_DENY)
    world["plain"].delete_object("sc/k1")


def test_role_session_policy_bounds_key_use(world, root_api, root, api_for, account_id):
    role = h.unique_name("kmsrole")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    policy = h.unique_name("kmsrolepol")
    root_api.call("CreatePolicy", {"PolicyName": policy, "PolicyDocument": h.policy_doc([OSS_ALL, KMS_BOTH])})
    root_api.call("AttachPolicyToRole", {"PolicyType": "Custom", "PolicyName": policy, "RoleName": role})

    def session(statements=None):
        extra = {"Policy": h.policy_doc(statements)} if statements else {}
        c = assume(api_for, root, account_id, role, **extra)
        return as_(world, (c["AccessKeyId"], c["AccessKeySecret"]), token=c["SecurityToken"], version="v4")

    full = session()
    full.put_object("rs/full", b"x", headers=KMS)
    assert full.get_object("managed.txt").read() == b"managed"
    narrow = session([OSS_ALL])
    e = refused(lambda: narrow.put_object("rs/narrow", b"x", headers=KMS), "kms:GenerateDataKey", managed(world), "0003-00000001")
    assert "session policy" in e.message
    refused(lambda: narrow.get_object("managed.txt").read(), "kms:Decrypt", managed(world), "0003-00000001")
    assert narrow.get_object("plain.txt").read() == b"plain"
    world["plain"].delete_object("rs/full")


def test_anonymous_requests_cannot_use_kms(world, server, root):
    r = oss2_auth(root["AccessKeyId"], root["AccessKeySecret"])
    b = oss2_bucket(server.endpoint, r, bucket_name("kmspub"))
    b.create_bucket(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    try:
        b.put_object("plain.txt", b"plain")
        b.put_object("kms.txt", b"kms", headers=KMS)
        anon = oss2_bucket(server.endpoint, oss2.AnonymousAuth(), b.bucket_name)
        assert anon.get_object("plain.txt").read() == b"plain"
        e = expect_oss_error(lambda: anon.get_object("kms.txt").read(), "AccessDenied", 403)
        assert "anonymous request cannot use a KMS key" in e.message and "kms:Decrypt" in e.message, e.message
        anon.put_object("anon-plain", b"x")
        expect_oss_error(lambda: anon.put_object("anon-kms", b"x", headers=KMS), "AccessDenied", 403)
        b.put_bucket_encryption(kms_rule())
        expect_oss_error(lambda: anon.put_object("anon-default", b"x"), "AccessDenied", 403)
        # A browser form to the public-read-write bucket: the same PutObject.
        form = requests.post(f"http://{server.endpoint}/{b.bucket_name}", files=[("key", (None, "anon-form")), ("file", ("a", b"x"))],
                             timeout=30)
        assert form.status_code == 403 and b"<Code>AccessDenied</Code>" in form.content, form.text
        assert not b.object_exists("anon-kms") and not b.object_exists("anon-default") and not b.object_exists("anon-form")
    finally:
        empty_and_delete(b)


def test_post_object_with_kms_needs_the_key(world, root_api, server):
    name = world["plain"].bucket_name
    ak, sk = user(root_api, [OSS_ALL])
    conditions = [["starts-with", "$key", "form/"]]
    fields = {"key": "form/kms", "x-oss-server-side-encryption": "KMS", **h.post_form_v1(ak, sk, conditions)}
    r = h.post_object(server.endpoint, name, fields, b"form")
    assert r.status_code == 403 and b"kms:GenerateDataKey" in r.content, r.text
    fields = {"key": "form/plain", **h.post_form_v1(ak, sk, conditions)}
    assert h.post_object(server.endpoint, name, fields, b"form").status_code == 204
    assert not world["plain"].object_exists("form/kms")
    world["plain"].delete_object("form/plain")


@pytest.mark.parametrize("signature", ["s3v4", "s3"])
def test_s3_dialect(world, root_api, server, signature):
    import botocore.exceptions
    from test_s3 import s3_client
    ak, sk = user(root_api, [OSS_ALL])
    s3 = s3_client(server.endpoint, ak, sk, signature=signature)
    name = world["plain"].bucket_name
    for call in (lambda: s3.put_object(Bucket=name, Key="s3/kms", Body=b"x", ServerSideEncryption="aws:kms"),
                 lambda: s3.get_object(Bucket=name, Key="managed.txt")["Body"].read()):
        with pytest.raises(botocore.exceptions.ClientError) as info:
            call()
        assert info.value.response["Error"]["Code"] == "AccessDenied"
    s3.put_object(Bucket=name, Key="s3/plain", Body=b"x")
    world["plain"].delete_object("s3/plain")
