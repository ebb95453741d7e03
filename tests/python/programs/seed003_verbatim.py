"""Seed 003 step 4 as the published session types it, run inside an instance: `oss2. StsAuth` (with
the seed's space after the dot), the endpoint `oss-cn-hangzhou.aliyuncs.com` and the bucket
`ramroletest`, unchanged. The seed's user pastes the three values returned by the metadata URL of
step 3 in place of its placeholders; this file fetches them from that URL. After the listing it
tries one write with the same credentials and reports what OSS answered."""

import json
import urllib.request

base = "http://100.100.100.200/latest/meta-data/ram/security-credentials/"
role = urllib.request.urlopen(base).read().decode().strip()
creds = json.load(urllib.request.urlopen(base + role))
AccessKeyId, AccessKeySecret, SecurityToken = creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"]

# --- seed 003, step 4, verbatim --------------------------------------------------------------
import oss2
from itertools import islice
auth = oss2. StsAuth(AccessKeyId, AccessKeySecret, SecurityToken)
bucket = oss2. Bucket(auth, "oss-cn-hangzhou.aliyuncs.com", "ramroletest")
for b in islice(oss2. ObjectIterator(bucket), 10):
    print(b.key)
# ----------------------------------------------------------------------------------------------

try:
    bucket.put_object("written-from-the-instance.txt", b"hello")
    print("PUT: ok")
except oss2.exceptions.OssError as e:
    print(f"PUT: {e.status} {e.code}")
