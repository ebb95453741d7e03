"""Runs "inside" an instance: one official credential provider reads the instance's RAM role
credentials from http://100.100.100.200 (unmodified) and the program prints one JSON line,
{"AccessKeyId": ...} (plus "Keys" for oss2) or {"Error": "..."}.

Usage:
  metadata_providers.py credentials [--role NAME] [--disable-imds-v1]
      alibabacloud-credentials, type ecs_ram_role (without --role it asks the metadata service
      for the role name)
  metadata_providers.py oss2 ROLE BUCKET
      oss2's EcsRamRoleCredentialsProvider (normal mode only) feeding a Bucket that lists BUCKET
      at $ROLESTACK_ENDPOINT"""

import json
import os
import sys


def credentials(args):
    from alibabacloud_credentials.client import Client
    from alibabacloud_credentials.models import Config
    kw = {"type": "ecs_ram_role"}
    if "--role" in args:
        kw["role_name"] = args[args.index("--role") + 1]
    if "--disable-imds-v1" in args:
        kw["disable_imds_v1"] = True
    c = Client(Config(**kw)).get_credential()
    return {"AccessKeyId": c.access_key_id}


def oss2_listing(args):
    import oss2
    role, bucket_name = args
    provider = oss2.credentials.EcsRamRoleCredentialsProvider(
        f"http://100.100.100.200/latest/meta-data/ram/security-credentials/{role}", max_retries=1)
    bucket = oss2.Bucket(oss2.ProviderAuth(provider), os.environ["ROLESTACK_ENDPOINT"], bucket_name)
    keys = [o.key for o in oss2.ObjectIterator(bucket)]
    return {"AccessKeyId": provider.get_credentials().access_key_id, "Keys": keys}


def main():
    kind, args = sys.argv[1], sys.argv[2:]
    try:
        out = {"credentials": credentials, "oss2": oss2_listing}[kind](args)
    except Exception as e:  # the provider's own error, reported to the test
        out = {"Error": f"{type(e).__name__}: {e}"}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
