"""Shared helpers for the rolestack official-SDK test suite.

Everything here talks to the server only through the official SDKs
(alibabacloud_tea_openapi generated clients, aliyun-python-sdk-core) or, for the
gateway edge cases the SDKs cannot produce (replayed nonce, old timestamp,
unsigned request, XML format), through `requests` with the signing done here.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import quote, urlsplit, urlunsplit

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]

RAM_VERSION = "2015-05-01"
STS_VERSION = "2015-04-01"
ECS_VERSION = "2014-05-26"
VPC_VERSION = "2016-04-28"

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# Seed 000 / 003: the trust policy text exactly as the doc prints it.
SEED_TRUST_POLICY = """{
     "Statement": [
     {
         "Action": "sts:AssumeRole",
         "Effect": "Allow",
         "Principal": {
         "Service": [
         "ecs.aliyuncs.com"
         ]
         }
     }
     ],
     "Version": "1"
 }"""

# Seed 000 step 2: the permission policy text exactly as the doc prints it.
SEED_OSS_READ_POLICY = """{
             "Statement": [
                 {
                 "Action": [
                     "oss:Get*",
                     "oss:List*"
                 ],
                 "Effect": "Allow",
                 "Resource": "*"
                 }
             ],
             "Version": "1"
         }"""

# Seed 003 prints the same policies with a stray space inside a key
# ("Resource " / "Service "). The real service rejects such documents.
SEED_003_BAD_POLICY = """{
"Statement": [
{
"Action": [
"oss:Get*",
"oss:List*"
],
"Effect": "Allow",
"Resource ":"*"
}
],
"Version": "1"
}
"""

SEED_003_BAD_TRUST_POLICY = """{
"Statement": [
{
"Action": "sts:AssumeRole",
"Effect": "Allow",
"Principal": {
"Service ":[
  "ecs.aliyuncs.com"
]
}
}
],
"Version": "1"
}
"""

# Seed 000 step 6 uses "Version": "2016-10-17" (a doc error); rejected by the service.
SEED_BAD_VERSION_POLICY = """{
        "Version": "2016-10-17",
        "Statement": [
            {
            "Effect": "Allow",
            "Action": ["ecs:CreateInstance", "ecs:AttachInstanceRamRole"],
            "Resource": "*"
            },
            {
        "Effect": "Allow",
        "Action": "ram:PassRole",
        "Resource": "*"
            }
        ]
}"""

SYSTEM_POLICIES = [
    "AdministratorAccess",
    "AliyunActionTrailFullAccess",
    "AliyunActionTrailReadOnlyAccess",
    "AliyunOSSFullAccess",
    "AliyunOSSReadOnlyAccess",
    "AliyunECSFullAccess",
    "AliyunECSReadOnlyAccess",
    "AliyunRAMFullAccess",
    "AliyunRAMReadOnlyAccess",
    "AliyunSTSAssumeRoleAccess",
    "AliyunServiceRolePolicyForActionTrail",
    "AliyunServiceRolePolicyForECSArchiving",
]

CLIENT_KINDS = ["v3", "v2sig", "core"]


def unique_name(prefix: str, max_len: int = 64) -> str:
    """A name unique across test runs and tests; letters, digits and '-' only
    (valid for roles, users, groups and policies)."""
    suffix = uuid.uuid4().hex[:10]
    name = f"{prefix}-{suffix}"
    return name[-max_len:] if len(name) > max_len else name


def policy_doc(statements, version: str = "1") -> str:
    return json.dumps({"Version": version, "Statement": statements})


def allow(action, resource="*") -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def deny(action, resource="*") -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource}


def ecs_trust_policy() -> str:
    return json.dumps({
        "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                       "Principal": {"Service": ["ecs.aliyuncs.com"]}}],
        "Version": "1",
    })


def account_trust_policy(account_id: str) -> str:
    return json.dumps({
        "Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow",
                       "Principal": {"RAM": [f"acs:ram::{account_id}:root"]}}],
        "Version": "1",
    })


def assume_role_user(ram_api: "RpcApi", prefix: str = "sts-assumer") -> Dict[str, str]:
    """A RAM user allowed to call AssumeRole (AliyunSTSAssumeRoleAccess) with one AccessKey, as
    {"UserName", "AccessKeyId", "AccessKeySecret"}. STS refuses AssumeRole signed by an account's
    root, so tests assume roles as such a user (`ram_api` is the root's RAM client)."""
    name = unique_name(prefix)
    ram_api.call("CreateUser", {"UserName": name})
    ram_api.call("AttachPolicyToUser", {"PolicyType": "System", "PolicyName": "AliyunSTSAssumeRoleAccess",
                                        "UserName": name})
    key = ram_api.call("CreateAccessKey", {"UserName": name})["AccessKey"]
    return {"UserName": name, "AccessKeyId": key["AccessKeyId"], "AccessKeySecret": key["AccessKeySecret"]}


_ASSUMERS: Dict[str, Dict[str, str]] = {}


def assumer_for(api_for: Callable[..., "RpcApi"], root: Dict[str, str]) -> Dict[str, str]:
    """`assume_role_user` made once per root AccessKey (per server) through `api_for`."""
    if root["AccessKeyId"] not in _ASSUMERS:
        _ASSUMERS[root["AccessKeyId"]] = assume_role_user(api_for(root["AccessKeyId"], root["AccessKeySecret"]))
    return _ASSUMERS[root["AccessKeyId"]]


# --------------------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------------------

def rolestack_binary() -> Path:
    env = os.environ.get("ROLESTACK_BIN")
    if env:
        return Path(env).resolve()
    return REPO_ROOT / "target" / "debug" / "rolestack"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerStartError(RuntimeError):
    pass


def create_test_database(server_url: str) -> str:
    """Opt-in PostgreSQL (ROLESTACK_TEST_DATABASE_URL): creates a fresh database `rs_<random>` on
    the server of `server_url` (a throwaway test server: nothing drops it) and returns its URL."""
    name = "rs_" + uuid.uuid4().hex[:16]
    psql = os.environ.get("ROLESTACK_TEST_PSQL") or shutil.which("psql") or "psql"
    try:
        subprocess.run([psql, "-q", "-v", "ON_ERROR_STOP=1", server_url, "-c", f'CREATE DATABASE "{name}"'],
                       check=True, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as e:
        detail = getattr(e, "stderr", "") or ""
        raise ServerStartError(f"cannot create a PostgreSQL database for the server with {psql}: {e}\n{detail}") from None
    return urlunsplit(urlsplit(server_url)._replace(path="/" + name))


class MotoS3:
    """moto's S3 server (pinned in tests/python/requirements.txt) on a free loopback port: the
    stand-in for an S3-compatible object store behind `serve --blob-url s3://…`. It keeps
    everything in memory and accepts any key pair; these are the ones the tests use."""

    KEY_ID = "rolestack-test-key"
    SECRET = "rolestack-test-secret"
    REGION = "us-east-1"

    def __init__(self, log_path: Path):
        self.log_path = Path(log_path)
        self.port: Optional[int] = None
        self.proc: Optional[subprocess.Popen] = None
        self._log = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> "MotoS3":
        import sys
        self.port = free_port()
        self._log = open(self.log_path, "ab")
        env = dict(os.environ, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(f"moto's S3 server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                requests.get(self.endpoint + "/moto-api/", timeout=2)
                return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise ServerStartError(f"moto's S3 server did not answer on {self.endpoint} within {timeout:.0f} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def client(self):
        return s3_client(self.endpoint, self.REGION, self.KEY_ID, self.SECRET)

    def new_bucket(self) -> str:
        name = "rs-" + uuid.uuid4().hex[:16]
        self.client().create_bucket(Bucket=name)
        return name

    def blob_url(self, bucket: str, prefix: str = "", orphan_grace: str = "0s") -> str:
        path = "/" + prefix.strip("/") if prefix.strip("/") else ""
        return f"s3://{bucket}{path}?endpoint={self.endpoint}&region={self.REGION}&orphan_grace={orphan_grace}"

    def env(self) -> Dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": self.KEY_ID, "AWS_SECRET_ACCESS_KEY": self.SECRET}


def s3_client(endpoint: str, region: str, key_id: str, secret: str):
    """A boto3 S3 client for a test's object store (path-style, no credential look-up)."""
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=key_id,
                        aws_secret_access_key=secret, config=Config(s3={"addressing_style": "path"}))


_SHARED_MOTO: Optional[MotoS3] = None


def shared_moto() -> MotoS3:
    """One moto S3 server for the whole test process (started on first use, stopped at exit)."""
    global _SHARED_MOTO
    if _SHARED_MOTO is None:
        import atexit
        import tempfile
        log = Path(tempfile.mkdtemp(prefix="rolestack-moto-")) / "moto.log"
        _SHARED_MOTO = MotoS3(log).start()
        atexit.register(_SHARED_MOTO.stop)
    return _SHARED_MOTO


def blob_store_for_test(setting: str):
    """Opt-in object store for bodies (ROLESTACK_TEST_BLOB_URL): `moto` runs moto's S3 server
    and gives each server a fresh bucket; an `s3://BUCKET?endpoint=…&region=…` URL (keys in
    AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) gives each server a fresh prefix in that bucket.
    Returns the server's `--blob-url` and the environment it needs."""
    if setting == "moto":
        moto = shared_moto()
        return moto.blob_url(moto.new_bucket()), moto.env()
    if not setting.startswith("s3://"):
        raise ServerStartError(f"ROLESTACK_TEST_BLOB_URL must be `moto` or an s3:// URL, not {setting!r}")
    parts = urlsplit(setting)
    path = parts.path.rstrip("/") + "/rs-" + uuid.uuid4().hex[:16]
    query = parts.query + ("&" if parts.query else "") + "orphan_grace=0s"
    return urlunsplit(parts._replace(path=path, query=query)), {}


def blob_store_objects(blob_url: str) -> Dict[str, int]:
    """The objects (name → size) under a server's `--blob-url` s3:// location."""
    from urllib.parse import parse_qs
    parts = urlsplit(blob_url)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    moto = _SHARED_MOTO
    key_id = os.environ.get("AWS_ACCESS_KEY_ID") or (moto.KEY_ID if moto else "")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY") or (moto.SECRET if moto else "")
    client = s3_client(q["endpoint"], q.get("region", "us-east-1"), key_id, secret)
    prefix = parts.path.strip("/")
    prefix = prefix + "/" if prefix else ""
    out: Dict[str, int] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=parts.netloc, Prefix=prefix):
        for o in page.get("Contents", []):
            out[o["Key"][len(prefix):]] = o["Size"]
    return out


class RolestackServer:
    """One `rolestack serve` process on a loopback port with its own data dir."""

    def __init__(self, data_dir: Path, log_path: Path, binary: Optional[Path] = None,
                 extra_args: Optional[List[str]] = None, database_url: Optional[str] = None):
        self.binary = Path(binary) if binary else rolestack_binary()
        self.extra_args = list(extra_args or [])
        self.data_dir = Path(data_dir)
        self.log_path = Path(log_path)
        self.proc: Optional[subprocess.Popen] = None
        self.port: Optional[int] = None
        self.tls_port: Optional[int] = None
        self._log = None
        self._root: Optional[Dict[str, str]] = None
        # PostgreSQL: the one given (a cluster's nodes share one), or with ROLESTACK_TEST_DATABASE_URL
        # this server's own database (kept across restarts).
        self.database_url: Optional[str] = database_url
        # With ROLESTACK_TEST_BLOB_URL (or set by a test): where its object bodies live, and the
        # environment (keys) the server needs for it; kept across restarts.
        self.blob_url: Optional[str] = None
        self.blob_env: Dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def tls_endpoint(self) -> str:
        return f"127.0.0.1:{self.tls_port}"

    @property
    def ca_file(self) -> Path:
        """The local CA certificate the server made (what clients trust for HTTPS)."""
        return self.data_dir / "ca.pem"

    def log_tail(self, n: int = 80) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "<no log>"
        return "\n".join(lines[-n:])

    def start(self, timeout: float = 60.0) -> "RolestackServer":
        if not self.binary.is_file():
            raise ServerStartError(
                f"rolestack binary not found at {self.binary}. Build it with `cargo build` "
                f"(or set ROLESTACK_BIN to its path)."
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port()
        store_args = []
        if self.database_url is None and os.environ.get("ROLESTACK_TEST_DATABASE_URL"):
            self.database_url = create_test_database(os.environ["ROLESTACK_TEST_DATABASE_URL"])
        if self.database_url:
            store_args = ["--database-url", self.database_url]
        if os.environ.get("ROLESTACK_TEST_BLOB_URL") and self.blob_url is None:
            self.blob_url, self.blob_env = blob_store_for_test(os.environ["ROLESTACK_TEST_BLOB_URL"])
        if self.blob_url is not None:
            store_args += ["--blob-url", self.blob_url]
        self._log = open(self.log_path, "ab")
        self._log.write(f"\n==== starting {self.binary} on {self.endpoint} ====\n".encode())
        self._log.flush()
        env = dict(os.environ)
        env.setdefault("RUST_BACKTRACE", "1")
        env.update(self.blob_env)
        self.proc = subprocess.Popen(
            [str(self.binary), "serve", "--data-dir", str(self.data_dir),
             "--listen", self.endpoint, "--tls-listen", f"127.0.0.1:{self.tls_port}", *store_args, *self.extra_args],
            stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=env, cwd=str(REPO_ROOT), start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        last_err = None
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                raise ServerStartError(
                    f"rolestack serve exited with code {rc} before becoming healthy.\n"
                    f"--- server log ({self.log_path}) ---\n{self.log_tail()}"
                )
            try:
                r = requests.get(f"{self.base_url}/health", timeout=2)
                if r.status_code == 200:
                    return self
                last_err = f"HTTP {r.status_code}: {r.text[:200]}"
            except requests.RequestException as e:  # not listening yet
                last_err = repr(e)
            time.sleep(0.1)
        self.stop()
        raise ServerStartError(
            f"rolestack serve did not answer 200 on GET /health within {timeout}s "
            f"(last: {last_err}).\n--- server log ({self.log_path}) ---\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> "RolestackServer":
        """Stop and start again on the same data dir (a new port: the old one may
        still be in TIME_WAIT). Clients must be rebuilt for the new endpoint."""
        self.stop()
        return self.start()

    # -- CLI -----------------------------------------------------------------------------
    def cli(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True,
            timeout=timeout, cwd=str(REPO_ROOT), stdin=subprocess.DEVNULL,
        )

    def credentials(self, fmt: str = "json") -> Any:
        p = self.cli("credentials", "--data-dir", str(self.data_dir), "--format", fmt)
        if p.returncode != 0:
            raise RuntimeError(
                f"`rolestack credentials --format {fmt}` failed ({p.returncode}):\n"
                f"stdout: {p.stdout}\nstderr: {p.stderr}"
            )
        if fmt == "json":
            data = json.loads(p.stdout)
            for k in ("AccountId", "AccessKeyId", "AccessKeySecret"):
                if not data.get(k):
                    raise RuntimeError(f"credentials JSON lacks {k}: {p.stdout!r}")
            return data
        return p.stdout

    @property
    def root(self) -> Dict[str, str]:
        if self._root is None:
            self._root = self.credentials("json")
        return self._root


# --------------------------------------------------------------------------------------
# SDK clients
# --------------------------------------------------------------------------------------

def tea_config(endpoint: str, ak: str, secret: str, signature: str = "v3", token: str = None):
    from alibabacloud_tea_openapi.utils_models import Config

    kw = dict(access_key_id=ak, access_key_secret=secret, endpoint=endpoint,
              protocol="http", region_id="cn-hangzhou")
    if token:
        kw["security_token"] = token
    if signature == "v2sig":
        kw["signature_algorithm"] = "v2"
    return Config(**kw)


def make_ram_tea(endpoint: str, ak: str, secret: str, signature: str = "v3", token: str = None):
    from alibabacloud_ram20150501.client import Client

    return Client(tea_config(endpoint, ak, secret, signature, token))


def make_acs_client(ak: str, secret: str, region: str = "cn-hangzhou"):
    from aliyunsdkcore.client import AcsClient

    return AcsClient(ak, secret, region)


def point_core_request(req, endpoint: str):
    """Point an aliyun-python-sdk-core request at the local server.

    * `set_endpoint(host:port)` bypasses the endpoint resolver (no location-service call).
    * RAM and STS request classes call `set_protocol_type('https')` in their
      constructor; `set_protocol_type('http')` afterwards overrides it.
    * The port goes in the endpoint string; AcsClient's own `port` (default 80) is only
      appended when it is not 80, so it must stay at its default.
    """
    req.set_endpoint(endpoint)
    req.set_protocol_type("http")
    return req


class ApiError(Exception):
    """A server error as surfaced by an official SDK, normalised.

    `message` is the server's `Message` field (tea-openapi wraps it as
    "code: <status>, <Message> request id: <id>" in exc.message; we take it from
    exc.data instead)."""

    def __init__(self, kind, code, status, message, request_id, data, sdk_exc):
        super().__init__(f"[{kind}] HTTP {status} {code}: {message} (RequestId {request_id})")
        self.kind = kind
        self.code = code
        self.status = status
        self.message = message or ""
        self.request_id = request_id
        self.data = data
        self.sdk_exc = sdk_exc


class RpcApi:
    """Generic RPC caller over one of the three official client kinds.

    call(action, params) -> parsed JSON body (dict); raises ApiError for server errors.
    Only the SDK's own exception types are converted; anything else (IndexError,
    connection errors, JSON decode errors) propagates and fails the test."""

    def __init__(self, kind: str, endpoint: str, ak: str, secret: str,
                 version: str = RAM_VERSION, token: str = None, product: str = "Ram"):
        assert kind in CLIENT_KINDS, kind
        self.kind = kind
        self.endpoint = endpoint
        self.ak = ak
        self.secret = secret
        self.version = version
        self.product = product
        if kind == "core":
            if token:
                from aliyunsdkcore.auth.credentials import StsTokenCredential
                from aliyunsdkcore.client import AcsClient
                self.client = AcsClient(region_id="cn-hangzhou",
                                        credential=StsTokenCredential(ak, secret, token))
            else:
                self.client = make_acs_client(ak, secret)
        else:
            from alibabacloud_tea_openapi.client import Client as OpenApiClient
            self.client = OpenApiClient(tea_config(endpoint, ak, secret, kind, token))

    def __repr__(self):
        return f"RpcApi({self.kind}, {self.ak})"

    def call(self, action: str, params: Optional[Dict[str, Any]] = None,
             method: str = "POST", body_params: Optional[Dict[str, Any]] = None) -> dict:
        params = {k: v for k, v in (params or {}).items() if v is not None}
        if self.kind == "core":
            return self._call_core(action, params, method, body_params)
        assert body_params is None, "tea clients put RPC params in the query"
        return self._call_tea(action, params, method)

    # tea-openapi (V3 by default, V1 with signature_algorithm='v2')
    def _call_tea(self, action, params, method):
        from alibabacloud_tea_openapi import exceptions as tea_exc
        from alibabacloud_tea_openapi.utils import Utils
        from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params
        from darabonba.runtime import RuntimeOptions

        p = Params(action=action, version=self.version, protocol="HTTPS", pathname="/",
                   method=method, auth_type="AK", style="RPC", req_body_type="formData",
                   body_type="json")
        req = OpenApiRequest(query=Utils.query({k: _to_str(v) for k, v in params.items()}))
        try:
            resp = self.client.call_api(p, req, RuntimeOptions())
        except tea_exc.AlibabaCloudException as e:
            data = e.data if isinstance(e.data, dict) else {}
            raise ApiError(self.kind, e.code, e.status_code, data.get("Message"),
                           data.get("RequestId") or e.request_id, data, e) from None
        assert resp["statusCode"] == 200, resp
        assert isinstance(resp["body"], dict), resp
        return resp["body"]

    # aliyun-python-sdk-core (V1)
    def _call_core(self, action, params, method, body_params):
        from aliyunsdkcore.acs_exception.exceptions import ServerException
        from aliyunsdkcore.request import CommonRequest

        req = CommonRequest(domain=self.endpoint, version=self.version,
                            action_name=action, product=self.product)
        req.set_method(method)
        req.set_protocol_type("http")
        req.set_accept_format("json")
        for k, v in params.items():
            req.add_query_param(k, _to_str(v))
        for k, v in (body_params or {}).items():
            req.add_body_params(k, _to_str(v))
        try:
            body = self.client.do_action_with_exception(req)
        except ServerException as e:
            raise ApiError(self.kind, e.get_error_code(), e.get_http_status(),
                           e.get_error_msg(), e.get_request_id(), None, e) from None
        data = json.loads(body)
        assert isinstance(data, dict), body
        return data


def _to_str(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# --------------------------------------------------------------------------------------
# Hand-made signing (for what the SDKs cannot send)
# --------------------------------------------------------------------------------------

def pct(s) -> str:
    """RFC 3986 percent-encoding as the Alibaba signers use it."""
    return quote(str(s), safe="~")


def utc_timestamp(delta_seconds: float = 0) -> str:
    t = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=delta_seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def v1_string_to_sign(params: Dict[str, str], method: str = "POST") -> str:
    items = sorted((k, v) for k, v in params.items() if k != "Signature")
    canon = "&".join(f"{pct(k)}={pct(v)}" for k, v in items)
    return f"{method}&{pct('/')}&{pct(canon)}"


def v1_signature(params: Dict[str, str], secret: str, method: str = "POST") -> str:
    sts = v1_string_to_sign(params, method)
    mac = hmac.new((secret + "&").encode(), sts.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def v1_params(ak: str, action: str, version: str = RAM_VERSION, extra: Optional[dict] = None,
              nonce: Optional[str] = None, timestamp: Optional[str] = None,
              fmt: str = "JSON") -> Dict[str, str]:
    p = {
        "Action": action, "Version": version, "Format": fmt, "AccessKeyId": ak,
        "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
        "SignatureNonce": nonce or uuid.uuid4().hex,
        "Timestamp": timestamp or utc_timestamp(),
    }
    for k, v in (extra or {}).items():
        p[k] = _to_str(v)
    return p


def raw_v1(endpoint: str, ak: str, secret: str, action: str, version: str = RAM_VERSION,
           extra: Optional[dict] = None, nonce: Optional[str] = None,
           timestamp: Optional[str] = None, fmt: str = "JSON", method: str = "POST",
           sign: bool = True) -> requests.Response:
    """Send a V1-signed RPC request with every parameter in the query string."""
    p = v1_params(ak, action, version, extra, nonce, timestamp, fmt)
    if sign:
        p["Signature"] = v1_signature(p, secret, method)
    query = "&".join(f"{pct(k)}={pct(v)}" for k, v in p.items())
    return requests.request(method, f"http://{endpoint}/?{query}", timeout=30)


def v3_authorization(method: str, pathname: str, query: Dict[str, str], headers: Dict[str, str],
                     payload_hash: str, ak: str, secret: str) -> str:
    canon_query = "&".join(f"{k}={pct(v)}" for k, v in sorted(query.items()))
    lower = {k.lower(): str(v).strip() for k, v in headers.items()}
    signed = sorted(lower)
    canon_headers = "".join(f"{h}:{lower[h]}\n" for h in signed)
    signed_headers = ";".join(signed)
    creq = f"{method}\n{pathname}\n{canon_query}\n{canon_headers}\n{signed_headers}\n{payload_hash}"
    sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(creq.encode()).hexdigest()
    sig = hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
    return f"ACS3-HMAC-SHA256 Credential={ak},SignedHeaders={signed_headers},Signature={sig}"


def raw_v3(endpoint: str, ak: str, secret: str, action: str, version: str = RAM_VERSION,
           query: Optional[dict] = None, nonce: Optional[str] = None,
           date: Optional[str] = None, method: str = "POST") -> requests.Response:
    """Send a V3 (ACS3-HMAC-SHA256) signed RPC request, params in the query."""
    q = {k: _to_str(v) for k, v in (query or {}).items()}
    body = b""
    payload_hash = hashlib.sha256(body).hexdigest()
    headers = {
        "host": endpoint, "x-acs-action": action, "x-acs-version": version,
        "x-acs-date": date or utc_timestamp(),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": payload_hash, "accept": "application/json",
    }
    headers["Authorization"] = v3_authorization(method, "/", q, headers, payload_hash, ak, secret)
    qs = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(q.items()))
    url = f"http://{endpoint}/" + (f"?{qs}" if qs else "")
    return requests.request(method, url, headers=headers, data=body, timeout=30)


# --------------------------------------------------------------------------------------
# Assertions
# --------------------------------------------------------------------------------------

def expect_error(fn: Callable[[], Any], code=None, status=None, code_prefix=None,
                 message_contains=None) -> ApiError:
    """Run fn, which must raise ApiError; check code/status/message; return it."""
    try:
        result = fn()
    except ApiError as e:
        err = e
    else:
        raise AssertionError(f"expected an error (code={code or code_prefix}), got success: {result!r}")
    if code is not None:
        codes = code if isinstance(code, (set, list, tuple)) else {code}
        assert err.code in codes, f"expected code {code}, got {err}"
    if code_prefix is not None:
        assert err.code and err.code.startswith(code_prefix), f"expected code {code_prefix}*, got {err}"
    if status is not None:
        statuses = status if isinstance(status, (set, list, tuple)) else {status}
        assert err.status in statuses, f"expected HTTP {status}, got {err}"
    if message_contains is not None:
        assert message_contains in err.message, f"expected {message_contains!r} in message of {err}"
    assert err.request_id, f"error without RequestId: {err}"
    return err


def parse_date(value: str) -> _dt.datetime:
    """Parses the APIs' `YYYY-MM-DDTHH:MM:SSZ` into an aware UTC datetime."""
    assert_date(value)
    return _dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc)


def assert_date(value, what="date"):
    assert isinstance(value, str) and DATE_RE.match(value), f"{what} not YYYY-MM-DDTHH:MM:SSZ: {value!r}"


def assert_request_id(body: dict):
    rid = body.get("RequestId")
    assert isinstance(rid, str) and len(rid) >= 8, f"missing/odd RequestId in {body!r}"
    return rid


def wrapped_list(body: dict, outer: str, inner: str) -> list:
    """Lists are wrapped twice: {"Roles": {"Role": [...]}}."""
    assert outer in body, f"{outer!r} missing in {body!r}"
    assert isinstance(body[outer], dict), f"{outer} must be an object: {body[outer]!r}"
    assert inner in body[outer], f"{outer}.{inner} missing in {body!r}"
    items = body[outer][inner]
    assert isinstance(items, list), f"{outer}.{inner} must be a list: {items!r}"
    return items


def list_all(api: RpcApi, action: str, outer: str, inner: str, max_items: int = 100,
             extra: Optional[dict] = None, max_pages: int = 1000) -> list:
    """Follow Marker/IsTruncated until the end; checks the paging contract on the way."""
    out = []
    marker = None
    for _ in range(max_pages):
        params = dict(extra or {}, MaxItems=max_items)
        if marker:
            params["Marker"] = marker
        body = api.call(action, params)
        items = wrapped_list(body, outer, inner)
        assert len(items) <= max_items, f"{action} returned {len(items)} > MaxItems={max_items}"
        out.extend(items)
        truncated = body.get("IsTruncated")
        assert isinstance(truncated, bool), f"IsTruncated must be a JSON bool: {body!r}"
        if not truncated:
            return out
        marker = body.get("Marker")
        assert marker, f"IsTruncated=true without a Marker: {body!r}"
    raise AssertionError(f"{action}: more than {max_pages} pages")


# --------------------------------------------------------------------------------------
# ECS (2014-05-26): typed client, V1 request classes, generic caller
# --------------------------------------------------------------------------------------

ECS_REGION = "cn-hangzhou"


def make_ecs_tea(endpoint: str, ak: str, secret: str, signature: str = "v3", token: str = None):
    """alibabacloud_ecs20140526 Client (V3 by default, V1 with signature='v2sig')."""
    from alibabacloud_ecs20140526.client import Client

    return Client(tea_config(endpoint, ak, secret, signature, token))


def ecs_api(kind: str, endpoint: str, ak: str, secret: str, token: str = None) -> "RpcApi":
    """Generic ECS caller over one of the three client kinds."""
    return RpcApi(kind, endpoint, ak, secret, version=ECS_VERSION, token=token, product="Ecs")


def tea_call(fn: Callable[[], Any], kind: str = "tea"):
    """Run a typed tea-client call; its server errors become ApiError."""
    from alibabacloud_tea_openapi import exceptions as tea_exc

    try:
        return fn()
    except tea_exc.AlibabaCloudException as e:
        data = e.data if isinstance(e.data, dict) else {}
        raise ApiError(kind, e.code, e.status_code, data.get("Message"),
                       data.get("RequestId") or e.request_id, data, e) from None


def core_call(client, req, endpoint: str) -> dict:
    """Send an aliyunsdkecs (or any aliyun-python-sdk-core) request class to the local server;
    returns the parsed JSON body, server errors become ApiError."""
    from aliyunsdkcore.acs_exception.exceptions import ServerException

    point_core_request(req, endpoint)
    try:
        body = client.do_action_with_exception(req)
    except ServerException as e:
        raise ApiError("core", e.get_error_code(), e.get_http_status(), e.get_error_msg(),
                       e.get_request_id(), None, e) from None
    data = json.loads(body)
    assert isinstance(data, dict), body
    return data


def ecs_network(api: "RpcApi", vpc_cidr: str = "192.168.0.0/16", vswitch_cidr: str = "192.168.1.0/24",
                zone: str = "cn-hangzhou-h", region: str = ECS_REGION):
    """Creates a VPC with one vSwitch; returns (vpc_id, vswitch_id)."""
    vpc = api.call("CreateVpc", {"RegionId": region, "CidrBlock": vpc_cidr, "VpcName": unique_name("vpc")})["VpcId"]
    vsw = api.call("CreateVSwitch", {"RegionId": region, "VpcId": vpc, "ZoneId": zone,
                                     "CidrBlock": vswitch_cidr})["VSwitchId"]
    return vpc, vsw


def ecs_instance(api: "RpcApi", vswitch_id: Optional[str] = None, region: str = ECS_REGION, **extra) -> str:
    """CreateInstance (a VPC instance when vswitch_id is given, else classic); returns its id."""
    params = {"RegionId": region, "ImageId": "centos_7_03_64_40G_alibase_20170503.vhd",
              "InstanceType": "ecs.xn4.small", "VSwitchId": vswitch_id}
    params.update(extra)
    return api.call("CreateInstance", params)["InstanceId"]


def ecs_describe(api: "RpcApi", instance_id: str, region: str = ECS_REGION) -> dict:
    """The one instance DescribeInstances reports for an id."""
    body = api.call("DescribeInstances", {"RegionId": region, "InstanceIds": json.dumps([instance_id])})
    items = wrapped_list(body, "Instances", "Instance")
    assert len(items) == 1, body
    return items[0]


# --------------------------------------------------------------------------------------
# VPC (2016-04-28)
# --------------------------------------------------------------------------------------

def make_vpc_tea(endpoint: str, ak: str, secret: str, signature: str = "v3", token: str = None):
    """alibabacloud_vpc20160428 Client (V3 by default, V1 with signature='v2sig')."""
    from alibabacloud_vpc20160428.client import Client

    return Client(tea_config(endpoint, ak, secret, signature, token))


def vpc_api(kind: str, endpoint: str, ak: str, secret: str, token: str = None) -> "RpcApi":
    """Generic VPC caller over one of the three client kinds."""
    return RpcApi(kind, endpoint, ak, secret, version=VPC_VERSION, token=token, product="Vpc")


def ecs_security_group(api: "RpcApi", vpc_id: Optional[str] = None, region: str = ECS_REGION, **extra) -> str:
    """CreateSecurityGroup (in a VPC when vpc_id is given, else classic); returns its id."""
    params = {"RegionId": region, "VpcId": vpc_id, "SecurityGroupName": unique_name("sg")}
    params.update(extra)
    return api.call("CreateSecurityGroup", params)["SecurityGroupId"]


# --------------------------------------------------------------------------------------
# OIDC (issue 18)
# --------------------------------------------------------------------------------------

OIDC_FINGERPRINT = "902ef2deeb3c5b13ea4c3d5193629309e231ae55"


def local_oidc_provider(ims_api: "RpcApi", issuer_url: str, client_id: str = "sts.aliyuncs.com") -> str:
    """The name of the account's OIDC provider for `issuer_url` (an issuer URL is unique in an
    account), made if missing, with `client_id` among its client ids."""
    body = ims_api.call("ListOIDCProviders", {"MaxItems": 100})
    for p in body["OIDCProviders"]["OIDCProvider"]:
        if p["IssuerUrl"] == issuer_url:
            if client_id not in p["ClientIds"].split(","):
                ims_api.call("AddClientIdToOIDCProvider", {"OIDCProviderName": p["OIDCProviderName"], "ClientId": client_id})
            return p["OIDCProviderName"]
    name = unique_name("localidp")
    ims_api.call("CreateOIDCProvider", {"OIDCProviderName": name, "IssuerUrl": issuer_url,
                                        "Fingerprints": OIDC_FINGERPRINT, "ClientIds": client_id})
    return name



def assert_account_quota(api: "RpcApi", create: str, params_of: Callable[[int], Dict[str, Any]],
                         quota: int, held: int, code: str, delete: Callable[[Dict[str, Any]], Any],
                         threads: int = 8):
    """An account holding `held` entities of a kind runs `quota - held + 5` creates at once (they
    race for the last free places): exactly `quota - held` succeed and the rest get `code` (409).
    A full account still answers EntityAlreadyExists for a taken name, and a delete frees a place."""
    from concurrent.futures import ThreadPoolExecutor

    def one(i):
        try:
            api.call(create, params_of(i))
            return None
        except ApiError as e:
            return e

    total = quota - held + 5
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, range(total)))
    made = [i for i, r in enumerate(results) if r is None]
    errors = [r for r in results if r is not None]
    assert len(made) == quota - held, (len(made), [(e.code, e.message) for e in errors[:3]])
    assert {(e.code, e.status) for e in errors} == {(code, 409)}, errors[:3]
    expect_error(lambda: api.call(create, params_of(total)), code=code, status=409)
    expect_error(lambda: api.call(create, params_of(made[0])), code_prefix="EntityAlreadyExists", status=409)
    delete(params_of(made[0]))
    api.call(create, params_of(total))


def count_listed(api: "RpcApi", action: str, outer: str, inner: str, **params) -> int:
    """How many entities a RAM List* action (with `params`) names, following its Markers (pages of
    up to 1000, ListGroups up to 100)."""
    n, marker = 0, None
    while True:
        body = api.call(action, {**params, "MaxItems": 100 if action == "ListGroups" else 1000, "Marker": marker})
        n += len(body[outer][inner])
        if not body["IsTruncated"]:
            return n
        marker = body["Marker"]


def fill_account(srv: "RolestackServer", api: "RpcApi", create: str, params_of: Callable[[int], Dict[str, Any]],
                 held: int, total: int, kind: str, name_param: str, companion: Optional[str] = None) -> "RpcApi":
    """The fast path to an account holding `total` entities of a kind (`held` now): the first one
    is created through the SDK, copies of its store record (`kind`; for a policy also its `companion`
    version record, `<name>/v1`) are written straight into the stopped server's SQLite store and the
    server is started again. Returns a client for the new endpoint (same kind and keys). On
    PostgreSQL every entity is created through the SDK instead."""
    import sqlite3

    if srv.database_url:
        for i in range(total - held):
            api.call(create, params_of(i))
        return api
    template = params_of(0)[name_param]
    api.call(create, params_of(0))
    srv.stop()
    db = sqlite3.connect(srv.data_dir / "rolestack.db")
    try:
        (scope, data), = db.execute("SELECT scope, data FROM records WHERE kind = ? AND name = ?", (kind, template))
        rows = []
        extra = None
        if companion:
            (extra,), = db.execute("SELECT data FROM records WHERE kind = ? AND name = ?", (companion, f"{template}/v1"))
        for i in range(1, total - held):
            name = params_of(i)[name_param]
            rec = json.loads(data)
            rec["name"] = name
            for field in ("id", "display_name"):
                if field in rec:
                    rec[field] = name if field == "display_name" else f"{10**16 + i}"
            rows.append((kind, scope, name, json.dumps(rec)))
            if extra is not None:
                version = json.loads(extra)
                version["policy_name"] = name
                rows.append((companion, scope, f"{name}/v1", json.dumps(version)))
        with db:
            db.executemany("INSERT INTO records (kind, scope, name, data) VALUES (?, ?, ?, ?)", rows)
    finally:
        db.close()
    srv.start()
    r = srv.root
    return RpcApi(api.kind, srv.endpoint, r["AccessKeyId"], r["AccessKeySecret"])


# -- OSS PostObject forms (what an application backend hands a browser; docs/oss.md "PostObject") --

POST_EXPIRES = "2099-01-01T00:00:00.000Z"


def post_policy(conditions, expiration=POST_EXPIRES) -> str:
    return base64.b64encode(json.dumps({"expiration": expiration, "conditions": conditions}).encode()).decode()


def post_form_v1(ak, sk, conditions, token=None, expiration=POST_EXPIRES) -> dict:
    """What an application backend hands the browser (V1): ali-oss `calculatePostSignature`."""
    policy = post_policy(conditions, expiration)
    signature = base64.b64encode(hmac.new(sk.encode(), policy.encode(), hashlib.sha1).digest()).decode()
    form = {"OSSAccessKeyId": ak, "policy": policy, "Signature": signature}
    if token:
        form["x-oss-security-token"] = token
    return form


def oss_v4_signing_key(sk: str, day: str, region: str) -> bytes:
    key = hmac.new(f"aliyun_v4{sk}".encode(), day.encode(), hashlib.sha256).digest()
    for part in (region, "oss", "aliyun_v4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def post_form_v4(ak, sk, conditions, token=None, expiration=POST_EXPIRES, region="cn-hangzhou", when=None) -> dict:
    """The V4 form (ali-oss `signPostObjectPolicyV4`): the signing fields are conditions too."""
    date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))
    credential = f"{ak}/{date[:8]}/{region}/oss/aliyun_v4_request"
    form = {"x-oss-signature-version": "OSS4-HMAC-SHA256", "x-oss-credential": credential, "x-oss-date": date}
    if token:
        form["x-oss-security-token"] = token
    policy = post_policy(list(conditions) + [{k: v} for k, v in form.items()], expiration)
    form["policy"] = policy
    form["x-oss-signature"] = hmac.new(oss_v4_signing_key(sk, date[:8], region), policy.encode(), hashlib.sha256).hexdigest()
    return form


def post_object(endpoint, bucket, fields, content=b"hello form", filename="a.txt", extra_after_file=None,
                file_type="application/octet-stream"):
    """POSTs the form as a browser does: fields in order (a dict, or a list of (name, value)
    pairs to repeat a name), then the file (its part typed `file_type`, as browsers type it; and
    whatever follows it). Redirects are not followed (a `success_action_redirect` names the
    application's page)."""
    files = [(k, (None, v)) for k, v in (fields.items() if isinstance(fields, dict) else fields)]
    files.append(("file", (filename, content, file_type)))
    for k, v in (extra_after_file or {}).items():
        files.append((k, (None, v)))
    return requests.post(f"http://{endpoint}/{bucket}", files=files, timeout=30, allow_redirects=False)
