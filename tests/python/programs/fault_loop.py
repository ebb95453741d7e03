"""A long-running program "inside" an instance, for the fault tests (test_faults.py): one
alibabacloud-credentials default-chain client (ECS RAM role provider at 100.100.100.200), kept for
the life of the process, feeding a tea STS client (GetCallerIdentity) and oss2 (GetObject on the
bucket given as argv[1]). For each line read on stdin it makes one call and prints one JSON line:

  sts   GetCallerIdentity with the long-lived client
  oss   GetObject with the long-lived client's credentials
  new   a fresh credential client (what a restarted program sees first), then GetCallerIdentity

{"ok": true, "AccessKeyId": ...} or {"ok": false, "stage": "credentials"|"call", "error": ..., "code": ...}.
"""

import json
import os
import sys

import oss2
from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.models import Config

ENDPOINT = os.environ["ROLESTACK_ENDPOINT"]


def call(creds, what, bucket_name):
    try:
        c = creds.get_credential()
    except Exception as e:  # what the SDK raises when it has no usable credentials
        return {"ok": False, "stage": "credentials", "error": f"{type(e).__name__}: {e}"}
    try:
        if what == "oss":
            auth = oss2.StsAuth(c.access_key_id, c.access_key_secret, c.security_token)
            oss2.Bucket(auth, ENDPOINT, bucket_name).get_object("probe").read()
        else:
            sts = StsClient(Config(access_key_id=c.access_key_id, access_key_secret=c.access_key_secret,
                                   security_token=c.security_token, endpoint=ENDPOINT.removeprefix("http://"),
                                   protocol="http"))
            sts.get_caller_identity()
    except oss2.exceptions.OssError as e:
        return {"ok": False, "stage": "call", "AccessKeyId": c.access_key_id, "code": e.code, "error": str(e)[:300]}
    except Exception as e:
        return {"ok": False, "stage": "call", "AccessKeyId": c.access_key_id, "code": getattr(e, "code", None),
                "error": str(e)[:300]}
    return {"ok": True, "AccessKeyId": c.access_key_id}


def main():
    bucket_name = sys.argv[1]
    creds = CredentialClient()
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        what = line.strip()
        if what == "new":
            result = call(CredentialClient(), "sts", bucket_name)
        else:
            result = call(creds, what, bucket_name)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
