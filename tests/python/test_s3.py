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

import hashlib
import hmac
import os
import shutil
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path

import boto3
import oss2
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

import rshelpers as h

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

def test_s3_operations_oss_lacks_touch_nothing(root_s3, bucket):
    """An S3 sub-resource OSS has no operation for is NotImplemented (501): it never falls through to
    the plain operation of its method (DELETE bucket, PUT object overwriting the data with the XML)."""
    root_s3.put_object(Bucket=bucket, Key="held", Body=b"data")
    calls = [
        lambda: root_s3.put_object_legal_hold(Bucket=bucket, Key="held", LegalHold={"Status": "ON"}),
        lambda: root_s3.put_object_retention(Bucket=bucket, Key="held",
                                             Retention={"Mode": "GOVERNANCE", "RetainUntilDate": "2099-01-01T00:00:00Z"}),
        lambda: root_s3.get_object_legal_hold(Bucket=bucket, Key="held"),
        lambda: root_s3.get_object_attributes(Bucket=bucket, Key="held", ObjectAttributes=["ETag"]),
        lambda: root_s3.delete_bucket_ownership_controls(Bucket=bucket),
        lambda: root_s3.delete_bucket_metrics_configuration(Bucket=bucket, Id="m"),
        lambda: root_s3.delete_bucket_analytics_configuration(Bucket=bucket, Id="a"),
        lambda: root_s3.put_bucket_accelerate_configuration(Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"}),
    ]
    for call in calls:
        status, code, _ = error_of(call)
        assert (status, code) == (501, "NotImplemented")
    assert root_s3.get_object(Bucket=bucket, Key="held")["Body"].read() == b"data"
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
