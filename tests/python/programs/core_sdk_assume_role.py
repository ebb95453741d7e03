"""Runs under `rolestack exec`: aliyun-python-sdk-sts's AssumeRoleRequest exactly as shipped (its
constructor sets HTTPS) through aliyun-python-sdk-core's AcsClient, which resolves the STS endpoint
itself. Usage: core_sdk_assume_role.py <RoleArn>"""

import json
import os
import sys

from aliyunsdkcore.client import AcsClient
from aliyunsdksts.request.v20150401.AssumeRoleRequest import AssumeRoleRequest

client = AcsClient(os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"], os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"], "cn-hangzhou")
request = AssumeRoleRequest()
request.set_RoleArn(sys.argv[1])
request.set_RoleSessionName("core-sdk")
body = json.loads(client.do_action_with_exception(request))
print(json.dumps({"Arn": body["AssumedRoleUser"]["Arn"], "AccessKeyId": body["Credentials"]["AccessKeyId"]}))
