"""Object ACLs over bucket ACLs, for writes and deletes as for reads (docs/oss.md, "Authorization"):
an object's own ACL, unless `default`, decides what its canned ACL grants — `private`: only the
owner writes it, `public-read`: anyone reads it and only the owner writes it,
`public-read-write`: anyone reads and writes it. So in a public-read-write bucket an anonymous
request may not overwrite (Put, Post, Copy onto, Append to, PutSymlink over, multipart onto) or
delete (DeleteObject, DeleteMultipleObjects, a version) a private or public-read object, and in a
private bucket it may overwrite and delete a public-read-write one. A key without a current object
(none, or a delete marker) follows the bucket's ACL. RAM and bucket policies decide as before: a
Deny wins, an Allow allows whatever the object's ACL."""

from __future__ import annotations

import json

import oss2
import pytest
from oss2.models import BatchDeleteObjectVersion, BatchDeleteObjectVersionList, BucketVersioningConfig

from test_oss import created_bucket, expect_oss_error, oss2_bucket, oss_ep, root_bucket  # noqa: F401
from test_oss_versioning import purge

PRIVATE, PUBLIC_READ, PRW = oss2.OBJECT_ACL_PRIVATE, oss2.OBJECT_ACL_PUBLIC_READ, oss2.OBJECT_ACL_PUBLIC_READ_WRITE


def acl(value):
    return {"x-oss-object-acl": value}


def denied(fn):
    return expect_oss_error(fn, "AccessDenied", 403)


@pytest.fixture
def anon(oss_ep, root_bucket):  # noqa: F811
    return oss2_bucket(oss_ep, oss2.AnonymousAuth(), root_bucket.bucket_name)


def test_private_and_public_read_objects_in_a_public_read_write_bucket(root_bucket, anon):  # noqa: F811
    owner = root_bucket
    owner.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    owner.put_object("priv", b"owner", headers=acl(PRIVATE))
    owner.put_object("pr", b"owner", headers=acl(PUBLIC_READ))
    owner.put_object("dflt", b"owner")
    owner.append_object("app", 0, b"owner", headers=acl(PRIVATE))
    denied(lambda: anon.get_object("priv"))
    assert anon.get_object("pr").read() == b"owner"
    for key in ("priv", "pr"):
        denied(lambda: anon.put_object(key, b"anon"))
        denied(lambda: anon.put_object(key, b"anon", headers=acl(PRW)))
        denied(lambda: anon.copy_object(owner.bucket_name, "dflt", key))
        denied(lambda: anon.put_symlink("dflt", key))
        denied(lambda: anon.delete_object(key))
        denied(lambda: anon.batch_delete_objects([key]))
        denied(lambda: anon.init_multipart_upload(key))
    denied(lambda: anon.append_object("app", 5, b"anon"))
    # Completing (and adding parts to) an upload onto a private object, even the owner's upload.
    upload = owner.init_multipart_upload("priv").upload_id
    parts = [oss2.models.PartInfo(1, owner.upload_part("priv", upload, 1, b"owner part").etag)]
    denied(lambda: anon.upload_part("priv", upload, 2, b"anon part"))
    denied(lambda: anon.complete_multipart_upload("priv", upload, parts))
    denied(lambda: anon.complete_multipart_upload("priv", upload, None, headers={"x-oss-complete-all": "yes"}))
    owner.abort_multipart_upload("priv", upload)
    # A batch with one private key deletes nothing.
    denied(lambda: anon.batch_delete_objects(["dflt", "priv"]))
    assert {k: owner.get_object(k).read() for k in ("priv", "pr", "dflt", "app")} == {k: b"owner" for k in ("priv", "pr", "dflt", "app")}
    assert owner.get_object_acl("priv").acl == PRIVATE
    # Controls: the bucket's ACL decides for an object with `default` and for a free key.
    anon.put_object("dflt", b"anon")
    anon.copy_object(owner.bucket_name, "pr", "copied")
    anon.put_symlink("pr", "link")
    anon.append_object("log", 0, b"anon")
    upload = anon.init_multipart_upload("mp").upload_id
    anon.complete_multipart_upload("mp", upload, [oss2.models.PartInfo(1, anon.upload_part("mp", upload, 1, b"p").etag)])
    assert anon.batch_delete_objects(["dflt", "copied"]).deleted_keys == ["dflt", "copied"]
    anon.delete_object("link")
    # Once the owner makes it `default`, the bucket's ACL decides for it too.
    owner.put_object_acl("priv", oss2.OBJECT_ACL_DEFAULT)
    anon.put_object("priv", b"anon")
    assert owner.get_object("priv").read() == b"anon"


def test_public_read_write_object_in_a_private_bucket(root_bucket, anon):  # noqa: F811
    owner = root_bucket
    owner.put_object("open", b"owner", headers=acl(PRW))
    owner.put_object("closed", b"owner")
    assert anon.get_object("open").read() == b"owner"
    anon.put_object("open", b"anon", headers=acl(PRW))
    assert owner.get_object("open").read() == b"anon"
    anon.delete_object("open")
    assert not owner.object_exists("open")
    # The deleted key has no object: the private bucket decides.
    denied(lambda: anon.put_object("open", b"anon"))
    denied(lambda: anon.put_object("closed", b"anon"))
    # An anonymous overwrite without an ACL leaves a `default` object: private from then on.
    owner.put_object("open", b"owner", headers=acl(PRW))
    anon.put_object("open", b"anon")
    denied(lambda: anon.put_object("open", b"again"))
    owner.put_object("open", b"owner", headers=acl(PRW))
    assert anon.batch_delete_objects(["open"]).deleted_keys == ["open"]


def test_policies_decide_before_the_object_acl(oss_ep, root_bucket, anon, ram_user, account_id):  # noqa: F811
    owner = root_bucket
    name = owner.bucket_name
    owner.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    owner.put_object("priv", b"owner", headers=acl(PRIVATE))
    owner.put_object("open", b"owner", headers=acl(PRW))
    # A RAM Allow writes and deletes any object of its account, whatever its ACL.
    _, ak, sk = ram_user(policies=["AliyunOSSFullAccess"])
    user = oss2_bucket(oss_ep, oss2.Auth(ak, sk), name)
    user.put_object("priv", b"user", headers=acl(PRIVATE))
    assert owner.get_object("priv").read() == b"user"
    user.delete_object("priv")
    owner.put_object("priv", b"owner", headers=acl(PRIVATE))
    # A bucket-policy Allow for everyone allows; a Deny wins over a public-read-write object.
    owner.put_bucket_policy(json.dumps({"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": ["oss:PutObject"], "Principal": ["*"], "Resource": [f"acs:oss:*:{account_id}:{name}/priv"]},
        {"Effect": "Deny", "Action": ["oss:PutObject", "oss:DeleteObject"], "Principal": ["*"],
         "Resource": [f"acs:oss:*:{account_id}:{name}/open"]}]}))
    anon.put_object("priv", b"anon")
    denied(lambda: anon.put_object("open", b"anon"))
    denied(lambda: anon.delete_object("open"))
    owner.delete_bucket_policy()
    anon.delete_object("open")


@pytest.fixture
def versioned(oss_ep, root):  # noqa: F811
    owner = created_bucket(oss_ep, root, "v1", "acl")
    config = BucketVersioningConfig()
    config.status = oss2.BUCKET_VERSIONING_ENABLE
    owner.put_bucket_versioning(config)
    yield owner
    purge(owner)


def test_versioned_bucket_the_current_version_decides(oss_ep, versioned):  # noqa: F811
    """The object is the key's current version (a delete marker current: none); a version
    named by its id (DeleteObjectVersion) is decided by that version's own ACL."""
    owner = versioned
    anon = oss2_bucket(oss_ep, oss2.AnonymousAuth(), owner.bucket_name)
    owner.put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)
    first = owner.put_object("k", b"v1").versionid
    private = owner.put_object("k", b"v2", headers=acl(PRIVATE)).versionid
    denied(lambda: anon.put_object("k", b"anon"))
    denied(lambda: anon.delete_object("k"))  # would add a delete marker over the private version
    denied(lambda: anon.delete_object("k", params={"versionId": private}))
    versions = BatchDeleteObjectVersionList([BatchDeleteObjectVersion("k", private)])
    denied(lambda: anon.delete_object_versions(versions))
    # The noncurrent `default` version is the bucket's to grant.
    anon.delete_object("k", params={"versionId": first})
    # A delete marker current: the key has no object, the bucket's ACL decides.
    marker = owner.delete_object("k").versionid
    anon.put_object("k", b"anon")
    assert owner.get_object("k").read() == b"anon"
    assert owner.get_object("k", params={"versionId": private}).read() == b"v2"
    assert marker
