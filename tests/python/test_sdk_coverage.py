"""The action lists of the official RAM, STS and IMS SDKs against what rolestack serves
(tests/python/sdk_coverage.py; run it alone for the report). RAM 2015-05-01: every action (with
the diagnostics work's DecodeDiagnosticMessage); STS 2015-04-01: all four; IMS
2019-08-15: the identity-provider actions (OIDC and SAML providers)."""

import sdk_coverage

IMS_PROVIDER_ACTIONS = {
    "CreateOIDCProvider", "GetOIDCProvider", "ListOIDCProviders", "UpdateOIDCProvider", "DeleteOIDCProvider",
    "AddClientIdToOIDCProvider", "RemoveClientIdFromOIDCProvider", "AddFingerprintToOIDCProvider",
    "RemoveFingerprintFromOIDCProvider", "CreateSAMLProvider", "GetSAMLProvider", "ListSAMLProviders",
    "UpdateSAMLProvider", "DeleteSAMLProvider",
}


def test_sdk_action_coverage(server):
    cov = sdk_coverage.coverage(server.endpoint, server.root["AccessKeyId"])
    print("\n" + sdk_coverage.report(cov))
    ram, sts, ims = cov["RAM"], cov["STS"], cov["IMS"]
    assert ram["actions"] == 69 and ram["missing"] == [], ram
    assert ram["served"] == 69
    assert sts == {"sdk": "alibabacloud_sts20150401", "actions": 4, "served": 4, "missing": []}
    assert not IMS_PROVIDER_ACTIONS & set(ims["missing"]), ims
