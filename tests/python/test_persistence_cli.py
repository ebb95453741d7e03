"""Persistence across restarts, and the `rolestack credentials` CLI."""

import json
import os
import subprocess
import sys
import textwrap

import rshelpers as h


def test_state_survives_restart(fresh_server):
    srv = fresh_server
    root = srv.credentials("json")
    api = h.RpcApi("v3", srv.endpoint, root["AccessKeyId"], root["AccessKeySecret"])

    role = h.unique_name("persist-role")
    created = api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.SEED_TRUST_POLICY,
                                      "Description": "kept"})["Role"]
    pol = h.unique_name("persist-pol")
    api.call("CreatePolicy", {"PolicyName": pol, "PolicyDocument": h.SEED_OSS_READ_POLICY})
    api.call("CreatePolicyVersion", {"PolicyName": pol, "SetAsDefault": True,
                                     "PolicyDocument": h.policy_doc([h.allow("oss:GetObject")])})
    api.call("AttachPolicyToRole", {"PolicyType": "Custom", "PolicyName": pol, "RoleName": role})
    user = h.unique_name("persist-user")
    api.call("CreateUser", {"UserName": user})
    key = api.call("CreateAccessKey", {"UserName": user})["AccessKey"]
    api.call("AttachPolicyToUser", {"PolicyType": "System", "PolicyName": "AliyunRAMReadOnlyAccess",
                                    "UserName": user})
    alias = "persist-" + h.unique_name("a")[-8:]
    api.call("SetAccountAlias", {"AccountAlias": alias})

    srv.restart()

    assert srv.credentials("json") == root, "root credentials must not change across restarts"
    for kind in h.CLIENT_KINDS:
        api = h.RpcApi(kind, srv.endpoint, root["AccessKeyId"], root["AccessKeySecret"])
        got = api.call("GetRole", {"RoleName": role})["Role"]
        assert got["RoleId"] == created["RoleId"]
        assert got["Arn"] == created["Arn"]
        assert got["CreateDate"] == created["CreateDate"]
        assert got["Description"] == "kept"
        assert json.loads(got["AssumeRolePolicyDocument"]) == json.loads(h.SEED_TRUST_POLICY)
        attached = h.wrapped_list(api.call("ListPoliciesForRole", {"RoleName": role}), "Policies", "Policy")
        assert [(p["PolicyName"], p["DefaultVersion"]) for p in attached] == [(pol, "v2")]
        assert api.call("GetAccountAlias")["AccountAlias"] == alias

    as_user = h.RpcApi("core", srv.endpoint, key["AccessKeyId"], key["AccessKeySecret"])
    assert as_user.call("GetUser", {"UserName": user})["User"]["UserName"] == user


def test_data_dirs_are_separate_accounts(fresh_server, server):
    """Two servers on different data dirs are different accounts."""
    a = fresh_server.credentials("json")
    b = server.root
    assert a["AccessKeyId"] != b["AccessKeyId"]
    api = h.RpcApi("v3", fresh_server.endpoint, b["AccessKeyId"], b["AccessKeySecret"])
    h.expect_error(lambda: api.call("ListRoles"), code="InvalidAccessKeyId.NotFound")


def test_credentials_cli_formats(server):
    data = server.credentials("json")
    assert data["AccountId"].isdigit()
    env_out = server.credentials("env")
    env = {}
    for line in env_out.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        k, _, v = line.partition("=")
        env[k] = v.strip().strip("'\"")
    assert env["ALIBABA_CLOUD_ACCESS_KEY_ID"] == data["AccessKeyId"]
    assert env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] == data["AccessKeySecret"]


def test_credentials_env_output_feeds_the_default_chain(server):
    """`eval $(rolestack credentials --format env)` then the official default credential chain
    (alibabacloud_credentials) + a V3 RAM client. Runs in a subprocess: the chain reads the
    environment at import time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    for line in server.credentials("env").splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):]
        if line.startswith("ALIBABA_CLOUD_") and "=" in line:
            k, v = line.split("=", 1)
            env[k] = v.strip("'\"")
    # never let the chain fall through to the ECS metadata service (100.100.100.200)
    env["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"
    env["ALIBABA_CLOUD_CREDENTIALS_FILE"] = os.devnull
    script = textwrap.dedent(f"""
        from alibabacloud_credentials.client import Client as CredClient
        from alibabacloud_ram20150501.client import Client as RamClient
        from alibabacloud_ram20150501 import models as m
        from alibabacloud_tea_openapi.utils_models import Config
        c = RamClient(Config(credential=CredClient(), endpoint={server.endpoint!r}, protocol="http"))
        r = c.list_roles(m.ListRolesRequest(max_items=1))
        print("OK", r.body.request_id)
    """)
    p = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("OK ") and len(p.stdout.split()) == 2, p.stdout
