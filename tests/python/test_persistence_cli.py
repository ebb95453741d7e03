"""Persistence across restarts, and the `rolestack credentials` CLI."""

import json

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


def test_credentials_from_env_format_work_with_default_chain(server, monkeypatch):
    """The env output is what the official credential chain reads."""
    from alibabacloud_credentials.client import Client as CredClient
    from alibabacloud_ram20150501.client import Client as RamClient
    from alibabacloud_ram20150501 import models as m
    from alibabacloud_tea_openapi.utils_models import Config

    env = dict(line.split("=", 1) for line in server.credentials("env").split()
               if line.startswith("ALIBABA_CLOUD_"))
    for k, v in env.items():
        monkeypatch.setenv(k, v.strip("'\""))
    cred = CredClient()
    client = RamClient(Config(credential=cred, endpoint=server.endpoint, protocol="http"))
    resp = client.list_roles(m.ListRolesRequest(max_items=1))
    assert resp.body.request_id
