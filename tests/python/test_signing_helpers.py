"""Offline checks (no server): the hand-made signers used by the gateway tests agree with
the reference test vectors (wire-protocols.md §1.3/§1.4) and with the SDKs' own code."""

from alibabacloud_tea_openapi.utils import Utils as TeaUtils

import rshelpers as h

V1_PARAMS = {
    "Action": "GetCallerIdentity", "Format": "json", "Version": "2015-04-01",
    "Timestamp": "2024-01-01T00:00:00Z", "SignatureNonce": "abc123",
    "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "AccessKeyId": "testid",
    "RoleSessionName": "a b*~/",
}


def test_v1_string_to_sign_matches_reference_vector():
    assert h.v1_string_to_sign(V1_PARAMS, "POST") == (
        "POST&%2F&AccessKeyId%3Dtestid%26Action%3DGetCallerIdentity%26Format%3Djson"
        "%26RoleSessionName%3Da%2520b%252A~%252F%26SignatureMethod%3DHMAC-SHA1"
        "%26SignatureNonce%3Dabc123%26SignatureVersion%3D1.0"
        "%26Timestamp%3D2024-01-01T00%253A00%253A00Z%26Version%3D2015-04-01"
    )
    assert h.v1_signature(V1_PARAMS, "testsecret") == "J/1ERrNpMUEgsWHaf/EH9RLl7KY="


def test_v1_signature_matches_tea_openapi():
    params = dict(V1_PARAMS, Description="ünïcødé + spaces & 'quotes'")
    assert h.v1_signature(params, "s3cr3t", "GET") == TeaUtils.get_rpcsignature(params, "GET", "s3cr3t")


def test_v1_signature_matches_core_v1():
    from aliyunsdkcore.auth.algorithm import sha_hmac1
    from aliyunsdkcore.auth.composer import rpc_signature_composer as c

    params = dict(V1_PARAMS, SignatureType="")
    # module-level "private" function (a module global, so no name mangling)
    sts = getattr(c, "__compose_string_to_sign")("POST", params)
    assert sts == h.v1_string_to_sign(params, "POST")
    assert sha_hmac1.get_sign_string(sts, "k&") == h.v1_signature(params, "k")


def test_v3_authorization_matches_reference_vector():
    headers = {
        "host": "ram.aliyuncs.com", "x-acs-version": "2015-05-01", "x-acs-action": "CreateRole",
        "user-agent": "UA", "x-acs-date": "2024-01-01T00:00:00Z",
        "x-acs-signature-nonce": "nonce1", "accept": "application/json",
        "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    }
    query = {"RoleName": "test-role", "AssumeRolePolicyDocument": '{"Version":"1"}'}
    auth = h.v3_authorization("POST", "/", query, headers, headers["x-acs-content-sha256"],
                              "testid", "testsecret")
    assert auth == (
        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=accept;host;user-agent;x-acs-action;"
        "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
        "Signature=10568d350d01b4c5cca54cf988cfef3897ee842116e6c94d1c9b3cb6c03311a2"
    )


def test_v3_authorization_matches_tea_openapi():
    from darabonba.request import DaraRequest

    req = DaraRequest()
    req.method = "POST"
    req.pathname = "/"
    req.query = {"RoleName": "r-1", "Description": "a b+c/ü"}
    req.headers = {"host": "127.0.0.1:1234", "x-acs-action": "CreateRole",
                   "x-acs-version": "2015-05-01", "x-acs-date": "2024-01-01T00:00:00Z",
                   "x-acs-signature-nonce": "n", "accept": "application/json",
                   "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
    ours = h.v3_authorization("POST", "/", req.query, req.headers,
                              req.headers["x-acs-content-sha256"], "id", "sec")
    theirs = TeaUtils.get_authorization(req, "ACS3-HMAC-SHA256",
                                        req.headers["x-acs-content-sha256"], "id", "sec")
    assert ours == theirs


def test_unique_names_are_unique_and_valid():
    names = {h.unique_name("r") for _ in range(200)}
    assert len(names) == 200
    assert all(len(n) <= 64 and n.replace("-", "").isalnum() for n in names)
