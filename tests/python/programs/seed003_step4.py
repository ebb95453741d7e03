"""Seed 003 step 4, on the instance: take the STS credentials from the metadata URL (step 3), then the
seed's own program — oss2.StsAuth + oss2.Bucket + islice(oss2.ObjectIterator(bucket), 10) — verbatim
apart from the endpoint and the bucket name. Then try a write with the same credentials and report
what OSS answered. Usage: seed003_step4.py <role> <bucket>"""

import json
import os
import sys
import urllib.request

role, bucket_name = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(f"http://100.100.100.200/latest/meta-data/ram/security-credentials/{role}") as r:
    creds = json.load(r)
assert creds["Code"] == "Success", creds

# --- the seed program -------------------------------------------------------------------------
import oss2
from itertools import islice
auth = oss2.StsAuth(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"])
bucket = oss2.Bucket(auth, os.environ["ROLESTACK_ENDPOINT"], bucket_name)
for b in islice(oss2.ObjectIterator(bucket), 10):
    print(b.key)
# ------------------------------------------------------------------------------------------------

try:
    bucket.put_object("written-from-the-instance.txt", b"hello")
    print("PUT: ok")
except oss2.exceptions.OssError as e:
    print(f"PUT: {e.status} {e.code}")
