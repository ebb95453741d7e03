"""STS 2015-04-01: AssumeRole (trust policy + caller's sts:AssumeRole, duration, session name,
session policy), GetCallerIdentity for root / RAM user / role session, and requests signed with
STS credentials being authorized as the role session (role policies ∩ session policy)."""

import json

import pytest

import rshelpers as h

STS = "2015-04-01"


def sts_api(api_for, ak, sk, kind="v3", token=None):
    return api_for(ak, sk, kind, version=STS, token=token, product="Sts")


@pytest.fixture
def trusted_role(root_api, account_id):
    """A role that trusts the whole account, with AliyunRAMReadOnlyAccess attached."""
    name = h.unique_name("sts-role")
    root_api.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": h.account_trust_policy(account_id),
                                 "MaxSessionDuration": 7200})
    root_api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunRAMReadOnlyAccess", "RoleName": name})
    yield name
    try:
        root_api.call("DetachPolicyFromRole", {"PolicyType": "System", "PolicyName": "AliyunRAMReadOnlyAccess", "RoleName": name})
        root_api.call("DeleteRole", {"RoleName": name})
    except h.ApiError:
        pass


def assume(api, account_id, role, session="s1", **extra):
    params = {"RoleArn": f"acs:ram::{account_id}:role/{role}", "RoleSessionName": session}
    params.update(extra)
    return api.call("AssumeRole", params)


def test_assume_role_with_typed_sts_sdk(server, root, ram_user, account_id, trusted_role):
    """The official alibabacloud_sts20150401 client, V3 signing, as a RAM user allowed sts:AssumeRole."""
    from alibabacloud_sts20150401.client import Client
    from alibabacloud_sts20150401 import models as sts
    _, ak, sk = ram_user(policies=["AliyunSTSAssumeRoleAccess"])
    client = Client(h.tea_config(server.endpoint, ak, sk, "v3"))
    resp = client.assume_role(sts.AssumeRoleRequest(
        role_arn=f"acs:ram::{account_id}:role/{trusted_role}", role_session_name="alice", duration_seconds=1800))
    creds = resp.body.credentials
    assert creds.access_key_id.startswith("STS.")
    assert creds.security_token and creds.access_key_secret
    h.assert_date(creds.expiration, "Expiration")
    assert resp.body.assumed_role_user.arn == f"acs:ram::{account_id}:role/{trusted_role.lower()}/alice"
    assert resp.body.assumed_role_user.assumed_role_id.endswith(":alice")
    # the session calls STS itself with the typed client and its token
    session = Client(h.tea_config(server.endpoint, creds.access_key_id, creds.access_key_secret, "v3", creds.security_token))
    who = session.get_caller_identity().body
    assert who.identity_type == "AssumedRoleUser"
    assert who.arn == f"acs:ram::{account_id}:assumed-role/{trusted_role}/alice"
    assert who.principal_id.endswith(":alice") and who.role_id


def test_session_is_authorized_as_the_role(kind, api_for, assumer, account_id, trusted_role):
    user_sts = sts_api(api_for, assumer["AccessKeyId"], assumer["AccessKeySecret"], kind)
    creds = assume(user_sts, account_id, trusted_role)["Credentials"]
    session = api_for(creds["AccessKeyId"], creds["AccessKeySecret"], kind, token=creds["SecurityToken"])
    h.wrapped_list(session.call("ListRoles", {"MaxItems": 5}), "Roles", "Role")
    err = h.expect_error(lambda: session.call("CreateUser", {"UserName": h.unique_name("no")}), code="NoPermission", status=403)
    assert "ram:CreateUser" in err.message
    who = sts_api(api_for, creds["AccessKeyId"], creds["AccessKeySecret"], kind, creds["SecurityToken"]).call("GetCallerIdentity")
    assert who["IdentityType"] == "AssumedRoleUser" and who["AccountId"] == account_id


def test_session_policy_narrows(api_for, assumer, account_id, trusted_role):
    user_sts = sts_api(api_for, assumer["AccessKeyId"], assumer["AccessKeySecret"])
    only_get_role = h.policy_doc([h.allow("ram:GetRole")])
    creds = assume(user_sts, account_id, trusted_role, Policy=only_get_role)["Credentials"]
    session = api_for(creds["AccessKeyId"], creds["AccessKeySecret"], "v3", token=creds["SecurityToken"])
    assert session.call("GetRole", {"RoleName": trusted_role})["Role"]["RoleName"] == trusted_role
    h.expect_error(lambda: session.call("ListRoles"), code="NoPermission", status=403)


def test_session_policy_cannot_widen(api_for, assumer, account_id, trusted_role):
    user_sts = sts_api(api_for, assumer["AccessKeyId"], assumer["AccessKeySecret"])
    creds = assume(user_sts, account_id, trusted_role, Policy=h.policy_doc([h.allow("*")]))["Credentials"]
    session = api_for(creds["AccessKeyId"], creds["AccessKeySecret"], "v3", token=creds["SecurityToken"])
    h.expect_error(lambda: session.call("CreateGroup", {"GroupName": h.unique_name("g")}), code="NoPermission")


def test_root_may_not_assume_roles(kind, api_for, root, account_id, trusted_role):
    """STS refuses AssumeRole signed with the account's own AccessKey, although the role trusts
    the account: only RAM users and role sessions assume roles (docs/sts-errors.md)."""
    root_sts = sts_api(api_for, root["AccessKeyId"], root["AccessKeySecret"], kind)
    err = h.expect_error(lambda: assume(root_sts, account_id, trusted_role), code="NoPermission", status=403)
    assert "Roles may not be assumed by root accounts." in err.message
    # A parameter error is still named first; a missing role is refused like an existing one.
    h.expect_error(lambda: assume(root_sts, account_id, trusted_role, RoleSessionName="a"),
                   code="InvalidParameter.RoleSessionName", status=400)
    h.expect_error(lambda: assume(root_sts, account_id, "no-such-role-here"), code="NoPermission", status=403)


def test_external_id_in_the_trust_policy(server, root_api, account_id, assumer):
    """A trust policy that asks for `sts:ExternalId` admits AssumeRole with that ExternalId only
    (the typed STS client's external_id); a malformed ExternalId is refused before any policy."""
    from alibabacloud_sts20150401 import models as sts_models
    from alibabacloud_sts20150401.client import Client
    name = h.unique_name("sts-ext")
    trust = h.policy_doc([{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": [f"acs:ram::{account_id}:root"]},
                           "Condition": {"StringEquals": {"sts:ExternalId": "partner-4711"}}}])
    root_api.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": trust})
    try:
        client = Client(h.tea_config(server.endpoint, assumer["AccessKeyId"], assumer["AccessKeySecret"], "v3"))
        arn = f"acs:ram::{account_id}:role/{name}"
        request = lambda **kw: sts_models.AssumeRoleRequest(role_arn=arn, role_session_name="partner", **kw)  # noqa: E731
        body = client.assume_role(request(external_id="partner-4711")).body
        assert body.assumed_role_user.arn == f"acs:ram::{account_id}:role/{name.lower()}/partner"
        for kw in ({"external_id": "partner-0000"}, {}):
            h.expect_error(lambda: h.tea_call(lambda: client.assume_role(request(**kw))), code="NoPermission", status=403)
        for bad in ("p", "has space", "x" * 1225):
            h.expect_error(lambda: h.tea_call(lambda: client.assume_role(request(external_id=bad))),
                           code="InvalidParameter.ExternalId", status=400)
    finally:
        root_api.call("DeleteRole", {"RoleName": name})


def test_source_identity_is_echoed_and_fixed_along_a_role_chain(server, root_api, account_id, assumer, api_for):
    """AssumeRole's SourceIdentity comes back in the answer only when given (typed STS client), and a
    session carrying one passes it on: the next AssumeRole of the chain (aliyun-python-sdk-core
    CommonRequest, STS token) keeps it when left out or repeated and is refused when it names another
    (docs/sts-errors.md)."""
    from alibabacloud_sts20150401 import models as sts_models
    from alibabacloud_sts20150401.client import Client
    first, second = h.unique_name("si-a"), h.unique_name("si-b")
    for name in (first, second):
        root_api.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    root_api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunSTSAssumeRoleAccess", "RoleName": first})
    try:
        client = Client(h.tea_config(server.endpoint, assumer["AccessKeyId"], assumer["AccessKeySecret"], "v3"))
        request = lambda **kw: sts_models.AssumeRoleRequest(  # noqa: E731
            role_arn=f"acs:ram::{account_id}:role/{first}", role_session_name="alice", **kw)
        assert client.assume_role(request()).body.source_identity is None
        assert "SourceIdentity" not in client.assume_role(request()).body.to_map()
        body = client.assume_role(request(source_identity="alice@example.com")).body
        assert body.source_identity == "alice@example.com"
        c = body.credentials
        chained = sts_api(api_for, c.access_key_id, c.access_key_secret, "core", c.security_token)
        assert assume(chained, account_id, second, "hop")["SourceIdentity"] == "alice@example.com"
        again = assume(chained, account_id, second, "hop", SourceIdentity="alice@example.com")
        assert again["SourceIdentity"] == "alice@example.com"
        err = h.expect_error(lambda: assume(chained, account_id, second, "hop", SourceIdentity="mallory"),
                             code="NoPermission", status=403)
        assert "SourceIdentity" in err.message
    finally:
        root_api.call("DetachPolicyFromRole", {"PolicyType": "System", "PolicyName": "AliyunSTSAssumeRoleAccess", "RoleName": first})
        for name in (first, second):
            root_api.call("DeleteRole", {"RoleName": name})


def test_user_needs_sts_assume_role_permission(kind, ram_user, api_for, account_id, trusted_role):
    _, ak, sk = ram_user()
    err = h.expect_error(lambda: assume(sts_api(api_for, ak, sk, kind), account_id, trusted_role), code="NoPermission", status=403)
    assert "sts:AssumeRole" in err.message


def test_trust_policy_is_enforced(root_api, api_for, assumer, account_id):
    """A role that trusts only ECS cannot be assumed by the account's identities."""
    name = h.unique_name("ecs-only")
    root_api.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
    try:
        user_sts = sts_api(api_for, assumer["AccessKeyId"], assumer["AccessKeySecret"])
        err = h.expect_error(lambda: assume(user_sts, account_id, name), code="NoPermission", status=403)
        assert "trusted entity" in err.message
    finally:
        root_api.call("DeleteRole", {"RoleName": name})


@pytest.mark.parametrize("params,code", [
    ({"DurationSeconds": 899}, "InvalidParameter.DurationSeconds"),
    ({"DurationSeconds": 7201}, "InvalidParameter.DurationSeconds"),
    ({"DurationSeconds": "900.5"}, "InvalidParameter.DurationSeconds"),
    ({"RoleSessionName": "a"}, "InvalidParameter.RoleSessionName"),
    ({"RoleSessionName": "has space"}, "InvalidParameter.RoleSessionName"),
    ({"Policy": '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*"}]}'}, "InvalidParameter.PolicyGrammar"),
    ({"Policy": "not json"}, "InvalidParameter.PolicyGrammar"),
])
def test_assume_role_parameter_errors(api_for, assumer, account_id, trusted_role, params, code):
    user_sts = sts_api(api_for, assumer["AccessKeyId"], assumer["AccessKeySecret"])
    h.expect_error(lambda: assume(user_sts, account_id, trusted_role, **params), code=code, status=400)


def test_assume_role_bad_arn_and_missing_role(api_for, assumer, account_id):
    user_sts = sts_api(api_for, assumer["AccessKeyId"], assumer["AccessKeySecret"])
    h.expect_error(lambda: user_sts.call("AssumeRole", {"RoleArn": "acs:ram::x:user/u", "RoleSessionName": "ss"}),
                   code="InvalidParameter.RoleArn", status=400)
    h.expect_error(lambda: assume(user_sts, account_id, "no-such-role-here"), code="EntityNotExist.Role", status=404)


def test_caller_identity_root_and_user(kind, api_for, root, account_id, ram_user):
    who = sts_api(api_for, root["AccessKeyId"], root["AccessKeySecret"], kind).call("GetCallerIdentity")
    assert who["IdentityType"] == "Account" and who["Arn"] == f"acs:ram::{account_id}:root"
    user, ak, sk = ram_user()
    who = sts_api(api_for, ak, sk, kind).call("GetCallerIdentity")
    assert who["IdentityType"] == "RAMUser" and who["Arn"] == f"acs:ram::{account_id}:user/{user}"
    assert who["UserId"] == who["PrincipalId"]


def test_bad_tokens(api_for, assumer, account_id, trusted_role):
    user_sts = sts_api(api_for, assumer["AccessKeyId"], assumer["AccessKeySecret"])
    a = assume(user_sts, account_id, trusted_role, session="one")["Credentials"]
    b = assume(user_sts, account_id, trusted_role, session="two")["Credentials"]
    tampered = a["SecurityToken"][:-4] + ("AAAA" if not a["SecurityToken"].endswith("AAAA") else "BBBB")
    h.expect_error(lambda: api_for(a["AccessKeyId"], a["AccessKeySecret"], "v3", token=tampered).call("ListRoles"),
                   code="InvalidSecurityToken.Malformed")
    h.expect_error(lambda: api_for(a["AccessKeyId"], a["AccessKeySecret"], "v3", token=b["SecurityToken"]).call("ListRoles"),
                   code="InvalidSecurityToken.MismatchWithAccessKey")
    h.expect_error(lambda: api_for(a["AccessKeyId"], a["AccessKeySecret"], "v2sig").call("ListRoles"),
                   code="MissingSecurityToken")
    # the right token with a wrong secret is a signature error, not a token error
    h.expect_error(lambda: api_for(a["AccessKeyId"], "wrong-secret", "v3", token=a["SecurityToken"]).call("ListRoles"),
                   code="SignatureDoesNotMatch")


def test_deleting_the_role_ends_its_sessions(root_api, api_for, assumer, account_id):
    name = h.unique_name("short-lived")
    root_api.call("CreateRole", {"RoleName": name, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    creds = assume(sts_api(api_for, assumer["AccessKeyId"], assumer["AccessKeySecret"]), account_id, name)["Credentials"]
    session = sts_api(api_for, creds["AccessKeyId"], creds["AccessKeySecret"], "v3", creds["SecurityToken"])
    assert session.call("GetCallerIdentity")["IdentityType"] == "AssumedRoleUser"
    root_api.call("DeleteRole", {"RoleName": name})
    h.expect_error(lambda: session.call("GetCallerIdentity"), code="InvalidSecurityToken.Expired")
