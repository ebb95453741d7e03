"""Support for test_deny_matrix.py: the world the deny matrix runs against (principals, RAM
entities, ECS instances, OSS buckets — built once per module), the step runner (every request goes
through an official SDK: tea / aliyun-python-sdk-core via rshelpers.RpcApi, oss2, or `requests` for
presigned URLs), the undo rules that keep the shared world intact, and the case type.

A *step* is data: ``(svc, action, params)`` with ``svc`` one of ``ram``, ``sts``, ``ecs`` (RPC),
``oss`` (oss2), ``url`` (an oss2 presigned URL fetched with requests) or ``post`` (a PostObject
browser form sent with requests). String values may hold
placeholders resolved against the world's names at run time:

* ``{name}`` — the name as created; ``{name:upper}``, ``{name:lower}``, ``{name:title}``,
  ``{name:alt}``, ``{name:swap}`` — the same name in another letter case;
* ``{fresh}`` — a new lower-case unique name for this case run (a throwaway entity or key);
* ``{@0.AccessKey.AccessKeyId}`` — a field of the response of the case's first setup step;
  ``{@0}`` — that response itself (an upload id).

``console`` steps go through the web console as a person would: ``ChangePassword`` signs in as the
RAM user ``UserName`` with ``OldPassword`` and submits the console's password form (the step carries
its own credentials, like a ``post`` form; the case's ``who`` is not used).

JSON documents never match the placeholder syntax (``{"`` is not ``{name}``).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import oss2
import requests

import rshelpers as h
from consolekit import Console

REGION = h.ECS_REGION
OSS_REGION = "cn-hangzhou"
IMAGE = "centos_7_03_64_40G_alibase_20170503.vhd"
ITYPE = "ecs.xn4.small"
WEEK = 7 * 24 * 3600  # the longest validity of an OSS V4 presigned URL
PRESIGN_TOO_LONG_EC = "0002-00000232"
PASSWORD = "Dm-matrix-pw-123"

Step = Tuple[str, str, Dict[str, Any]]

VARIANTS = {
    "exact": lambda s: s,
    "upper": str.upper,
    "lower": str.lower,
    "title": str.title,
    "swap": str.swapcase,
    "alt": lambda s: "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(s)),
}

_PLACEHOLDER = re.compile(r"\{(@\d+(?:\.\w+)*|\w+)(?::(\w+))?\}")


# -- steps ---------------------------------------------------------------------------------------

def ram(action, **params) -> Step:
    return ("ram", action, params)


def sts(action, **params) -> Step:
    return ("sts", action, params)


def ims(action, **params) -> Step:
    return ("ims", action, params)


def ecs(action, **params) -> Step:
    params.setdefault("RegionId", REGION)
    return ("ecs", action, params)


def admin(action, **params) -> Step:
    """rolestack's own admin product (`Rolestack`, actions `rolestack:*`)."""
    return ("rolestack", action, params)


def trail(action, **params) -> Step:
    """ActionTrail 2020-07-06 (`actiontrail:*`)."""
    return ("actiontrail", action, params)


def vpc(action, **params) -> Step:
    params.setdefault("RegionId", REGION)
    return ("vpc", action, params)


def oss(action, bucket=None, key=None, **params) -> Step:
    if bucket is not None:
        params["bucket"] = bucket
    if key is not None:
        params["key"] = key
    return ("oss", action, params)


def presign(bucket, key, expires, auth="v4", method="GET", token_header=False, append="") -> Step:
    """A presigned URL fetched with requests; `token_header` also sends the session's token as the
    x-oss-security-token header (the URL carries it already). `auth` s3v4 / s3: boto3's SigV4 / SigV2
    URL of the S3 operation of `method` (GET: GetObject, or ListObjects without a key; PUT:
    PutObject; POST: CreateMultipartUpload). `append` is added to the URL's query after signing."""
    return ("url", "Presign" + method.title(), {"bucket": bucket, "key": key, "expires": expires,
                                                "auth": auth, "method": method, "token_header": token_header,
                                                "append": append})


def post_form(bucket, key, sig="v1", prefix="", forge=False, expired=False, after_file=None) -> Step:
    """A PostObject form signed by the principal (`sig` v1 / v4 / s3v4 / s3 / none), its policy allowing keys
    under `prefix`; `forge` signs with a wrong secret, `expired` dates the policy in the past; `after_file`:
    fields sent after the file part."""
    return ("post", "PostObject", {"bucket": bucket, "key": key, "sig": sig, "prefix": prefix, "forge": forge,
                                   "expired": expired, "after_file": after_file})


def console(action, **params) -> Step:
    return ("console", action, params)


def ids(*instance_ids) -> str:
    return json.dumps(list(instance_ids))


# -- cases ---------------------------------------------------------------------------------------

@dataclass
class Case:
    """One deny: `req` sent as `who` must be refused with exactly (`code`, `status`); `ctl`, sent as
    the same principal (or `ctl_who`), must succeed — the neighbouring resource or action."""
    id: str
    who: str
    req: Step
    code: str
    ctl: Optional[Step]
    status: int = 403
    ctl_who: Optional[str] = None
    setup: List[Step] = field(default_factory=list)    # root steps before; results are {@N...}
    cleanup: List[Step] = field(default_factory=list)  # root steps after; errors ignored
    ec: Optional[str] = None                           # OSS error coordinate, when pinned
    kind: str = "v3"                                   # RPC client kind (v3 / v2sig / core)
    sig: str = "v1"                                    # oss2 signature version for oss steps; s3v4 / s3: boto3 SigV4 / SigV2
    escape: str = ""                                   # known escape in the baseline binary: why
    noctl: str = ""                                    # why there is no positive control
    sample_of: Optional[str] = None                    # an SDK-kind re-run of this case id

    def __post_init__(self):
        assert self.ctl is not None or self.noctl, f"{self.id}: a control or a reason for none"
        assert re.fullmatch(r"[A-Za-z0-9_.-]+", self.id), self.id


# The services cases call through the RPC gateway: their API version and product name.
RPC_PRODUCTS = {"ram": (h.RAM_VERSION, "Ram"), "sts": (h.STS_VERSION, "Sts"), "ecs": (h.ECS_VERSION, "Ecs"),
                "vpc": (h.VPC_VERSION, "Vpc"), "ims": ("2019-08-15", "Ims"), "rolestack": ("2026-11-01", "Rolestack"),
                "actiontrail": ("2020-07-06", "Actiontrail")}


def expected_code(svc: str) -> str:
    return {"ram": "NoPermission", "sts": "NoPermission", "ims": "NoPermission", "rolestack": "NoPermission", "actiontrail": "NoPermission", "ecs": "Forbidden.RAM", "vpc": "Forbidden.RAM",
            "oss": "AccessDenied", "url": "AccessDenied", "post": "AccessDenied"}[svc]


# -- refusals ------------------------------------------------------------------------------------

class Refusal(Exception):
    """A server refusal as one of the SDKs surfaced it, normalised across products."""

    def __init__(self, svc, status, code, message="", request_id=None, ec=None, exc_type=None):
        super().__init__(f"[{svc}] HTTP {status} {code}: {message} (RequestId {request_id}, EC {ec}, {exc_type})")
        self.svc, self.status, self.code, self.message = svc, status, code, message or ""
        self.request_id, self.ec, self.exc_type = request_id, ec, exc_type


def _xml_field(body: str, name: str) -> Optional[str]:
    m = re.search(rf"<{name}>(.*?)</{name}>", body, re.S)
    return m.group(1) if m else None


def _raise_xml_refusal(svc: str, r) -> None:
    """Raises the OSS XML error of a `requests` response (status 300 and above) as a Refusal."""
    if r.status_code >= 300:
        body = r.text
        raise Refusal(svc, r.status_code, _xml_field(body, "Code"), _xml_field(body, "Message"),
                      r.headers.get("x-oss-request-id") or _xml_field(body, "RequestId"),
                      r.headers.get("x-oss-ec") or _xml_field(body, "EC"), "requests")


# -- the world -----------------------------------------------------------------------------------

@dataclass
class Principal:
    ak: str
    sk: str
    token: Optional[str] = None
    anonymous: bool = False


class World:
    """Everything the matrix needs, created once as the account root."""

    def __init__(self, server):
        self.server = server
        self.ep = server.endpoint
        root = server.root
        self.account = root["AccountId"]
        self.principals: Dict[str, Principal] = {
            "root": Principal(root["AccessKeyId"], root["AccessKeySecret"]),
            "anon": Principal("", "", anonymous=True),
        }
        self.names: Dict[str, str] = {"acct": self.account}
        self.bucket_policies: Dict[str, str] = {}
        self._rpc: Dict[tuple, h.RpcApi] = {}
        self.created_groups: List[str] = []
        self.created_buckets: List[str] = []
        self.created_instances: List[str] = []

    # -- names -----------------------------------------------------------------------------------
    def name(self, key: str, prefix: Optional[str] = None, exact: Optional[str] = None) -> str:
        """Registers a unique name (lower case unless `exact` is given)."""
        value = exact if exact is not None else h.unique_name((prefix or key).replace("_", "-"))
        assert key not in self.names, key
        self.names[key] = value
        return value

    def resolve(self, value, extra: Dict[str, str], results: List[Any]):
        if isinstance(value, str):
            def sub(m):
                key, variant = m.group(1), m.group(2) or "exact"
                if key.startswith("@"):
                    parts = key[1:].split(".")
                    v: Any = results[int(parts[0])]
                    for p in parts[1:]:
                        v = v[p]
                    return str(v)
                v = extra[key] if key in extra else self.names[key]
                return VARIANTS[variant](v)
            return _PLACEHOLDER.sub(sub, value)
        if isinstance(value, dict):
            return {k: self.resolve(v, extra, results) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.resolve(v, extra, results) for v in value)
        return value

    # -- clients ---------------------------------------------------------------------------------
    def rpc(self, who: str, svc: str, kind: str = "v3") -> h.RpcApi:
        key = (who, svc, kind)
        if key not in self._rpc:
            p = self.principals[who]
            version, product = RPC_PRODUCTS[svc]
            self._rpc[key] = h.RpcApi(kind, self.ep, p.ak, p.sk, version=version, token=p.token, product=product)
        return self._rpc[key]

    def oss_auth(self, who: str, sig: str = "v1"):
        p = self.principals[who]
        if p.anonymous:
            return oss2.AnonymousAuth()
        if sig == "provider_v4":
            from oss2.credentials import StaticCredentialsProvider
            return oss2.ProviderAuthV4(StaticCredentialsProvider(p.ak, p.sk, p.token))
        if p.token:
            return oss2.StsAuth(p.ak, p.sk, p.token, auth_version="v4") if sig == "v4" else oss2.StsAuth(p.ak, p.sk, p.token)
        return oss2.AuthV4(p.ak, p.sk) if sig == "v4" else oss2.Auth(p.ak, p.sk)

    def bucket(self, who: str, name: str, sig: str = "v1") -> oss2.Bucket:
        return oss2.Bucket(self.oss_auth(who, sig), f"http://{self.ep}", name, region=OSS_REGION)

    # -- running steps ---------------------------------------------------------------------------
    def call(self, who: str, step: Step, extra=None, results=None, kind="v3", sig="v1"):
        """Runs one step as `who`; a server refusal raises Refusal."""
        svc, action, params = step
        p = self.resolve(params, extra or {}, results or [])
        if svc in RPC_PRODUCTS:
            try:
                return self.rpc(who, svc, kind).call(action, p)
            except h.ApiError as e:
                raise Refusal(svc, e.status, e.code, e.message, e.request_id, exc_type=type(e.sdk_exc).__name__) from None
        if svc == "oss" and sig in ("s3v4", "s3"):
            from botocore.exceptions import ClientError
            try:
                return self._s3(who, action, p, sig)
            except ClientError as e:
                r = e.response
                raise Refusal(svc, r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"].get("Message", ""),
                              r["ResponseMetadata"].get("RequestId"), r["Error"].get("EC"), "ClientError") from None
        if svc == "oss":
            try:
                return self._oss(who, action, p, sig)
            except oss2.exceptions.OssError as e:
                raise Refusal(svc, e.status, e.code, e.message, e.request_id, e.ec, type(e).__name__) from None
        if svc == "url":
            return self._presigned(who, p)
        if svc == "post":
            return self._post(who, p)
        if svc == "console":
            return self._console(action, p)
        raise AssertionError(f"unknown service {svc}")

    def _console(self, action: str, p: Dict[str, Any]) -> dict:
        """A console form (see the module doc); the page's refusal (`Code: message`) as a Refusal."""
        assert action == "ChangePassword", action
        c = Console(self.server.base_url).signin_user(f"{p['UserName']}@{self.account}", p["OldPassword"])
        r = c.change_password(p["OldPassword"], p["NewPassword"])
        if r.status_code == 303:
            return {}
        shown = re.search(r'role="alert"[^>]*>([^<]*)</p>', r.text)
        code, _, message = (shown.group(1) if shown else "").partition(": ")
        raise Refusal("console", r.status_code, code, message, exc_type="console page")

    def root(self, step: Step, extra=None, results=None):
        return self.call("root", step, extra, results)

    def _oss(self, who, action, p, sig):
        if action == "ListBuckets":
            return [b.name for b in oss2.Service(self.oss_auth(who, sig), f"http://{self.ep}", region=OSS_REGION).list_buckets().buckets]
        b = self.bucket(who, p["bucket"], sig)
        key = p.get("key")
        # `version`: the request names that version (`versionId`).
        vp = {"versionId": p["version"]} if "version" in p else None
        if action == "GetObject":
            # `params`: more query parameters (`response-*` overrides)
            return b.get_object(key, headers=p.get("headers"), params={**(vp or {}), **p.get("params", {})} or None).read()
        if action == "HeadObject":
            return b.head_object(key, params=vp).content_length
        if action == "PutObject":
            headers = dict(p.get("headers", {}))
            if "tagging" in p:
                headers["x-oss-tagging"] = p["tagging"]
            return b.put_object(key, p.get("body", b"deny-matrix"), headers=headers or None).status
        if action == "DeleteObject":
            return b.delete_object(key, params=vp).status
        if action == "DeleteMultipleObjects":
            return b.batch_delete_objects(p["keys"]).deleted_keys
        if action == "AppendObject":
            return b.append_object(key, p.get("position", 0), p.get("body", b"deny-matrix"), headers=p.get("headers")).status
        if action == "UploadPart":
            return b.upload_part(key, p["upload_id"], p.get("number", 1), p.get("body", b"deny-matrix")).etag
        if action == "CompleteMultipartUpload":  # of every part uploaded (x-oss-complete-all)
            return b.complete_multipart_upload(key, p["upload_id"], None, headers={"x-oss-complete-all": "yes"}).status
        if action == "PutBucketCors":
            rule = oss2.models.CorsRule(allowed_origins=p.get("origins", ["*"]), allowed_methods=p.get("methods", ["GET", "PUT"]),
                                        allowed_headers=["*"])
            return b.put_bucket_cors(oss2.models.BucketCors([rule])).status
        if action == "DeleteBucketCors":
            return b.delete_bucket_cors().status
        if action == "PutBucketReferer":
            return b.put_bucket_referer(oss2.models.BucketReferer(p.get("allow_empty", True), p.get("referers", []))).status
        if action == "CopyObject":
            return b.copy_object(p["bucket"], p["src"], key, headers=p.get("headers"), params=vp).status
        if action == "ListObjects":
            r = b.list_objects(prefix=p.get("prefix", ""), delimiter=p.get("delimiter", ""))
            return [o.key for o in r.object_list]
        if action == "ListObjectsV2":
            r = b.list_objects_v2(prefix=p.get("prefix", ""), delimiter=p.get("delimiter", ""))
            return [o.key for o in r.object_list]
        if action == "GetBucketInfo":
            return b.get_bucket_info().name
        if action == "GetBucketAcl":
            return b.get_bucket_acl().acl
        if action == "PutBucketAcl":
            return b.put_bucket_acl(p["acl"]).status
        if action == "GetObjectAcl":
            return b.get_object_acl(key, params=vp).acl
        if action == "PutObjectAcl":
            return b.put_object_acl(key, p["acl"], params=vp).status
        if action == "GetBucketPolicy":
            return b.get_bucket_policy().policy
        if action == "PutBucketPolicy":
            return b.put_bucket_policy(p["policy"]).status
        if action == "DeleteBucketPolicy":
            return b.delete_bucket_policy().status
        if action == "PutBucket":
            return b.create_bucket().status
        if action == "DeleteBucket":
            return b.delete_bucket().status
        if action == "InitiateMultipartUpload":
            return b.init_multipart_upload(key, headers=p.get("headers")).upload_id
        if action == "PutBucketLifecycle":
            rule = oss2.models.LifecycleRule("dm", p.get("prefix", "dm/"), expiration=oss2.models.LifecycleExpiration(days=p.get("days", 365)))
            return b.put_bucket_lifecycle(oss2.models.BucketLifecycle([rule])).status
        if action == "DeleteBucketLifecycle":
            return b.delete_bucket_lifecycle().status
        if action == "PutBucketEncryption":
            rule = oss2.models.ServerSideEncryptionRule()
            rule.sse_algorithm = p.get("algorithm", "AES256")
            return b.put_bucket_encryption(rule).status
        if action == "DeleteBucketEncryption":
            return b.delete_bucket_encryption().status
        if action == "PutBucketLogging":
            return b.put_bucket_logging(oss2.models.BucketLogging(p.get("target", p["bucket"]), p.get("prefix", "log/"))).status
        if action == "GetBucketLogging":
            return b.get_bucket_logging().target_bucket
        if action == "DeleteBucketLogging":
            return b.delete_bucket_logging().status
        if action == "GetBucketStat":
            return b.get_bucket_stat().object_count
        if action == "PutBucketStorageCapacity":
            return b.set_bucket_storage_capacity(oss2.models.BucketUserQos(p.get("gb", 10))).status
        if action == "GetBucketStorageCapacity":
            return b.get_bucket_storage_capacity().storage_capacity
        if action == "PutBucketResourceGroup":
            return b.put_bucket_resource_group(p["group"]).status
        if action == "GetBucketResourceGroup":
            return b.get_bucket_resource_group().resource_group_id
        if action == "PutSymlink":
            return b.put_symlink(p["target"], key).status
        if action == "GetObjectProcess":
            return b.get_object(key, process=p["process"]).read()
        if action == "PutLiveChannel":
            target = oss2.models.LiveChannelInfoTarget(playlist_name="dm.m3u8")
            return b.create_live_channel(key, oss2.models.LiveChannelInfo(target=target)).publish_url
        if action == "PutLiveChannelStatus":
            return b.put_live_channel_status(key, p.get("status", "disabled")).status
        if action == "GetLiveChannelInfo":
            return b.get_live_channel(key).status
        if action == "GetLiveChannelStat":
            return b.get_live_channel_stat(key).status
        if action == "ListLiveChannel":
            return [c.name for c in b.list_live_channel(prefix=p.get("prefix", "")).channels]
        if action == "DeleteLiveChannel":
            return b.delete_live_channel(key).status
        if action == "RestoreObject":
            return b.restore_object(key).status
        if action == "GetObjectTagging":
            return dict(b.get_object_tagging(key, params=vp).tag_set.tagging_rule)
        if action == "PutObjectTagging":
            rule = oss2.models.TaggingRule()
            for k, v in p["tags"].items():
                rule.add(k, v)
            return b.put_object_tagging(key, oss2.models.Tagging(rule), params=vp).status
        if action == "DeleteObjectTagging":
            return b.delete_object_tagging(key, params=vp).status
        if action == "ListObjectVersions":
            return [v.versionid for v in b.list_object_versions(prefix=p.get("prefix", "")).versions]
        if action == "GetBucketVersioning":
            return b.get_bucket_versioning().status
        if action == "PutBucketVersioning":
            config = oss2.models.BucketVersioningConfig()
            config.status = p.get("status", "Enabled")
            return b.put_bucket_versioning(config).status
        if action == "GetBucketTagging":
            return dict(b.get_bucket_tagging().tag_set.tagging_rule)
        if action == "PutBucketTagging":
            rule = oss2.models.TaggingRule()
            for k, v in p["tags"].items():
                rule.add(k, v)
            return b.put_bucket_tagging(oss2.models.Tagging(rule)).status
        if action == "AbortMultipartUpload":
            return b.abort_multipart_upload(key, p["upload_id"]).status
        raise AssertionError(f"unknown OSS action {action}")

    def s3(self, who: str, sig: str, secret: Optional[str] = None):
        """boto3 as `who` against the S3-compatible API (SigV4 `s3v4` or SigV2 `s3`), path style;
        `secret` replaces the principal's (a forged signature)."""
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config
        p = self.principals[who]
        cfg = Config(signature_version=UNSIGNED if p.anonymous else sig, region_name=OSS_REGION,
                     retries={"max_attempts": 1}, s3={"addressing_style": "path"})
        if p.anonymous:
            return boto3.client("s3", endpoint_url=f"http://{self.ep}", config=cfg)
        return boto3.client("s3", endpoint_url=f"http://{self.ep}", aws_access_key_id=p.ak, aws_secret_access_key=secret or p.sk,
                            aws_session_token=p.token, config=cfg)

    def _s3(self, who, action, p, sig):
        c = self.s3(who, sig)
        b, key = p.get("bucket"), p.get("key")
        if action == "ListBuckets":
            return [x["Name"] for x in c.list_buckets()["Buckets"]]
        if action == "GetObject":
            return c.get_object(Bucket=b, Key=key)["Body"].read()
        if action == "HeadObject":
            return c.head_object(Bucket=b, Key=key)["ContentLength"]
        if action == "PutObject":
            return c.put_object(Bucket=b, Key=key, Body=p.get("body", b"deny-matrix"))["ResponseMetadata"]["HTTPStatusCode"]
        if action == "DeleteObject":
            return c.delete_object(Bucket=b, Key=key)["ResponseMetadata"]["HTTPStatusCode"]
        if action == "CopyObject":
            return c.copy_object(Bucket=b, Key=key, CopySource={"Bucket": b, "Key": p["src"]})["ResponseMetadata"]["HTTPStatusCode"]
        if action in ("ListObjects", "ListObjectsV2"):
            fn = c.list_objects if action == "ListObjects" else c.list_objects_v2
            return [o["Key"] for o in fn(Bucket=b, Prefix=p.get("prefix", ""), Delimiter=p.get("delimiter", "")).get("Contents", [])]
        if action == "GetBucketAcl":
            return c.get_bucket_acl(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"]
        if action == "PutBucketAcl":
            return c.put_bucket_acl(Bucket=b, ACL=p["acl"])["ResponseMetadata"]["HTTPStatusCode"]
        if action == "PutObjectAcl":
            return c.put_object_acl(Bucket=b, Key=key, ACL=p["acl"])["ResponseMetadata"]["HTTPStatusCode"]
        if action == "GetBucketPolicy":
            return c.get_bucket_policy(Bucket=b)["Policy"]
        if action == "PutBucketPolicy":
            return c.put_bucket_policy(Bucket=b, Policy=p["policy"])["ResponseMetadata"]["HTTPStatusCode"]
        if action == "DeleteBucketPolicy":
            return c.delete_bucket_policy(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"]
        if action == "PutBucket":
            return c.create_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"]
        if action == "DeleteBucket":
            return c.delete_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"]
        if action == "InitiateMultipartUpload":
            return c.create_multipart_upload(Bucket=b, Key=key)["UploadId"]
        if action == "PutBucketCors":
            return c.put_bucket_cors(Bucket=b, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]})[
                "ResponseMetadata"]["HTTPStatusCode"]
        if action == "GetBucketCors":
            return c.get_bucket_cors(Bucket=b)["CORSRules"]
        raise AssertionError(f"unknown S3 action {action}")

    def _presigned(self, who, p):
        method = p["method"]
        if p["auth"] in ("s3v4", "s3"):
            op = {"GET": "get_object" if p["key"] else "list_objects", "PUT": "put_object", "POST": "create_multipart_upload"}[method]
            params = {"Bucket": p["bucket"], **({"Key": p["key"]} if p["key"] else {})}
            url = self.s3(who, p["auth"]).generate_presigned_url(op, Params=params, ExpiresIn=p["expires"])
        else:
            url = self.bucket(who, p["bucket"], p["auth"]).sign_url(method, p["key"], p["expires"])
        if p.get("append"):
            url += ("&" if "?" in url else "?") + p["append"]
        assert url.startswith(f"http://{self.ep}/"), url  # loopback only
        headers = {"x-oss-security-token": self.principals[who].token} if p.get("token_header") else {}
        r = requests.request(method, url, data=b"via presigned url" if method in ("PUT", "POST") else None, headers=headers, timeout=30)
        _raise_xml_refusal("url", r)
        return r.content

    def _post(self, who, p):
        pr = self.principals[who]
        conditions = [["starts-with", "$key", p["prefix"]]]
        expiration = "2020-01-01T00:00:00Z" if p["expired"] else h.POST_EXPIRES
        sk = "forged-" + pr.sk if p["forge"] else pr.sk
        fields = {"key": p["key"]}
        if p["sig"] in ("s3v4", "s3"):  # boto3's generate_presigned_post
            c = self.s3(who, p["sig"], secret=sk if p["forge"] else None)
            fields = c.generate_presigned_post(p["bucket"], p["key"], Conditions=conditions,
                                               ExpiresIn=-3600 if p["expired"] else 3600)["fields"]
        elif p["sig"] == "v1":
            fields.update(h.post_form_v1(pr.ak, sk, conditions, token=pr.token, expiration=expiration))
        elif p["sig"] == "v4":
            fields.update(h.post_form_v4(pr.ak, sk, conditions, token=pr.token, expiration=expiration, region=OSS_REGION))
        r = h.post_object(self.ep, p["bucket"], fields, b"via post form", extra_after_file=p.get("after_file"))
        _raise_xml_refusal("post", r)
        return r.status_code

    # -- undo ------------------------------------------------------------------------------------
    def undo(self, step: Step, extra, results, resp) -> List[str]:
        """Reverts what a successful step changed (as the root); returns the problems met."""
        svc, action, params = step
        p = self.resolve(params, extra, results)
        problems = []
        for s in self._undo_steps(svc, action, p, resp):
            try:
                self.root(s)
            except Refusal as e:
                problems.append(f"undo {s[1]} failed: {e}")
        return problems

    def _undo_steps(self, svc, action, p, resp) -> List[Step]:
        if svc == "console":
            return []  # (a password change: the case's cleanup deletes the user)
        if svc == "post":
            return [oss("DeleteObject", p["bucket"], p["key"])]
        if svc == "ram":
            m = re.fullmatch(r"(Attach|Detach)Policy(?:To|From)(User|Role|Group)", action)
            if m:
                back = {"Attach": "DetachPolicyFrom", "Detach": "AttachPolicyTo"}[m.group(1)] + m.group(2)
                return [("ram", back, p)]
            if action == "CreateAccessKey":
                return [ram("DeleteAccessKey", UserName=p.get("UserName"), UserAccessKeyId=resp["AccessKey"]["AccessKeyId"])]
            if action == "AddUserToGroup":
                return [ram("RemoveUserFromGroup", **p)]
            if action == "RemoveUserFromGroup":
                return [ram("AddUserToGroup", **p)]
            if action == "CreatePolicyVersion":
                steps = []
                if str(p.get("SetAsDefault")).lower() == "true":
                    steps.append(ram("SetDefaultPolicyVersion", PolicyName=p["PolicyName"], VersionId="v1"))
                steps.append(ram("DeletePolicyVersion", PolicyName=p["PolicyName"], VersionId=resp["PolicyVersion"]["VersionId"]))
                return steps
            if action == "UpdateRole" and "NewAssumeRolePolicyDocument" in p:
                return [ram("UpdateRole", RoleName=p["RoleName"], NewAssumeRolePolicyDocument=self.names["ecs_trust"])]
            if action == "CreateLoginProfile":
                return [ram("DeleteLoginProfile", UserName=p["UserName"])]
            if action == "DeleteLoginProfile":
                return [ram("CreateLoginProfile", UserName=p["UserName"], Password=PASSWORD)]
            if action == "CreateVirtualMFADevice":
                return [ram("DeleteVirtualMFADevice", SerialNumber=resp["VirtualMFADevice"]["SerialNumber"])]
            if action == "TagResources":
                keys = [t["Key"] for t in json.loads(p["Tag"])]
                return [ram("UntagResources", ResourceType=p["ResourceType"], ResourceNames=p["ResourceNames"], TagKeys=json.dumps(keys))]
            if action == "CreateServiceLinkedRole":
                return [ram("DeleteServiceLinkedRole", RoleName=resp["Role"]["RoleName"])]
            for kind in ("User", "Role", "Group", "Policy"):
                if action == f"Create{kind}":
                    return [ram(f"Delete{kind}", **{f"{kind}Name": p[f"{kind}Name"]})]
            return []
        if svc == "ims" and action == "CreateOIDCProvider":
            return [ims("DeleteOIDCProvider", OIDCProviderName=p["OIDCProviderName"])]
        if svc == "ecs":
            if action == "AttachInstanceRamRole":
                return [ecs("DetachInstanceRamRole", InstanceIds=p["InstanceIds"])]
            if action == "CreateInstance":
                return [ecs("DeleteInstance", InstanceId=resp["InstanceId"], Force=True)]
            if action == "RunInstances":
                return [ecs("DeleteInstance", InstanceId=i, Force=True) for i in resp["InstanceIdSets"]["InstanceIdSet"]]
            if action == "StartInstance":
                return [ecs("StopInstance", InstanceId=p["InstanceId"], ForceStop=True)]
            if action == "CreateVpc":
                return [ecs("DeleteVpc", VpcId=resp["VpcId"])]
            if action == "CreateSecurityGroup":
                return [ecs("DeleteSecurityGroup", SecurityGroupId=resp["SecurityGroupId"])]
            if action in ("CreateKeyPair", "ImportKeyPair"):
                return [ecs("DeleteKeyPairs", KeyPairNames=json.dumps([p["KeyPairName"]]))]
            if action == "AttachKeyPair":
                return [ecs("DetachKeyPair", KeyPairName=p["KeyPairName"], InstanceIds=p["InstanceIds"])]
            if action in ("AuthorizeSecurityGroup", "JoinSecurityGroup", "TagResources"):
                back = {"AuthorizeSecurityGroup": "RevokeSecurityGroup", "JoinSecurityGroup": "LeaveSecurityGroup",
                        "TagResources": "UntagResources"}[action]
                q = dict(p)
                if action == "TagResources":
                    q = {k: v for k, v in p.items() if not k.startswith("Tag.")}
                    q.update({f"TagKey.{i}": v for i, (k, v) in enumerate(sorted((k, v) for k, v in p.items() if k.endswith(".Key")), 1)})
                return [("ecs", back, q)]
            return []
        if svc == "vpc":
            if action == "CreateVpc":
                return [vpc("DeleteVpc", VpcId=resp["VpcId"])]
            return []
        if svc == "oss":
            b, key = p.get("bucket"), p.get("key")
            if action in ("PutObject", "CopyObject", "AppendObject", "PutSymlink", "CompleteMultipartUpload"):
                return [oss("DeleteObject", b, key)]
            if action == "DeleteObject":
                return [oss("PutObject", b, key)]
            if action == "DeleteMultipleObjects":
                return [oss("PutObject", b, k) for k in p["keys"]]
            if action == "InitiateMultipartUpload":
                return [oss("AbortMultipartUpload", b, key, upload_id=resp)]
            if action == "PutObjectAcl":
                return [oss("PutObjectAcl", b, key, acl=oss2.OBJECT_ACL_DEFAULT)]
            if action == "PutBucketAcl":
                return [oss("PutBucketAcl", b, acl=oss2.BUCKET_ACL_PRIVATE)]
            if action == "PutBucketLifecycle":
                return [oss("DeleteBucketLifecycle", b)]
            if action == "PutBucketEncryption":
                return [oss("DeleteBucketEncryption", b)]
            if action == "PutBucketLogging":
                return [oss("DeleteBucketLogging", b)]
            if action == "PutBucketStorageCapacity":
                return [oss("PutBucketStorageCapacity", b, gb=-1)]
            if action == "PutLiveChannel":
                return [oss("DeleteLiveChannel", b, key)]
            if action == "DeleteLiveChannel":
                return [oss("PutLiveChannel", b, key)]
            if action == "PutLiveChannelStatus":
                return [oss("PutLiveChannelStatus", b, key, status="enabled")]
            if action in ("PutBucketPolicy", "DeleteBucketPolicy"):
                if b in self.bucket_policies:
                    return [oss("PutBucketPolicy", b, policy=self.bucket_policies[b])]
                return [oss("DeleteBucketPolicy", b)]
            if action in ("PutBucketCors", "DeleteBucketCors"):
                return [oss("DeleteBucketCors", b)]
            if action == "PutBucketReferer":
                return [oss("PutBucketReferer", b)]
            if action == "PutBucket":
                return [oss("DeleteBucket", b)]
            if action == "DeleteBucket":
                return [oss("PutBucket", b)]
            if action == "InitiateMultipartUpload":
                return [oss("AbortMultipartUpload", b, key, upload_id=resp)]
            return []
        return []

    # -- building --------------------------------------------------------------------------------
    def ram_root(self, action, **params):
        return self.root(ram(action, **params))

    def policy(self, key: str, doc, prefix: Optional[str] = None, name: Optional[str] = None) -> str:
        """A custom policy from a statement list (or a ready document)."""
        name = self.name(key, prefix or key, exact=name)
        text = doc if isinstance(doc, str) else h.policy_doc(doc)
        self.ram_root("CreatePolicy", PolicyName=name, PolicyDocument=text)
        return name

    def _attach(self, holder_kind: str, holder: str, policies):
        for pol in policies:
            ptype = "System" if pol in h.SYSTEM_POLICIES else "Custom"
            self.ram_root(f"AttachPolicyTo{holder_kind}", PolicyType=ptype, PolicyName=pol, **{f"{holder_kind}Name": holder})

    def user(self, key: str, policies=(), groups=(), prefix=None, name=None, principal=False) -> str:
        """A RAM user; with principal=True also an AccessKey registered as principal `key`."""
        uname = self.name(key, prefix or key, exact=name)
        self.ram_root("CreateUser", UserName=uname)
        if principal:
            k = self.ram_root("CreateAccessKey", UserName=uname)["AccessKey"]
            self.principals[key] = Principal(k["AccessKeyId"], k["AccessKeySecret"])
            self.names[f"{key}_ak"] = k["AccessKeyId"]
        self._attach("User", uname, policies)
        for g in groups:
            self.ram_root("AddUserToGroup", GroupName=g, UserName=uname)
        return uname

    def principal_user(self, key: str, statements=None, policies=(), groups=()) -> str:
        """A RAM user with a key; `statements` become one custom policy `<key>-pol`."""
        pols = list(policies)
        if statements is not None:
            pols.append(self.policy(f"{key}_pol", statements, prefix=f"{key}-pol"))
        return self.user(key, policies=pols, groups=groups, principal=True)

    def role(self, key: str, trust: Optional[str] = None, policies=(), prefix=None, name=None) -> str:
        rname = self.name(key, prefix or key, exact=name)
        self.ram_root("CreateRole", RoleName=rname, AssumeRolePolicyDocument=trust or self.names["ecs_trust"])
        self._attach("Role", rname, policies)
        return rname

    def group(self, key: str, policies=(), members=(), prefix=None, name=None) -> str:
        gname = self.name(key, prefix or key, exact=name)
        self.ram_root("CreateGroup", GroupName=gname)
        self.created_groups.append(gname)
        self._attach("Group", gname, policies)
        for m in members:
            self.ram_root("AddUserToGroup", GroupName=gname, UserName=m)
        return gname

    def session(self, key: str, role: str, policy=None, session_name="deny-matrix", source_identity=None):
        """Assumes `role` (optionally with a session policy and a SourceIdentity) as a RAM user allowed
        to (STS refuses the root): principal `key`."""
        params = {"RoleArn": f"acs:ram::{self.account}:role/{role}", "RoleSessionName": session_name}
        if policy is not None:
            params["Policy"] = policy if isinstance(policy, str) else h.policy_doc(policy)
        if source_identity is not None:
            params["SourceIdentity"] = source_identity
        if "sts_assumer" not in self.principals:
            self.user("sts_assumer", policies=["AliyunSTSAssumeRoleAccess"], principal=True, prefix="dm-assumer")
        c = self.call("sts_assumer", ("sts", "AssumeRole", params))["Credentials"]
        self.principals[key] = Principal(c["AccessKeyId"], c["AccessKeySecret"], c["SecurityToken"])

    def make_versioned_bucket(self, key: str, object_key: str) -> str:
        """A bucket with versioning enabled and two versions of `object_key`; the first version's id
        is the name `<key>_v1` (placeholder `{<key>_v1}`)."""
        name = self.make_bucket(key)
        b = self.bucket("root", name)
        config = oss2.models.BucketVersioningConfig()
        config.status = "Enabled"
        b.put_bucket_versioning(config)
        self.name(f"{key}_v1", exact=b.put_object(object_key, b"deny-matrix v1").versionid)
        b.put_object(object_key, b"deny-matrix v2")
        return name

    def make_bucket(self, key: str, objects=(), policy=None) -> str:
        name = self.name(key, exact=f"dm{key}-{uuid.uuid4().hex[:12]}".replace("_", "-"))
        b = self.bucket("root", name)
        b.create_bucket()
        self.created_buckets.append(name)
        for k in objects:
            b.put_object(k, b"deny-matrix")
        if policy is not None:
            self.set_bucket_policy(name, policy)
        return name

    def set_bucket_policy(self, name: str, statements):
        text = json.dumps({"Version": "1", "Statement": statements})
        self.bucket("root", name).put_bucket_policy(text)
        self.bucket_policies[name] = text

    def teardown(self):
        """Best effort: groups (the account has a small group quota), instances and buckets."""
        for g in self.created_groups:
            try:
                for u in h.list_all(self.rpc("root", "ram"), "ListUsersForGroup", "Users", "User", extra={"GroupName": g}):
                    self.ram_root("RemoveUserFromGroup", GroupName=g, UserName=u["UserName"])
                pols = self.ram_root("ListPoliciesForGroup", GroupName=g)["Policies"]["Policy"]
                for pol in pols:
                    self.ram_root("DetachPolicyFromGroup", PolicyType=pol["PolicyType"], PolicyName=pol["PolicyName"], GroupName=g)
                self.ram_root("DeleteGroup", GroupName=g)
            except Exception:  # noqa: BLE001 - best effort
                pass
        for i in self.created_instances:
            try:
                self.root(ecs("DeleteInstance", InstanceId=i, Force=True))
            except Exception:  # noqa: BLE001
                pass
        for name in self.created_buckets:
            try:
                b = self.bucket("root", name)
                for upload in oss2.MultipartUploadIterator(b):
                    b.abort_multipart_upload(upload.key, upload.upload_id)
                for o in oss2.ObjectIterator(b):
                    b.delete_object(o.key)
                if b.get_bucket_versioning().status:
                    for v in (lambda r: r.versions + r.delete_marker)(b.list_object_versions(max_keys=1000)):
                        b.delete_object(v.key, params={"versionId": v.versionid})
                b.delete_bucket()
            except Exception:  # noqa: BLE001
                pass


# -- running one case ----------------------------------------------------------------------------

def run_case(world: World, case: Case) -> None:
    extra = {"fresh": h.unique_name("dmf")}
    results: List[Any] = []
    problems: List[str] = []
    try:
        for s in case.setup:
            results.append(world.root(s, extra, results))
        if case.ctl is not None:
            who = case.ctl_who or case.who
            try:
                resp = world.call(who, case.ctl, extra, results, kind=case.kind, sig=case.sig)
            except Refusal as e:
                raise AssertionError(f"positive control refused ({who} {case.ctl[1]} "
                                     f"{world.resolve(case.ctl[2], extra, results)}): {e}") from None
            problems += world.undo(case.ctl, extra, results, resp)
        try:
            resp = world.call(case.who, case.req, extra, results, kind=case.kind, sig=case.sig)
        except Refusal as e:
            got = (e.code, e.status)
            assert got == (case.code, case.status), (
                f"wrong refusal for {case.req[1]}: expected {case.code} {case.status}, got {e}")
            if case.req[0] in ("ram", "sts", "ims", "ecs", "vpc", "url"):
                assert e.request_id, f"refusal without a request id: {e}"
            if case.req[0] == "oss" and case.code == "AccessDenied" and case.sig not in ("s3v4", "s3"):
                assert e.exc_type == "AccessDenied", f"oss2 should raise oss2.exceptions.AccessDenied: {e}"
            if case.ec is not None:
                assert e.ec == case.ec, f"expected EC {case.ec}, got {e}"
        else:
            problems += world.undo(case.req, extra, results, resp)
            shown = repr(resp)
            raise AssertionError(
                f"ESCAPE: {case.who} {case.req[0]}:{case.req[1]} "
                f"{world.resolve(case.req[2], extra, results)} succeeded (expected {case.code} {case.status}); "
                f"response: {shown[:300]}" + (f"; {problems}" if problems else ""))
    finally:
        for s in case.cleanup:
            try:
                world.root(s, extra, results)
            except Refusal:
                pass
    assert not problems, problems
