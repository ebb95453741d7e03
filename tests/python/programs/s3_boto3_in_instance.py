"""Runs inside an instance: boto3, with the role's credentials from the metadata service, against
OSS's S3 endpoints by name — http://s3.oss-cn-hangzhou-internal.aliyuncs.com (path style) and
https://s3.oss-cn-hangzhou.aliyuncs.com (virtual-hosted, the local CA from REQUESTS_CA_BUNDLE) —
puts, lists and reads objects, and prints what it saw as JSON.
Usage: s3_boto3_in_instance.py <role> <bucket>"""

import json
import os
import sys
import urllib.request

import boto3
from botocore.config import Config

role, bucket = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(f"http://100.100.100.200/latest/meta-data/ram/security-credentials/{role}") as r:
    creds = json.load(r)

seen = {}
for endpoint, style, verify in [
    ("http://s3.oss-cn-hangzhou-internal.aliyuncs.com", "path", None),
    ("https://s3.oss-cn-hangzhou.aliyuncs.com", "virtual", os.environ.get("REQUESTS_CA_BUNDLE")),
]:
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="cn-hangzhou", verify=verify,
                      aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["AccessKeySecret"],
                      aws_session_token=creds["SecurityToken"],
                      config=Config(signature_version="s3v4", s3={"addressing_style": style}))
    key = f"via-{style}.txt"
    s3.put_object(Bucket=bucket, Key=key, Body=f"s3 {style}".encode())
    seen[style] = {
        "Body": s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode(),
        "Keys": sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])),
    }
print(json.dumps(seen, sort_keys=True))
