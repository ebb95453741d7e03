"""What the server keeps in memory between requests never outlives a change (ARCHITECTURE.md,
"Performance"): authenticated AccessKeys and STS sessions, parsed policies and each instance's
metadata document are reused only while nothing was written since, and the credential document
rotates exactly when it is due by the server's (fake) clock.

One server per module, started with --fake-clock."""

import json
import threading
import time
import uuid

import pytest

import rshelpers as h
from instancekit import ECS, REGION, STS, cli, environment, metadata, root_apis, seed_role, started_server, vpc_instance


@pytest.fixture(scope="module")
def fc(tmp_path_factory):
    yield from started_server(tmp_path_factory, "caches", "--fake-clock")


@pytest.fixture(scope="module")
def apis(fc):
    return root_apis(fc, ram=(h.RAM_VERSION, "Ram"), ecs=(ECS, "Ecs"), sts=(STS, "Sts"))


def _user_key(apis, policy=None):
    name = h.unique_name("cache")
    apis["ram"].call("CreateUser", {"UserName": name})
    if policy:
        apis["ram"].call("AttachPolicyToUser", {"PolicyType": "System", "PolicyName": policy, "UserName": name})
    key = apis["ram"].call("CreateAccessKey", {"UserName": name})["AccessKey"]
    return name, key


def _caller(fc, key):
    return h.raw_v1(fc.endpoint, key["AccessKeyId"], key["AccessKeySecret"], "GetCallerIdentity", version=STS)


def test_a_disabled_or_deleted_access_key_fails_on_the_next_request(fc, apis):
    name, key = _user_key(apis)
    for _ in range(3):  # warm whatever is kept
        assert _caller(fc, key).status_code == 200
    apis["ram"].call("UpdateAccessKey", {"UserName": name, "UserAccessKeyId": key["AccessKeyId"], "Status": "Inactive"})
    r = _caller(fc, key)
    assert r.status_code == 400 and r.json()["Code"] == "InvalidAccessKeyId.Inactive", r.text
    apis["ram"].call("UpdateAccessKey", {"UserName": name, "UserAccessKeyId": key["AccessKeyId"], "Status": "Active"})
    assert _caller(fc, key).status_code == 200
    apis["ram"].call("DeleteAccessKey", {"UserName": name, "UserAccessKeyId": key["AccessKeyId"]})
    r = _caller(fc, key)
    assert r.status_code == 404 and r.json()["Code"] == "InvalidAccessKeyId.NotFound", r.text


def test_a_detached_policy_denies_on_the_next_request(fc, apis):
    name, key = _user_key(apis, policy="AliyunRAMReadOnlyAccess")
    for _ in range(3):
        r = h.raw_v1(fc.endpoint, key["AccessKeyId"], key["AccessKeySecret"], "ListRoles")
        assert r.status_code == 200, r.text
    apis["ram"].call("DetachPolicyFromUser", {"PolicyType": "System", "PolicyName": "AliyunRAMReadOnlyAccess", "UserName": name})
    r = h.raw_v1(fc.endpoint, key["AccessKeyId"], key["AccessKeySecret"], "ListRoles")
    assert r.status_code == 403 and r.json()["Code"] == "NoPermission", r.text


def test_a_changed_custom_policy_applies_on_the_next_request(fc, apis):
    name, key = _user_key(apis)
    policy = h.unique_name("cachepol")
    allow = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:ListRoles", "Resource": "*"}]}
    apis["ram"].call("CreatePolicy", {"PolicyName": policy, "PolicyDocument": json.dumps(allow)})
    apis["ram"].call("AttachPolicyToUser", {"PolicyType": "Custom", "PolicyName": policy, "UserName": name})
    for _ in range(3):
        assert h.raw_v1(fc.endpoint, key["AccessKeyId"], key["AccessKeySecret"], "ListRoles").status_code == 200
    deny = {"Version": "1", "Statement": [{"Effect": "Deny", "Action": "ram:ListRoles", "Resource": "*"}]}
    apis["ram"].call("CreatePolicyVersion", {"PolicyName": policy, "PolicyDocument": json.dumps(deny), "SetAsDefault": "true"})
    r = h.raw_v1(fc.endpoint, key["AccessKeyId"], key["AccessKeySecret"], "ListRoles")
    assert r.status_code == 403 and r.json()["Code"] == "NoPermission", r.text


def test_revoked_sessions_fail_on_the_next_request(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    creds = metadata(environment(fc, iid), f"ram/security-credentials/{role}").json()
    sts = h.RpcApi("v3", fc.endpoint, creds["AccessKeyId"], creds["AccessKeySecret"], version=STS,
                   token=creds["SecurityToken"], product="Sts")
    for _ in range(3):
        assert sts.call("GetCallerIdentity")["IdentityType"] == "AssumedRoleUser"
    assert cli(fc, "role", "revoke-sessions", role).returncode == 0
    h.expect_error(lambda: sts.call("GetCallerIdentity"), code="InvalidSecurityToken.Expired")


def test_the_document_rotates_exactly_when_due(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    env = environment(fc, iid)
    path = f"ram/security-credentials/{role}"
    a = metadata(env, path).json()
    for _ in range(5):
        assert metadata(env, path).json() == a, "reads before rotation give the same document"
    # Rotation is due 30 minutes before expiry, i.e. 5h30m after issue; stop 5 seconds short.
    assert cli(fc, "clock", "advance", "5h29m55s").returncode == 0
    assert metadata(env, path).json()["AccessKeyId"] == a["AccessKeyId"]
    assert cli(fc, "clock", "advance", "10s").returncode == 0
    b = metadata(env, path).json()
    assert b["AccessKeyId"] != a["AccessKeyId"], "the first read once rotation is due issues a new set"
    assert metadata(env, path).json() == b


def test_no_document_after_detach_even_under_concurrent_reads(fc, apis):
    role = seed_role(apis)
    iid = vpc_instance(apis, role=role)
    env = environment(fc, iid)
    path = f"ram/security-credentials/{role}"
    assert metadata(env, path).status_code == 200
    stop = threading.Event()
    seen = []

    def reader():
        while not stop.is_set():
            seen.append((metadata(env, path).status_code, stop.is_set()))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        # Detach only once the readers are reading (threads start late on a loaded machine).
        deadline = time.monotonic() + 60
        while sum(code == 200 for code, _ in list(seen)) < len(threads) and time.monotonic() < deadline:
            time.sleep(0.01)
        apis["ecs"].call("DetachInstanceRamRole", {"RegionId": REGION, "InstanceIds": json.dumps([iid]), "RamRoleName": role})
        # Every read that starts after the detach returned must be refused.
        after = [metadata(env, path).status_code for _ in range(20)]
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert after == [404] * 20, after
    assert any(code == 200 for code, _ in seen), "the readers were reading before the detach"


def test_replayed_nonce_is_refused_even_when_cached_credentials_are_reused(fc, apis):
    _, key = _user_key(apis)
    nonce, ts = uuid.uuid4().hex, h.utc_timestamp()
    first = h.raw_v1(fc.endpoint, key["AccessKeyId"], key["AccessKeySecret"], "GetCallerIdentity", version=STS, nonce=nonce, timestamp=ts)
    assert first.status_code == 200
    again = h.raw_v1(fc.endpoint, key["AccessKeyId"], key["AccessKeySecret"], "GetCallerIdentity", version=STS, nonce=nonce, timestamp=ts)
    assert again.status_code == 400 and again.json()["Code"] == "SignatureNonceUsed"
