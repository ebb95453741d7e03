"""Federation sweep (2026-12-02, ninth session): AssumeRoleWithOIDC with odd tokens and parameters,
trust-policy conditions on `oidc:*`, odd IMS provider input, and alibabacloud-credentials' OIDC
provider reading its token file on every refresh. Each case asserts STS's answer (code, HTTP
status); docs/federation.md and docs/sts-errors.md say which answers are documented and which are
rolestack's choice (UNVERIFIED)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

import rshelpers as h
from test_federation import FINGERPRINT, assume_oidc, b64url, ims, oidc_trust, rsa_issuer, sign_jwt  # noqa: F401 (ims: fixture)

INVALID = "AuthenticationFail.OIDCToken.Invalid"
BAD_SIGNATURE = "AuthenticationFail.OIDCToken.InvalidSignature"


@pytest.fixture(scope="module")
def ext(server, ims, account_id):
    """An external issuer (its JWKS given to the provider): a signing key `ext-1` (RS256), a second
    signing key `ext-2`, and an encryption key `enc-1` (`use: enc`); a role trusting the provider
    with no condition (MaxSessionDuration 43200) and AliyunRAMFullAccess."""
    key, jwks = rsa_issuer()
    key2, jwks2 = rsa_issuer()
    enc, enc_jwks = rsa_issuer()
    keys = jwks["keys"] + [dict(jwks2["keys"][0], kid="ext-2"), dict(enc_jwks["keys"][0], kid="enc-1", use="enc")]
    name = h.unique_name("sweepidp")
    url = f"https://{name}.idp.test"
    ims["v3"].call("CreateOIDCProvider", {"OIDCProviderName": name, "IssuerUrl": url, "Fingerprints": FINGERPRINT,
                                          "ClientIds": "ext-app", "JWKS": json.dumps({"keys": keys})})
    provider_arn = f"acs:ram::{account_id}:oidc-provider/{name}"
    root = h.RpcApi("v3", server.endpoint, server.root["AccessKeyId"], server.root["AccessKeySecret"])
    role = h.unique_name("SweepRole")
    root.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": oidc_trust(provider_arn), "MaxSessionDuration": 43200})
    root.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunRAMFullAccess", "RoleName": role})
    return {"key": key, "key2": key2, "enc": enc, "jwks": jwks, "url": url, "name": name, "provider_arn": provider_arn,
            "role": role, "role_arn": f"acs:ram::{account_id}:role/{role}", "root": root}


def claims(ext, **changes):
    now = int(time.time())
    c = {"iss": ext["url"], "sub": "user-1", "aud": "ext-app", "iat": now - 10, "exp": now + 600}
    c.update(changes)
    return {k: v for k, v in c.items() if v is not None}


def without(ext, claim):
    return {k: v for k, v in claims(ext).items() if k != claim}


def hs256_with_public_key(ext):
    """HS256 keyed with the issuer's public JWKS: the classic algorithm-confusion forgery."""
    signing_input = b64url(json.dumps({"alg": "HS256", "kid": "ext-1"}).encode()) + "." + b64url(json.dumps(claims(ext)).encode())
    mac = hmac.new(json.dumps(ext["jwks"]).encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(mac)


# (label, token from ext, expected code or None for accepted)
TOKENS = [
    ("good", lambda e: sign_jwt(e["key"], claims(e)), None),
    ("second key by kid", lambda e: sign_jwt(e["key2"], claims(e), kid="ext-2"), None),
    ("aud array with one client id", lambda e: sign_jwt(e["key"], claims(e, aud=["other", "ext-app"])), None),
    ("iat 30 s ahead (clock skew)", lambda e: sign_jwt(e["key"], claims(e, iat=int(time.time()) + 30)), None),
    ("nbf 30 s ahead (clock skew)", lambda e: sign_jwt(e["key"], claims(e, nbf=int(time.time()) + 30)), None),
    ("iat 120 s ahead", lambda e: sign_jwt(e["key"], claims(e, iat=int(time.time()) + 120)), INVALID),
    ("nbf 120 s ahead", lambda e: sign_jwt(e["key"], claims(e, nbf=int(time.time()) + 120)), INVALID),
    ("expired", lambda e: sign_jwt(e["key"], claims(e, exp=int(time.time()) - 1)), "AuthenticationFail.OIDCToken.Expired"),
    ("exp missing", lambda e: sign_jwt(e["key"], without(e, "exp")), INVALID),
    ("iat missing", lambda e: sign_jwt(e["key"], without(e, "iat")), INVALID),
    ("sub missing", lambda e: sign_jwt(e["key"], without(e, "sub")), INVALID),
    ("sub empty", lambda e: sign_jwt(e["key"], claims(e, sub="")), INVALID),
    ("sub not a string", lambda e: sign_jwt(e["key"], claims(e, sub=7)), INVALID),
    ("aud missing", lambda e: sign_jwt(e["key"], without(e, "aud")), "AuthenticationFail.OIDCToken.AudienceNotMatch"),
    ("aud not a client id", lambda e: sign_jwt(e["key"], claims(e, aud=["a", "b"])), "AuthenticationFail.OIDCToken.AudienceNotMatch"),
    ("iss with a trailing slash", lambda e: sign_jwt(e["key"], claims(e, iss=e["url"] + "/")), "AuthenticationFail.OIDCToken.IssuerNotMatch"),
    ("iss missing", lambda e: sign_jwt(e["key"], without(e, "iss")), INVALID),
    ("unknown kid", lambda e: sign_jwt(e["key"], claims(e), kid="nope"), BAD_SIGNATURE),
    ("no kid, several keys", lambda e: sign_jwt(e["key"], claims(e), kid=None), BAD_SIGNATURE),
    ("another key under a known kid", lambda e: sign_jwt(e["key2"], claims(e)), BAD_SIGNATURE),
    ("encryption key", lambda e: sign_jwt(e["enc"], claims(e), kid="enc-1"), BAD_SIGNATURE),
    ("PS256 on a key whose JWK says RS256", lambda e: sign_jwt(e["key"], claims(e), alg="PS256"), BAD_SIGNATURE),
    ("HS256 keyed with the public JWKS", hs256_with_public_key, INVALID),
    ("alg none", lambda e: b64url(b'{"alg":"none"}') + "." + b64url(json.dumps(claims(e)).encode()) + ".", INVALID),
    ("empty signature", lambda e: sign_jwt(e["key"], claims(e)).rsplit(".", 1)[0] + ".", BAD_SIGNATURE),
    ("bad base64 signature", lambda e: sign_jwt(e["key"], claims(e)).rsplit(".", 1)[0] + ".!!!", INVALID),
    ("four parts", lambda e: sign_jwt(e["key"], claims(e)) + ".x", INVALID),
    ("two parts", lambda e: sign_jwt(e["key"], claims(e)).rsplit(".", 1)[0], INVALID),
    ("over 20000 characters", lambda e: sign_jwt(e["key"], claims(e, pad="x" * 20000)), INVALID),
]


@pytest.mark.parametrize("label,make,code", TOKENS, ids=[t[0] for t in TOKENS])
def test_token_edge_cases(server, ext, label, make, code):
    token = make(ext)
    if code is None:
        body = assume_oidc(server, ext["role_arn"], ext["provider_arn"], token)
        assert body.credentials.access_key_id.startswith("STS.")
        assert body.oidctoken_info.subject == "user-1" and body.oidctoken_info.client_ids == "ext-app"
    else:
        h.expect_error(lambda: assume_oidc(server, ext["role_arn"], ext["provider_arn"], token), code=code, status=401)


def test_token_messages(server, ext):
    """STS's documented messages for the token's form (the STS error-code page)."""
    def message(token):
        with pytest.raises(h.ApiError) as e:
            assume_oidc(server, ext["role_arn"], ext["provider_arn"], token)
        assert (e.value.code, e.value.status) == (INVALID, 401)
        return e.value.message

    # Present but empty: STS's own answer; absent: the gateway's MissingOIDCToken.
    assert message("").startswith("The OIDCToken can not empty.")
    h.expect_error(lambda: assume_oidc(server, ext["role_arn"], ext["provider_arn"], None), code="MissingOIDCToken", status=400)
    assert message("a.b").startswith("The number of Jwt field should be divided into 3 parts with '.' .")
    none = b64url(b'{"alg":"none"}') + "." + b64url(json.dumps(claims(ext)).encode()) + "."
    assert message(none).startswith("The algorithm none that be specified in Jwt header is unknown.")
    assert message(hs256_with_public_key(ext)).startswith("The algorithm HS256 that be specified in Jwt header is unknown.")


def test_token_reused(server, ext):
    """A token is a bearer credential until it expires: a pod's projected token is exchanged again
    at every refresh, so using it twice is allowed."""
    token = sign_jwt(ext["key"], claims(ext))
    first = assume_oidc(server, ext["role_arn"], ext["provider_arn"], token).credentials
    second = assume_oidc(server, ext["role_arn"], ext["provider_arn"], token).credentials
    assert first.access_key_id != second.access_key_id


def test_session_parameters(server, ext):
    token = lambda: sign_jwt(ext["key"], claims(ext))  # noqa: E731
    A = lambda **kw: assume_oidc(server, ext["role_arn"], ext["provider_arn"], token(), **kw)  # noqa: E731
    for bad in (899, 43201):
        h.expect_error(lambda: A(duration_seconds=bad), code="InvalidParameter.DurationSeconds", status=400)
    exp = h.parse_date(A(duration_seconds=43200).credentials.expiration).timestamp()
    assert 43100 < exp - time.time() < 43300
    for bad in ("a", "a" * 65, "a b", "a/b"):
        h.expect_error(lambda: A(session=bad), code="InvalidParameter.RoleSessionName", status=400)
    assert A(session="a" * 64).assumed_role_user.arn.endswith("/" + "a" * 64)
    h.expect_error(lambda: A(policy="{"), code="InvalidParameter.PolicyGrammar", status=400)
    # A session policy that allows reads only: the role's writes are cut off in the session.
    reads = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["ram:Get*", "ram:List*"], "Resource": "*"}]})
    for policy, may_write in ((reads, False), (None, True)):
        c = A(policy=policy).credentials
        ram = h.RpcApi("v3", server.endpoint, c.access_key_id, c.access_key_secret, token=c.security_token)
        assert "Users" in ram.call("ListUsers")
        user = h.unique_name("sweep-u")
        if may_write:
            ram.call("CreateUser", {"UserName": user})
            ext["root"].call("DeleteUser", {"UserName": user})
        else:
            h.expect_error(lambda: ram.call("CreateUser", {"UserName": user}), code="NoPermission", status=403)


def trust(provider_arn, action="sts:AssumeRole", condition=None, principal=None):
    stmt = {"Action": action, "Effect": "Allow", "Principal": principal or {"Federated": [provider_arn]}}
    if condition:
        stmt["Condition"] = condition
    return json.dumps({"Version": "1", "Statement": [stmt]})


# (label, trust(ext) -> document, accepted?)
TRUSTS = [
    ("StringLike oidc:sub matching", lambda e: trust(e["provider_arn"], condition={"StringLike": {"oidc:sub": "user-*"}}), True),
    ("StringLike oidc:sub not matching", lambda e: trust(e["provider_arn"], condition={"StringLike": {"oidc:sub": "admin-*"}}), False),
    ("StringEquals oidc:iss", lambda e: trust(e["provider_arn"], condition={"StringEquals": {"oidc:iss": e["url"]}}), True),
    ("StringEquals oidc:iss other", lambda e: trust(e["provider_arn"], condition={"StringEquals": {"oidc:iss": e["url"] + "/x"}}), False),
    ("StringEquals oidc:aud", lambda e: trust(e["provider_arn"], condition={"StringEquals": {"oidc:aud": "ext-app"}}), True),
    ("StringEquals oidc:aud other", lambda e: trust(e["provider_arn"], condition={"StringEquals": {"oidc:aud": "other"}}), False),
    ("sts:AssumeRoleWithOIDC", lambda e: trust(e["provider_arn"], action="sts:AssumeRoleWithOIDC"), True),
    ("sts:AssumeRoleWithSAML only", lambda e: trust(e["provider_arn"], action="sts:AssumeRoleWithSAML"), False),
    ("another provider", lambda e: trust(e["provider_arn"] + "x"), False),
    ("no federated principal", lambda e: trust(None, principal={"RAM": [e["provider_arn"].split(":oidc-provider")[0] + ":root"]}), False),
]


@pytest.mark.parametrize("label,make,accepted", TRUSTS, ids=[t[0] for t in TRUSTS])
def test_trust_conditions(server, ext, label, make, accepted):
    role = h.unique_name("SweepTrust")
    ext["root"].call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": make(ext)})
    role_arn = ext["role_arn"].rsplit("/", 1)[0] + "/" + role
    go = lambda: assume_oidc(server, role_arn, ext["provider_arn"], sign_jwt(ext["key"], claims(ext)))  # noqa: E731
    if accepted:
        assert go().assumed_role_user.arn.endswith(f"/{role.lower()}/pod")
    else:
        h.expect_error(go, code="AuthenticationFail.NoPermission", status=401)


def test_role_and_provider_addresses(server, ext, account_id):
    token = sign_jwt(ext["key"], claims(ext))
    other = "1" * 16 if account_id != "1" * 16 else "2" * 16
    h.expect_error(lambda: assume_oidc(server, ext["role_arn"].replace(account_id, other), ext["provider_arn"], token),
                   code="EntityNotExist.Role", status=404)
    h.expect_error(lambda: assume_oidc(server, ext["role_arn"], ext["provider_arn"].replace(account_id, other), token),
                   code="AuthenticationFail.NoPermission", status=401)
    h.expect_error(lambda: assume_oidc(server, ext["role_arn"], "acs:ram::1:role/x", token), code="InvalidParameter.OIDCProviderArn", status=400)


def test_issuer_url_must_be_a_url(ims):
    api = ims["v3"]
    name = h.unique_name("sweepurl")
    for url in ("https://a b.test", "https://", "https://user@a.test", "https://a.test/p?q=1", "https://a.test/#f",
                "http://a.test", "HTTPS://a.test", "https://a.test/\tx", "https://" + "a" * 250 + ".test"):
        h.expect_error(lambda: api.call("CreateOIDCProvider", {"OIDCProviderName": name, "IssuerUrl": url, "Fingerprints": FINGERPRINT}),
                       code="InvalidParameter.IssuerUrl", status=400)
    for ok in (f"https://{name}.test:8443/realms/x", f"https://[::1]:9/{name}"):
        n = h.unique_name("sweepurl")
        assert api.call("CreateOIDCProvider", {"OIDCProviderName": n, "IssuerUrl": ok, "Fingerprints": FINGERPRINT})["OIDCProvider"]["IssuerUrl"] == ok
        api.call("DeleteOIDCProvider", {"OIDCProviderName": n})


def test_credentials_oidc_provider_reads_the_token_file_at_each_refresh(server, ext, tmp_path):
    """alibabacloud-credentials' OIDCRoleArnCredentialsProvider, pointed at rolestack's HTTPS
    listener (the `ca` runtime option trusts its CA): it reads the token file at every refresh, so
    a token replaced by a forged one fails the next refresh with STS's code."""
    from alibabacloud_credentials.provider import OIDCRoleArnCredentialsProvider

    token_file = tmp_path / "token"
    token_file.write_text(sign_jwt(ext["key"], claims(ext)))
    provider = OIDCRoleArnCredentialsProvider(role_arn=ext["role_arn"], oidc_provider_arn=ext["provider_arn"],
                                              oidc_token_file_path=str(token_file), role_session_name="sdk-pod",
                                              sts_endpoint=server.tls_endpoint)
    provider._runtime_options["ca"] = str(server.ca_file)
    creds = provider.get_credentials()
    assert creds.get_access_key_id().startswith("STS.") and creds.get_provider_name() == "oidc_role_arn"
    fresh = provider._refresh_credentials().value()
    assert fresh.get_access_key_id() != creds.get_access_key_id()
    token_file.write_text(sign_jwt(ext["key2"], claims(ext)))  # another key under kid ext-1
    with pytest.raises(Exception) as e:
        provider._refresh_credentials()
    assert BAD_SIGNATURE in str(e.value) and "401" in str(e.value)


def test_saml_refusals_name_the_parameter_first(server, ims, account_id):
    """AssumeRoleWithSAML issues nothing in rolestack (docs/federation.md), but what STS checks
    before the assertion is answered as STS does: the provider ARN's form, the provider, the role,
    the session policy and DurationSeconds (900 .. the role's MaxSessionDuration)."""
    from alibabacloud_sts20150401 import models as m
    from alibabacloud_tea_openapi import exceptions as tea_exc

    from test_federation import SAML_METADATA, sts_client

    name = h.unique_name("sweepsaml")
    ims["v3"].call("CreateSAMLProvider", {"SAMLProviderName": name, "EncodedSAMLMetadataDocument": SAML_METADATA})
    provider_arn = f"acs:ram::{account_id}:saml-provider/{name}"
    role = h.unique_name("SweepSaml")
    h.RpcApi("v3", server.endpoint, server.root["AccessKeyId"], server.root["AccessKeySecret"]).call(
        "CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": json.dumps({"Version": "1", "Statement": [
            {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Federated": [provider_arn]}}]})})
    role_arn = f"acs:ram::{account_id}:role/{role}"
    signed = b64url(b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><ds:Signature '
                    b'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></samlp:Response>')

    def answer(**kw):
        args = dict(role_arn=role_arn, samlprovider_arn=provider_arn, samlassertion=signed)
        args.update(kw)
        try:
            sts_client(server).assume_role_with_saml(m.AssumeRoleWithSAMLRequest(**args))
        except tea_exc.AlibabaCloudException as e:
            return e.code, e.status_code
        raise AssertionError("AssumeRoleWithSAML issued credentials")

    assert answer(samlprovider_arn="nope") == ("InvalidParameter.SAMLProviderArn", 400)
    assert answer(samlprovider_arn=provider_arn + "x") == ("AuthenticationFail.NoPermission", 401)
    assert answer(role_arn=role_arn + "x") == ("EntityNotExist.Role", 404)
    assert answer(policy="{") == ("InvalidParameter.PolicyGrammar", 400)
    assert answer(duration_seconds=899) == ("InvalidParameter.DurationSeconds", 400)
    assert answer(duration_seconds=3601) == ("InvalidParameter.DurationSeconds", 400)
    assert answer(samlassertion="%%%") == ("AuthenticationFail.SAMLAssertion.Invalid", 401)
    assert answer(duration_seconds=3600) == ("AuthenticationFail.SAMLAssertion.Invalid", 401)


def test_jwks_rotation_needs_what_recreating_the_provider_needs(server, ims, ext, account_id):
    """UpdateOIDCProvider's rolestack-only `JWKS` replaces the keys tokens are verified with. The
    root rotates them (old key refused, new key accepted); a RAM user allowed UpdateOIDCProvider
    only is refused (it could otherwise sign tokens for every role that trusts the provider), one
    also allowed DeleteOIDCProvider and CreateOIDCProvider on it may."""
    root = ext["root"]
    name = h.unique_name("rotidp")
    url = f"https://{name}.idp.test"
    old_key, old_jwks = rsa_issuer()
    new_key, new_jwks = rsa_issuer()
    ims["v3"].call("CreateOIDCProvider", {"OIDCProviderName": name, "IssuerUrl": url, "Fingerprints": FINGERPRINT,
                                          "ClientIds": "ext-app", "JWKS": json.dumps(old_jwks)})
    provider_arn = f"acs:ram::{account_id}:oidc-provider/{name}"
    role = h.unique_name("RotRole")
    root.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": oidc_trust(provider_arn)})
    role_arn = f"acs:ram::{account_id}:role/{role}"
    c = dict(claims(ext), iss=url)
    assume_oidc(server, role_arn, provider_arn, sign_jwt(old_key, c))

    def user_with(actions):
        user = h.unique_name("rot-u")
        root.call("CreateUser", {"UserName": user})
        policy = h.unique_name("rot-p")
        root.call("CreatePolicy", {"PolicyName": policy, "PolicyDocument": h.policy_doc(
            [h.allow(actions, f"acs:ram:*:{account_id}:oidc-provider/{name}")])})
        root.call("AttachPolicyToUser", {"PolicyType": "Custom", "PolicyName": policy, "UserName": user})
        k = root.call("CreateAccessKey", {"UserName": user})["AccessKey"]
        return h.RpcApi("v3", server.endpoint, k["AccessKeyId"], k["AccessKeySecret"], version="2019-08-15", product="Ims")

    update_only = user_with(["ram:UpdateOIDCProvider"])
    h.expect_error(lambda: update_only.call("UpdateOIDCProvider", {"OIDCProviderName": name, "JWKS": json.dumps(new_jwks)}),
                   code="NoPermission", status=403)
    assert update_only.call("UpdateOIDCProvider", {"OIDCProviderName": name, "NewDescription": "d"})["OIDCProvider"]["Description"] == "d"
    assume_oidc(server, role_arn, provider_arn, sign_jwt(old_key, c))  # the keys did not change
    recreate = user_with(["ram:UpdateOIDCProvider", "ram:DeleteOIDCProvider", "ram:CreateOIDCProvider"])
    recreate.call("UpdateOIDCProvider", {"OIDCProviderName": name, "JWKS": json.dumps(new_jwks)})
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, sign_jwt(old_key, c)), code=BAD_SIGNATURE, status=401)
    assume_oidc(server, role_arn, provider_arn, sign_jwt(new_key, c))
    ims["v3"].call("UpdateOIDCProvider", {"OIDCProviderName": name, "JWKS": json.dumps(old_jwks)})
    assume_oidc(server, role_arn, provider_arn, sign_jwt(old_key, c))


def test_oidc_issuer_url_condition_key(server, ims, ext, account_id):
    """`ram:OidcIssuerUrl` (the condition key of CreateOIDCProvider and UpdateOIDCProvider) is the
    `IssuerUrl` a CreateOIDCProvider asks for and the issuer URL of the provider an
    UpdateOIDCProvider names — also for the CreateOIDCProvider that replacing a JWKS implies. A Deny
    on `https://evil*` binds; an Allow on `https://*.corp.test` grants only that."""
    root = ext["root"]
    tag = h.unique_name("iu")
    good, evil = f"good-{tag}", f"evil-{tag}"
    for name in (good, evil):
        ims["v3"].call("CreateOIDCProvider", {"OIDCProviderName": name, "IssuerUrl": f"https://{name}.idp.test",
                                              "Fingerprints": FINGERPRINT, "ClientIds": "app"})
    actions = ["ram:CreateOIDCProvider", "ram:UpdateOIDCProvider", "ram:DeleteOIDCProvider"]
    evil_url = {"StringLike": {"ram:OidcIssuerUrl": "https://evil*"}}

    def user_with(statements):
        user = h.unique_name("iu-u")
        root.call("CreateUser", {"UserName": user})
        policy = h.unique_name("iu-p")
        root.call("CreatePolicy", {"PolicyName": policy, "PolicyDocument": h.policy_doc(statements)})
        root.call("AttachPolicyToUser", {"PolicyType": "Custom", "PolicyName": policy, "UserName": user})
        k = root.call("CreateAccessKey", {"UserName": user})["AccessKey"]
        return h.RpcApi("v3", server.endpoint, k["AccessKeyId"], k["AccessKeySecret"], version="2019-08-15", product="Ims")

    def create(api, name, url):
        return api.call("CreateOIDCProvider", {"OIDCProviderName": name, "IssuerUrl": url, "Fingerprints": FINGERPRINT})

    refused = dict(code="NoPermission", status=403)
    denied = user_with([h.allow(actions), {"Effect": "Deny", "Action": actions[:2], "Resource": "*", "Condition": evil_url}])
    h.expect_error(lambda: create(denied, f"x-{tag}", f"https://evil.example/{tag}"), **refused)
    assert create(denied, f"y-{tag}", f"https://ok.example/{tag}")["OIDCProvider"]["IssuerUrl"] == f"https://ok.example/{tag}"
    h.expect_error(lambda: denied.call("UpdateOIDCProvider", {"OIDCProviderName": evil, "NewDescription": "d"}), **refused)
    h.expect_error(lambda: denied.call("UpdateOIDCProvider", {"OIDCProviderName": evil.upper(), "NewDescription": "d"}), **refused)
    assert denied.call("UpdateOIDCProvider", {"OIDCProviderName": good, "NewDescription": "d"})["OIDCProvider"]["Description"] == "d"
    # Replacing the keys implies CreateOIDCProvider on the provider's issuer URL.
    rekey = user_with([h.allow(actions), {"Effect": "Deny", "Action": "ram:CreateOIDCProvider", "Resource": "*", "Condition": evil_url}])
    jwks = json.dumps(rsa_issuer()[1])
    assert rekey.call("UpdateOIDCProvider", {"OIDCProviderName": evil, "NewDescription": "e"})["OIDCProvider"]["Description"] == "e"
    h.expect_error(lambda: rekey.call("UpdateOIDCProvider", {"OIDCProviderName": evil, "JWKS": jwks}), **refused)
    rekey.call("UpdateOIDCProvider", {"OIDCProviderName": good, "JWKS": jwks})
    # An Allow conditioned on the key grants only the issuers it names.
    corp = user_with([{"Effect": "Allow", "Action": actions[:2], "Resource": "*",
                       "Condition": {"StringLike": {"ram:OidcIssuerUrl": "https://*.corp.test"}}}])
    h.expect_error(lambda: create(corp, f"z-{tag}", f"https://{tag}.example"), **refused)
    create(corp, f"z-{tag}", f"https://{tag}.corp.test")
    h.expect_error(lambda: corp.call("UpdateOIDCProvider", {"OIDCProviderName": good, "NewDescription": "f"}), **refused)
    corp.call("UpdateOIDCProvider", {"OIDCProviderName": f"z-{tag}", "NewDescription": "f"})
    for name in (good, evil, f"y-{tag}", f"z-{tag}"):
        ims["v3"].call("DeleteOIDCProvider", {"OIDCProviderName": name})
