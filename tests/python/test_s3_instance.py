"""OSS's S3-compatible endpoints by name inside an instance: `s3.oss-<region>.aliyuncs.com` and
`s3.oss-<region>-internal.aliyuncs.com` resolve to rolestack there like the other service names
(HTTPS with a certificate of the local CA), and boto3 works against them with the role's
credentials from the metadata service."""

from __future__ import annotations

import json
import sys

import pytest

import rshelpers as h
from instancekit import ECS, PROGRAMS, STS, exec_in, needs_root, oss_instance, root_apis, started_server


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    yield from started_server(tmp_path_factory, "s3names")


@needs_root
def test_boto3_inside_an_instance_by_s3_names(fc):
    apis = root_apis(fc, ram=(h.RAM_VERSION, "Ram"), ecs=(ECS, "Ecs"), sts=(STS, "Sts"))
    role, iid, bucket = oss_instance(fc, apis)
    p = exec_in(fc, iid, sys.executable, str(PROGRAMS / "s3_boto3_in_instance.py"), role, bucket)
    assert p.returncode == 0, p.stdout + p.stderr
    seen = json.loads(p.stdout.strip().splitlines()[-1])
    assert seen == {
        "path": {"Body": "s3 path", "Keys": ["via-path.txt"]},
        "virtual": {"Body": "s3 virtual", "Keys": ["via-path.txt", "via-virtual.txt"]},
    }
