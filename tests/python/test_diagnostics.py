"""Why was I denied: RAM's AccessDeniedDetail on refusals (tea SDKs' `access_denied_detail`), RAM
DecodeDiagnosticMessage (same account only, tamper-evident), OSS's EC per cause with its
AccessDeniedDetail, and trust-policy refusals."""

import json

import oss2
import pytest
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient

import rshelpers as h

STS = "2015-04-01"


def tea_error(fn):
    with pytest.raises(Exception) as e:
        fn()
    return e.value


def decode(root_api, encoded):
    return root_api.call("DecodeDiagnosticMessage", {"EncodedDiagnosticMessage": encoded})["DecodedDiagnosticMessage"]


def create_role_request():
    return ram_models.CreateRoleRequest(role_name=h.unique_name("diag"), assume_role_policy_document=h.ecs_trust_policy())


def test_implicit_deny_detail_and_decode(server, ram_user, root_api, account_id):
    user, ak, sk = ram_user()
    client = RamClient(h.tea_config(server.endpoint, ak, sk))
    err = tea_error(lambda: client.create_role(create_role_request()))
    assert err.code == "NoPermission" and err.statusCode == 403
    detail = err.access_denied_detail
    assert detail["NoPermissionType"] == "ImplicitDeny"
    assert detail["AuthAction"] == "ram:CreateRole"
    assert detail["AuthPrincipalType"] == "SubUser"
    assert detail["AuthPrincipalOwnerId"] == account_id
    assert detail["PolicyType"] == "AccountLevelIdentityBasedPolicy"
    encoded = detail["EncodedDiagnosticMessage"]
    assert "ram:CreateRole" not in encoded, "the message is opaque without the API"
    d = decode(root_api, encoded)
    assert d["ExplicitDeny"] is False
    assert d["NoPermissionPolicyType"] == "AccountLevelIdentityBasedPolicy"
    assert d["AuthAction"] == "ram:CreateRole" and d["AuthResource"].startswith(f"acs:ram:*:{account_id}:role/")
    assert d["AuthPrincipal"]["AuthPrincipalType"] == "SubUser"
    assert d["MatchedPolicies"] == []
    keys = {c["ConditionKey"] for c in d["AuthConditions"]}
    assert {"acs:SourceIp", "acs:CurrentTime", "acs:SecureTransport"} <= keys
    # the same through the typed client's own model
    typed = RamClient(h.tea_config(server.endpoint, server.root["AccessKeyId"], server.root["AccessKeySecret"]))
    body = typed.decode_diagnostic_message(ram_models.DecodeDiagnosticMessageRequest(encoded_diagnostic_message=encoded)).body
    assert body.decoded_diagnostic_message.auth_action == "ram:CreateRole"


def test_explicit_deny_names_the_policy(server, ram_user, root_api):
    pol = h.unique_name("deny-roles")
    root_api.call("CreatePolicy", {"PolicyName": pol, "PolicyDocument": h.policy_doc([h.deny("ram:CreateRole")])})
    user, ak, sk = ram_user(policies=["AliyunRAMFullAccess", pol])
    err = tea_error(lambda: RamClient(h.tea_config(server.endpoint, ak, sk)).create_role(create_role_request()))
    assert err.access_denied_detail["NoPermissionType"] == "ExplicitDeny"
    d = decode(root_api, err.access_denied_detail["EncodedDiagnosticMessage"])
    assert d["ExplicitDeny"] is True
    assert d["MatchedPolicies"] == [{"PolicyIdentifier": pol, "PolicyType": "Custom", "PolicyVersion": "v1", "Effect": "Deny",
                                     "AttachedEntityType": "RamUser", "AttachedScope": user}]


def test_session_policy_refusal(server, root_api, account_id, api_for, ram_user):
    role = h.unique_name("diag-role")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    root_api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunRAMFullAccess", "RoleName": role})
    _, ak, sk = ram_user(policies=["AliyunSTSAssumeRoleAccess"])
    sts = api_for(ak, sk, version=STS, product="Sts")
    creds = sts.call("AssumeRole", {"RoleArn": f"acs:ram::{account_id}:role/{role}", "RoleSessionName": "narrow",
                                    "Policy": h.policy_doc([h.allow("ram:List*")])})["Credentials"]
    session = RamClient(h.tea_config(server.endpoint, creds["AccessKeyId"], creds["AccessKeySecret"], token=creds["SecurityToken"]))
    err = tea_error(lambda: session.create_role(create_role_request()))
    assert err.access_denied_detail["AuthPrincipalType"] == "AssumedRoleUser"
    assert err.access_denied_detail["AuthPrincipalDisplayName"] == f"{role}:narrow"
    d = decode(root_api, err.access_denied_detail["EncodedDiagnosticMessage"])
    assert d["NoPermissionPolicyType"] == "SessionPolicy" and d["ExplicitDeny"] is False


def test_trust_policy_refusal(server, root_api, account_id, ram_user, api_for):
    role = h.unique_name("diag-ecs-only")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.ecs_trust_policy()})
    _, ak, sk = ram_user(policies=["AliyunSTSAssumeRoleAccess"])
    sts = api_for(ak, sk, version=STS, product="Sts")
    err = h.expect_error(lambda: sts.call("AssumeRole", {"RoleArn": f"acs:ram::{account_id}:role/{role}", "RoleSessionName": "s1"}),
                         code="NoPermission", status=403)
    detail = err.data["AccessDeniedDetail"]
    assert detail["PolicyType"] == "AssumeRolePolicy" and detail["AuthAction"] == "sts:AssumeRole"
    assert decode(root_api, detail["EncodedDiagnosticMessage"])["NoPermissionPolicyType"] == "AssumeRolePolicy"


def test_decoding_is_for_the_same_account_with_permission(server, ram_user, root_api, api_for):
    _, ak, sk = ram_user()
    err = tea_error(lambda: RamClient(h.tea_config(server.endpoint, ak, sk)).create_role(create_role_request()))
    encoded = err.access_denied_detail["EncodedDiagnosticMessage"]
    # a user without ram:DecodeDiagnosticMessage may not read it
    h.expect_error(lambda: api_for(ak, sk).call("DecodeDiagnosticMessage", {"EncodedDiagnosticMessage": encoded}),
                   code="NoPermission", status=403)
    # an altered message is refused
    tampered = encoded[:-6] + ("A" if encoded[-6] != "A" else "B") + encoded[-5:]
    h.expect_error(lambda: decode(root_api, tampered), code="InvalidParameter.EncodedDiagnosticMessage", status=400)
    # another account (a fresh server has its own account and key) cannot decode it
    with pytest.raises(h.ApiError):
        decode(root_api, "AQIBIAAAACB1" + encoded[12:])


def test_oss_refusals_carry_their_ec(server, root, ram_user, root_api):
    bucket_name = h.unique_name("diag-bkt").lower()[:40]
    root_bucket = oss2.Bucket(oss2.Auth(root["AccessKeyId"], root["AccessKeySecret"]), server.base_url, bucket_name)
    root_bucket.create_bucket()
    root_bucket.put_object("k", b"v")
    pol = h.unique_name("deny-oss-put")
    root_api.call("CreatePolicy", {"PolicyName": pol, "PolicyDocument": h.policy_doc([h.deny("oss:PutObject")])})
    _, ak, sk = ram_user(policies=["AliyunOSSFullAccess", pol])
    user_bucket = oss2.Bucket(oss2.Auth(ak, sk), server.base_url, bucket_name)
    with pytest.raises(oss2.exceptions.AccessDenied) as e:
        user_bucket.put_object("x", b"y")
    assert e.value.ec == "0003-00000201"
    _, ak2, sk2 = ram_user()
    with pytest.raises(oss2.exceptions.AccessDenied) as e:
        oss2.Bucket(oss2.Auth(ak2, sk2), server.base_url, bucket_name).get_object("k")
    assert e.value.ec == "0003-00000202"
    root_bucket.put_bucket_policy(json.dumps({"Version": "1", "Statement": [
        {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": ["*"], "Resource": [f"acs:oss:*:*:{bucket_name}/*"]}]}))
    with pytest.raises(oss2.exceptions.AccessDenied) as e:
        user_bucket.get_object("k")
    assert e.value.ec == "0003-00000101"
    assert "<NoPermissionType>ExplicitDeny</NoPermissionType>" in e.value.body.decode()
    assert "<PolicyType>BucketPolicy</PolicyType>" in e.value.body.decode()
    root_bucket.delete_bucket_policy()
    root_bucket.delete_object("k")
    root_bucket.delete_bucket()


def test_messages_of_another_account_and_garbage_are_refused_alike(server, root_api, fresh_server):
    """A refusal's message issued by another server (its own account and key) decodes nowhere
    else; garbage, an empty value and a huge one get the same answer."""
    other = fresh_server.root
    other_api = h.RpcApi("v3", fresh_server.endpoint, other["AccessKeyId"], other["AccessKeySecret"])
    other_api.call("CreateUser", {"UserName": "diag-other"})
    key = other_api.call("CreateAccessKey", {"UserName": "diag-other"})["AccessKey"]
    err = tea_error(lambda: RamClient(h.tea_config(fresh_server.endpoint, key["AccessKeyId"], key["AccessKeySecret"]))
                    .create_role(create_role_request()))
    foreign = err.access_denied_detail["EncodedDiagnosticMessage"]
    assert decode(other_api, foreign)["AuthAction"] == "ram:CreateRole", "its own account reads it"
    refusals = [h.expect_error(lambda: decode(root_api, m), code="InvalidParameter.EncodedDiagnosticMessage", status=400)
                for m in (foreign, "garbage", "A" * 5000, "====")]
    assert len({e.message for e in refusals}) == 1, "the answer says nothing about the message"
    h.expect_error(lambda: decode(root_api, ""), code="MissingEncodedDiagnosticMessage", status=400)
