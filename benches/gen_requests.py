"""Pre-signed request lists for benches/wrk_list.lua (benches/run.sh), one request per line:
METHOD<TAB>PATH<TAB>BODY[<TAB>Header: value]...

  rolestack-rpc  RPC requests signed with signature V1 (HMAC-SHA1; crates/rolestack-sign/src/rpc_v1.rs),
                 each with its own SignatureNonce (rolestack refuses a repeated one: SignatureNonceUsed)
                 and the current Timestamp (accepted for 15 minutes).
  moto-rpc       the AWS equivalent for moto_server: Query-protocol POSTs signed with SigV4 by botocore
                 (moto routes on the Authorization header's credential scope: sts, iam).
  oss-put        presigned OSS V1 PUT URLs (empty bodies) for distinct keys: loads the listing benchmark.

Also importable: `v1_signed_path`, `oss_presign` (used by suite.py)."""

import argparse
import base64
import datetime as _dt
import hashlib
import hmac
import os
import re
import sys
import time
from urllib.parse import quote

STS_VERSION = "2015-04-01"
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")
RAM_VERSION = "2015-05-01"


def pct(s: str) -> str:
    """RFC 3986 percent-encoding as the Alibaba signers use it."""
    return quote(s, safe="~")


def timestamp() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class V1Signer:
    """Signs many V1 requests that differ only in SignatureNonce: the canonical string is built once
    around the nonce (parameters are sorted by name; SignatureNonce keeps its place)."""

    def __init__(self, ak: str, secret: str, action: str, version: str, method: str = "POST", extra=None):
        self.method = method
        self.key = (secret + "&").encode()
        self.params = {
            "AccessKeyId": ak, "Action": action, "Format": "JSON", "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0", "Timestamp": timestamp(), "Version": version, **(extra or {}),
        }
        names = sorted(list(self.params) + ["SignatureNonce"])
        i = names.index("SignatureNonce")
        canon = lambda ns: "&".join(f"{pct(n)}={pct(self.params[n])}" for n in ns)
        before, after = canon(names[:i]), canon(names[i + 1:])
        self.sts_pre = f"{method}&%2F&" + pct((before + "&" if before else "") + "SignatureNonce=")
        self.sts_post = pct(("&" + after) if after else "")
        self.query_pre = "&".join(f"{pct(k)}={pct(v)}" for k, v in self.params.items())

    def signature(self, nonce: str) -> str:
        enc = nonce if _UNRESERVED.fullmatch(nonce) else pct(pct(nonce))
        sts = self.sts_pre + enc + self.sts_post
        return base64.b64encode(hmac.digest(self.key, sts.encode(), "sha1")).decode()

    def path(self, nonce: str) -> str:
        sig = self.signature(nonce).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
        enc = nonce if _UNRESERVED.fullmatch(nonce) else pct(nonce)
        return f"/?{self.query_pre}&SignatureNonce={enc}&Signature={sig}"


def v1_signed_path(ak, secret, action, version, nonce, method="POST", extra=None):
    return V1Signer(ak, secret, action, version, method, extra).path(nonce)


def oss_presign(ak: str, secret: str, method: str, resource: str, expires: int, query: str = "",
                subresource: str = "") -> str:
    """Presigned OSS V1 URL path for `resource` (/bucket/ or /bucket/key), no Content-Type/MD5.
    `query` is sent as is; `subresource` ("continuation-token=x") is the part of it that V1 signs."""
    sts = f"{method}\n\n\n{expires}\n{resource}" + (f"?{subresource}" if subresource else "")
    sig = base64.b64encode(hmac.digest(secret.encode(), sts.encode(), "sha1")).decode()
    path = quote(resource, safe="/~")
    return f"{path}?{query}{'&' if query else ''}OSSAccessKeyId={pct(ak)}&Expires={expires}&Signature={pct(sig)}"


def write_rolestack_rpc(out, ak, secret, action, version, count, run_id):
    signer = V1Signer(ak, secret, action, version)
    w = out.write
    for i in range(count):
        w(f"POST\t{signer.path(f'{run_id}-{i}')}\t\n")


def write_moto_rpc(out, endpoint, service, action, version, count, region="us-east-1"):
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    body = f"Action={action}&Version={version}"
    signer = SigV4Auth(creds, service, region)
    for _ in range(count):
        req = AWSRequest(method="POST", url=f"http://{endpoint}/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        signer.add_auth(req)
        hs = "\t".join(f"{k}: {v}" for k, v in req.headers.items() if k.lower() not in ("host", "content-length"))
        out.write(f"POST\t/\t{body}\t{hs}\n")


def write_oss_put(out, ak, secret, bucket, count, start, key_format):
    expires = int(time.time()) + 24 * 3600
    for i in range(start, start + count):
        out.write(f"PUT\t{oss_presign(ak, secret, 'PUT', f'/{bucket}/{key_format.format(i)}', expires)}\t\n")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["rolestack-rpc", "moto-rpc", "oss-put"])
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--ak"), p.add_argument("--secret")
    p.add_argument("--action"), p.add_argument("--version")
    p.add_argument("--endpoint", help="moto-rpc: host:port the requests are signed for")
    p.add_argument("--service", help="moto-rpc: sts, iam")
    p.add_argument("--bucket"), p.add_argument("--start", type=int, default=0)
    p.add_argument("--key-format", default="key-{:07d}")
    a = p.parse_args(argv)
    t = time.perf_counter()
    with open(a.out, "w", buffering=1 << 20) as out:
        if a.kind == "rolestack-rpc":
            write_rolestack_rpc(out, a.ak, a.secret, a.action, a.version, a.count, os.urandom(6).hex())
        elif a.kind == "moto-rpc":
            write_moto_rpc(out, a.endpoint, a.service, a.action, a.version, a.count)
        else:
            write_oss_put(out, a.ak, a.secret, a.bucket, a.count, a.start, a.key_format)
    print(f"{a.count} {a.kind} requests in {time.perf_counter() - t:.1f} s -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
