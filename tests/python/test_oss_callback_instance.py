"""Upload callbacks from inside an instance: the application listens on the instance's own
loopback (inside its network namespace), and OSS calls it back there — not on the host's loopback,
and nowhere else — signed, with the public key reachable from inside the instance."""

from __future__ import annotations

import sys

import pytest

import rshelpers as h
from instancekit import ECS, PROGRAMS, STS, exec_in, needs_root, oss_instance, root_apis, started_server


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    yield from started_server(tmp_path_factory, "callbacks")


@pytest.fixture(scope="module")
def apis(fc):
    return root_apis(fc, ram=(h.RAM_VERSION, "Ram"), ecs=(ECS, "Ecs"), sts=(STS, "Sts"))


@needs_root
def test_callback_reaches_the_application_inside_the_instance(fc, apis):
    role, iid, bucket = oss_instance(fc, apis)
    p = exec_in(fc, iid, sys.executable, str(PROGRAMS / "oss_callback_app.py"), role, bucket)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[0] == '200 {"from":"inside the instance"}', p.stdout
    assert lines[1] == "received: ['object=from-instance.txt&size=5']", p.stdout
    # Signed as OSS signs callbacks, the public key fetched from inside the instance.
    assert lines[2] == "signatures: ['ok']", p.stdout
