"""A "pod" program, unchanged from what runs on a real cluster with RRSA: alibabacloud-credentials'
default chain finds ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and
ALIBABA_CLOUD_OIDC_TOKEN_FILE, exchanges the token at its default STS endpoint
(https://sts.aliyuncs.com, AssumeRoleWithOIDC), and the role credentials feed a tea STS client
(region only) and alibabacloud-oss-v2 (region only). Runs under `rolestack exec`.
Usage: oidc_pod.py <bucket>. Prints one JSON line."""

import json
import sys

import alibabacloud_oss_v2 as oss
from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.models import Config

credential = CredentialClient()
c = credential.get_credential()
who = StsClient(Config(credential=credential, region_id="cn-hangzhou")).get_caller_identity().body


def from_chain():
    now = credential.get_credential()
    return oss.credentials.Credentials(access_key_id=now.access_key_id, access_key_secret=now.access_key_secret,
                                       security_token=now.security_token)


cfg = oss.config.load_default()
cfg.credentials_provider = oss.credentials.CredentialsProviderFunc(func=from_chain)
cfg.region = "cn-hangzhou"
client = oss.Client(cfg)
keys = [o.key for o in client.list_objects_v2(oss.ListObjectsV2Request(bucket=sys.argv[1])).contents]
try:
    client.put_object(oss.PutObjectRequest(bucket=sys.argv[1], key="from-pod.txt", body=b"x"))
    put = "allowed"
except oss.exceptions.OperationError as e:
    put = getattr(e.unwrap(), "code", str(e))
print(json.dumps({"Type": c.type, "ProviderName": c.provider_name, "AccessKeyId": c.access_key_id, "Arn": who.arn, "Keys": keys, "Put": put}))
