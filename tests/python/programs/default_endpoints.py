"""Runs inside an instance with nothing configured but a region: the default credential chain of
alibabacloud-credentials (the instance's RAM role at 100.100.100.200) feeds tea clients that build
their own HTTPS endpoints — sts.cn-hangzhou.aliyuncs.com, ram.aliyuncs.com,
ecs-cn-hangzhou.aliyuncs.com — and verify certificates with the system's trust. Prints one JSON
object: the role session's ARN, the roles it can list, its instance's RAM role."""

import json

from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.models import Config
import urllib.request

credential = CredentialClient()
config = lambda: Config(credential=credential, region_id="cn-hangzhou")
sts = StsClient(config())
ram = RamClient(config())
ecs = EcsClient(config())
instance = urllib.request.urlopen("http://100.100.100.200/latest/meta-data/instance-id").read().decode()
who = sts.get_caller_identity().body
roles = ram.list_roles(ram_models.ListRolesRequest()).body.roles.role
described = ecs.describe_instance_ram_role(
    ecs_models.DescribeInstanceRamRoleRequest(region_id="cn-hangzhou", instance_ids=json.dumps([instance]))).body
print(json.dumps({
    "Arn": who.arn,
    "Endpoints": [sts._endpoint, ram._endpoint, ecs._endpoint],
    "Roles": [r.role_name for r in roles],
    "InstanceRole": described.instance_ram_role_sets.instance_ram_role_set[0].ram_role_name,
}))
