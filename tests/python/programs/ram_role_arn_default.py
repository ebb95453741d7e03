"""Runs under `rolestack exec` (a workstation): alibabacloud-credentials' `ram_role_arn` provider with
its default STS endpoint (https://sts.aliyuncs.com) assumes a role from the AccessKey in the
environment, and a tea STS client (region only) asks who it is. Usage: ram_role_arn_default.py <RoleArn>"""

import json
import os
import sys

from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_credentials.models import Config as CredentialConfig
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.models import Config

credential = CredentialClient(CredentialConfig(
    type="ram_role_arn",
    access_key_id=os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
    access_key_secret=os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
    role_arn=sys.argv[1],
    role_session_name="workstation",
))
c = credential.get_credential()
who = StsClient(Config(credential=credential, region_id="cn-hangzhou")).get_caller_identity().body
print(json.dumps({"AccessKeyId": c.access_key_id, "Arn": who.arn}))
