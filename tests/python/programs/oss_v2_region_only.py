"""Runs under `rolestack exec`: alibabacloud-oss-v2 configured with a region and nothing else — it
builds https://<bucket>.oss-cn-hangzhou.aliyuncs.com itself — puts, lists and reads an object.
Usage: oss_v2_region_only.py <bucket>"""

import json
import sys

import alibabacloud_oss_v2 as oss

cfg = oss.config.load_default()
cfg.credentials_provider = oss.credentials.EnvironmentVariableCredentialsProvider()
cfg.region = "cn-hangzhou"
client = oss.Client(cfg)
bucket = sys.argv[1]
client.put_object(oss.PutObjectRequest(bucket=bucket, key="from-oss-v2.txt", body=b"region only"))
keys = [o.key for o in client.list_objects_v2(oss.ListObjectsV2Request(bucket=bucket)).contents]
got = client.get_object(oss.GetObjectRequest(bucket=bucket, key="from-oss-v2.txt")).body.read().decode()
print(json.dumps({"Keys": keys, "Body": got}))
