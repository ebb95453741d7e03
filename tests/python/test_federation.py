"""Identity federation (issue 18): IMS 2019-08-15 OIDC and SAML providers through the official
SDKs, rolestack's local OIDC issuer (`rolestack oidc token`, discovery document and JWKS on the API
listener), STS AssumeRoleWithOIDC (anonymous, as the SDKs send it) with trust policies on
`Federated` principals and `oidc:sub` / `oidc:aud` / `oidc:iss`, forged / expired / mis-addressed
tokens refused, an external issuer whose JWKS the provider carries, AssumeRoleWithSAML refusing
what it cannot verify, and a "pod": alibabacloud-credentials' default chain with the OIDC
environment variables, unchanged, under `rolestack exec`, reaching STS and OSS."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

import oss2
import pytest
import requests

import rshelpers as h
from instancekit import PROGRAMS, cli, needs_root

IMS_VERSION = "2019-08-15"
AUD = "sts.aliyuncs.com"
FINGERPRINT = "902ef2deeb3c5b13ea4c3d5193629309e231ae55"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def ims(server):
    r = server.root
    return {k: h.RpcApi(k, server.endpoint, r["AccessKeyId"], r["AccessKeySecret"], version=IMS_VERSION, product="Ims")
            for k in h.CLIENT_KINDS}


@pytest.fixture(scope="module")
def issuer(server):
    p = cli(server, "oidc", "issuer")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def mint(server, sub, aud=AUD, ttl=3600):
    p = cli(server, "oidc", "token", "--sub", sub, "--aud", aud, "--ttl", str(ttl))
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def sts_client(server, signature="v3"):
    from alibabacloud_sts20150401.client import Client
    from alibabacloud_tea_openapi.models import Config

    cfg = Config(endpoint=server.endpoint, protocol="http")
    if signature == "v2sig":
        cfg.signature_algorithm = "v2"
    return Client(cfg)


def assume_oidc(server, role_arn, provider_arn, token, session="pod", signature="v3", **extra):
    from alibabacloud_sts20150401 import models as m
    from alibabacloud_tea_openapi import exceptions as tea_exc

    req = m.AssumeRoleWithOIDCRequest(role_arn=role_arn, oidcprovider_arn=provider_arn, oidctoken=token,
                                      role_session_name=session, **extra)
    try:
        return sts_client(server, signature).assume_role_with_oidc(req).body
    except tea_exc.AlibabaCloudException as e:
        data = e.data if isinstance(e.data, dict) else {}
        raise h.ApiError("v3", e.code, e.status_code, data.get("Message"), data.get("RequestId") or e.request_id, data, e) from None


def oidc_trust(provider_arn, **conditions):
    stmt = {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Federated": [provider_arn]}}
    if conditions:
        stmt["Condition"] = {"StringEquals": {f"oidc:{k}": v for k, v in conditions.items()}}
    return json.dumps({"Statement": [stmt], "Version": "1"})


@pytest.fixture(scope="module")
def local_provider(ims, issuer, account_id):
    """An OIDC provider for rolestack's local issuer, and a role pods of `ns:app` may assume."""
    name = h.local_oidc_provider(ims["v3"], issuer["Issuer"], AUD)
    arn = f"acs:ram::{account_id}:oidc-provider/{name}"
    yield name, arn


@pytest.fixture(scope="module")
def pod_role(server, local_provider, account_id, issuer):
    _, arn = local_provider
    api = h.RpcApi("v3", server.endpoint, server.root["AccessKeyId"], server.root["AccessKeySecret"])
    role = h.unique_name("PodRole")
    api.call("CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": oidc_trust(
        arn, sub="system:serviceaccount:ns:app", aud=AUD, iss=issuer["Issuer"])})
    api.call("AttachPolicyToRole", {"PolicyType": "System", "PolicyName": "AliyunOSSReadOnlyAccess", "RoleName": role})
    return role, f"acs:ram::{account_id}:role/{role}"


# -- IMS providers --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", h.CLIENT_KINDS)
def test_oidc_provider_lifecycle(ims, account_id, kind):
    api = ims[kind]
    name = h.unique_name("oidc")
    url = f"https://{name}.idp.test"
    got = api.call("CreateOIDCProvider", {"OIDCProviderName": name, "IssuerUrl": url, "Fingerprints": FINGERPRINT,
                                          "ClientIds": "app-a,app-b", "Description": "lab", "IssuanceLimitTime": 6})["OIDCProvider"]
    assert got["Arn"] == f"acs:ram::{account_id}:oidc-provider/{name}"
    assert got["ClientIds"] == "app-a,app-b" and got["Fingerprints"] == FINGERPRINT and got["IssuanceLimitTime"] == 6
    h.assert_date(got["CreateDate"])
    assert isinstance(got["GmtCreate"], int)
    h.expect_error(lambda: api.call("CreateOIDCProvider", {"OIDCProviderName": name, "IssuerUrl": url + "x", "Fingerprints": FINGERPRINT}),
                   code="EntityAlreadyExists.OIDCProvider", status=409)
    h.expect_error(lambda: api.call("CreateOIDCProvider", {"OIDCProviderName": name + "x", "IssuerUrl": url, "Fingerprints": FINGERPRINT}),
                   code="EntityAlreadyExists.OIDCProvider.IssuerUrl", status=409)
    h.expect_error(lambda: api.call("CreateOIDCProvider", {"OIDCProviderName": name + "y", "IssuerUrl": "http://plain.test",
                                                           "Fingerprints": FINGERPRINT}),
                   code="InvalidParameter.IssuerUrl", status=400)
    assert api.call("GetOIDCProvider", {"OIDCProviderName": name})["OIDCProvider"]["IssuerUrl"] == url
    listed = [p["OIDCProviderName"] for p in h.wrapped_list(api.call("ListOIDCProviders"), "OIDCProviders", "OIDCProvider")]
    assert name in listed
    up = api.call("UpdateOIDCProvider", {"OIDCProviderName": name, "ClientIds": "app-c", "NewDescription": "d2",
                                         "IssuanceLimitTime": 12})["OIDCProvider"]
    assert up["ClientIds"] == "app-c" and up["Description"] == "d2"
    assert api.call("AddClientIdToOIDCProvider", {"OIDCProviderName": name, "ClientId": "app-d"})["OIDCProvider"]["ClientIds"] == "app-c,app-d"
    h.expect_error(lambda: api.call("AddClientIdToOIDCProvider", {"OIDCProviderName": name, "ClientId": "app-d"}),
                   code="EntityAlreadyExists.OIDCProvider.ClientId", status=409)
    assert api.call("RemoveClientIdFromOIDCProvider", {"OIDCProviderName": name, "ClientId": "app-c"})["OIDCProvider"]["ClientIds"] == "app-d"
    fp2 = "a" * 40
    assert api.call("AddFingerprintToOIDCProvider", {"OIDCProviderName": name, "Fingerprint": fp2})["OIDCProvider"]["Fingerprints"] == f"{FINGERPRINT},{fp2}"
    assert api.call("RemoveFingerprintFromOIDCProvider", {"OIDCProviderName": name, "Fingerprint": FINGERPRINT})["OIDCProvider"]["Fingerprints"] == fp2
    h.expect_error(lambda: api.call("RemoveFingerprintFromOIDCProvider", {"OIDCProviderName": name, "Fingerprint": FINGERPRINT}),
                   code="EntityNotExist.OIDCProvider.Fingerprint", status=404)
    api.call("DeleteOIDCProvider", {"OIDCProviderName": name})
    h.expect_error(lambda: api.call("GetOIDCProvider", {"OIDCProviderName": name}), code="EntityNotExist.OIDCProvider", status=404)


SAML_METADATA = base64.b64encode(b"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.test/saml">
 <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
  <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>
   <ds:X509Certificate>MIICizCCAfQCCQCY8tKaMc0BMjANBgkqhkiG9w0BAQUFADCBiTELMAkGA1UEBhMC</ds:X509Certificate>
  </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/sso"/>
 </md:IDPSSODescriptor>
</md:EntityDescriptor>""").decode()


@pytest.mark.parametrize("kind", h.CLIENT_KINDS)
def test_saml_provider_lifecycle(ims, account_id, kind):
    api = ims[kind]
    name = h.unique_name("saml")
    got = api.call("CreateSAMLProvider", {"SAMLProviderName": name, "EncodedSAMLMetadataDocument": SAML_METADATA,
                                          "Description": "idp"})["SAMLProvider"]
    assert got["Arn"] == f"acs:ram::{account_id}:saml-provider/{name}" and got["AuthnSignAlgo"] == "rsa-sha1"
    h.expect_error(lambda: api.call("CreateSAMLProvider", {"SAMLProviderName": name, "EncodedSAMLMetadataDocument": SAML_METADATA}),
                   code="EntityAlreadyExists.SAMLProvider", status=409)
    no_cert = base64.b64encode(b'<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>').decode()
    h.expect_error(lambda: api.call("CreateSAMLProvider", {"SAMLProviderName": name + "x", "EncodedSAMLMetadataDocument": no_cert}),
                   code="InvalidParameter.EncodedSAMLMetadataDocument", status=400)
    full = api.call("GetSAMLProvider", {"SAMLProviderName": name})["SAMLProvider"]
    assert full["EncodedSAMLMetadataDocument"] == SAML_METADATA
    assert name in [p["SAMLProviderName"] for p in h.wrapped_list(api.call("ListSAMLProviders"), "SAMLProviders", "SAMLProvider")]
    up = api.call("UpdateSAMLProvider", {"SAMLProviderName": name, "NewDescription": "new", "AuthnSignAlgo": "rsa-sha256"})["SAMLProvider"]
    assert up["Description"] == "new" and up["AuthnSignAlgo"] == "rsa-sha256"
    api.call("DeleteSAMLProvider", {"SAMLProviderName": name})
    h.expect_error(lambda: api.call("GetSAMLProvider", {"SAMLProviderName": name}), code="EntityNotExist.SAMLProvider", status=404)


@pytest.mark.parametrize("signature", ["v3", "v2sig"])
def test_typed_ims_sdk(server, signature):
    from alibabacloud_ims20190815 import models as m
    from alibabacloud_ims20190815.client import Client

    c = Client(h.tea_config(server.endpoint, server.root["AccessKeyId"], server.root["AccessKeySecret"], signature))
    name = h.unique_name("typed-oidc")
    p = c.create_oidcprovider(m.CreateOIDCProviderRequest(oidcprovider_name=name, issuer_url=f"https://{name}.test",
                                                          fingerprints=FINGERPRINT, client_ids="a")).body.oidcprovider
    assert p.oidcprovider_name == name
    assert c.get_oidcprovider(m.GetOIDCProviderRequest(oidcprovider_name=name)).body.oidcprovider.client_ids == "a"
    assert any(x.oidcprovider_name == name for x in c.list_oidcproviders(m.ListOIDCProvidersRequest()).body.oidcproviders.oidcprovider)
    c.update_oidcprovider(m.UpdateOIDCProviderRequest(oidcprovider_name=name, new_description="x"))
    c.add_client_id_to_oidcprovider(m.AddClientIdToOIDCProviderRequest(oidcprovider_name=name, client_id="b"))
    c.remove_client_id_from_oidcprovider(m.RemoveClientIdFromOIDCProviderRequest(oidcprovider_name=name, client_id="a"))
    c.add_fingerprint_to_oidcprovider(m.AddFingerprintToOIDCProviderRequest(oidcprovider_name=name, fingerprint="b" * 40))
    got = c.remove_fingerprint_from_oidcprovider(m.RemoveFingerprintFromOIDCProviderRequest(oidcprovider_name=name, fingerprint=FINGERPRINT))
    assert got.body.oidcprovider.fingerprints == "b" * 40 and got.body.oidcprovider.client_ids == "b"
    c.delete_oidcprovider(m.DeleteOIDCProviderRequest(oidcprovider_name=name))
    sname = h.unique_name("typed-saml")
    c.create_samlprovider(m.CreateSAMLProviderRequest(samlprovider_name=sname, encoded_samlmetadata_document=SAML_METADATA))
    assert c.get_samlprovider(m.GetSAMLProviderRequest(samlprovider_name=sname)).body.samlprovider.samlprovider_name == sname
    assert any(x.samlprovider_name == sname for x in c.list_samlproviders(m.ListSAMLProvidersRequest()).body.samlproviders.samlprovider)
    c.update_samlprovider(m.UpdateSAMLProviderRequest(samlprovider_name=sname, new_description="n"))
    c.delete_samlprovider(m.DeleteSAMLProviderRequest(samlprovider_name=sname))


# -- the local issuer --------------------------------------------------------------------------------

def test_local_issuer_documents(server, issuer):
    assert issuer["Issuer"] == f"https://{server.tls_endpoint}"
    disc = requests.get(f"{server.base_url}/.well-known/openid-configuration", timeout=10).json()
    assert disc["issuer"] == issuer["Issuer"] and disc["jwks_uri"] == issuer["Issuer"] + "/.well-known/jwks.json"
    jwks = requests.get(f"https://{server.tls_endpoint}/.well-known/jwks.json", verify=str(server.ca_file), timeout=10).json()
    assert jwks == issuer["Jwks"]
    (key,) = jwks["keys"]
    assert key["kty"] == "EC" and key["alg"] == "ES256" and "d" not in key
    token = mint(server, "system:serviceaccount:ns:app")
    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    assert claims["iss"] == issuer["Issuer"] and claims["sub"] == "system:serviceaccount:ns:app" and claims["aud"] == AUD
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["kid"] == key["kid"]


def test_token_file_is_private(server, tmp_path):
    """`oidc token --out FILE` writes a bearer credential: readable by its owner only (0600), also
    over a file that was there before with looser permissions, whatever the umask."""
    out = tmp_path / "token"
    out.write_text("old")
    out.chmod(0o644)
    old_umask = os.umask(0o022)
    try:
        p = cli(server, "oidc", "token", "--sub", "a", "--aud", AUD, "--out", str(out))
    finally:
        os.umask(old_umask)
    assert p.returncode == 0, p.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    assert out.read_text().count(".") == 2


# -- AssumeRoleWithOIDC ------------------------------------------------------------------------------

@pytest.mark.parametrize("signature", ["v3", "v2sig"])
def test_assume_role_with_oidc(server, local_provider, pod_role, issuer, account_id, signature):
    _, provider_arn = local_provider
    role, role_arn = pod_role
    body = assume_oidc(server, role_arn, provider_arn, mint(server, "system:serviceaccount:ns:app"), signature=signature,
                       duration_seconds=900)
    creds = body.credentials
    assert creds.access_key_id.startswith("STS.") and creds.security_token
    exp = h.parse_date(creds.expiration).timestamp()
    assert 850 < exp - time.time() < 960
    assert body.assumed_role_user.arn == f"acs:ram::{account_id}:role/{role.lower()}/pod"
    info = body.oidctoken_info
    assert (info.issuer, info.subject, info.client_ids) == (issuer["Issuer"], "system:serviceaccount:ns:app", AUD)
    h.assert_date(info.expiration_time)
    # The session is the role's: who it is, and what the role may do.
    as_role = h.RpcApi("v3", server.endpoint, creds.access_key_id, creds.access_key_secret, version=h.STS_VERSION,
                       token=creds.security_token, product="Sts")
    who = as_role.call("GetCallerIdentity")
    assert who["Arn"] == f"acs:ram::{account_id}:assumed-role/{role}/pod" and who["IdentityType"] == "AssumedRoleUser"
    ram_as_role = h.RpcApi("v3", server.endpoint, creds.access_key_id, creds.access_key_secret, token=creds.security_token)
    h.expect_error(lambda: ram_as_role.call("ListUsers"), code="NoPermission", status=403)


def test_assume_role_with_oidc_is_audited(server, local_provider, pod_role):
    """Anonymous calls become ActionTrail events in the account of the role they name (the token
    redacted), successful or refused; a role that does not exist names no account."""
    _, provider_arn = local_provider
    role, role_arn = pod_role
    token = mint(server, "system:serviceaccount:ns:app")
    assume_oidc(server, role_arn, provider_arn, token)
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, mint(server, "system:serviceaccount:ns:other")),
                   code="AuthenticationFail.NoPermission", status=401)
    trail = h.RpcApi("v3", server.endpoint, server.root["AccessKeyId"], server.root["AccessKeySecret"],
                     version="2020-07-06", product="Actiontrail")
    events = trail.call("LookupEvents", {"LookupAttribute.1.Key": "EventName", "LookupAttribute.1.Value": "AssumeRoleWithOIDC",
                                         "MaxResults": 50})["Events"]
    mine = [e for e in events if e["requestParameters"].get("RoleArn") == role_arn]
    ok = [e for e in mine if "errorCode" not in e]
    refused = [e for e in mine if e.get("errorCode") == "AuthenticationFail.NoPermission"]
    assert ok and refused, [(e["eventTime"], e.get("errorCode"), e["requestParameters"].get("RoleArn")) for e in events]
    assert all(e["requestParameters"]["OIDCToken"] == "***" for e in mine)
    assert token not in json.dumps(mine)
    assert (ok[0]["serviceName"], ok[0]["eventSource"], ok[0]["eventRW"]) == ("Sts", "sts.aliyuncs.com", "Write")
    assert ok[0]["userIdentity"]["type"] == "anonymous"


def test_oidc_refusals(server, ims, local_provider, pod_role, account_id, issuer):
    name, provider_arn = local_provider
    role, role_arn = pod_role
    good = mint(server, "system:serviceaccount:ns:app")
    # Another subject: the trust policy's oidc:sub condition does not hold.
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, mint(server, "system:serviceaccount:ns:other")),
                   code="AuthenticationFail.NoPermission", status=401)
    # Another audience: not a client id of the provider.
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, mint(server, "system:serviceaccount:ns:app", aud="other")),
                   code="AuthenticationFail.OIDCToken.AudienceNotMatch", status=401)
    # Forged: the payload changed (a different subject) under the original signature.
    head, payload, sig = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "system:serviceaccount:kube-system:admin"
    forged = ".".join([head, b64url(json.dumps(claims).encode()), sig])
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, forged),
                   code="AuthenticationFail.OIDCToken.InvalidSignature", status=401)
    # Not a JWT; alg "none".
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, "not.a-token"),
                   code="AuthenticationFail.OIDCToken.Invalid", status=401)
    none = ".".join([b64url(b'{"alg":"none","typ":"JWT"}'), b64url(json.dumps(claims).encode()), ""])
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, none), code="AuthenticationFail.OIDCToken.Invalid", status=401)
    # A provider nobody registered; a role in another account.
    h.expect_error(lambda: assume_oidc(server, role_arn, f"acs:ram::{account_id}:oidc-provider/nope", good),
                   code="AuthenticationFail.NoPermission", status=401)
    h.expect_error(lambda: assume_oidc(server, f"acs:ram::{account_id}:role/{h.unique_name('none')}", provider_arn, good),
                   code="EntityNotExist.Role", status=404)
    # The role trusts another provider only.
    api = h.RpcApi("v3", server.endpoint, server.root["AccessKeyId"], server.root["AccessKeySecret"])
    other_role = h.unique_name("OtherIdpRole")
    api.call("CreateRole", {"RoleName": other_role, "AssumeRolePolicyDocument": oidc_trust(f"acs:ram::{account_id}:oidc-provider/elsewhere")})
    h.expect_error(lambda: assume_oidc(server, f"acs:ram::{account_id}:role/{other_role}", provider_arn, good),
                   code="AuthenticationFail.NoPermission", status=401)
    # Durations beyond the role's maximum.
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, good, duration_seconds=7200),
                   code="InvalidParameter.DurationSeconds", status=400)


def rsa_issuer():
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    nums = key.public_key().public_numbers()
    as_bytes = lambda n: n.to_bytes((n.bit_length() + 7) // 8, "big")  # noqa: E731
    jwk = {"kty": "RSA", "kid": "ext-1", "alg": "RS256", "use": "sig", "n": b64url(as_bytes(nums.n)), "e": b64url(as_bytes(nums.e))}
    return key, {"keys": [jwk]}


def sign_jwt(key, claims, alg="RS256", kid="ext-1", header=None):
    """A JWS signed by the RSA `key` with RS256 or PS256; `kid=None` leaves the kid out; `header`
    replaces the whole header."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    head = header if header is not None else dict({"alg": alg, "typ": "JWT"}, **({"kid": kid} if kid else {}))
    signing_input = b64url(json.dumps(head).encode()) + "." + b64url(json.dumps(claims).encode())
    pad = padding.PKCS1v15() if alg == "RS256" else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return signing_input + "." + b64url(key.sign(signing_input.encode(), pad, hashes.SHA256()))


def rs256(key, claims, kid="ext-1"):
    return sign_jwt(key, claims, "RS256", kid)


def test_external_issuer_with_jwks_and_expiry(server, ims, account_id):
    """An issuer rolestack does not host: its JWKS given to the provider (rolestack fetches none).
    RS256 tokens verify; an expired one, one issued too long ago, one from another issuer or
    signed by another key are refused."""
    key, jwks = rsa_issuer()
    name = h.unique_name("extidp")
    url = f"https://{name}.idp.test"
    ims["v3"].call("CreateOIDCProvider", {"OIDCProviderName": name, "IssuerUrl": url, "Fingerprints": FINGERPRINT,
                                          "ClientIds": "ext-app", "JWKS": json.dumps(jwks), "IssuanceLimitTime": 1})
    provider_arn = f"acs:ram::{account_id}:oidc-provider/{name}"
    role = h.unique_name("ExtRole")
    h.RpcApi("v3", server.endpoint, server.root["AccessKeyId"], server.root["AccessKeySecret"]).call(
        "CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": oidc_trust(provider_arn, sub="user-1")})
    role_arn = f"acs:ram::{account_id}:role/{role}"
    now = int(time.time())
    claims = {"iss": url, "sub": "user-1", "aud": ["ext-app", "other"], "iat": now - 10, "exp": now + 600}
    ok = assume_oidc(server, role_arn, provider_arn, rs256(key, claims))
    assert ok.oidctoken_info.client_ids == "ext-app"
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, rs256(key, dict(claims, iat=now - 700, exp=now - 5))),
                   code="AuthenticationFail.OIDCToken.Expired", status=401)
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, rs256(key, dict(claims, iat=now - 7200, exp=now + 600))),
                   code="AuthenticationFail.OIDCToken.Invalid", status=401)
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, rs256(key, dict(claims, iss="https://evil.test"))),
                   code="AuthenticationFail.OIDCToken.IssuerNotMatch", status=401)
    other, _ = rsa_issuer()
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, rs256(other, claims)),
                   code="AuthenticationFail.OIDCToken.InvalidSignature", status=401)
    h.expect_error(lambda: assume_oidc(server, role_arn, provider_arn, rs256(key, claims, kid="unknown")),
                   code="AuthenticationFail.OIDCToken.InvalidSignature", status=401)
    # A provider for an issuer whose keys rolestack does not have.
    bare = h.unique_name("bareidp")
    ims["v3"].call("CreateOIDCProvider", {"OIDCProviderName": bare, "IssuerUrl": f"https://{bare}.idp.test",
                                          "Fingerprints": FINGERPRINT, "ClientIds": "ext-app"})
    h.expect_error(lambda: assume_oidc(server, role_arn, f"acs:ram::{account_id}:oidc-provider/{bare}", rs256(key, claims)),
                   code="AuthenticationFail.OIDCToken.HttpsUrlInvalid", status=401)


# -- AssumeRoleWithSAML ------------------------------------------------------------------------------

def test_assume_role_with_saml_refuses_what_it_cannot_verify(server, ims, account_id):
    from alibabacloud_sts20150401 import models as m
    from alibabacloud_tea_openapi import exceptions as tea_exc

    name = h.unique_name("samlidp")
    ims["v3"].call("CreateSAMLProvider", {"SAMLProviderName": name, "EncodedSAMLMetadataDocument": SAML_METADATA})
    provider_arn = f"acs:ram::{account_id}:saml-provider/{name}"
    role = h.unique_name("SamlRole")
    trust = json.dumps({"Statement": [{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Federated": [provider_arn]}}],
                        "Version": "1"})
    h.RpcApi("v3", server.endpoint, server.root["AccessKeyId"], server.root["AccessKeySecret"]).call(
        "CreateRole", {"RoleName": role, "AssumeRolePolicyDocument": trust})
    role_arn = f"acs:ram::{account_id}:role/{role}"

    def assume(assertion, provider=provider_arn):
        try:
            sts_client(server).assume_role_with_saml(m.AssumeRoleWithSAMLRequest(
                role_arn=role_arn, samlprovider_arn=provider, samlassertion=assertion))
        except tea_exc.AlibabaCloudException as e:
            return e.code, e.status_code, (e.data or {}).get("Message", "")
        raise AssertionError("AssumeRoleWithSAML issued credentials")

    unsigned = base64.b64encode(b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Assertion '
                                b'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/></samlp:Response>').decode()
    code, status, message = assume(unsigned)
    assert (code, status) == ("AuthenticationFail.SAMLAssertion.Invalid", 401) and "no XML signature" in message
    signed = base64.b64encode(b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><ds:Signature '
                              b'xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></samlp:Response>').decode()
    code, status, message = assume(signed)
    assert (code, status) == ("AuthenticationFail.SAMLAssertion.Invalid", 401) and "cannot verify" in message
    assert assume(signed, f"acs:ram::{account_id}:saml-provider/nope")[:2] == ("AuthenticationFail.NoPermission", 401)


# -- a pod: the default credential chain, unchanged, under `rolestack exec` --------------------------

def pod_env(server, tmp_path, role_arn, provider_arn, token):
    token_file = tmp_path / "token"
    token_file.write_text(token)
    return {"ALIBABA_CLOUD_ROLE_ARN": role_arn, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": provider_arn,
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_file), "ALIBABA_CLOUD_ROLE_SESSION_NAME": "pod-session"}


# `rolestack exec` hands the command the caller's AccessKey; a pod has none, so the environment
# drops it before the (unchanged) program starts.
NO_ACCESS_KEY = ["env", "-u", "ALIBABA_CLOUD_ACCESS_KEY_ID", "-u", "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
                 "-u", "OSS_ACCESS_KEY_ID", "-u", "OSS_ACCESS_KEY_SECRET"]


@needs_root
def test_pod_default_chain_python(server, tmp_path, local_provider, pod_role, account_id):
    _, provider_arn = local_provider
    role, role_arn = pod_role
    bucket = f"rs-pod-{h.unique_name('b').lower()[-10:]}"
    r = server.root
    b = oss2.Bucket(oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"]), server.base_url, bucket)
    b.create_bucket()
    b.put_object("hello.txt", b"hi")
    env = pod_env(server, tmp_path, role_arn, provider_arn, mint(server, "system:serviceaccount:ns:app"))
    p = cli(server, "exec", "--", *NO_ACCESS_KEY, sys.executable, str(PROGRAMS / "oidc_pod.py"), bucket, env_extra=env, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert "oidc_role_arn" in out["ProviderName"] and out["AccessKeyId"].startswith("STS."), out
    assert out["Arn"] == f"acs:ram::{account_id}:assumed-role/{role}/pod-session"
    assert out["Keys"] == ["hello.txt"]
    assert out["Put"] == "AccessDenied"  # the role may only read
    # A forged token in the same place: the chain fails with STS's refusal.
    head, payload, sig = mint(server, "system:serviceaccount:ns:app").split(".")
    forged = ".".join([head, payload, sig[:-4] + ("AAAA" if not sig.endswith("AAAA") else "BBBB")])
    env = pod_env(server, tmp_path, role_arn, provider_arn, forged)
    p = cli(server, "exec", "--", *NO_ACCESS_KEY, sys.executable, str(PROGRAMS / "oidc_pod.py"), bucket, env_extra=env, timeout=120)
    assert p.returncode != 0
    assert "AuthenticationFail.OIDCToken.InvalidSignature" in p.stdout + p.stderr
    for o in oss2.ObjectIterator(b):
        b.delete_object(o.key)
    b.delete_bucket()
