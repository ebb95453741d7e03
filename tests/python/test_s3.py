"""OSS's S3-compatible API through S3 clients, unchanged apart from the endpoint: boto3 with SigV4
(payload hash, UNSIGNED-PAYLOAD, presigned URLs) and SigV2 (header and presigned), a signed
aws-chunked upload, virtual-hosted requests, and Debian's rclone (SigV4 and SigV2, multipart).
Every request is authorized like the OSS API's: root, RAM users, role sessions with their
session policies, bucket policies. See docs/s3-compatible.md.

Names are never resolved: clients get the server's loopback address as the endpoint (path
style); virtual-hosted requests go to the server as their HTTP proxy, so the bucket's host name
travels only in the request line and the Host header.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import time
import urllib.parse
import uuid
import zlib
from pathlib import Path

import boto3
import oss2
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

import rshelpers as h
from test_oss_browser_features import _App, app  # noqa: F401 (a loopback application: what a callback would reach)

REGION = "cn-hangzhou"
STS = "2015-04-01"
RCLONE = shutil.which("rclone") or "/usr/bin/rclone"


def bucket_name(prefix="s3"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def s3_client(endpoint, ak, sk, token=None, signature="s3v4", addressing="path", region=REGION, **s3cfg):
    cfg = Config(signature_version=signature, region_name=region, retries={"max_attempts": 1},
                 s3={"addressing_style": addressing, **s3cfg},
                 # virtual-hosted names go to rolestack itself as the proxy: never looked up
                 proxies={"http": f"http://{endpoint}"} if addressing == "virtual" else None)
    url = f"http://{endpoint}" if addressing == "path" else f"http://localhost:{endpoint.rsplit(':', 1)[1]}"
    return boto3.client("s3", endpoint_url=url, aws_access_key_id=ak, aws_secret_access_key=sk,
                        aws_session_token=token, config=cfg)


def error_of(fn):
    with pytest.raises(ClientError) as info:
        fn()
    e = info.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"], e["Error"].get("Message", "")


def sts_api(api_for, root):
    return api_for(root["AccessKeyId"], root["AccessKeySecret"], "v3", version=STS, product="Sts")


def assume(api_for, root, account_id, role, **extra):
    params = {"RoleArn": f"acs:ram::{account_id}:role/{role}", "RoleSessionName": "s3-test"}
    params.update(extra)
    return sts_api(api_for, h.assumer_for(api_for, root)).call("AssumeRole", params)["Credentials"]


@pytest.fixture(scope="module")
def ep(server):
    return server.endpoint


@pytest.fixture(params=["s3v4", "s3"])
def signature(request):
    return request.param


@pytest.fixture
def root_s3(ep, root, signature):
    return s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"], signature=signature)


@pytest.fixture
def bucket(ep, root):
    """A fresh bucket created through boto3 (SigV4), emptied and deleted afterwards through oss2."""
    s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"])
    name = bucket_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "oss-cn-hangzhou"})
    yield name
    b = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), f"http://{ep}", name, region=REGION)
    for upload in oss2.MultipartUploadIterator(b):
        b.abort_multipart_upload(upload.key, upload.upload_id)
    for obj in oss2.ObjectIterator(b):
        b.delete_object(obj.key)
    b.delete_bucket()


# -- boto3: objects, listing, multipart (SigV4 and SigV2) ---------------------------------------------

def test_object_round_trip(root_s3, bucket, ep, root):
    body = b"hello from boto3\n" * 100
    r = root_s3.put_object(Bucket=bucket, Key="dir/héllo wörld+1.txt", Body=body, ContentType="text/plain",
                           Metadata={"color": "blue"})
    md5 = hashlib.md5(body).hexdigest()
    assert r["ETag"].strip('"').lower() == md5
    got = root_s3.get_object(Bucket=bucket, Key="dir/héllo wörld+1.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"color": "blue"}
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    head = root_s3.head_object(Bucket=bucket, Key="dir/héllo wörld+1.txt")
    assert head["ContentLength"] == len(body)
    part = root_s3.get_object(Bucket=bucket, Key="dir/héllo wörld+1.txt", Range="bytes=6-9")
    assert part["Body"].read() == body[6:10] and part["ResponseMetadata"]["HTTPStatusCode"] == 206
    # The same object through oss2: one store.
    b = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), f"http://{ep}", bucket, region=REGION)
    assert b.get_object("dir/héllo wörld+1.txt").read() == body
    assert b.head_object("dir/héllo wörld+1.txt").headers["x-oss-meta-color"] == "blue"

    root_s3.copy_object(Bucket=bucket, Key="copy.txt", CopySource={"Bucket": bucket, "Key": "dir/héllo wörld+1.txt"})
    assert root_s3.get_object(Bucket=bucket, Key="copy.txt")["Body"].read() == body
    root_s3.delete_object(Bucket=bucket, Key="copy.txt")
    status, code, _ = error_of(lambda: root_s3.get_object(Bucket=bucket, Key="copy.txt"))
    assert (status, code) == (404, "NoSuchKey")
    status, code, _ = error_of(lambda: root_s3.head_object(Bucket=bucket, Key="copy.txt"))
    assert status == 404


def test_listing_and_batch_delete(root_s3, bucket):
    keys = [f"a/{i:02d}" for i in range(7)] + ["b/x", "c y/z", "top"]
    for k in keys:
        root_s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    pages = root_s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3})
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == sorted(keys)
    r = root_s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "b/", "c y/"]
    assert [o["Key"] for o in r["Contents"]] == ["top"]
    r = root_s3.list_objects(Bucket=bucket, Prefix="a/", MaxKeys=4)
    assert r["IsTruncated"] and len(r["Contents"]) == 4
    r = root_s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[:7]]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(keys[:7])
    assert root_s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 3
    buckets = [b["Name"] for b in root_s3.list_buckets()["Buckets"]]
    assert bucket in buckets
    root_s3.head_bucket(Bucket=bucket)
    assert root_s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "oss-cn-hangzhou"


def test_multipart(root_s3, bucket):
    part1, part2 = os.urandom(5 * 1024 * 1024), os.urandom(1000)
    up = root_s3.create_multipart_upload(Bucket=bucket, Key="big.bin", Metadata={"m": "1"})
    etags = []
    for n, data in enumerate([part1, part2], start=1):
        etags.append(root_s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=up["UploadId"], PartNumber=n, Body=data)["ETag"])
    parts = root_s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=up["UploadId"])["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]
    root_s3.complete_multipart_upload(Bucket=bucket, Key="big.bin", UploadId=up["UploadId"],
                                      MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    got = root_s3.get_object(Bucket=bucket, Key="big.bin")
    assert got["Body"].read() == part1 + part2 and got["Metadata"] == {"m": "1"}
    up = root_s3.create_multipart_upload(Bucket=bucket, Key="gone.bin")
    assert [u["Key"] for u in root_s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])] == ["gone.bin"]
    root_s3.abort_multipart_upload(Bucket=bucket, Key="gone.bin", UploadId=up["UploadId"])



def test_s3_rules_where_oss_differs(root_s3, bucket):
    """The S3-compatible dialect keeps S3's rules: `x-amz-meta-` names with `_` are stored,
    `MaxKeys=0` lists nothing; an `x-amz-copy-source-range` running past the source's end is
    `InvalidArgument` (OSS's EC 0042-00000306 for it), not cut at the end."""
    root_s3.put_object(Bucket=bucket, Key="src", Body=b"0123456789", Metadata={"my_key": "v"})
    assert root_s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"my_key": "v"}
    listed = root_s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert listed["KeyCount"] == 0 and "Contents" not in listed
    up = root_s3.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]
    part = dict(Bucket=bucket, Key="dst", UploadId=up, PartNumber=1, CopySource={"Bucket": bucket, "Key": "src"})
    for bad in ["bytes=2-10", "bytes=10-12"]:
        status, code, _ = error_of(lambda: root_s3.upload_part_copy(CopySourceRange=bad, **part))
        assert (status, code) == (400, "InvalidArgument"), bad
    etag = root_s3.upload_part_copy(CopySourceRange="bytes=2-9", **part)["CopyPartResult"]["ETag"]
    root_s3.complete_multipart_upload(Bucket=bucket, Key="dst", UploadId=up,
                                      MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert root_s3.get_object(Bucket=bucket, Key="dst")["Body"].read() == b"23456789"

# Sub-resources of S3 operations that OSS's own sub-resource lists name too: SigV2 signs them
# (docs/s3-compatible.md, "Signatures") but S3 clients do not, so under SigV2 such a call is refused by its
# signature before it could be NotImplemented.
OSS_SIGNED_S3_SUB_RESOURCES = {"retention", "policyStatus", "metadataConfiguration", "metadataInventoryTable",
                               "metadataJournalTable"}


def test_s3_operations_oss_lacks_touch_nothing(root_s3, bucket, signature):
    """An S3 sub-resource OSS has no operation for is NotImplemented (501): it never falls through to
    the plain operation of its method (DELETE bucket, PUT object overwriting the data with the XML,
    PUT ?renameObject leaving an empty object, DELETE ?annotation deleting the object). botocore
    1.44's newer operations included."""
    root_s3.put_object(Bucket=bucket, Key="held", Body=b"data")
    root_s3.put_object(Bucket=bucket, Key="src", Body=b"source")
    meta = {"JournalTableConfiguration": {"RecordExpiration": {"Expiration": "DISABLED"}}}
    calls = [
        ("legal-hold", lambda: root_s3.put_object_legal_hold(Bucket=bucket, Key="held", LegalHold={"Status": "ON"})),
        ("retention", lambda: root_s3.put_object_retention(
            Bucket=bucket, Key="held", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": "2099-01-01T00:00:00Z"})),
        ("legal-hold", lambda: root_s3.get_object_legal_hold(Bucket=bucket, Key="held")),
        ("attributes", lambda: root_s3.get_object_attributes(Bucket=bucket, Key="held", ObjectAttributes=["ETag"])),
        ("ownershipControls", lambda: root_s3.delete_bucket_ownership_controls(Bucket=bucket)),
        ("metrics", lambda: root_s3.delete_bucket_metrics_configuration(Bucket=bucket, Id="m")),
        ("analytics", lambda: root_s3.delete_bucket_analytics_configuration(Bucket=bucket, Id="a")),
        ("accelerate", lambda: root_s3.put_bucket_accelerate_configuration(
            Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})),
        ("renameObject", lambda: root_s3.rename_object(Bucket=bucket, Key="held", RenameSource="src")),
        ("annotation", lambda: root_s3.put_object_annotation(Bucket=bucket, Key="held", AnnotationName="a",
                                                              AnnotationPayload=b"note")),
        ("annotation", lambda: root_s3.delete_object_annotation(Bucket=bucket, Key="held", AnnotationName="a")),
        ("abac", lambda: root_s3.put_bucket_abac(Bucket=bucket, AbacStatus={"Status": "Enabled"})),
        ("metadataConfiguration", lambda: root_s3.delete_bucket_metadata_configuration(Bucket=bucket)),
        ("metadataJournalTable", lambda: root_s3.update_bucket_metadata_journal_table_configuration(
            Bucket=bucket, **meta)),
        ("metadataTable", lambda: root_s3.delete_bucket_metadata_table_configuration(Bucket=bucket)),
    ]
    for sub_resource, call in calls:
        status, code, _ = error_of(call)
        if signature == "s3" and sub_resource in OSS_SIGNED_S3_SUB_RESOURCES:
            assert (status, code) == (403, "SignatureDoesNotMatch"), sub_resource
        else:
            assert (status, code) == (501, "NotImplemented"), sub_resource
    assert root_s3.get_object(Bucket=bucket, Key="held")["Body"].read() == b"data"
    assert root_s3.get_object(Bucket=bucket, Key="src")["Body"].read() == b"source"
    assert root_s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_upload_file_transfer_manager(root_s3, bucket, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(9 * 1024 * 1024))
    from boto3.s3.transfer import TransferConfig
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    root_s3.upload_file(str(src), bucket, "managed.bin", Config=cfg)
    dst = tmp_path / "dst.bin"
    root_s3.download_file(bucket, "managed.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == src.read_bytes()


# -- signatures -------------------------------------------------------------------------------------

def test_unsigned_payload(ep, root, bucket):
    s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"], payload_signing_enabled=False)
    s3.put_object(Bucket=bucket, Key="unsigned", Body=b"u")
    assert s3.get_object(Bucket=bucket, Key="unsigned")["Body"].read() == b"u"


def test_wrong_secret_and_unknown_key(ep, root, bucket, signature):
    bad = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"] + "x", signature=signature)
    status, code, _ = error_of(lambda: bad.put_object(Bucket=bucket, Key="k", Body=b"x"))
    assert (status, code) == (403, "SignatureDoesNotMatch")
    # the error echoes the signature as sent (a presigned URL's, here)
    url = bad.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    sent = (query.get("X-Amz-Signature") or query["Signature"])[0]
    r = requests.get(url)
    assert r.status_code == 403 and f"<SignatureProvided>{sent}</SignatureProvided>" in r.text, r.text
    unknown = s3_client(ep, "LTAI" + "0" * 20, "secret", signature=signature)
    status, code, _ = error_of(lambda: unknown.list_objects_v2(Bucket=bucket))
    assert (status, code) == (403, "InvalidAccessKeyId")


def _sigv4_put(ep, root, bucket, key, body, sent_body=None, chunked=False):
    """A SigV4 PUT built with botocore's own signer; `sent_body` replaces the body after signing,
    `chunked` sends a signed aws-chunked body (chunk signatures computed here)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    url = f"http://{ep}/{bucket}/{key}"
    headers = {}
    if chunked:
        headers = {"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked",
                   "x-amz-decoded-content-length": str(len(body))}
    req = AWSRequest(method="PUT", url=url, data=b"" if chunked else body, headers=headers)
    signer = S3SigV4Auth(Credentials(root["AccessKeyId"], root["AccessKeySecret"]), "s3", REGION)
    if chunked:
        # botocore would hash the body; the streaming form signs the literal instead.
        signer.payload = lambda request: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    signer.add_auth(req)
    prepared = dict(req.headers.items())
    if chunked:
        seed = prepared["Authorization"].rsplit("Signature=", 1)[1]
        amz_date = prepared["X-Amz-Date"]
        scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
        key_ = ("AWS4" + root["AccessKeySecret"]).encode()
        for part in (amz_date[:8], REGION, "s3", "aws4_request"):
            key_ = hmac.new(key_, part.encode(), hashlib.sha256).digest()
        out, prev = b"", seed
        pieces = [body[i:i + 8192] for i in range(0, len(body), 8192)] + [b""]
        for piece in pieces:
            sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, hashlib.sha256(b"").hexdigest(),
                             hashlib.sha256(piece).hexdigest()])
            prev = hmac.new(key_, sts.encode(), hashlib.sha256).hexdigest()
            out += f"{len(piece):x};chunk-signature={prev}\r\n".encode() + piece + b"\r\n"
        sent_body = out if sent_body is None else sent_body(out)
    return requests.put(url, data=body if sent_body is None else sent_body, headers=prepared)


def test_payload_hash_is_enforced(ep, root, bucket):
    r = _sigv4_put(ep, root, bucket, "hashed", b"original")
    assert r.status_code == 200, r.text
    r = _sigv4_put(ep, root, bucket, "tampered", b"original", sent_body=b"replaced")
    assert r.status_code == 400 and "<Code>XAmzContentSHA256Mismatch</Code>" in r.text
    s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"])
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="tampered"))[0] == 404


def test_signed_chunked_upload(ep, root, bucket):
    body = os.urandom(20000)
    r = _sigv4_put(ep, root, bucket, "chunked", body, chunked=True)
    assert r.status_code == 200, r.text
    s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"])
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == body
    # aws-chunked was the upload's framing: not stored as the object's Content-Encoding
    assert "ContentEncoding" not in s3.head_object(Bucket=bucket, Key="chunked")

    def flip(raw):
        raw = bytearray(raw)
        raw[raw.index(b"\r\n") + 5] ^= 1
        return bytes(raw)
    r = _sigv4_put(ep, root, bucket, "chunked-bad", body, chunked=True, sent_body=flip)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="chunked-bad"))[0] == 404


def test_presigned_urls(ep, root, bucket, signature):
    s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"], signature=signature)
    put = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    assert requests.put(put, data=b"presigned").status_code == 200
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=300)
    r = requests.get(get)
    assert r.status_code == 200 and r.content == b"presigned"
    # A changed key or an added OSS header does not ride on the signature.
    assert requests.get(get.replace("/pre?", "/other?")).status_code == 403
    r = requests.get(get, headers={"x-oss-range-behavior": "standard"})
    assert r.status_code == 200
    import time_machine
    with time_machine.travel(time.time() - 7200, tick=False):
        expired = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=3600)
    r = requests.get(expired)
    assert r.status_code == 403 and "<Code>AccessDenied</Code>" in r.text
    if signature == "s3v4":
        with time_machine.travel(time.time() + 7200, tick=False):
            early = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre"}, ExpiresIn=3600)
        r = requests.get(early)
        assert r.status_code == 403 and "not valid yet" in r.text


def test_virtual_hosted(ep, root, bucket, signature):
    s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"], signature=signature, addressing="virtual")
    s3.put_object(Bucket=bucket, Key="v/host.txt", Body=b"vh")
    assert s3.get_object(Bucket=bucket, Key="v/host.txt")["Body"].read() == b"vh"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="v/")["Contents"]] == ["v/host.txt"]


def test_clock_skew(ep, root, bucket):
    import time_machine
    s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"])
    with time_machine.travel(time.time() - 3600, tick=True):
        status, code, _ = error_of(lambda: s3.list_objects_v2(Bucket=bucket))
    assert (status, code) == (403, "RequestTimeTooSkewed")


# -- authorization: the same decisions as the OSS API ------------------------------------------------------

def test_role_session_read_only_then_full(ep, root, bucket, api_for, account_id, root_api, signature):
    role = h.unique_name("s3-role")
    policy = h.unique_name("s3-read")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    root_api.call("CreatePolicy", {"PolicyName": policy, "PolicyDocument": h.SEED_OSS_READ_POLICY})
    root_api.call("AttachPolicyToRole", {"PolicyType": "Custom", "PolicyName": policy, "RoleName": role})
    root_s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"])
    root_s3.put_object(Bucket=bucket, Key="seed.txt", Body=b"seed")
    creds = assume(api_for, root, account_id, role)
    s3 = s3_client(ep, creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"], signature=signature)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["seed.txt"]
    assert s3.get_object(Bucket=bucket, Key="seed.txt")["Body"].read() == b"seed"
    # Presigned with the session's token (X-Amz-Security-Token / x-amz-security-token in the query).
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "seed.txt"}, ExpiresIn=300)
    assert "ecurity-token=" in url.lower() and requests.get(url).content == b"seed"
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "w"}, ExpiresIn=300)
    assert requests.put(put_url, data=b"x").status_code == 403
    status, code, message = error_of(lambda: s3.put_object(Bucket=bucket, Key="w", Body=b"x"))
    assert (status, code) == (403, "AccessDenied") and "oss:PutObject" in message
    root_api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSFullAccess", "RoleName": role})
    s3.put_object(Bucket=bucket, Key="w", Body=b"x")
    # Without the token the STS key is refused; with a forged token too.
    no_token = s3_client(ep, creds["AccessKeyId"], creds["AccessKeySecret"], signature=signature)
    assert error_of(lambda: no_token.list_objects_v2(Bucket=bucket))[0] == 403
    forged = s3_client(ep, creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"][:-4] + "AAAA", signature=signature)
    assert error_of(lambda: forged.list_objects_v2(Bucket=bucket))[0] == 403


def test_session_policy_and_bucket_policy(ep, root, bucket, api_for, account_id, root_api):
    role = h.unique_name("s3-full")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    root_api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSFullAccess", "RoleName": role})
    only_pub = h.policy_doc([h.allow(["oss:GetObject", "oss:PutObject"], f"acs:oss:*:*:{bucket}/pub/*")])
    creds = assume(api_for, root, account_id, role, Policy=only_pub)
    s3 = s3_client(ep, creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"])
    s3.put_object(Bucket=bucket, Key="pub/a", Body=b"1")
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="private/a", Body=b"1"))[:2] == (403, "AccessDenied")
    assert error_of(lambda: s3.list_objects_v2(Bucket=bucket))[:2] == (403, "AccessDenied")
    # Anonymous access through a bucket policy, written with boto3.
    root_s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"])
    doc = ('{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],'
           f'"Resource":["acs:oss:*:{account_id}:{bucket}/pub/*"]}}]}}')
    root_s3.put_bucket_policy(Bucket=bucket, Policy=doc)
    assert requests.get(f"http://{ep}/{bucket}/pub/a").content == b"1"
    assert requests.get(f"http://{ep}/{bucket}/private/a").status_code == 403


# -- rclone (Debian's package) ------------------------------------------------------------------------------

def rclone(ep, root, *args, v2=False):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RCLONE_", "AWS_", "HTTP_PROXY", "http_proxy"))}
    env.update({
        "RCLONE_CONFIG": "/dev/null",
        "RCLONE_CONFIG_RS_TYPE": "s3",
        # rclone's "Alibaba" provider forces virtual-hosted names (<bucket>.<endpoint>), which would
        # need a name lookup; "Other" with path style keeps every request on the loopback address.
        "RCLONE_CONFIG_RS_PROVIDER": "Other",
        "RCLONE_CONFIG_RS_ACCESS_KEY_ID": root["AccessKeyId"],
        "RCLONE_CONFIG_RS_SECRET_ACCESS_KEY": root["AccessKeySecret"],
        "RCLONE_CONFIG_RS_ENDPOINT": f"http://{ep}",
        "RCLONE_CONFIG_RS_FORCE_PATH_STYLE": "true",
        "RCLONE_CONFIG_RS_V2_AUTH": "true" if v2 else "false",
        "NO_PROXY": "*",
    })
    r = subprocess.run([RCLONE, "--retries", "1", "--low-level-retries", "1", "--s3-upload-cutoff", "5M",
                        "--s3-chunk-size", "5M", *args], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"rclone {' '.join(args)} failed:\n{r.stderr}"
    return r.stdout


@pytest.mark.parametrize("v2", [False, True], ids=["sigv4", "sigv2"])
def test_rclone_sync_and_check(ep, root, bucket, tmp_path, v2):
    assert Path(RCLONE).exists(), "rclone is installed by scripts/test.sh (Debian's package)"
    src = tmp_path / "src"
    (src / "sub dir").mkdir(parents=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub dir" / "ü.bin").write_bytes(os.urandom(100_000))
    (src / "big.bin").write_bytes(os.urandom(11 * 1024 * 1024))  # multipart with 5 MiB chunks
    rclone(ep, root, "sync", str(src), f"rs:{bucket}/tree", v2=v2)
    listed = sorted(rclone(ep, root, "lsf", "-R", "--files-only", f"rs:{bucket}/tree", v2=v2).split())
    assert listed == ["a.txt", "big.bin", "sub dir/ü.bin"] or listed == sorted(["a.txt", "big.bin", "sub", "dir/ü.bin"])
    rclone(ep, root, "check", str(src), f"rs:{bucket}/tree", v2=v2)
    assert rclone(ep, root, "cat", f"rs:{bucket}/tree/a.txt", v2=v2) == "alpha"
    dst = tmp_path / "dst"
    rclone(ep, root, "copy", f"rs:{bucket}/tree", str(dst), v2=v2)
    assert (dst / "big.bin").read_bytes() == (src / "big.bin").read_bytes()
    (src / "a.txt").unlink()
    rclone(ep, root, "sync", str(src), f"rs:{bucket}/tree", v2=v2)
    assert "a.txt" not in rclone(ep, root, "lsf", "-R", f"rs:{bucket}/tree", v2=v2).split()


def test_referer_rules_cover_presigned_s3_urls(ep, root, bucket, signature):
    s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"], signature=signature)
    s3.put_object(Bucket=bucket, Key="ref.txt", Body=b"r")
    b = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), f"http://{ep}", bucket, region=REGION)
    b.put_bucket_referer(oss2.models.BucketReferer(False, ["http://allowed.test"]))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "ref.txt"}, ExpiresIn=300)
    r = requests.get(url)
    assert r.status_code == 403 and "<EC>0003-00000501</EC>" in r.text
    assert requests.get(url, headers={"Referer": "http://allowed.test"}).content == b"r"
    # A header-signed request is not subject to referer rules.
    assert s3.get_object(Bucket=bucket, Key="ref.txt")["Body"].read() == b"r"


# -- the S3 dialect sweep of the seventeenth session (docs/STATUS.md) -------------------------------------

def _raw(ep, root, method, path, query="", body=b"", headers=None, sig="s3v4", payload=None, added=""):
    """A request signed by botocore's own signers (SigV4, or SigV2 with `sig="s3"`) and sent as is:
    `query` is the raw query string (a bare `name` stays bare); `payload` replaces SigV4's payload
    hash (a streaming literal); `added` is appended to the query after signing."""
    from botocore.auth import HmacV1Auth, S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    url = f"http://{ep}{path}" + (f"?{query}" if query else "")
    req = AWSRequest(method=method, url=url, data=b"" if payload else body, headers=dict(headers or {}))
    creds = Credentials(root["AccessKeyId"], root["AccessKeySecret"])
    if sig == "s3":
        signer = HmacV1Auth(creds)
    else:
        signer = S3SigV4Auth(creds, "s3", REGION)
        if payload:
            signer.payload = lambda request: payload
    signer.add_auth(req)
    if added:
        url += ("&" if query else "?") + added
    return requests.request(method, url, data=body, headers=dict(req.headers.items()), timeout=30)


def _code(r):
    return r.status_code, (r.text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in r.text else "")


def _callback(app, name="x"):
    cb = {"callbackUrl": f"http://127.0.0.1:{app.server_address[1]}/{name}", "callbackBody": "object=${object}"}
    return base64.b64encode(json.dumps(cb).encode()).decode()


def test_sigv2_signs_the_oss_parameters_it_acts_on(ep, root, bucket, app):
    """SigV2 signs OSS's sub-resources as well as S3's: a SigV2 presigned URL (or a captured
    header-signed request) cannot be turned into GetBucketInfo, a LiveChannel, an AppendObject or an
    upload callback to a loopback service by adding a query parameter — SignatureDoesNotMatch, nothing
    done. S3's own unsigned parameters (`prefix`, `continuation-token`) still ride unsigned, as on S3."""
    s2 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"], signature="s3")
    s2.put_object(Bucket=bucket, Key="a.txt", Body=b"hello")
    refused = (403, "SignatureDoesNotMatch")
    listing = s2.generate_presigned_url("list_objects", Params={"Bucket": bucket}, ExpiresIn=300)
    assert requests.get(listing).status_code == 200
    for extra in ["bucketInfo", "stat", "referer", "live", "qos", "resourceGroup", "x-oss-process=image/info"]:
        assert _code(requests.get(listing + "&" + extra)) == refused, extra
    assert "<Key>a.txt</Key>" in requests.get(listing + "&prefix=a").text
    put = s2.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "ch"}, ExpiresIn=300)
    channel = b"<LiveChannelConfiguration><Status>enabled</Status><Target><Type>HLS</Type></Target></LiveChannelConfiguration>"
    assert _code(requests.put(put + "&live", data=channel)) == refused
    assert _code(requests.put(put + "&symlink", data=b"", headers={"x-oss-symlink-target": "a.txt"})) == refused
    assert _code(requests.put(put + "&callback=" + urllib.parse.quote(_callback(app)), data=b"z")) == refused
    initiate = s2.generate_presigned_url("create_multipart_upload", Params={"Bucket": bucket, "Key": "ap.txt"}, ExpiresIn=300)
    assert _code(requests.post(initiate + "&append&position=0", data=b"attacker bytes")) == refused
    get = s2.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a.txt"}, ExpiresIn=300)
    assert _code(requests.head(get + "&objectMeta"))[0] == 403
    assert requests.get(get).content == b"hello"
    # A header-signed request, replayed with a parameter added.
    assert _raw(ep, root, "GET", f"/{bucket}", sig="s3").status_code == 200
    assert _code(_raw(ep, root, "GET", f"/{bucket}", sig="s3", added="bucketInfo")) == refused
    assert _code(_raw(ep, root, "PUT", f"/{bucket}/cb.txt", body=b"z", sig="s3",
                      added="callback=" + urllib.parse.quote(_callback(app)))) == refused
    # Nothing happened: no object, no channel, no callback.
    assert [o["Key"] for o in s2.list_objects_v2(Bucket=bucket)["Contents"]] == ["a.txt"]
    assert _App.seen == []
    b = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), f"http://{ep}", bucket, region=REGION)
    assert list(oss2.LiveChannelIterator(b)) == []
    # SigV4 signs the whole query: the same additions are refused there too.
    s4 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"])
    put4 = s4.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "cb.txt"}, ExpiresIn=300)
    assert _code(requests.put(put4 + "&callback=" + urllib.parse.quote(_callback(app)), data=b"z")) == refused


def test_s3_callback_only_when_signed(ep, root, bucket, app):
    """An `x-oss-callback` header rides on an S3 request only when SigV4 signed it (SigV2 signs no
    `x-oss-*` header): unsigned, it is ignored and no callback is made; a callback the signature
    covers (a signed header, or a SigV2 resource with `callback`) is delivered."""
    cb = _callback(app, "hdr")
    assert _raw(ep, root, "PUT", f"/{bucket}/v2.txt", body=b"a", sig="s3", headers={"x-oss-callback": cb}).status_code == 200
    r = _raw(ep, root, "PUT", f"/{bucket}/v4.txt", body=b"a")  # signed without the header, which is added after
    assert r.status_code == 200
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method="PUT", url=f"http://{ep}/{bucket}/v4u.txt", data=b"a")
    S3SigV4Auth(Credentials(root["AccessKeyId"], root["AccessKeySecret"]), "s3", REGION).add_auth(req)
    unsigned = {**dict(req.headers.items()), "x-oss-callback": cb}
    assert requests.put(f"http://{ep}/{bucket}/v4u.txt", data=b"a", headers=unsigned).status_code == 200
    assert _App.seen == []
    r = _raw(ep, root, "PUT", f"/{bucket}/v4s.txt", body=b"a", headers={"x-oss-callback": cb})
    assert r.status_code == 200 and json.loads(r.content) == {"Status": "OK"}
    # botocore's SigV2 signs S3's sub-resources only; this signature covers `callback` as well.
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime())
    sts = f"PUT\n\n\n{date}\n/{bucket}/v2q.txt?callback={cb}"
    signature = base64.b64encode(hmac.new(root["AccessKeySecret"].encode(), sts.encode(), hashlib.sha1).digest()).decode()
    r = requests.put(f"http://{ep}/{bucket}/v2q.txt?callback={urllib.parse.quote(cb)}", data=b"a",
                     headers={"Date": date, "Authorization": f"AWS {root['AccessKeyId']}:{signature}"})
    assert r.status_code == 200, r.text
    assert [(path, body) for path, _, body in _App.seen] == [("/hdr", b"object=v4s.txt"), ("/hdr", b"object=v2q.txt")]


@pytest.mark.parametrize("sig", ["s3v4", "s3"])
def test_unknown_s3_sub_resources_touch_nothing(ep, root, bucket, sig):
    """An S3 sub-resource no list knows yet (written bare, as S3 writes them) never falls through to the
    plain operation: NotImplemented, the object and the bucket kept. A parameter with a value that
    no operation takes is ignored, as S3 ignores it (`?t=1` on a GET). The OSS dialect keeps OSS's reading."""
    s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"])
    s3.put_object(Bucket=bucket, Key="k", Body=b"keep")
    for method, path in [("PUT", f"/{bucket}/k"), ("DELETE", f"/{bucket}/k"), ("DELETE", f"/{bucket}"), ("POST", f"/{bucket}/k"),
                         ("GET", f"/{bucket}/k")]:
        r = _raw(ep, root, method, path, query="someFutureOperation", body=b"overwritten" if method == "PUT" else b"", sig=sig)
        assert _code(r) == (501, "NotImplemented"), (method, path, r.text)
    r = _raw(ep, root, "PUT", f"/{bucket}/k", query="x-id=PutObject&someFutureOperation", body=b"overwritten", sig=sig)
    assert _code(r) == (501, "NotImplemented")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"keep"
    assert _raw(ep, root, "GET", f"/{bucket}/k", query="t=1", sig=sig).content == b"keep"
    b = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), f"http://{ep}", bucket, region=REGION)
    b.put_object("o", b"oss")
    assert b.get_object("o", params={"someFutureOperation": ""}).read() == b"oss"


def _trailer_put(ep, root, bucket, key, data, trailers, announce, payload="STREAMING-UNSIGNED-PAYLOAD-TRAILER"):
    """An unsigned-chunk aws-chunked PUT (boto3's form over HTTPS) with `trailers` (lines) after the
    last chunk, `announce` as its x-amz-trailer (None: none)."""
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))}
    if announce:
        headers["x-amz-trailer"] = announce
    body = f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n" + "".join(f"{t}\r\n" for t in trailers).encode() + b"\r\n"
    return _raw(ep, root, "PUT", f"/{bucket}/{key}", body=body, headers=headers, payload=payload)


def test_trailer_must_be_the_announced_one(ep, root, bucket):
    """An aws-chunked body's trailer is the one x-amz-trailer announced, or the body is refused
    (MalformedTrailerError, as S3 answers) and nothing is stored: another checksum, an unannounced one,
    none at all. An x-amz-trailer that names no checksum is InvalidRequest."""
    data = os.urandom(3000)
    crc = lambda d: base64.b64encode(zlib.crc32(d).to_bytes(4, "big")).decode()  # noqa: E731
    r = _trailer_put(ep, root, bucket, "good", data, [f"x-amz-checksum-crc32:{crc(data)}"], "x-amz-checksum-crc32")
    assert r.status_code == 200, r.text
    r = _trailer_put(ep, root, bucket, "none-needed", data, [], None)
    assert r.status_code == 200, r.text
    malformed = (400, "MalformedTrailerError")
    refused = {
        "wrong": ([f"x-amz-checksum-crc32:{crc(b'other')}"], "x-amz-checksum-crc32", (400, "BadDigest")),
        "other-algorithm": (["x-amz-checksum-crc32c:AAAAAA=="], "x-amz-checksum-crc32", malformed),
        "unannounced": (["x-amz-checksum-crc32:AAAAAA=="], None, malformed),
        "missing": ([], "x-amz-checksum-crc32", malformed),
        "extra": ([f"x-amz-checksum-crc32:{crc(data)}", "x-amz-checksum-sha256:AAAA"], "x-amz-checksum-crc32", malformed),
        "unsupported": ([f"x-amz-meta-a:{crc(data)}"], "x-amz-meta-a", (400, "InvalidRequest")),
    }
    for key, (trailers, announce, expected) in refused.items():
        assert _code(_trailer_put(ep, root, bucket, key, data, trailers, announce)) == expected, key
    # announced on a body that carries no trailer
    r = _raw(ep, root, "PUT", f"/{bucket}/not-streaming", body=data, headers={"x-amz-trailer": "x-amz-checksum-crc32"})
    assert _code(r) == malformed
    s3 = s3_client(ep, root["AccessKeyId"], root["AccessKeySecret"])
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["good", "none-needed"]
    assert s3.get_object(Bucket=bucket, Key="good")["Body"].read() == data


def test_boto3_trailer_over_https(server, root, bucket):
    """boto3 over HTTPS sends its CRC32 as an aws-chunked trailer: stored."""
    cfg = Config(signature_version="s3v4", region_name=REGION, retries={"max_attempts": 1}, s3={"addressing_style": "path"})
    s3 = boto3.client("s3", endpoint_url=f"https://{server.tls_endpoint}", aws_access_key_id=root["AccessKeyId"],
                      aws_secret_access_key=root["AccessKeySecret"], config=cfg, verify=str(server.ca_file))
    events = []
    s3.meta.events.register("before-send.s3.PutObject", lambda request, **_: events.append(dict(request.headers)))
    s3.put_object(Bucket=bucket, Key="tls", Body=b"over tls" * 1000)
    sent = {k.lower(): v for k, v in events[0].items()}
    assert sent["x-amz-trailer"] in ("x-amz-checksum-crc32", b"x-amz-checksum-crc32"), sent
    assert s3.get_object(Bucket=bucket, Key="tls")["Body"].read() == b"over tls" * 1000


def test_complete_with_whole_object_checksum(root_s3, bucket, ep, root):
    """CompleteMultipartUpload's x-amz-checksum-crc32 is the whole object's (FULL_OBJECT), not the XML
    body's: the upload completes (it was BadDigest). rolestack keeps no part checksums to combine, so
    the value is not checked (docs/s3-compatible.md)."""
    crc = lambda d: base64.b64encode(zlib.crc32(d).to_bytes(4, "big")).decode()  # noqa: E731
    parts = [b"a" * (5 * 1024 * 1024), b"b" * 10]
    up = root_s3.create_multipart_upload(Bucket=bucket, Key="full", ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT")["UploadId"]
    done = [root_s3.upload_part(Bucket=bucket, Key="full", UploadId=up, PartNumber=n, Body=d, ChecksumAlgorithm="CRC32")
            for n, d in enumerate(parts, 1)]
    root_s3.complete_multipart_upload(
        Bucket=bucket, Key="full", UploadId=up, ChecksumCRC32=crc(b"".join(parts)), ChecksumType="FULL_OBJECT",
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": p["ETag"], "ChecksumCRC32": crc(d)}
                                   for n, (p, d) in enumerate(zip(done, parts), 1)]})
    assert root_s3.get_object(Bucket=bucket, Key="full")["Body"].read() == b"".join(parts)
    # A part's own checksum is still checked against the part.
    up = root_s3.create_multipart_upload(Bucket=bucket, Key="bad-part")["UploadId"]
    status, code, _ = error_of(lambda: root_s3.upload_part(Bucket=bucket, Key="bad-part", UploadId=up, PartNumber=1,
                                                           Body=b"x", ChecksumCRC32=crc(b"y")))
    assert (status, code) == (400, "BadDigest")
