"""Gateway behaviour: signatures, keys, nonces, timestamps, formats, request ids."""

import json
import uuid
import warnings
import xml.etree.ElementTree as ET

import pytest

import rshelpers as h


@pytest.mark.parametrize("sig", ["v3", "v2sig"])
def test_wrong_secret_tea_clients(api_for, root, sig):
    api = api_for(root["AccessKeyId"], root["AccessKeySecret"] + "x", sig)
    err = h.expect_error(lambda: api.call("ListRoles"), code="SignatureDoesNotMatch", status=400)
    if sig == "v2sig":
        assert "server string to sign is:" in err.message, err.message
    assert isinstance(err.data, dict) and err.data.get("Code") == "SignatureDoesNotMatch"


def test_wrong_secret_core_typed_request(acs_client_for, core_request, root):
    """aliyun-python-sdk-core compares the server's string-to-sign (after the ':' in the
    message) with its own; when equal it raises ServerException InvalidAccessKeySecret.
    A message without ':' would crash it with IndexError instead."""
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkram.request.v20150501.ListRolesRequest import ListRolesRequest

    client = acs_client_for(root["AccessKeyId"], root["AccessKeySecret"] + "x")
    with pytest.raises(ServerException) as ei:
        client.do_action_with_exception(core_request(ListRolesRequest()))
    e = ei.value
    assert e.get_http_status() == 400
    # InvalidAccessKeySecret proves the server's string-to-sign equals the SDK's exactly
    assert e.get_error_code() == "InvalidAccessKeySecret", (e.get_error_code(), e.get_error_msg())
    assert e.get_request_id()


def test_wrong_secret_core_common_request(api_for, root):
    # CommonRequest keeps no string_to_sign of its own, so the SDK does not rewrite the code
    api = api_for(root["AccessKeyId"], root["AccessKeySecret"] + "x", "core")
    err = h.expect_error(lambda: api.call("ListRoles"), code="SignatureDoesNotMatch", status=400)
    assert "server string to sign is:" in err.message


def test_wrong_secret_raw_v1_reports_string_to_sign(endpoint, root):
    nonce = uuid.uuid4().hex
    ts = h.utc_timestamp()
    r = h.raw_v1(endpoint, root["AccessKeyId"], "wrong-secret", "ListRoles", nonce=nonce, timestamp=ts)
    assert r.status_code == 400
    body = r.json()
    assert body["Code"] == "SignatureDoesNotMatch"
    expected = h.v1_string_to_sign(h.v1_params(root["AccessKeyId"], "ListRoles", nonce=nonce, timestamp=ts))
    assert body["Message"].split("server string to sign is:")[1] == expected
    assert len(body["Message"].split(":")) == 2, "only one ':' so core-v1's split(':')[1] is the STS"


def test_unknown_access_key(kind, api_for):
    api = api_for("LTAI" + uuid.uuid4().hex[:20], "whatever-secret", kind)
    h.expect_error(lambda: api.call("ListRoles"), code="InvalidAccessKeyId.NotFound", status={400, 404})


@pytest.mark.parametrize("version", [h.RAM_VERSION])
def test_unknown_action(ram, version):
    err = h.expect_error(lambda: ram.call("NoSuchActionAtAll", {"RoleName": "x"}),
                         code="InvalidApi.NotFound", status=404)
    assert err.message


def test_unknown_action_raw_v3(endpoint, root):
    r = h.raw_v3(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "FlyToTheMoon")
    assert r.status_code == 404
    assert r.json()["Code"] == "InvalidApi.NotFound"


def test_raw_helpers_are_accepted(endpoint, root):
    """Sanity: the hand-signed requests used below succeed when nothing is wrong."""
    r1 = h.raw_v1(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "ListRoles", extra={"MaxItems": 1})
    assert r1.status_code == 200, r1.text
    assert "Roles" in r1.json()
    r3 = h.raw_v3(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "ListRoles", query={"MaxItems": 1})
    assert r3.status_code == 200, r3.text
    assert "Roles" in r3.json()


def test_get_method_accepted(endpoint, root):
    r = h.raw_v1(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "ListRoles",
                 extra={"MaxItems": 1}, method="GET")
    assert r.status_code == 200, r.text
    assert "Roles" in r.json()


def test_nonce_replay_v1(endpoint, root):
    nonce = uuid.uuid4().hex
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    first = h.raw_v1(endpoint, ak, sk, "ListRoles", nonce=nonce, extra={"MaxItems": 1})
    assert first.status_code == 200, first.text
    again = h.raw_v1(endpoint, ak, sk, "ListRoles", nonce=nonce, extra={"MaxItems": 1})
    assert again.status_code == 400, again.text
    body = again.json()
    assert body["Code"] == "SignatureNonceUsed"
    assert body["RequestId"]


def test_nonce_replay_v3(endpoint, root):
    nonce = uuid.uuid4().hex
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    assert h.raw_v3(endpoint, ak, sk, "ListRoles", nonce=nonce).status_code == 200
    again = h.raw_v3(endpoint, ak, sk, "ListRoles", nonce=nonce)
    assert again.status_code == 400
    assert again.json()["Code"] == "SignatureNonceUsed"


def test_nonce_replay_does_not_create_twice(endpoint, root, root_api):
    nonce = uuid.uuid4().hex
    name = h.unique_name("replay")
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    extra = {"UserName": name}
    assert h.raw_v1(endpoint, ak, sk, "CreateUser", nonce=nonce, extra=extra).status_code == 200
    r = h.raw_v1(endpoint, ak, sk, "CreateUser", nonce=nonce, extra=extra)
    assert r.json()["Code"] == "SignatureNonceUsed", "replay must be refused before the action runs"


@pytest.mark.parametrize("delta", [-20 * 60, 20 * 60], ids=["20min-old", "20min-future"])
def test_timestamp_expired_v1(endpoint, root, delta):
    r = h.raw_v1(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "ListRoles",
                 timestamp=h.utc_timestamp(delta))
    assert r.status_code == 400, r.text
    assert r.json()["Code"] == "InvalidTimeStamp.Expired"


def test_timestamp_within_window_ok(endpoint, root):
    r = h.raw_v1(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "ListRoles",
                 timestamp=h.utc_timestamp(-10 * 60))
    assert r.status_code == 200, r.text


def test_timestamp_expired_v3(endpoint, root):
    r = h.raw_v3(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "ListRoles",
                 date=h.utc_timestamp(-20 * 60))
    assert r.status_code == 400, r.text
    assert r.json()["Code"] == "InvalidTimeStamp.Expired"


@pytest.mark.parametrize("ts", ["yesterday", "2024-01-01 00:00:00", "1700000000"])
def test_timestamp_bad_format(endpoint, root, ts):
    r = h.raw_v1(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "ListRoles", timestamp=ts)
    assert r.status_code == 400, r.text
    assert r.json()["Code"] == "InvalidTimeStamp.Format"


def test_unsigned_request_refused(endpoint, root):
    r = h.raw_v1(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "ListRoles", sign=False)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["Code"].startswith("Missing") or body["Code"] == "IncompleteSignature", body
    assert body["RequestId"]


def test_no_credentials_at_all(endpoint):
    import requests

    r = requests.post(f"http://{endpoint}/?Action=ListRoles&Version=2015-05-01&Format=JSON", timeout=10)
    assert 400 <= r.status_code < 500
    body = r.json()
    assert body["Code"] and body["RequestId"]


def test_error_body_fields(endpoint, root):
    r = h.raw_v1(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "GetRole",
                 extra={"RoleName": h.unique_name("nosuch")})
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    for k in ("RequestId", "HostId", "Code", "Message", "Recommend"):
        assert k in body, f"error body lacks {k}: {body}"
    assert body["Code"] == "EntityNotExist.Role"


def test_every_response_has_request_id(ram):
    ok1 = ram.call("ListRoles", {"MaxItems": 1})
    ok2 = ram.call("GetAccountAlias")
    rid1, rid2 = h.assert_request_id(ok1), h.assert_request_id(ok2)
    assert rid1 != rid2
    e1 = h.expect_error(lambda: ram.call("GetUser", {"UserName": h.unique_name("nosuch")}))
    e2 = h.expect_error(lambda: ram.call("NoSuchAction"))
    assert e1.request_id and e2.request_id and e1.request_id != e2.request_id


def test_format_xml_core_v1(acs_client, core_request):
    """core-v1 with set_accept_format('XML') (do_action keeps the format; do_action_with_exception
    would force JSON)."""
    from aliyunsdkram.request.v20150501.ListRolesRequest import ListRolesRequest

    req = core_request(ListRolesRequest())
    req.set_accept_format("XML")
    req.set_MaxItems(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        body = acs_client.do_action(req)
    root_el = ET.fromstring(body)
    assert root_el.tag == "ListRolesResponse"
    assert root_el.findtext("RequestId")
    assert root_el.find("Roles") is not None
    assert root_el.findtext("IsTruncated") in ("true", "false")


def test_format_xml_raw(endpoint, root):
    r = h.raw_v1(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "GetAccountAlias", fmt="XML")
    assert r.status_code == 200, r.text
    assert "xml" in r.headers["Content-Type"]
    el = ET.fromstring(r.content)
    assert el.tag == "GetAccountAliasResponse"
    assert el.findtext("RequestId")


def test_format_xml_error(endpoint, root):
    r = h.raw_v1(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "GetRole",
                 extra={"RoleName": h.unique_name("nosuch")}, fmt="XML")
    assert r.status_code == 404
    el = ET.fromstring(r.content)
    assert el.tag == "Error"
    assert el.findtext("Code") == "EntityNotExist.Role"
    assert el.findtext("RequestId")


def test_format_json_case_insensitive(endpoint, root):
    for fmt in ("JSON", "json", "Json"):
        r = h.raw_v1(endpoint, root["AccessKeyId"], root["AccessKeySecret"], "GetAccountAlias", fmt=fmt)
        assert r.status_code == 200, (fmt, r.text)
        assert "AccountAlias" in r.json()


def test_form_body_params_core_v1(apis):
    """core-v1 can send API params in an x-www-form-urlencoded body (add_body_params); the
    body is part of the V1 signature and the server must merge it with the query."""
    core = apis["core"]
    name = h.unique_name("formbody")
    body = core.call("CreateRole", {"RoleName": name},
                     body_params={"AssumeRolePolicyDocument": h.ecs_trust_policy(),
                                  "Description": "from the form body + spaces"})
    assert body["Role"]["RoleName"] == name
    got = core.call("GetRole", {"RoleName": name})["Role"]
    assert got["Description"] == "from the form body + spaces"
    assert json.loads(got["AssumeRolePolicyDocument"]) == json.loads(h.ecs_trust_policy())


def test_special_characters_in_params(ram):
    """Each SDK encodes differently (tea: quote_plus '+' for space; core: %20); all must
    arrive intact."""
    desc = "a+b c%20d&e=f/g?h*i~j 'k' \"l\" ü 中"
    name = h.unique_name("chars")
    ram.call("CreateUser", {"UserName": name, "Comments": desc})
    assert ram.call("GetUser", {"UserName": name})["User"]["Comments"] == desc


def test_health_endpoint(endpoint):
    import requests

    r = requests.get(f"http://{endpoint}/health", timeout=10)
    assert r.status_code == 200


def _role_session(root_api, api_for, assumer, account_id) -> dict:
    role = h.unique_name("gw-token")
    root_api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": h.account_trust_policy(account_id)})
    sts = api_for(assumer["AccessKeyId"], assumer["AccessKeySecret"], version=h.STS_VERSION, product="Sts")
    return sts.call("AssumeRole", {"RoleArn": f"acs:ram::{account_id}:role/{role}", "RoleSessionName": "gw"})["Credentials"]


@pytest.mark.parametrize("sdk", ["v3", "v2sig", "core"])
def test_permanent_key_with_a_security_token_is_refused(api_for, root, root_api, assumer, account_id, sdk):
    """A SecurityToken (V1 parameter / V3 x-acs-security-token header) sent with a permanent
    AccessKey is checked like any session's, never dropped: another session's token does not
    belong to the key, a garbage one does not open (as OSS refuses the same)."""
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    token = _role_session(root_api, api_for, assumer, account_id)["SecurityToken"]
    with_token = api_for(ak, sk, sdk, version=h.STS_VERSION, token=token, product="Sts")
    h.expect_error(lambda: with_token.call("GetCallerIdentity"), code="InvalidSecurityToken.MismatchWithAccessKey", status=400)
    garbage = api_for(ak, sk, sdk, version=h.STS_VERSION, token="not-a-security-token", product="Sts")
    h.expect_error(lambda: garbage.call("GetCallerIdentity"), code="InvalidSecurityToken.Malformed", status=400)
    plain = api_for(ak, sk, sdk, version=h.STS_VERSION, product="Sts")
    assert plain.call("GetCallerIdentity")["AccountId"] == account_id


def test_permanent_key_with_an_empty_security_token_raw_v1(endpoint, root, account_id):
    """An empty SecurityToken is no token (SDKs send it empty for permanent keys); a garbage one
    is refused before the signature is looked at."""
    ak, sk = root["AccessKeyId"], root["AccessKeySecret"]
    r = h.raw_v1(endpoint, ak, sk, "GetCallerIdentity", version=h.STS_VERSION, extra={"SecurityToken": ""})
    assert r.status_code == 200 and r.json()["AccountId"] == account_id, r.text
    r = h.raw_v1(endpoint, ak, sk, "GetCallerIdentity", version=h.STS_VERSION, extra={"SecurityToken": "junk"})
    assert r.status_code == 400 and r.json()["Code"] == "InvalidSecurityToken.Malformed", r.text
