"""RAM 2015-05-01's remaining actions (issue 18) through the official SDKs: virtual MFA devices
bound with two TOTP codes, the password policy and security preference (and where they are
enforced), ChangePassword, ClearAccountAlias, GetAccessKeyLastUsed, UpdatePolicyDescription,
service-linked roles, and tags on roles and policies (TagResources & co, CreateRole/CreatePolicy
`Tag`, ListRoles/ListPolicies `Tag` filters).

Semantics run over the generic caller in the three client kinds (tea V3, tea V1, aliyun-python-sdk-core);
`test_typed_sdk_*` call every new action through the typed alibabacloud_ram20150501 client with
V3 and V1 signing so its own request and response models are exercised.
"""

from __future__ import annotations

import json
import time

import pyotp
import pytest

import rshelpers as h

DEFAULT_POLICY = {"MinimumPasswordLength": 8, "RequireLowercaseCharacters": False, "RequireUppercaseCharacters": False,
                  "RequireNumbers": False, "RequireSymbols": False, "HardExpiry": False, "MaxPasswordAge": 0,
                  "PasswordReusePrevention": 0, "MaxLoginAttemps": 5}
DEFAULT_PREFERENCE = {"AllowUserToChangePassword": True, "AllowUserToManageAccessKeys": False,
                      "AllowUserToManageMFADevices": True, "AllowUserToManagePublicKeys": False,
                      "EnableSaveMFATicket": False, "LoginNetworkMasks": "", "LoginSessionDuration": 6}


@pytest.fixture
def restore_security(root_api):
    """Puts the account's password policy and security preference back to RAM's defaults."""
    yield
    root_api.call("SetPasswordPolicy", DEFAULT_POLICY)
    root_api.call("SetSecurityPreference", DEFAULT_PREFERENCE)


def two_codes(seed: str) -> tuple:
    """Two consecutive TOTP codes, as a person reads them off an authenticator app."""
    t = pyotp.TOTP(seed)
    now = time.time()
    return t.at(now - 30), t.at(now)


def serial(account_id, name):
    return f"acs:ram::{account_id}:mfa/{name}"


# -- MFA ---------------------------------------------------------------------------------------------

def test_virtual_mfa_device_lifecycle(ram, root_api, account_id):
    user = h.unique_name("mfa")
    root_api.call("CreateUser", {"UserName": user})
    dev = h.unique_name("dev")
    created = ram.call("CreateVirtualMFADevice", {"VirtualMFADeviceName": dev})
    h.assert_request_id(created)
    d = created["VirtualMFADevice"]
    assert d["SerialNumber"] == serial(account_id, dev)
    assert len(d["Base32StringSeed"]) == 32 and d["Base32StringSeed"].isalnum()
    import base64
    assert base64.b64decode(d["QRCodePNG"])[:8] == b"\x89PNG\r\n\x1a\n"
    h.expect_error(lambda: ram.call("CreateVirtualMFADevice", {"VirtualMFADeviceName": dev.upper()}),
                   code="EntityAlreadyExists.VirtualMFADevice", status=409)

    listed = {x["SerialNumber"]: x for x in h.wrapped_list(ram.call("ListVirtualMFADevices"), "VirtualMFADevices", "VirtualMFADevice")}
    assert d["SerialNumber"] in listed and "User" not in listed[d["SerialNumber"]]

    h.expect_error(lambda: ram.call("GetUserMFAInfo", {"UserName": user}), code="EntityNotExist.User.MFADevice", status=404)
    h.expect_error(lambda: ram.call("BindMFADevice", {"UserName": user, "SerialNumber": d["SerialNumber"],
                                                      "AuthenticationCode1": "12345", "AuthenticationCode2": "123456"}),
                   code="InvalidParameter.AuthenticationCode.Format", status=400)
    h.expect_error(lambda: ram.call("BindMFADevice", {"UserName": user, "SerialNumber": d["SerialNumber"],
                                                      "AuthenticationCode1": "000000", "AuthenticationCode2": "000001"}),
                   code="CheckAuthenticationCodeFail", status=403)
    c1, c2 = two_codes(d["Base32StringSeed"])
    h.expect_error(lambda: ram.call("BindMFADevice", {"UserName": user, "SerialNumber": d["SerialNumber"],
                                                      "AuthenticationCode1": c2, "AuthenticationCode2": c1}),
                   code="CheckAuthenticationCodeFail", status=403)
    h.assert_request_id(ram.call("BindMFADevice", {"UserName": user, "SerialNumber": d["SerialNumber"],
                                                   "AuthenticationCode1": c1, "AuthenticationCode2": c2}))
    info = ram.call("GetUserMFAInfo", {"UserName": user})["MFADevice"]
    assert info == {"SerialNumber": d["SerialNumber"], "Type": "VMFA"}
    entry = {x["SerialNumber"]: x for x in h.wrapped_list(ram.call("ListVirtualMFADevices"), "VirtualMFADevices",
                                                          "VirtualMFADevice")}[d["SerialNumber"]]
    assert entry["User"]["UserName"] == user
    h.assert_date(entry["ActivateDate"])

    # A second device cannot be bound to the user; the bound device cannot be bound again or deleted.
    other = ram.call("CreateVirtualMFADevice", {"VirtualMFADeviceName": h.unique_name("dev2")})["VirtualMFADevice"]
    o1, o2 = two_codes(other["Base32StringSeed"])
    h.expect_error(lambda: ram.call("BindMFADevice", {"UserName": user, "SerialNumber": other["SerialNumber"],
                                                      "AuthenticationCode1": o1, "AuthenticationCode2": o2}),
                   code="EntityAlreadyExists.User.MFADevice", status=409)
    h.expect_error(lambda: ram.call("DeleteVirtualMFADevice", {"SerialNumber": d["SerialNumber"]}),
                   code="DeleteConflict.VirtualMFADevice.User", status=409)
    h.expect_error(lambda: ram.call("DeleteUser", {"UserName": user}), code="DeleteConflict.User.MFADevice", status=409)

    unbound = ram.call("UnbindMFADevice", {"UserName": user})
    assert unbound["MFADevice"]["SerialNumber"] == d["SerialNumber"]
    h.expect_error(lambda: ram.call("UnbindMFADevice", {"UserName": user}), code="EntityNotExist.User.MFADevice", status=404)
    for s in (d["SerialNumber"], other["SerialNumber"]):
        ram.call("DeleteVirtualMFADevice", {"SerialNumber": s})
    h.expect_error(lambda: ram.call("DeleteVirtualMFADevice", {"SerialNumber": d["SerialNumber"]}),
                   code="EntityNotExist.VirtualMFADevice", status=404)
    h.expect_error(lambda: ram.call("DeleteVirtualMFADevice", {"SerialNumber": "acs:ram::1:mfa/" + dev}),
                   code="EntityNotExist.VirtualMFADevice", status=404)
    ram.call("DeleteUser", {"UserName": user})


def test_mfa_device_name_rules(root_api):
    h.expect_error(lambda: root_api.call("CreateVirtualMFADevice", {"VirtualMFADeviceName": "bad name"}),
                   code="InvalidParameter.VirtualMFADeviceName.InvalidChars", status=400)
    h.expect_error(lambda: root_api.call("CreateVirtualMFADevice", {"VirtualMFADeviceName": "x" * 65}),
                   code="InvalidParameter.VirtualMFADeviceName.Length", status=400)
    h.expect_error(lambda: root_api.call("CreateVirtualMFADevice", {}), code_prefix="Missing", status=400,
                   message_contains="VirtualMFADeviceName")


def test_user_binds_own_device_by_self_service(root_api, ram_user, api_for, account_id):
    """The default security preference lets a RAM user manage its own MFA device (named after it)
    without any policy; someone else's device or another name stays refused."""
    name, ak, secret = ram_user()
    me = api_for(ak, secret)
    dev = me.call("CreateVirtualMFADevice", {"VirtualMFADeviceName": name})["VirtualMFADevice"]
    c1, c2 = two_codes(dev["Base32StringSeed"])
    me.call("BindMFADevice", {"SerialNumber": dev["SerialNumber"], "AuthenticationCode1": c1, "AuthenticationCode2": c2})
    assert me.call("GetUserMFAInfo")["MFADevice"]["SerialNumber"] == serial(account_id, name)
    h.expect_error(lambda: me.call("CreateVirtualMFADevice", {"VirtualMFADeviceName": h.unique_name("other")}),
                   code="NoPermission", status=403)
    h.expect_error(lambda: me.call("ListVirtualMFADevices"), code="NoPermission", status=403)
    me.call("UnbindMFADevice")
    me.call("DeleteVirtualMFADevice", {"SerialNumber": dev["SerialNumber"]})


# -- password policy, security preference, ChangePassword ------------------------------------------

def test_password_policy_defaults_and_limits(ram, restore_security):
    got = ram.call("GetPasswordPolicy")["PasswordPolicy"]
    assert got == DEFAULT_POLICY
    h.expect_error(lambda: ram.call("SetPasswordPolicy", {"MinimumPasswordLength": 7}),
                   code="InvalidParameter.MinimumPasswordLength.Range", status=400)
    h.expect_error(lambda: ram.call("SetPasswordPolicy", {"MinimumPasswordLength": 33}),
                   code="InvalidParameter.MinimumPasswordLength.Range", status=400)
    h.expect_error(lambda: ram.call("SetPasswordPolicy", {"PasswordReusePrevention": 25}),
                   code="InvalidParameter.PasswordReusePrevention", status=400)
    set_ = ram.call("SetPasswordPolicy", {"MinimumPasswordLength": 12, "RequireNumbers": True, "RequireSymbols": True,
                                          "MaxPasswordAge": 90, "PasswordReusePrevention": 3})["PasswordPolicy"]
    assert set_["MinimumPasswordLength"] == 12 and set_["RequireNumbers"] is True and set_["MaxPasswordAge"] == 90
    assert ram.call("GetPasswordPolicy")["PasswordPolicy"] == set_


def test_password_policy_is_enforced(root_api, restore_security, api_for):
    root_api.call("SetPasswordPolicy", {"MinimumPasswordLength": 10, "RequireUppercaseCharacters": True,
                                        "RequireNumbers": True, "PasswordReusePrevention": 2})
    user = h.unique_name("pp")
    root_api.call("CreateUser", {"UserName": user})
    for weak in ("short1A", "longenough1", "LONGENOUGHNODIGIT"):
        h.expect_error(lambda: root_api.call("CreateLoginProfile", {"UserName": user, "Password": weak}),
                       code="InvalidParameter.Password.TooWeak", status=400)
    root_api.call("CreateLoginProfile", {"UserName": user, "Password": "Strong-Pass1"})
    h.expect_error(lambda: root_api.call("UpdateLoginProfile", {"UserName": user, "Password": "weakweakweak"}),
                   code="InvalidParameter.Password.TooWeak", status=400)
    # ChangePassword: the user itself, proving the old password; the policy and reuse apply.
    key = root_api.call("CreateAccessKey", {"UserName": user})["AccessKey"]
    me = api_for(key["AccessKeyId"], key["AccessKeySecret"])
    h.expect_error(lambda: me.call("ChangePassword", {"OldPassword": "Wrong-Pass1x", "NewPassword": "Second-Pass2"}),
                   code="InvalidParameter.OldPassword", status=400)
    h.expect_error(lambda: me.call("ChangePassword", {"OldPassword": "Strong-Pass1", "NewPassword": "nodigits-here"}),
                   code="InvalidParameter.Password.TooWeak", status=400)
    me.call("ChangePassword", {"OldPassword": "Strong-Pass1", "NewPassword": "Second-Pass2"})
    h.expect_error(lambda: me.call("ChangePassword", {"OldPassword": "Second-Pass2", "NewPassword": "Strong-Pass1"}),
                   code="InvalidParameter.Password.TooWeak", status=400, message_contains="last 2")
    me.call("ChangePassword", {"OldPassword": "Second-Pass2", "NewPassword": "Third-Pass33"})
    h.expect_error(lambda: root_api.call("ChangePassword", {"OldPassword": "x", "NewPassword": "Third-Pass33"}),
                   code="EntityNotExist.User", status=404)
    # The preference can take the self-service grant away.
    root_api.call("SetSecurityPreference", {"AllowUserToChangePassword": False})
    h.expect_error(lambda: me.call("ChangePassword", {"OldPassword": "Third-Pass33", "NewPassword": "Fourth-Pass44"}),
                   code="NoPermission", status=403)
    root_api.call("DeleteAccessKey", {"UserName": user, "UserAccessKeyId": key["AccessKeyId"]})
    root_api.call("DeleteLoginProfile", {"UserName": user})
    root_api.call("DeleteUser", {"UserName": user})


def test_security_preference(ram, root_api, restore_security, ram_user, api_for):
    pref = ram.call("GetSecurityPreference")["SecurityPreference"]
    assert pref == {
        "LoginProfilePreference": {"AllowUserToChangePassword": True, "EnableSaveMFATicket": False,
                                   "LoginNetworkMasks": "", "LoginSessionDuration": 6},
        "AccessKeyPreference": {"AllowUserToManageAccessKeys": False},
        "MFAPreference": {"AllowUserToManageMFADevices": True},
        "PublicKeyPreference": {"AllowUserToManagePublicKeys": False},
    }
    h.expect_error(lambda: ram.call("SetSecurityPreference", {"LoginSessionDuration": 25}),
                   code="InvalidParameter.LoginSessionDuration", status=400)
    h.expect_error(lambda: ram.call("SetSecurityPreference", {"LoginNetworkMasks": "10.0.0.0/33"}),
                   code="InvalidParameter.LoginNetworkMasks", status=400)
    out = ram.call("SetSecurityPreference", {"AllowUserToManageAccessKeys": True, "LoginNetworkMasks": "10.0.0.0/8;192.168.0.0/16",
                                             "LoginSessionDuration": 2})["SecurityPreference"]
    assert out["AccessKeyPreference"]["AllowUserToManageAccessKeys"] is True
    assert out["LoginProfilePreference"]["LoginNetworkMasks"] == "10.0.0.0/8;192.168.0.0/16"
    # AllowUserToManageAccessKeys: a user with no policy manages its own keys, nobody else's.
    name, ak, secret = ram_user()
    other, _, _ = ram_user()
    me = api_for(ak, secret)
    keys = h.wrapped_list(me.call("ListAccessKeys"), "AccessKeys", "AccessKey")
    assert [k["AccessKeyId"] for k in keys] == [ak]
    h.expect_error(lambda: me.call("ListAccessKeys", {"UserName": other}), code="NoPermission", status=403)
    root_api.call("SetSecurityPreference", {"AllowUserToManageAccessKeys": False})
    h.expect_error(lambda: me.call("ListAccessKeys"), code="NoPermission", status=403)


# -- account alias, key last use, policy description -----------------------------------------------

def test_clear_account_alias(ram, root_api, account_id):
    before = root_api.call("GetAccountAlias")["AccountAlias"]
    alias = "clr-" + h.unique_name("a").lower()[-10:]
    root_api.call("SetAccountAlias", {"AccountAlias": alias})
    try:
        assert ram.call("GetAccountAlias")["AccountAlias"] == alias
        h.assert_request_id(ram.call("ClearAccountAlias"))
        assert ram.call("GetAccountAlias")["AccountAlias"] == account_id
    finally:
        if before != account_id:
            root_api.call("SetAccountAlias", {"AccountAlias": before})


def test_get_access_key_last_used(ram, root_api, ram_user, api_for):
    name, ak, secret = ram_user()
    assert ram.call("GetAccessKeyLastUsed", {"UserName": name, "UserAccessKeyId": ak})["AccessKeyLastUsed"] == {}
    api_for(ak, secret, version=h.STS_VERSION, product="Sts").call("GetCallerIdentity")
    used = ram.call("GetAccessKeyLastUsed", {"UserName": name, "UserAccessKeyId": ak})["AccessKeyLastUsed"]
    h.assert_date(used["LastUsedDate"])
    assert abs((h.parse_date(used["LastUsedDate"]).timestamp()) - time.time()) < 120
    h.expect_error(lambda: ram.call("GetAccessKeyLastUsed", {"UserName": name, "UserAccessKeyId": "LTAInotakey"}),
                   code="EntityNotExist.User.AccessKey", status=404)


def test_update_policy_description(ram, root_api):
    name = h.unique_name("upd")
    root_api.call("CreatePolicy", {"PolicyName": name, "PolicyDocument": h.policy_doc([h.allow("ram:Get*")]),
                                   "Description": "old"})
    pol = ram.call("UpdatePolicyDescription", {"PolicyName": name, "NewDescription": "new words"})["Policy"]
    assert pol["PolicyName"] == name and pol["Description"] == "new words" and pol["PolicyType"] == "Custom"
    assert root_api.call("GetPolicy", {"PolicyName": name, "PolicyType": "Custom"})["Policy"]["Description"] == "new words"
    h.expect_error(lambda: ram.call("UpdatePolicyDescription", {"PolicyName": name, "NewDescription": "x" * 1025}),
                   code="InvalidParameter.NewDescription.Length", status=400)
    h.expect_error(lambda: ram.call("UpdatePolicyDescription", {"PolicyName": "AdministratorAccess", "NewDescription": "x"}),
                   code="EntityNotExist.Policy", status=404)
    root_api.call("DeletePolicy", {"PolicyName": name})


# -- service-linked roles --------------------------------------------------------------------------

SLR_SERVICE = "archiving.ecs.aliyuncs.com"
SLR_NAME = "AliyunServiceRoleForECSArchiving"


def test_service_linked_role_template(ram):
    t = ram.call("GetServiceLinkedRoleTemplate", {"ServiceName": SLR_SERVICE})["ServiceLinkedRoleTemplate"]
    assert t["ServiceName"] == SLR_SERVICE and t["RoleNamePrefix"] == SLR_NAME
    assert t["SystemPolicyName"] == "AliyunServiceRolePolicyForECSArchiving"
    assert t["MultipleRolesAllowed"] is False
    assert {d["Language"] for d in t["RoleDescriptions"]["RoleDescription"]} == {"en", "zh-cn"}
    h.expect_error(lambda: ram.call("GetServiceLinkedRoleTemplate", {"ServiceName": "nope.aliyuncs.com"}),
                   code="InvalidParameter.ServiceName", status=400)


def test_service_linked_role_lifecycle(root_api, account_id):
    created = root_api.call("CreateServiceLinkedRole", {"ServiceName": SLR_SERVICE})["Role"]
    try:
        assert created["RoleName"] == SLR_NAME and created["IsServiceLinkedRole"] is True
        trust = json.loads(created["AssumeRolePolicyDocument"])
        assert trust["Statement"][0]["Principal"] == {"Service": [SLR_SERVICE]}
        h.expect_error(lambda: root_api.call("CreateServiceLinkedRole", {"ServiceName": SLR_SERVICE}),
                       code="EntityAlreadyExists.Role", status=409)
        h.expect_error(lambda: root_api.call("CreateServiceLinkedRole", {"ServiceName": SLR_SERVICE, "CustomSuffix": "x"}),
                       code="InvalidParameter.CustomSuffix", status=400)
        role = root_api.call("GetRole", {"RoleName": SLR_NAME})["Role"]
        assert role["IsServiceLinkedRole"] is True
        assert role["RolePrincipalName"] == f"{SLR_NAME}@role.{account_id}.onaliyunservice.com"
        pols = h.wrapped_list(root_api.call("ListPoliciesForRole", {"RoleName": SLR_NAME}), "Policies", "Policy")
        assert [(p["PolicyName"], p["PolicyType"]) for p in pols] == [("AliyunServiceRolePolicyForECSArchiving", "System")]
        # Immutable: trust, policies; only DeleteServiceLinkedRole removes it.
        for action, params in [
            ("UpdateRole", {"RoleName": SLR_NAME, "NewAssumeRolePolicyDocument": h.account_trust_policy(account_id)}),
            ("AttachPolicyToRole", {"RoleName": SLR_NAME, "PolicyType": "System", "PolicyName": "AdministratorAccess"}),
            ("DetachPolicyFromRole", {"RoleName": SLR_NAME, "PolicyType": "System", "PolicyName": "AliyunServiceRolePolicyForECSArchiving"}),
            ("DeleteRole", {"RoleName": SLR_NAME}),
        ]:
            h.expect_error(lambda: root_api.call(action, params), code="NotSupported.ServiceLinkedRole", status=400)
        ordinary = h.unique_name("plain")
        root_api.call("CreateRole", {"RoleName": ordinary, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
        h.expect_error(lambda: root_api.call("DeleteServiceLinkedRole", {"RoleName": ordinary}),
                       code="NotSupported.ServiceLinkedRole", status=400)
        root_api.call("DeleteRole", {"RoleName": ordinary})
    finally:
        out = root_api.call("DeleteServiceLinkedRole", {"RoleName": SLR_NAME})
    assert out["DeletionTaskId"].startswith("task/")
    h.expect_error(lambda: root_api.call("GetRole", {"RoleName": SLR_NAME}), code="EntityNotExist.Role", status=404)
    h.expect_error(lambda: root_api.call("CreateServiceLinkedRole", {"ServiceName": SLR_SERVICE, "Description": "mine"}),
                   code="InvalidParameter.Description", status=400)


# -- tags ----------------------------------------------------------------------------------------

def tags_json(**kv):
    return json.dumps([{"Key": k, "Value": v} for k, v in kv.items()])


def test_tags_on_roles_and_policies(ram, root_api):
    role = h.unique_name("tagr")
    created = root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.ecs_trust_policy(),
                                           "Tag": tags_json(env="prod")})["Role"]
    assert created["RoleName"] == role
    pol = h.unique_name("tagp")
    root_api.call("CreatePolicy", {"PolicyName": pol, "PolicyDocument": h.policy_doc([h.allow("ram:Get*")]),
                                   "Tag": tags_json(team="a")})

    ram.call("TagResources", {"ResourceType": "role", "ResourceNames": json.dumps([role]), "Tag": tags_json(team="b", env="dev")})
    rows = ram.call("ListTagResources", {"ResourceType": "role", "ResourceNames": json.dumps([role])})["TagResources"]
    assert sorted((r["ResourceName"], r["TagKey"], r["TagValue"], r["ResourceType"]) for r in rows) == [
        (role, "env", "dev", "role"), (role, "team", "b", "role")]

    # ListRoles: Tags in each item, and the Tag filter.
    roles = h.list_all(ram, "ListRoles", "Roles", "Role", extra={"Tag": tags_json(team="b")})
    assert [r["RoleName"] for r in roles] == [role]
    assert sorted((t["TagKey"], t["TagValue"]) for t in roles[0]["Tags"]["Tag"]) == [("env", "dev"), ("team", "b")]
    pols = h.wrapped_list(ram.call("ListPolicies", {"Tag": tags_json(team="a")}), "Policies", "Policy")
    assert [p["PolicyName"] for p in pols] == [pol]
    assert pols[0]["Tags"]["Tag"] == [{"TagKey": "team", "TagValue": "a"}]

    ram.call("UntagResources", {"ResourceType": "role", "ResourceNames": json.dumps([role]), "TagKeys": json.dumps(["team"])})
    rows = ram.call("ListTagResources", {"ResourceType": "role", "ResourceNames": json.dumps([role])})["TagResources"]
    assert [(r["TagKey"], r["TagValue"]) for r in rows] == [("env", "dev")]
    ram.call("UntagResources", {"ResourceType": "policy", "ResourceNames": json.dumps([pol]), "All": True})
    assert ram.call("ListTagResources", {"ResourceType": "policy", "ResourceNames": json.dumps([pol])})["TagResources"] == []

    h.expect_error(lambda: ram.call("TagResources", {"ResourceType": "user", "ResourceNames": json.dumps([role]), "Tag": tags_json(a="1")}),
                   code="InvalidParameter.ResourceType", status=400)
    h.expect_error(lambda: ram.call("TagResources", {"ResourceType": "role", "ResourceNames": json.dumps([h.unique_name("none")]),
                                                     "Tag": tags_json(a="1")}),
                   code="EntityNotExist.Role", status=404)
    h.expect_error(lambda: ram.call("TagResources", {"ResourceType": "role", "ResourceNames": json.dumps([role]),
                                                     "Tag": tags_json(**{"acs:x": "1"})}),
                   code="InvalidParameter.Tag", status=400)
    h.expect_error(lambda: ram.call("TagResources", {"ResourceType": "role", "ResourceNames": json.dumps([role]),
                                                     "Tag": tags_json(**{f"k{i}": "v" for i in range(21)})}),
                   code="InvalidParameter.Tag", status=400)
    # One key twice: refused, nothing stored (a condition would see one value, the role keep the other).
    twice = json.dumps([{"Key": "env", "Value": "dev"}, {"Key": "env", "Value": "prod"}])
    h.expect_error(lambda: ram.call("TagResources", {"ResourceType": "role", "ResourceNames": json.dumps([role]), "Tag": twice}),
                   code="InvalidParameter.Tag", status=400)
    h.expect_error(lambda: root_api.call("CreateRole", {"RoleName": h.unique_name("tagd"), "AssumeRolePolicyDocument": h.ecs_trust_policy(),
                                                        "Tag": twice}), code="InvalidParameter.Tag", status=400)
    rows = ram.call("ListTagResources", {"ResourceType": "role", "ResourceNames": json.dumps([role])})["TagResources"]
    assert [(r["TagKey"], r["TagValue"]) for r in rows] == [("env", "dev")]
    root_api.call("DeleteRole", {"RoleName": role})
    root_api.call("DeletePolicy", {"PolicyName": pol})


def test_list_tag_resources_pages(root_api):
    role = h.unique_name("tagpg")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.ecs_trust_policy(),
                                 "Tag": tags_json(**{f"k{i}": str(i) for i in range(5)})})
    seen, token = [], None
    for _ in range(10):
        params = {"ResourceType": "role", "ResourceNames": json.dumps([role]), "PageSize": 2}
        if token:
            params["NextToken"] = token
        body = root_api.call("ListTagResources", params)
        seen += [r["TagKey"] for r in body["TagResources"]]
        token = body.get("NextToken")
        if not token:
            break
    assert sorted(seen) == [f"k{i}" for i in range(5)]
    root_api.call("DeleteRole", {"RoleName": role})


# -- every new action through the typed SDK client, V3 and V1 --------------------------------------

@pytest.mark.parametrize("signature", ["v3", "v2sig"])
def test_typed_sdk_every_new_action(server, root_api, account_id, signature):
    from alibabacloud_ram20150501 import models as m

    c = h.make_ram_tea(server.endpoint, server.root["AccessKeyId"], server.root["AccessKeySecret"], signature)
    user = h.unique_name("typed")
    root_api.call("CreateUser", {"UserName": user})
    dev = c.create_virtual_mfadevice(m.CreateVirtualMFADeviceRequest(virtual_mfadevice_name=user)).body.virtual_mfadevice
    assert dev.serial_number == serial(account_id, user)
    c1, c2 = two_codes(dev.base_32string_seed)
    c.bind_mfadevice(m.BindMFADeviceRequest(user_name=user, serial_number=dev.serial_number,
                                            authentication_code_1=c1, authentication_code_2=c2))
    assert c.get_user_mfainfo(m.GetUserMFAInfoRequest(user_name=user)).body.mfadevice.serial_number == dev.serial_number
    listed = c.list_virtual_mfadevices().body.virtual_mfadevices.virtual_mfadevice
    assert any(d.serial_number == dev.serial_number and d.user.user_name == user for d in listed)
    assert c.unbind_mfadevice(m.UnbindMFADeviceRequest(user_name=user)).body.mfadevice.serial_number == dev.serial_number
    c.delete_virtual_mfadevice(m.DeleteVirtualMFADeviceRequest(serial_number=dev.serial_number))

    assert c.get_password_policy().body.password_policy.minimum_password_length == 8
    assert c.set_password_policy(m.SetPasswordPolicyRequest(minimum_password_length=8)).body.password_policy.minimum_password_length == 8
    pref = c.get_security_preference().body.security_preference
    assert pref.login_profile_preference.allow_user_to_change_password is True
    assert c.set_security_preference(m.SetSecurityPreferenceRequest(login_session_duration=6)) \
        .body.security_preference.login_profile_preference.login_session_duration == 6

    key = root_api.call("CreateAccessKey", {"UserName": user})["AccessKey"]
    root_api.call("CreateLoginProfile", {"UserName": user, "Password": "Typed-Pass1"})
    uc = h.make_ram_tea(server.endpoint, key["AccessKeyId"], key["AccessKeySecret"], signature)
    uc.change_password(m.ChangePasswordRequest(old_password="Typed-Pass1", new_password="Typed-Pass2"))
    used = c.get_access_key_last_used(m.GetAccessKeyLastUsedRequest(user_name=user, user_access_key_id=key["AccessKeyId"]))
    h.assert_date(used.body.access_key_last_used.last_used_date)

    alias = c.get_account_alias().body.account_alias
    c.clear_account_alias()
    if alias != account_id:
        root_api.call("SetAccountAlias", {"AccountAlias": alias})

    pol = h.unique_name("typedp")
    c.create_policy(m.CreatePolicyRequest(policy_name=pol, policy_document=h.policy_doc([h.allow("ram:Get*")]),
                                          tag=[m.CreatePolicyRequestTag(key="k", value="v")]))
    assert c.update_policy_description(m.UpdatePolicyDescriptionRequest(policy_name=pol, new_description="d")).body.policy.description == "d"

    role = h.unique_name("typedr")
    c.create_role(m.CreateRoleRequest(role_name=role, assume_role_policy_document=h.ecs_trust_policy(),
                                      tag=[m.CreateRoleRequestTag(key="env", value="x")]))
    c.tag_resources(m.TagResourcesRequest(resource_type="role", resource_names=[role], tag=[m.TagResourcesRequestTag(key="t", value="1")]))
    rows = c.list_tag_resources(m.ListTagResourcesRequest(resource_type="role", resource_names=[role])).body.tag_resources
    assert sorted((r.tag_key, r.tag_value) for r in rows) == [("env", "x"), ("t", "1")]
    c.untag_resources(m.UntagResourcesRequest(resource_type="role", resource_names=[role], tag_keys=["t"]))
    tagged = c.list_roles(m.ListRolesRequest(tag=[m.ListRolesRequestTag(key="env", value="x")])).body.roles.role
    assert [r.role_name for r in tagged] == [role]
    assert [p.policy_name for p in c.list_policies(m.ListPoliciesRequest(tag=[m.ListPoliciesRequestTag(key="k", value="v")])).body.policies.policy] == [pol]

    tpl = c.get_service_linked_role_template(m.GetServiceLinkedRoleTemplateRequest(service_name="actiontrail.aliyuncs.com"))
    assert tpl.body.service_linked_role_template.role_name_prefix == "AliyunServiceRoleForActionTrail"
    slr = c.create_service_linked_role(m.CreateServiceLinkedRoleRequest(service_name="actiontrail.aliyuncs.com")).body.role
    assert slr.is_service_linked_role is True
    assert c.delete_service_linked_role(m.DeleteServiceLinkedRoleRequest(role_name=slr.role_name)).body.deletion_task_id

    root_api.call("DeleteRole", {"RoleName": role})
    root_api.call("DeletePolicy", {"PolicyName": pol})
    root_api.call("DeleteAccessKey", {"UserName": user, "UserAccessKeyId": key["AccessKeyId"]})
    root_api.call("DeleteLoginProfile", {"UserName": user})
    root_api.call("DeleteUser", {"UserName": user})
