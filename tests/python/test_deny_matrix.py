"""Deny matrix: 200+ refusals across RAM, STS, ECS and OSS, each asserting the exact error code and
HTTP status through the official SDKs, each with a positive control (the same principal IS allowed
on a neighbouring resource or action) so the matrix cannot pass by denying everything.

Covered: users, groups, roles, role sessions with session policies, bucket policies, every RAM name
sent in other letter cases (and Deny policies that spell a name in another case than it was
created in), wildcards, NotAction / NotResource, conditions (acs:SourceIp, acs:CurrentTime,
acs:SecureTransport, acs:UserAgent, acs:AccessId, acs:PrincipalARN, acs:MFAPresent, oss:Prefix,
oss:Delimiter, acs:ResourceTag/*, acs:RequestTag/*, acs:MFAPresentDuration, ram:ServiceName, ram:OidcIssuerUrl), the
security preference's self-service grants, MFA devices by serial number, IMS identity providers,
trust policies (also Federated principals through AssumeRoleWithOIDC), PassRole, OSS V4 presigned
URL lifetime.

Cases are rows of tables built by the `*_cases()` functions below (steps and placeholders are
described in denymatrix.py); one module-scoped world (denymatrix.World) holds every principal and
resource. Cases whose `escape` is set succeed against the baseline binary — that is the bug they
pin; they pass once the server refuses them.

Refusals: RAM/STS `NoPermission` 403; ECS `Forbidden.RAM` 403, missing ram:PassRole
`InvalidUser.PassRoleForbidden` 403; OSS `AccessDenied` 403 (oss2.exceptions.AccessDenied).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import time
import uuid

import pytest

import denymatrix as dm
import oss2
import rshelpers as h
from denymatrix import Case, admin, console, ecs, ids, ims, oss, post_form, presign, ram, sts, trail, vpc

FORBIDDEN = "Forbidden.RAM"
PASSROLE = "InvalidUser.PassRoleForbidden"
NOPERM = "NoPermission"
DENIED = "AccessDenied"
DAY = 24 * 3600
# An OpenSSH ed25519 public key (any key of a known type does: only its form is checked).
PUBLIC_KEY = "ssh-ed25519 " + base64.b64encode(b"\0\0\0\x0bssh-ed25519\0\0\0\x20" + bytes(range(32))).decode()

ESC_CASE = "RAM authorizes the name as sent, and names are case-insensitive: the Deny is dodged"
ESC_SPELL = "the Deny spells the name in another case than it was created in"
ESC_SESSION = "a bucket-policy Allow for the role ignores the session policy"
ESC_PRINCIPAL = "bucket-policy Principal names compared case-sensitively"
ESC_PRESIGN = "V4 presigned URL valid for more than 7 days is accepted"
ESC_JWKS = "ram:UpdateOIDCProvider alone replaced a provider's keys (JWKS): its holder could sign tokens for every role trusting it"
ESC_TOKEN = "the RPC gateway dropped a SecurityToken sent with a permanent AccessKey (any token, garbage or another session's, was accepted)"
ESC_OBJACL = "an anonymous write or delete ignored the object's own ACL: the public-read-write bucket's decided"
ESC_ECSRES = "ECS authorized neither the vSwitch an instance is created in nor the VPC a vSwitch or security group is created in"
ESC_OIDC = "an OIDC token with an empty sub, or signed by a key its JWK does not allow for that, was accepted"


def arn(kind, name):
    return f"acs:ram:*:*:{kind}/{name}"


def oarn(bucket, path=None):
    return f"acs:oss:*:*:{bucket}" + (f"/{path}" if path is not None else "")


def cond_allow(action, resource, condition):
    return {"Effect": "Allow", "Action": action, "Resource": resource, "Condition": condition}


def cond_deny(action, resource, condition):
    return {"Effect": "Deny", "Action": action, "Resource": resource, "Condition": condition}


def hexs():
    return uuid.uuid4().hex[:10]


# =====================================================================================================
# The world
# =====================================================================================================

def build_world(w: dm.World, root_ecs) -> None:
    acct = w.account
    n = w.names
    n["ecs_trust"] = h.ecs_trust_policy()
    n["acct_trust"] = h.account_trust_policy(acct)
    n["doc_allow_all"] = h.policy_doc([h.allow("*")])
    harmless = [h.allow("ram:GetAccountAlias")]
    n["doc_harmless"] = h.policy_doc(harmless)
    ram_all = w.policy("p_ramall", [h.allow("ram:*")], prefix="dm-ram-all")

    # ---- neutral RAM entities ---------------------------------------------------------------------
    by = w.user("by", prefix="bystander")
    okpol = w.policy("okpol", harmless)
    w.policy("okpol2", harmless)
    w.policy("cpvpol", harmless)
    okrole = w.role("okrole")
    okgrp = w.group("okgrp")

    # ---- family A/B: a Deny list naming single entities ------------------------------------------
    vd = w.user("vd", prefix="victimdeny")
    udeny = w.user("udeny")
    vx = w.user("vx", name="VictimX-" + hexs())      # Deny spelled as created (mixed case)
    vy = w.user("vy", name="VictimY-" + hexs())      # Deny spelled in lower case
    adminrole = w.role("adminrole", prefix="admin")
    adminx = w.role("adminx", name="AdminX-" + hexs())
    adminpol = w.policy("adminpol", harmless)
    adminpolx = w.policy("adminpolx", harmless, name="AdminPolX-" + hexs())
    admins = w.group("admins", policies=["AdministratorAccess"])
    adminsx = w.group("adminsx", policies=["AdministratorAccess"], name="AdminsX-" + hexs())
    w.user("dl", principal=True, prefix="dm-denylist", policies=[ram_all, w.policy("dl_deny", [
        h.deny(["ram:AttachPolicyToUser", "ram:CreateAccessKey"], [arn("user", vd), arn("user", vx), arn("user", vy.lower())]),
        h.deny("ram:CreateAccessKey", arn("user", udeny)),
        h.deny("ram:UpdateRole", [arn("role", adminrole), arn("role", adminx.lower())]),
        h.deny("ram:CreatePolicyVersion", [arn("policy", adminpol), arn("policy", adminpolx.lower())]),
        h.deny("ram:AddUserToGroup", [arn("group", admins), arn("group", adminsx.lower())]),
    ])])

    # ---- family C: Deny ram:* on one user, role, group and policy --------------------------------
    hz = w.user("hz", prefix="holder")
    for key in ("vz", "nz"):
        u = w.user(key, prefix={"vz": "victimz", "nz": "neighbourz"}[key], policies=[okpol], groups=[okgrp])
        n[f"{key}_key"] = w.ram_root("CreateAccessKey", UserName=u)["AccessKey"]["AccessKeyId"]
        w.ram_root("CreateLoginProfile", UserName=u, Password=dm.PASSWORD)
    rz = w.role("rz", policies=[okpol])
    w.role("nrz", policies=[okpol])
    for key in ("pz", "npz"):
        p = w.policy(key, harmless)
        w.ram_root("CreatePolicyVersion", PolicyName=p, PolicyDocument=n["doc_harmless"])  # v2, not default
        w.ram_root("AttachPolicyToUser", PolicyType="Custom", PolicyName=p, UserName=hz)
    gz = w.group("gz", policies=[okpol], members=[hz])
    w.group("ngz", policies=[okpol], members=[hz])
    w.user("de", principal=True, prefix="dm-denyall", policies=[ram_all, w.policy("de_deny", [
        h.deny("ram:*", [arn("user", n["vz"]), arn("role", rz), arn("group", gz), arn("policy", n["pz"])])])])

    # ---- family D: wildcards, NotAction, NotResource, scoped allows, groups ------------------------
    w.user("wl", principal=True, prefix="dm-listonly", policies=[w.policy("wl_pol", [h.allow("ram:List*")])])
    svcp = w.name("svcp", "svc")
    w.user("svca", name=svcp + "-a")
    w.user("svcb", name=svcp + "-b")
    rq = w.name("rq", "rq")
    w.role("rq1", name=rq + "7", policies=[okpol])  # attached: a DeleteRole that slips through conflicts
    w.user("wr", principal=True, prefix="dm-wildres", policies=[ram_all, w.policy("wr_deny", [
        h.deny("ram:*", [arn("user", svcp + "-*"), arn("role", rq + "?")])])])
    w.user("wa", principal=True, prefix="dm-wildact", policies=[ram_all, w.policy("wa_deny", [
        h.deny(["ram:Attach*", "ram:*AccessKey*", "RAM:getgroup"])])])
    w.user("wna", principal=True, prefix="dm-notaction", policies=[w.policy("wna_pol", [
        {"Effect": "Allow", "NotAction": ["ram:Delete*", "ram:Create*", "ram:Attach*", "ram:Update*"], "Resource": "*"}])])
    w.user("wdna", principal=True, prefix="dm-denynotaction", policies=[ram_all, w.policy("wdna_deny", [
        {"Effect": "Deny", "NotAction": ["ram:Get*", "ram:List*"], "Resource": "*"}])])
    secretrole = w.role("secretrole")
    secretuser = w.user("secretuser")
    w.user("wnr", principal=True, prefix="dm-notresource", policies=[w.policy("wnr_pol", [
        {"Effect": "Allow", "Action": "ram:*", "NotResource": [arn("role", secretrole), arn("user", secretuser)]}])])
    me = h.unique_name("dm-denynotres")
    w.user("wdnr", principal=True, name=me, policies=[ram_all, w.policy("wdnr_deny", [
        {"Effect": "Deny", "Action": ["ram:*AccessKey*", "ram:UpdateUser"], "NotResource": [arn("user", me)]}])])
    me = h.unique_name("dm-scoped")
    w.user("wsc", principal=True, name=me, policies=[w.policy("wsc_pol", [
        h.allow("ram:GetRole", arn("role", okrole)), h.allow(["ram:GetUser", "ram:UpdateUser"], arn("user", me))])])
    w.user("wsys", principal=True, prefix="dm-sysdeny", policies=[ram_all, w.policy("wsys_deny", [
        h.deny("ram:AttachPolicyTo*", "acs:ram:*:*:policy/AdministratorAccess")])])
    dgrp = w.group("dgrp", policies=[w.policy("dgrp_pol", [
        h.deny("ram:GetUser", arn("user", by)), h.deny("ram:CreateGroup"),
        cond_deny("ram:ListPolicies", "*", {"IpAddress": {"acs:SourceIp": ["127.0.0.0/8"]}})])])
    w.user("gm", principal=True, prefix="dm-groupdeny", policies=["AdministratorAccess"], groups=[dgrp])
    agrp = w.group("agrp", policies=[w.policy("agrp_pol", [h.allow(["ram:ListUsers", "ram:GetUser"])])])
    w.user("ga", principal=True, prefix="dm-groupallow", groups=[agrp])

    # ---- family E: conditions on RAM --------------------------------------------------------------
    pc = w.user("pc", principal=True, prefix="dm-cond", policies=[ram_all])
    w.ram_root("AttachPolicyToUser", PolicyType="Custom", UserName=pc, PolicyName=w.policy("pc_deny", [
        cond_deny("ram:CreateGroup", "*", {"IpAddress": {"acs:SourceIp": ["127.0.0.0/8"]}}),
        cond_deny("ram:UpdateGroup", "*", {"NotIpAddress": {"acs:SourceIp": ["203.0.113.0/24"]}}),
        cond_deny("ram:ListGroups", "*", {"Bool": {"acs:SecureTransport": "false"}}),
        cond_deny("ram:ListPolicies", "*", {"DateGreaterThan": {"acs:CurrentTime": "2020-01-01T00:00:00Z"}}),
        cond_deny("ram:ListRoles", "*", {"DateLessThan": {"acs:CurrentTime": "2020-01-01T00:00:00Z"}}),  # never fires
        cond_deny("ram:GetAccountAlias", "*", {"StringLike": {"acs:UserAgent": "*"}}),
        cond_deny("ram:ListUsers", "*", {"StringEquals": {"acs:AccessId": n["pc_ak"]}}),
        cond_deny("ram:GetPolicy", "*", {"StringLike": {"acs:PrincipalARN": f"acs:ram::*:user/{pc}"}}),
        cond_deny("ram:GetRole", "*", {"Bool": {"acs:MFAPresent": "false"}}),
        cond_deny("ram:GetUser", "*", {"StringEqualsIgnoreCase": {"acs:PrincipalARN": f"ACS:RAM::{acct}:USER/{pc.upper()}"}}),
        cond_deny("ram:CreatePolicy", "*", {"DateLessThan": {"acs:CurrentTime": "2999-01-01T00:00:00+08:00"}}),
        cond_deny("ram:CreateRole", "*", {"IpAddressIfExists": {"acs:SourceIp": ["127.0.0.1/32"]}}),
    ]))
    w.user("pca", principal=True, prefix="dm-condallow", policies=[w.policy("pca_pol", [
        cond_allow("ram:ListUsers", "*", {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}}),
        cond_allow("ram:GetUser", "*", {"Bool": {"acs:SecureTransport": "true"}}),
        cond_allow("ram:ListGroups", "*", {"DateLessThan": {"acs:CurrentTime": "2000-01-01T00:00:00Z"}}),
        cond_allow("ram:ListPolicies", "*", {"StringEquals": {"acs:AccessId": "LTAI-someone-else"}}),
        cond_allow("ram:GetRole", "*", {"NotIpAddress": {"acs:SourceIp": ["127.0.0.0/8"]}}),
        cond_allow("ram:ListPoliciesForUser", "*", {"StringEqualsIfExists": {"acs:UserAgent": "not-this-agent"}}),
        cond_allow("ram:ListRoles", "*", {"IpAddress": {"acs:SourceIp": ["127.0.0.0/8"]}}),
        cond_allow("ram:GetGroup", "*", {"DateGreaterThan": {"acs:CurrentTime": "2020-01-01T00:00:00Z"}}),
    ])])

    # ---- STS: trust policies and the caller's sts:AssumeRole ---------------------------------------
    su_name = h.unique_name("dm-stsuser")
    tr = lambda stmts: h.policy_doc(stmts)  # noqa: E731
    allow_acct = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": [f"acs:ram::{acct}:root"]}}
    w.role("tr_ok", trust=n["acct_trust"])
    w.role("tr_ok2", trust=n["acct_trust"])
    w.role("tr_ecs")
    w.role("tr_user", trust=tr([{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": [f"acs:ram::{acct}:user/{by}"]}}]))
    w.role("tr_acct", trust=tr([{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": ["acs:ram::1234567890123456:root"]}}]))
    w.role("tr_svc", trust=tr([{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": ["fc.aliyuncs.com"]}}]))
    w.role("tr_denyme", trust=tr([allow_acct, {"Effect": "Deny", "Action": "sts:AssumeRole",
                                                "Principal": {"RAM": [f"acs:ram::{acct}:user/{su_name}"]}}]))
    w.role("tr_denyup", trust=tr([allow_acct, {"Effect": "Deny", "Action": "sts:AssumeRole",
                                                "Principal": {"RAM": [f"acs:ram::{acct}:user/{su_name.upper()}"]}}]))
    w.role("tr_ip", trust=tr([dict(allow_acct, Condition={"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}})]))
    w.role("tr_tls", trust=tr([dict(allow_acct, Condition={"Bool": {"acs:SecureTransport": "true"}})]))
    w.role("tr_ext", trust=tr([dict(allow_acct, Condition={"StringEquals": {"sts:ExternalId": "deny-matrix-ext"}})]))
    sd = w.role("sd", trust=n["acct_trust"], prefix="stsdeny")
    w.user("su", principal=True, name=su_name, policies=["AliyunSTSAssumeRoleAccess", w.policy("su_deny", [
        h.deny("sts:AssumeRole", arn("role", sd))])])
    w.user("ssc", principal=True, prefix="dm-stsscoped", policies=[w.policy("ssc_pol", [
        h.allow("sts:AssumeRole", arn("role", n["tr_ok"]))])])
    w.user("sno", principal=True, prefix="dm-nosts", policies=["AliyunRAMReadOnlyAccess"])
    chain = w.role("chain", trust=n["acct_trust"], policies=["AliyunSTSAssumeRoleAccess", "AliyunRAMReadOnlyAccess"])
    w.session("s_chain", chain, [h.allow("ram:Get*")])
    w.session("s_si", chain, source_identity="deny-matrix-si")
    # A permanent key sent with a SecurityToken: another session's, or garbage (checked, not dropped).
    su = w.principals["su"]
    w.principals["su_tok"] = dm.Principal(su.ak, su.sk, w.principals["s_chain"].token)
    w.principals["su_junk"] = dm.Principal(su.ak, su.sk, "not-a-security-token")

    # ---- ActionTrail and RAM's diagnostics (who may read the trail and decode refusals) ----------
    w.user("atr", principal=True, prefix="dm-trailro", policies=["AliyunActionTrailReadOnlyAccess"])
    w.user("atd", principal=True, prefix="dm-traildeny", policies=["AliyunActionTrailFullAccess", "AliyunRAMReadOnlyAccess",
                                                                   w.policy("atd_deny", [h.deny("actiontrail:LookupEvents")])])
    trailrole = w.role("trailrole", trust=n["acct_trust"], policies=["AliyunActionTrailReadOnlyAccess", "AliyunRAMReadOnlyAccess"])
    w.session("ats", trailrole, [h.allow("ram:Get*")])

    # ---- role sessions with session policies on RAM ------------------------------------------------
    sessram = w.role("sessram", trust=n["acct_trust"], policies=["AliyunRAMFullAccess"])
    w.session("rs_get", sessram, [h.allow(["ram:Get*", "ram:ListRoles"])])
    w.session("rs_deny", sessram, [h.allow("ram:*"), h.deny("ram:GetRole", arn("role", adminrole)),
                                   h.deny("ram:GetUser", arn("user", vd))])
    w.session("rs_notact", sessram, [{"Effect": "Allow", "NotAction": ["ram:List*", "ram:Create*"], "Resource": "*"}])
    w.session("rs_cond", sessram, [h.allow("ram:Get*"),
                                   cond_allow("ram:List*", "*", {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}})])
    w.session("rs_widen", w.role("sessro", trust=n["acct_trust"], policies=["AliyunRAMReadOnlyAccess"]), [h.allow("*")])
    w.session("rs_none", w.role("sessnone", trust=n["acct_trust"]), [h.allow("ram:*")])

    # ---- ECS ----------------------------------------------------------------------------------------
    vpc, vsw = h.ecs_network(root_ecs, "10.77.0.0/16", "10.77.1.0/24", "cn-hangzhou-h")
    n["vpc"], n["vsw"] = vpc, vsw
    for key in ("i1", "i2", "idel"):
        n[key] = h.ecs_instance(root_ecs, vsw)
        w.created_instances.append(n[key])
    # instance credentials: ECS assumes the role for every set, so a trust Deny for ECS (which the
    # static attach check does not see) leaves the instance without credentials
    ecs_allow = {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": ["ecs.aliyuncs.com"]}}
    er_deny = w.role("er_trustdeny", prefix="ecsrole", trust=tr([ecs_allow, dict(ecs_allow, Effect="Deny")]))
    for key, role in (("i_trustdeny", er_deny), ("i_trustok", w.role("er_trustok", prefix="ecsrole"))):
        n[key] = h.ecs_instance(root_ecs, vsw, RamRoleName=role)
        w.created_instances.append(n[key])
        root_ecs.call("StartInstance", {"InstanceId": n[key]})  # a stopped one's credentials are refused
    er1 = w.role("er1", prefix="ecsrole")
    er2 = w.role("er2", prefix="ecsrole")
    erx = w.role("erx", name="EcsRoleX-" + hexs())
    w.user("en", principal=True, prefix="dm-ecsnone")
    w.user("ero", principal=True, prefix="dm-ecsro", policies=["AliyunECSReadOnlyAccess"])
    w.user("ef", principal=True, prefix="dm-ecsfull", policies=["AliyunECSFullAccess"])
    w.user("epo", principal=True, prefix="dm-passone", policies=["AliyunECSFullAccess", w.policy("epo_pol", [
        h.allow("ram:PassRole", f"acs:ram:*:{acct}:role/{er1}")])])
    w.user("epd", principal=True, prefix="dm-passdeny", policies=["AdministratorAccess", w.policy("epd_deny", [
        h.deny("ram:PassRole", [arn("role", er2), arn("role", erx.lower())])])])
    w.user("esc", principal=True, prefix="dm-ecsscoped", policies=[w.policy("esc_pol", [
        h.allow("ecs:Describe*"),
        h.allow(["ecs:ModifyInstanceMetadataOptions", "ecs:AttachInstanceRamRole"], f"acs:ecs:*:*:instance/{n['i1']}"),
        h.allow("ecs:AttachInstanceRamRole", f"acs:ram:*:{acct}:role/*"),
        h.allow("ram:PassRole")])])
    w.user("edn", principal=True, prefix="dm-ecsdeny", policies=["AliyunECSFullAccess", w.policy("edn_deny", [
        h.deny("ecs:Delete*"),
        h.deny("ecs:StopInstance", f"acs:ecs:*:*:instance/{n['i1']}"),
        cond_deny("ecs:CreateVpc", "*", {"IpAddress": {"acs:SourceIp": ["127.0.0.0/8"]}}),
        cond_deny("ecs:ModifyInstanceMetadataOptions", "*", {"Bool": {"acs:SecureTransport": "false"}}),
        cond_deny("ecs:RunInstances", "*", {"DateGreaterThan": {"acs:CurrentTime": "2020-01-01T00:00:00Z"}})])])
    # metadata faults (issue 17): allowed to inject, list and clear faults on i1 only, never to
    # expire or rotate its credentials
    w.user("rsf", principal=True, prefix="dm-faults", policies=[w.policy("rsf_pol", [
        h.allow(["rolestack:InjectInstanceFault", "rolestack:ClearInstanceFaults", "rolestack:DescribeInstanceFaults",
                 "rolestack:ListInstanceEvents"], f"acs:rolestack:*:*:instance/{n['i1']}")])])
    w.user("ena", principal=True, prefix="dm-ecsnotaction", policies=[w.policy("ena_pol", [
        {"Effect": "Allow", "NotAction": ["ecs:Delete*", "ecs:Create*", "ecs:Run*"], "Resource": "*"}])])
    w.user("enr", principal=True, prefix="dm-ecsnotres", policies=[w.policy("enr_pol", [
        {"Effect": "Allow", "Action": "ecs:*", "NotResource": [f"acs:ecs:*:*:instance/{n['idel']}"]}])])
    w.session("es_op", w.role("ecsop", trust=n["acct_trust"], policies=["AliyunECSFullAccess"]))
    ecsadm = w.role("ecsadm", trust=n["acct_trust"], policies=["AdministratorAccess"])
    w.session("es_desc", ecsadm, [h.allow("ecs:Describe*")])
    w.session("es_nopass", ecsadm, [h.allow("ecs:*")])

    # ---- ECS resources and VPC 2016-04-28 (issue 14) ---------------------------------------------
    for key in ("sg1", "sg2", "sg0"):
        n[key] = h.ecs_security_group(root_ecs, vpc)
    # i2 sits in sg0, so a control that joins it to sg2 can be undone (an instance keeps one group)
    root_ecs.call("JoinSecurityGroup", {"InstanceId": n["i2"], "SecurityGroupId": n["sg0"]})
    vpc2, _ = h.ecs_network(root_ecs, "10.78.0.0/16", "10.78.1.0/24", "cn-hangzhou-h")
    n["vpc2"] = vpc2
    # SSH key pairs: kp1 is denied to erd, kp2 is not
    for key in ("kp1", "kp2"):
        n[key] = h.unique_name(f"dm{key}")
        root_ecs.call("CreateKeyPair", {"RegionId": dm.REGION, "KeyPairName": n[key]})
    w.user("erd", principal=True, prefix="dm-ecsresdeny", policies=["AliyunECSFullAccess", w.policy("erd_deny", [
        h.deny(["ecs:CreateKeyPair", "ecs:ImportKeyPair", "ecs:DeleteKeyPairs", "ecs:AttachKeyPair", "ecs:DetachKeyPair",
                "ecs:CreateInstance", "ecs:RunInstances"], [f"acs:ecs:*:*:keypair/{n['kp1']}", "acs:ecs:*:*:keypair/dmkpx*"]),
        h.deny("ecs:AuthorizeSecurityGroup", f"acs:ecs:*:*:securitygroup/{n['sg1']}"),
        h.deny(["ecs:CreateInstance", "ecs:JoinSecurityGroup"], f"acs:ecs:*:*:securitygroup/{n['sg1']}"),
        h.deny("ecs:TagResources", f"acs:ecs:*:*:instance/{n['i1']}"),
        h.deny("ecs:DescribeUserData", f"acs:ecs:*:*:instance/{n['i1']}"),
        h.deny(["ecs:RebootInstance", "ecs:DescribeImages"]),
        h.deny("ecs:DescribeDisks", "acs:ecs:cn-shanghai:*:*")])])
    w.user("vro", principal=True, prefix="dm-vpcread", policies=[w.policy("vro_pol", [h.allow("vpc:Describe*")])])
    w.user("vsc", principal=True, prefix="dm-vpcscoped", policies=[w.policy("vsc_pol", [
        h.allow("vpc:DescribeVpcs"), h.allow(["vpc:ModifyVpcAttribute", "vpc:DescribeVpcAttribute"], f"acs:vpc:*:*:vpc/{vpc}")])])
    w.user("vdn", principal=True, prefix="dm-vpcdeny", policies=["AdministratorAccess", w.policy("vdn_deny", [
        h.deny("vpc:Delete*"), h.deny("vpc:CreateVSwitch", f"acs:vpc:*:*:vpc/{vpc}")])])

    # ---- OSS ----------------------------------------------------------------------------------------
    bm = w.make_bucket("bm", ["data/pub/a.txt", "data/priv/b.txt", "secret/c.txt", "logs/l.txt"])
    bx = w.make_bucket("bx", ["x.txt"])
    bv = w.make_versioned_bucket("bv", "v/a.txt")
    # Every object action without its *Version* counterpart (and no versioning or version listing).
    w.user("onv", principal=True, prefix="dm-ossnover", policies=[w.policy("onv_pol", [
        h.allow(["oss:GetObject", "oss:PutObject", "oss:DeleteObject", "oss:GetObjectAcl", "oss:PutObjectAcl", "oss:GetObjectTagging",
                 "oss:PutObjectTagging", "oss:DeleteObjectTagging", "oss:ListObjects", "oss:GetBucketInfo"], [oarn(bv), oarn(bv, "*")])])])
    w.user("on", principal=True, prefix="dm-ossnone")
    w.user("oro", principal=True, prefix="dm-ossro", policies=["AliyunOSSReadOnlyAccess"])
    w.user("of", principal=True, prefix="dm-ossfull", policies=["AliyunOSSFullAccess", w.policy("of_deny", [
        h.deny("oss:GetObject", oarn(bm, "secret/*")), h.deny("oss:DeleteObject", oarn(bm, "logs/*")),
        h.deny("oss:PutBucketPolicy", oarn(bm)), h.deny("oss:*", [oarn(bx), oarn(bx, "*")])])])
    ocase = w.user("ocase", principal=True, prefix="dm-osscase", policies=["AliyunOSSFullAccess"])
    w.user("op", principal=True, prefix="dm-ossprefix", policies=[w.policy("op_pol", [
        cond_allow("oss:ListObjects", oarn(bm), {"StringLike": {"oss:Prefix": ["data/pub/*"]}}),
        h.allow("oss:GetObject", oarn(bm, "data/pub/*"))])])
    oc = h.unique_name("dm-osscond")
    w.user("oc", principal=True, name=oc, policies=[w.policy("oc_pol", [
        h.allow("oss:*", [oarn(bm), oarn(bm, "*")]),
        cond_deny("oss:GetObject", oarn(bm, "secret/*"), {"Bool": {"acs:SecureTransport": "false"}}),
        cond_deny("oss:PutObject", oarn(bm, "up/*"), {"IpAddress": {"acs:SourceIp": ["127.0.0.0/8"]}}),
        cond_deny("oss:DeleteObject", oarn(bm, "*"), {"DateGreaterThan": {"acs:CurrentTime": "2020-01-01T00:00:00Z"}}),
        cond_deny("oss:ListObjects", oarn(bm), {"StringLike": {"oss:Prefix": ["secret*"]}}),
        cond_deny("oss:ListObjects", oarn(bm), {"StringEquals": {"oss:Delimiter": ["|"]}}),
        cond_deny("oss:GetBucketAcl", oarn(bm), {"StringLike": {"acs:UserAgent": ["*"]}}),
        cond_deny("oss:GetObject", oarn(bm, "logs/*"), {"StringLike": {"acs:PrincipalARN": [f"*:user/{oc}"]}})])])
    w.user("oca", principal=True, prefix="dm-osscondallow", policies=[w.policy("oca_pol", [
        cond_allow("oss:GetObject", oarn(bm, "*"), {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8"]}}),
        cond_allow("oss:ListObjects", oarn(bm), {"DateLessThan": {"acs:CurrentTime": "2000-01-01T00:00:00Z"}}),
        cond_allow("oss:PutObject", oarn(bm, "*"), {"Bool": {"acs:SecureTransport": "true"}}),
        h.allow("oss:GetBucketInfo", oarn(bm))])])
    w.user("otag", principal=True, prefix="dm-osstag", policies=[w.policy("otag_pol", [
        cond_allow("oss:GetObject", oarn(bm, "*"), {"StringEquals": {"oss:ExistingObjectTag/class": ["public"]}}),
        h.allow(["oss:GetObjectTagging", "oss:PutObjectTagging"], oarn(bm, "*"))])])
    w.user("ona", principal=True, prefix="dm-ossnotaction", policies=[w.policy("ona_pol", [
        {"Effect": "Allow", "NotAction": ["oss:Delete*", "oss:Put*"], "Resource": "*"}])])
    w.user("onr", principal=True, prefix="dm-ossnotres", policies=[w.policy("onr_pol", [
        {"Effect": "Allow", "Action": "oss:*", "NotResource": [oarn(bm, "secret/*"), oarn(bx, "*")]}])])
    w.user("odnr", principal=True, prefix="dm-ossdenynotres", policies=["AliyunOSSFullAccess", w.policy("odnr_deny", [
        {"Effect": "Deny", "Action": "oss:*", "NotResource": [oarn(bm), oarn(bm, "*")]}])])
    w.user("ow", principal=True, prefix="dm-osswild", policies=["AliyunOSSFullAccess", w.policy("ow_deny", [
        h.deny("oss:Get*", oarn(bm, "data/pr?v/*")), h.deny("oss:*Acl"), h.deny("OSS:deleteobject", oarn(bm, "*"))])])
    ossfull = w.role("ossfull", trust=n["acct_trust"], policies=["AliyunOSSFullAccess"])
    w.session("os_full", ossfull)
    # The same session's key and secret with its security token dropped.
    w.principals["os_full_notoken"] = dm.Principal(w.principals["os_full"].ak, w.principals["os_full"].sk)
    w.session("os_narrow", ossfull, [h.allow("oss:GetObject", oarn(bm, "data/*")), h.allow("oss:ListObjects", oarn(bm))])
    osssess = w.role("osssess", trust=n["acct_trust"], policies=["AliyunOSSReadOnlyAccess"])

    root_api = w.rpc("root", "ram")
    uid = lambda u: root_api.call("GetUser", {"UserName": n[u]})["User"]["UserId"]  # noqa: E731
    bp = w.make_bucket("bp", ["pub/a.txt", "secret/s.txt", "locked/l.txt", "nodel/n.txt",
                              "case/c.txt", "case2/c.txt", "case3/c.txt", "case4/c.txt"])
    w.set_bucket_policy(bp, [
        {"Effect": "Allow", "Action": ["oss:GetObject"], "Principal": ["*"], "Resource": [f"acs:oss:*:{acct}:{bp}/pub/*"]},
        {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": [uid("of")], "Resource": [f"acs:oss:*:{acct}:{bp}/secret/*"]},
        {"Effect": "Deny", "Action": ["oss:PutObject"], "Principal": ["*"], "Resource": [f"acs:oss:*:{acct}:{bp}/locked/*"]},
        # (for everyone with a condition: it binds the owner's root too, so it covers nodel/ only and
        # the root can still clean up the keys the cases write)
        {"Effect": "Deny", "Action": ["oss:DeleteObject"], "Principal": ["*"], "Resource": [f"acs:oss:*:{acct}:{bp}/nodel/*"],
         "Condition": {"Bool": {"acs:SecureTransport": ["false"]}}},
        {"Effect": "Allow", "Action": ["oss:ListObjects"], "Principal": [uid("on")], "Resource": [f"acs:oss:*:{acct}:{bp}"],
         "Condition": {"StringLike": {"oss:Prefix": ["pub/*"]}}},
        {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": [f"acs:ram::{acct}:user/{ocase.upper()}"],
         "Resource": [f"acs:oss:*:{acct}:{bp}/case/*"]},
        {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": [f"acs:ram::{acct}:user/{ocase}"],
         "Resource": [f"acs:oss:*:{acct}:{bp}/case4/*"]},
        {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": [f"arn:sts::{acct}:assumed-role/{ossfull.upper()}/*"],
         "Resource": [f"acs:oss:*:{acct}:{bp}/case/*"]},
        {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": [f"acs:ram::{acct}:role/{ossfull.upper()}"],
         "Resource": [f"acs:oss:*:{acct}:{bp}/case2/*"]},
        {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": [f"arn:sts::{acct}:assumed-role/{ossfull}/*"],
         "Resource": [f"acs:oss:*:{acct}:{bp}/case3/*"]},
    ])
    for key, principal, actions in (("bs1", f"acs:ram::{acct}:role/{osssess}", ["oss:PutObject", "oss:GetObject"]),
                                     ("bs2", f"arn:sts::{acct}:assumed-role/{osssess}/*", ["oss:PutObject", "oss:GetObject"]),
                                     ("bs3", f"acs:ram::{acct}:role/{osssess}", ["oss:PutObject"])):
        b = w.make_bucket(key, ["data/pub/a.txt", "data/priv/b.txt"])
        w.set_bucket_policy(b, [{"Effect": "Allow", "Action": actions, "Principal": [principal],
                                 "Resource": [f"acs:oss:*:{acct}:{b}/*"]}])
    w.session("os_sess", osssess, [h.allow("oss:GetObject", [oarn(n[b], "data/pub/*") for b in ("bs1", "bs2", "bs3")])])


# =====================================================================================================
# The tables
# =====================================================================================================

def ram_case_variant_cases():
    """Family A: one Deny list (issue's escapes 1 and 2); the denied names sent in four letter cases."""
    rows = [
        # (entity, action, params with {target}, control params)
        ("user", "AttachPolicyToUser", "vd",
         dict(PolicyType="System", PolicyName="AdministratorAccess", UserName="{target}"),
         dict(PolicyType="System", PolicyName="AdministratorAccess", UserName="{by}")),
        ("user", "CreateAccessKey", "vd", dict(UserName="{target}"), dict(UserName="{by}")),
        ("udeny", "CreateAccessKey", "udeny", dict(UserName="{target}"), dict(UserName="{by}")),
        ("role", "UpdateRole", "adminrole", dict(RoleName="{target}", NewAssumeRolePolicyDocument="{acct_trust}"),
         dict(RoleName="{okrole}", NewAssumeRolePolicyDocument="{acct_trust}")),
        ("policy", "CreatePolicyVersion", "adminpol", dict(PolicyName="{target}", PolicyDocument="{doc_allow_all}", SetAsDefault=True),
         dict(PolicyName="{cpvpol}", PolicyDocument="{doc_allow_all}", SetAsDefault=True)),
        ("group", "AddUserToGroup", "admins", dict(GroupName="{target}", UserName="{dl_self}"),
         dict(GroupName="{ngz}", UserName="{dl_self}")),
    ]
    out = []
    for entity, action, target, params, ctl in rows:
        for variant in ("exact", "upper", "title", "alt"):
            p = {k: (v.replace("{target}", "{%s:%s}" % (target, variant)) if isinstance(v, str) else v) for k, v in params.items()}
            out.append(Case(f"ram-case-{entity}-{variant}-{action}", "dl", ram(action, **p), NOPERM, ram(action, **ctl),
                            escape="" if variant == "exact" else ESC_CASE))
    return out


def ram_deny_spelling_cases():
    """Family B: the name created in mixed case; the Deny spelled as created (requests in other cases)
    or spelled in lower case (requests as created, lower, upper)."""
    out = []
    user_actions = [
        ("AttachPolicyToUser", dict(PolicyType="System", PolicyName="AdministratorAccess"), {}),
        ("CreateAccessKey", {}, {}),
    ]
    for action, extra, _ in user_actions:
        ctl = ram(action, UserName="{by}", **extra)
        for variant in ("exact", "lower", "upper"):
            out.append(Case(f"ram-denyspell-asstored-user-req-{variant}-{action}", "dl",
                            ram(action, UserName="{vx:%s}" % variant, **extra), NOPERM, ctl,
                            escape="" if variant == "exact" else ESC_CASE))
        for variant in ("exact", "lower", "upper"):
            out.append(Case(f"ram-denyspell-lower-user-req-{'stored' if variant == 'exact' else variant}-{action}", "dl",
                            ram(action, UserName="{vy:%s}" % variant, **extra), NOPERM, ctl,
                            escape="" if variant == "lower" else ESC_SPELL))
    others = [
        ("role", "UpdateRole", "adminx", lambda t: dict(RoleName=t, NewAssumeRolePolicyDocument="{acct_trust}"),
         dict(RoleName="{okrole}", NewAssumeRolePolicyDocument="{acct_trust}")),
        ("policy", "CreatePolicyVersion", "adminpolx", lambda t: dict(PolicyName=t, PolicyDocument="{doc_allow_all}", SetAsDefault=True),
         dict(PolicyName="{cpvpol}", PolicyDocument="{doc_allow_all}", SetAsDefault=True)),
        ("group", "AddUserToGroup", "adminsx", lambda t: dict(GroupName=t, UserName="{dl_self}"),
         dict(GroupName="{ngz}", UserName="{dl_self}")),
    ]
    for entity, action, target, params, ctl in others:
        for variant in ("exact", "lower", "upper"):
            out.append(Case(f"ram-denyspell-lower-{entity}-req-{'stored' if variant == 'exact' else variant}-{action}", "dl",
                            ram(action, **params("{%s:%s}" % (target, variant))), NOPERM, ram(action, **ctl),
                            escape="" if variant == "lower" else ESC_SPELL))
    return out


def ram_deny_all_entity_cases():
    """Family C: Deny ram:* on one user, role, group and policy; every action that names them, the name
    sent as created and upper-cased; control: the same action on the neighbouring entity."""
    fresh_user = [ram("CreateUser", UserName="{fresh}")]
    rows = [
        # entity, action, request params ({t} = target placeholder), control step, setup, cleanup
        ("user", "GetUser", dict(UserName="{t}"), ram("GetUser", UserName="{nz}")),
        ("user", "UpdateUser", dict(UserName="{t}", NewComments="deny-matrix"), ram("UpdateUser", UserName="{nz}", NewComments="deny-matrix")),
        ("user", "DeleteUser", dict(UserName="{t}"), ram("DeleteUser", UserName="{fresh}"), fresh_user),
        ("user", "CreateAccessKey", dict(UserName="{t}"), ram("CreateAccessKey", UserName="{nz}")),
        ("user", "UpdateAccessKey", dict(UserName="{t}", UserAccessKeyId="{vz_key}", Status="Active"),
         ram("UpdateAccessKey", UserName="{nz}", UserAccessKeyId="{nz_key}", Status="Active")),
        ("user", "DeleteAccessKey", dict(UserName="{t}", UserAccessKeyId="LTAIdenymatrixnokey0000"),
         ram("DeleteAccessKey", UserName="{nz}", UserAccessKeyId="{@0.AccessKey.AccessKeyId}"), [ram("CreateAccessKey", UserName="{nz}")]),
        ("user", "ListAccessKeys", dict(UserName="{t}"), ram("ListAccessKeys", UserName="{nz}")),
        ("user", "CreateLoginProfile", dict(UserName="{t}", Password=dm.PASSWORD),
         ram("CreateLoginProfile", UserName="{fresh}", Password=dm.PASSWORD), fresh_user,
         [ram("DeleteLoginProfile", UserName="{fresh}"), ram("DeleteUser", UserName="{fresh}")]),
        ("user", "GetLoginProfile", dict(UserName="{t}"), ram("GetLoginProfile", UserName="{nz}")),
        ("user", "UpdateLoginProfile", dict(UserName="{t}", Password=dm.PASSWORD), ram("UpdateLoginProfile", UserName="{nz}", Password=dm.PASSWORD)),
        ("user", "DeleteLoginProfile", dict(UserName="{t}"), ram("DeleteLoginProfile", UserName="{nz}")),
        ("user", "ListPoliciesForUser", dict(UserName="{t}"), ram("ListPoliciesForUser", UserName="{nz}")),
        ("user", "ListGroupsForUser", dict(UserName="{t}"), ram("ListGroupsForUser", UserName="{nz}")),
        ("user", "AttachPolicyToUser", dict(PolicyType="Custom", PolicyName="{okpol2}", UserName="{t}"),
         ram("AttachPolicyToUser", PolicyType="Custom", PolicyName="{okpol2}", UserName="{nz}")),
        ("user", "DetachPolicyFromUser", dict(PolicyType="Custom", PolicyName="{okpol}", UserName="{t}"),
         ram("DetachPolicyFromUser", PolicyType="Custom", PolicyName="{okpol}", UserName="{nz}")),
        ("user", "AddUserToGroup", dict(GroupName="{ngz}", UserName="{t}"), ram("AddUserToGroup", GroupName="{ngz}", UserName="{nz}")),
        ("user", "RemoveUserFromGroup", dict(GroupName="{okgrp}", UserName="{t}"), ram("RemoveUserFromGroup", GroupName="{okgrp}", UserName="{nz}")),

        ("role", "GetRole", dict(RoleName="{t}"), ram("GetRole", RoleName="{nrz}")),
        ("role", "UpdateRole", dict(RoleName="{t}", NewDescription="deny-matrix"), ram("UpdateRole", RoleName="{nrz}", NewDescription="deny-matrix")),
        ("role", "DeleteRole", dict(RoleName="{t}"), ram("DeleteRole", RoleName="{fresh}"),
         [ram("CreateRole", RoleName="{fresh}", AssumeRolePolicyDocument="{ecs_trust}")]),
        ("role", "AttachPolicyToRole", dict(PolicyType="Custom", PolicyName="{okpol2}", RoleName="{t}"),
         ram("AttachPolicyToRole", PolicyType="Custom", PolicyName="{okpol2}", RoleName="{nrz}")),
        ("role", "DetachPolicyFromRole", dict(PolicyType="Custom", PolicyName="{okpol}", RoleName="{t}"),
         ram("DetachPolicyFromRole", PolicyType="Custom", PolicyName="{okpol}", RoleName="{nrz}")),
        ("role", "ListPoliciesForRole", dict(RoleName="{t}"), ram("ListPoliciesForRole", RoleName="{nrz}")),

        ("group", "GetGroup", dict(GroupName="{t}"), ram("GetGroup", GroupName="{ngz}")),
        ("group", "UpdateGroup", dict(GroupName="{t}", NewComments="deny-matrix"), ram("UpdateGroup", GroupName="{ngz}", NewComments="deny-matrix")),
        ("group", "DeleteGroup", dict(GroupName="{t}"), ram("DeleteGroup", GroupName="{fresh}"), [ram("CreateGroup", GroupName="{fresh}")]),
        ("group", "AttachPolicyToGroup", dict(PolicyType="Custom", PolicyName="{okpol2}", GroupName="{t}"),
         ram("AttachPolicyToGroup", PolicyType="Custom", PolicyName="{okpol2}", GroupName="{ngz}")),
        ("group", "DetachPolicyFromGroup", dict(PolicyType="Custom", PolicyName="{okpol}", GroupName="{t}"),
         ram("DetachPolicyFromGroup", PolicyType="Custom", PolicyName="{okpol}", GroupName="{ngz}")),
        ("group", "ListPoliciesForGroup", dict(GroupName="{t}"), ram("ListPoliciesForGroup", GroupName="{ngz}")),
        ("group", "ListUsersForGroup", dict(GroupName="{t}"), ram("ListUsersForGroup", GroupName="{ngz}")),
        ("group", "AddUserToGroup", dict(GroupName="{t}", UserName="{by}"), ram("AddUserToGroup", GroupName="{ngz}", UserName="{by}")),
        ("group", "RemoveUserFromGroup", dict(GroupName="{t}", UserName="{hz}"), ram("RemoveUserFromGroup", GroupName="{ngz}", UserName="{hz}")),

        ("policy", "GetPolicy", dict(PolicyType="Custom", PolicyName="{t}"), ram("GetPolicy", PolicyType="Custom", PolicyName="{npz}")),
        ("policy", "DeletePolicy", dict(PolicyName="{t}"), ram("DeletePolicy", PolicyName="{fresh}"),
         [ram("CreatePolicy", PolicyName="{fresh}", PolicyDocument="{doc_harmless}")]),
        ("policy", "CreatePolicyVersion", dict(PolicyName="{t}", PolicyDocument="{doc_harmless}"),
         ram("CreatePolicyVersion", PolicyName="{npz}", PolicyDocument="{doc_harmless}")),
        ("policy", "GetPolicyVersion", dict(PolicyType="Custom", PolicyName="{t}", VersionId="v1"),
         ram("GetPolicyVersion", PolicyType="Custom", PolicyName="{npz}", VersionId="v1")),
        ("policy", "ListPolicyVersions", dict(PolicyType="Custom", PolicyName="{t}"), ram("ListPolicyVersions", PolicyType="Custom", PolicyName="{npz}")),
        ("policy", "DeletePolicyVersion", dict(PolicyName="{t}", VersionId="v1"),
         ram("DeletePolicyVersion", PolicyName="{npz}", VersionId="{@0.PolicyVersion.VersionId}"),
         [ram("CreatePolicyVersion", PolicyName="{npz}", PolicyDocument="{doc_harmless}")]),
        ("policy", "SetDefaultPolicyVersion", dict(PolicyName="{t}", VersionId="v1"), ram("SetDefaultPolicyVersion", PolicyName="{npz}", VersionId="v1")),
        ("policy", "ListEntitiesForPolicy", dict(PolicyType="Custom", PolicyName="{t}"), ram("ListEntitiesForPolicy", PolicyType="Custom", PolicyName="{npz}")),
        ("policy", "AttachPolicyToUser", dict(PolicyType="Custom", PolicyName="{t}", UserName="{by}"),
         ram("AttachPolicyToUser", PolicyType="Custom", PolicyName="{npz}", UserName="{by}")),
        ("policy", "AttachPolicyToRole", dict(PolicyType="Custom", PolicyName="{t}", RoleName="{okrole}"),
         ram("AttachPolicyToRole", PolicyType="Custom", PolicyName="{npz}", RoleName="{okrole}")),
        ("policy", "AttachPolicyToGroup", dict(PolicyType="Custom", PolicyName="{t}", GroupName="{okgrp}"),
         ram("AttachPolicyToGroup", PolicyType="Custom", PolicyName="{npz}", GroupName="{okgrp}")),
        ("policy", "DetachPolicyFromUser", dict(PolicyType="Custom", PolicyName="{t}", UserName="{hz}"),
         ram("DetachPolicyFromUser", PolicyType="Custom", PolicyName="{npz}", UserName="{hz}")),
    ]
    target = {"user": "vz", "role": "rz", "group": "gz", "policy": "pz"}
    out = []
    for row in rows:
        entity, action, params, ctl = row[:4]
        setup = row[4] if len(row) > 4 else []
        cleanup = row[5] if len(row) > 5 else []
        for variant in ("exact", "upper"):
            ph = "{%s:%s}" % (target[entity], variant)
            p = {k: (v.replace("{t}", ph) if isinstance(v, str) else v) for k, v in params.items()}
            out.append(Case(f"ram-denyall-{entity}-{variant}-{action}", "de", ram(action, **p), NOPERM, ctl,
                            setup=list(setup), cleanup=list(cleanup), escape="" if variant == "exact" else ESC_CASE))
    return out


def ram_wildcard_cases():
    """Family D: List*-only, resource and action wildcards, NotAction, NotResource, scoped Allows,
    system-policy names, Deny through a group, Allow only through a group."""
    C = Case
    return [
        C("ram-listonly-GetUser", "wl", ram("GetUser", UserName="{by}"), NOPERM, ram("ListUsers")),
        C("ram-listonly-CreateUser", "wl", ram("CreateUser", UserName="{fresh}"), NOPERM, ram("ListGroups")),
        C("ram-listonly-DeleteGroup", "wl", ram("DeleteGroup", GroupName="{okgrp}"), NOPERM, ram("ListRoles")),
        C("ram-listonly-UpdateRole", "wl", ram("UpdateRole", RoleName="{okrole}", NewDescription="x"), NOPERM, ram("ListPolicies")),
        C("ram-listonly-GetAccountAlias", "wl", ram("GetAccountAlias"), NOPERM, ram("ListAccessKeys")),
        C("ram-listonly-AttachPolicyToUser", "wl", ram("AttachPolicyToUser", PolicyType="System", PolicyName="AdministratorAccess",
                                                        UserName="{wl_self}"), NOPERM, ram("ListPoliciesForUser", UserName="{wl_self}")),

        C("ram-wildres-user-exact-GetUser", "wr", ram("GetUser", UserName="{svca}"), NOPERM, ram("GetUser", UserName="{by}")),
        C("ram-wildres-user-upper-GetUser", "wr", ram("GetUser", UserName="{svca:upper}"), NOPERM, ram("GetUser", UserName="{by}"), escape=ESC_CASE),
        C("ram-wildres-user-CreateAccessKey", "wr", ram("CreateAccessKey", UserName="{svcb}"), NOPERM, ram("CreateAccessKey", UserName="{by}")),
        C("ram-wildres-user-UpdateUser", "wr", ram("UpdateUser", UserName="{svca}", NewComments="x"), NOPERM, ram("UpdateUser", UserName="{by}", NewComments="x")),
        C("ram-wildres-user-CreateUser", "wr", ram("CreateUser", UserName="{svcp}-new"), NOPERM, ram("ListUsers")),
        C("ram-wildres-role-qmark-GetRole", "wr", ram("GetRole", RoleName="{rq1}"), NOPERM, ram("GetRole", RoleName="{okrole}")),
        C("ram-wildres-role-qmark-DeleteRole", "wr", ram("DeleteRole", RoleName="{rq1}"), NOPERM, ram("ListRoles")),

        C("ram-wildaction-Attach-AttachPolicyToRole", "wa", ram("AttachPolicyToRole", PolicyType="Custom", PolicyName="{okpol2}", RoleName="{okrole}"),
          NOPERM, ram("ListPoliciesForRole", RoleName="{okrole}")),
        C("ram-wildaction-Attach-AttachPolicyToGroup", "wa", ram("AttachPolicyToGroup", PolicyType="Custom", PolicyName="{okpol2}", GroupName="{ngz}"),
          NOPERM, ram("ListPoliciesForGroup", GroupName="{ngz}")),
        C("ram-wildaction-AccessKey-CreateAccessKey", "wa", ram("CreateAccessKey", UserName="{by}"), NOPERM, ram("GetUser", UserName="{by}")),
        C("ram-wildaction-AccessKey-ListAccessKeys", "wa", ram("ListAccessKeys", UserName="{nz}"), NOPERM, ram("GetUser", UserName="{nz}")),
        C("ram-wildaction-AccessKey-UpdateAccessKey", "wa", ram("UpdateAccessKey", UserName="{nz}", UserAccessKeyId="{nz_key}", Status="Active"),
          NOPERM, ram("GetUser", UserName="{nz}")),
        C("ram-wildaction-actioncase-GetGroup", "wa", ram("GetGroup", GroupName="{okgrp}"), NOPERM, ram("ListGroups")),

        C("ram-notaction-DeleteUser", "wna", ram("DeleteUser", UserName="{vz}"), NOPERM, ram("GetUser", UserName="{by}")),
        C("ram-notaction-CreateRole", "wna", ram("CreateRole", RoleName="{fresh}", AssumeRolePolicyDocument="{ecs_trust}"), NOPERM, ram("ListRoles")),
        C("ram-notaction-AttachPolicyToUser", "wna", ram("AttachPolicyToUser", PolicyType="Custom", PolicyName="{okpol2}", UserName="{by}"),
          NOPERM, ram("ListPoliciesForUser", UserName="{by}")),
        C("ram-notaction-UpdateGroup", "wna", ram("UpdateGroup", GroupName="{okgrp}", NewComments="x"), NOPERM, ram("GetGroup", GroupName="{okgrp}")),
        C("ram-notaction-CreateAccessKey", "wna", ram("CreateAccessKey", UserName="{wna_self}"), NOPERM, ram("ListAccessKeys", UserName="{wna_self}")),

        C("ram-denynotaction-CreateGroup", "wdna", ram("CreateGroup", GroupName="{fresh}"), NOPERM, ram("GetGroup", GroupName="{okgrp}")),
        C("ram-denynotaction-UpdateUser", "wdna", ram("UpdateUser", UserName="{by}", NewComments="x"), NOPERM, ram("GetUser", UserName="{by}")),
        C("ram-denynotaction-RemoveUserFromGroup", "wdna", ram("RemoveUserFromGroup", GroupName="{okgrp}", UserName="{nz}"),
          NOPERM, ram("ListUsersForGroup", GroupName="{okgrp}")),
        C("ram-denynotaction-DetachPolicyFromRole", "wdna", ram("DetachPolicyFromRole", PolicyType="Custom", PolicyName="{okpol}", RoleName="{nrz}"),
          NOPERM, ram("ListPoliciesForRole", RoleName="{nrz}")),
        C("ram-denynotaction-SetAccountAlias", "wdna", ram("SetAccountAlias", AccountAlias="deny-matrix-alias"), NOPERM, ram("GetAccountAlias")),

        C("ram-notresource-role-exact-GetRole", "wnr", ram("GetRole", RoleName="{secretrole}"), NOPERM, ram("GetRole", RoleName="{okrole}")),
        C("ram-notresource-role-upper-GetRole", "wnr", ram("GetRole", RoleName="{secretrole:upper}"), NOPERM, ram("GetRole", RoleName="{okrole}"),
          escape=ESC_CASE),
        C("ram-notresource-user-exact-GetUser", "wnr", ram("GetUser", UserName="{secretuser}"), NOPERM, ram("GetUser", UserName="{by}")),
        C("ram-notresource-user-title-GetUser", "wnr", ram("GetUser", UserName="{secretuser:title}"), NOPERM, ram("GetUser", UserName="{by}"),
          escape=ESC_CASE),
        C("ram-notresource-role-AttachPolicyToRole", "wnr", ram("AttachPolicyToRole", PolicyType="System", PolicyName="AliyunOSSReadOnlyAccess",
                                                                 RoleName="{secretrole}"), NOPERM,
          ram("AttachPolicyToRole", PolicyType="System", PolicyName="AliyunOSSReadOnlyAccess", RoleName="{okrole}")),

        C("ram-denynotresource-CreateAccessKey", "wdnr", ram("CreateAccessKey", UserName="{by}"), NOPERM, ram("ListAccessKeys", UserName="{wdnr_self}")),
        C("ram-denynotresource-UpdateUser", "wdnr", ram("UpdateUser", UserName="{by}", NewComments="x"), NOPERM,
          ram("UpdateUser", UserName="{wdnr_self}", NewComments="x")),
        C("ram-denynotresource-ListAccessKeys", "wdnr", ram("ListAccessKeys", UserName="{nz}"), NOPERM, ram("ListAccessKeys", UserName="{wdnr_self}")),

        C("ram-scoped-GetRole-other", "wsc", ram("GetRole", RoleName="{adminrole}"), NOPERM, ram("GetRole", RoleName="{okrole}")),
        C("ram-scoped-GetUser-other", "wsc", ram("GetUser", UserName="{by}"), NOPERM, ram("GetUser", UserName="{wsc_self}")),
        C("ram-scoped-UpdateUser-other", "wsc", ram("UpdateUser", UserName="{by}", NewComments="x"), NOPERM, ram("UpdateUser", UserName="{wsc_self}", NewComments="x")),
        C("ram-scoped-ListRoles", "wsc", ram("ListRoles"), NOPERM, ram("GetRole", RoleName="{okrole}")),

        *[C(f"ram-syspolicy-{variant}-{action}", "wsys",
            ram(action, PolicyType="System", PolicyName=name, **{holder: "{%s}" % target}), NOPERM,
            ram(action, PolicyType="System", PolicyName="AliyunOSSReadOnlyAccess", **{holder: "{%s}" % target}),
            escape="" if variant == "exact" else ESC_CASE)
          for variant, name in (("exact", "AdministratorAccess"), ("lower", "administratoraccess"), ("upper", "ADMINISTRATORACCESS"))
          for action, holder, target in (("AttachPolicyToUser", "UserName", "by"), ("AttachPolicyToRole", "RoleName", "okrole"))],

        C("ram-groupdeny-exact-GetUser", "gm", ram("GetUser", UserName="{by}"), NOPERM, ram("GetUser", UserName="{nz}")),
        C("ram-groupdeny-upper-GetUser", "gm", ram("GetUser", UserName="{by:upper}"), NOPERM, ram("GetUser", UserName="{nz}"), escape=ESC_CASE),
        C("ram-groupdeny-CreateGroup", "gm", ram("CreateGroup", GroupName="{fresh}"), NOPERM, ram("ListGroups")),
        C("ram-groupdeny-SourceIp-ListPolicies", "gm", ram("ListPolicies"), NOPERM, ram("ListUsers")),
        C("ram-groupallow-ListRoles", "ga", ram("ListRoles"), NOPERM, ram("ListUsers")),
        C("ram-groupallow-CreateUser", "ga", ram("CreateUser", UserName="{fresh}"), NOPERM, ram("GetUser", UserName="{by}")),
    ]


def ram_condition_cases():
    """Family E: condition keys on RAM calls — Denies that fire, Allows that do not."""
    C = Case
    return [
        C("ram-cond-deny-SourceIp-CreateGroup", "pc", ram("CreateGroup", GroupName="{fresh}"), NOPERM, ram("GetGroup", GroupName="{okgrp}")),
        C("ram-cond-deny-NotIpAddress-UpdateGroup", "pc", ram("UpdateGroup", GroupName="{okgrp}", NewComments="x"), NOPERM,
          ram("GetGroup", GroupName="{okgrp}")),
        C("ram-cond-deny-SecureTransport-ListGroups", "pc", ram("ListGroups"), NOPERM, ram("ListRoles")),
        C("ram-cond-deny-CurrentTime-ListPolicies", "pc", ram("ListPolicies"), NOPERM, ram("ListRoles")),
        C("ram-cond-deny-UserAgent-GetAccountAlias", "pc", ram("GetAccountAlias"), NOPERM, ram("ListRoles")),
        C("ram-cond-deny-AccessId-ListUsers", "pc", ram("ListUsers"), NOPERM, ram("ListRoles")),
        C("ram-cond-deny-PrincipalARN-GetPolicy", "pc", ram("GetPolicy", PolicyType="Custom", PolicyName="{okpol}"), NOPERM,
          ram("ListPolicyVersions", PolicyType="Custom", PolicyName="{okpol}")),
        C("ram-cond-deny-MFAPresent-GetRole", "pc", ram("GetRole", RoleName="{okrole}"), NOPERM, ram("ListPoliciesForRole", RoleName="{okrole}")),
        C("ram-cond-deny-IgnoreCase-GetUser", "pc", ram("GetUser", UserName="{by}"), NOPERM, ram("ListGroupsForUser", UserName="{by}")),
        C("ram-cond-deny-CurrentTime-CreatePolicy", "pc", ram("CreatePolicy", PolicyName="{fresh}", PolicyDocument="{doc_harmless}"), NOPERM,
          ram("ListEntitiesForPolicy", PolicyType="Custom", PolicyName="{okpol}")),
        C("ram-cond-deny-IfExists-CreateRole", "pc", ram("CreateRole", RoleName="{fresh}", AssumeRolePolicyDocument="{ecs_trust}"), NOPERM,
          ram("ListRoles")),
        C("ram-cond-allow-SourceIp-ListUsers", "pca", ram("ListUsers"), NOPERM, ram("ListRoles")),
        C("ram-cond-allow-SecureTransport-GetUser", "pca", ram("GetUser", UserName="{by}"), NOPERM, ram("ListRoles")),
        C("ram-cond-allow-CurrentTime-ListGroups", "pca", ram("ListGroups"), NOPERM, ram("GetGroup", GroupName="{okgrp}")),
        C("ram-cond-allow-AccessId-ListPolicies", "pca", ram("ListPolicies"), NOPERM, ram("ListRoles")),
        C("ram-cond-allow-NotIpAddress-GetRole", "pca", ram("GetRole", RoleName="{okrole}"), NOPERM, ram("ListRoles")),
        C("ram-cond-allow-IfExists-ListPoliciesForUser", "pca", ram("ListPoliciesForUser", UserName="{by}"), NOPERM,
          ram("GetGroup", GroupName="{okgrp}")),
    ]


def sts_cases():
    """AssumeRole: trust policies, the caller's sts:AssumeRole (name case variants), chained sessions;
    role sessions on RAM narrowed by their session policy."""
    C = Case
    assume = lambda role, **kw: sts("AssumeRole", RoleArn="acs:ram::{acct}:role/" + role, RoleSessionName="deny-matrix", **kw)  # noqa: E731
    ok = assume("{tr_ok}")
    return [
        C("sts-trust-ecs-only", "su", assume("{tr_ecs}"), NOPERM, ok),
        C("sts-trust-other-user", "su", assume("{tr_user}"), NOPERM, ok),
        C("sts-trust-other-account", "su", assume("{tr_acct}"), NOPERM, ok),
        C("sts-trust-other-service", "su", assume("{tr_svc}"), NOPERM, ok),
        C("sts-trust-deny-caller", "su", assume("{tr_denyme}"), NOPERM, ok),
        C("sts-trust-deny-caller-upper-name", "su", assume("{tr_denyup}"), NOPERM, ok),
        C("sts-trust-cond-SourceIp", "su", assume("{tr_ip}"), NOPERM, ok),
        C("sts-trust-cond-SecureTransport", "su", assume("{tr_tls}"), NOPERM, ok),
        C("sts-trust-cond-ExternalId-wrong", "su", assume("{tr_ext}", ExternalId="deny-matrix-other"), NOPERM,
          assume("{tr_ext}", ExternalId="deny-matrix-ext")),
        C("sts-trust-cond-ExternalId-missing", "su", assume("{tr_ext}"), NOPERM, assume("{tr_ext}", ExternalId="deny-matrix-ext")),
        C("sts-trust-ecs-only-as-root", "root", assume("{tr_ecs}"), NOPERM, sts("GetCallerIdentity")),
        C("sts-root-may-not-assume", "root", ok, NOPERM, sts("GetCallerIdentity")),
        C("sts-assume-deny-exact", "su", assume("{sd}"), NOPERM, ok),
        C("sts-assume-deny-upper", "su", assume("{sd:upper}"), NOPERM, ok, escape=ESC_CASE),
        C("sts-assume-deny-alt", "su", assume("{sd:alt}"), NOPERM, ok, escape=ESC_CASE),
        C("sts-assume-scoped-other-role", "ssc", assume("{tr_ok2}"), NOPERM, ok),
        C("sts-assume-no-sts-permission", "sno", ok, NOPERM, sts("GetCallerIdentity")),
        C("sts-assume-ram-only-user", "dl", ok, NOPERM, sts("GetCallerIdentity")),
        C("sts-assume-chained-session-policy", "s_chain", ok, NOPERM, sts("GetCallerIdentity")),
        C("sts-chain-SourceIdentity-changed", "s_si", assume("{tr_ok}", SourceIdentity="deny-matrix-other"), NOPERM,
          assume("{tr_ok}", SourceIdentity="deny-matrix-si")),

        C("sts-permanent-key-with-session-token", "su_tok", sts("GetCallerIdentity"), "InvalidSecurityToken.MismatchWithAccessKey",
          sts("GetCallerIdentity"), status=400, ctl_who="su", escape=ESC_TOKEN),
        C("sts-permanent-key-with-garbage-token", "su_junk", sts("GetCallerIdentity"), "InvalidSecurityToken.Malformed",
          sts("GetCallerIdentity"), status=400, ctl_who="su", escape=ESC_TOKEN),

        C("sts-session-get-CreateUser", "rs_get", ram("CreateUser", UserName="{fresh}"), NOPERM, ram("GetRole", RoleName="{okrole}")),
        C("sts-session-get-ListUsers", "rs_get", ram("ListUsers"), NOPERM, ram("ListRoles")),
        C("sts-session-get-DeleteRole", "rs_get", ram("DeleteRole", RoleName="{rz}"), NOPERM, ram("ListRoles")),
        C("sts-session-get-AttachPolicyToRole", "rs_get", ram("AttachPolicyToRole", PolicyType="Custom", PolicyName="{okpol2}", RoleName="{okrole}"),
          NOPERM, ram("GetRole", RoleName="{okrole}")),
        C("sts-session-get-UpdateUser", "rs_get", ram("UpdateUser", UserName="{by}", NewComments="x"), NOPERM, ram("GetUser", UserName="{by}")),
        C("sts-session-deny-role-exact-GetRole", "rs_deny", ram("GetRole", RoleName="{adminrole}"), NOPERM, ram("GetRole", RoleName="{okrole}")),
        C("sts-session-deny-role-upper-GetRole", "rs_deny", ram("GetRole", RoleName="{adminrole:upper}"), NOPERM, ram("GetRole", RoleName="{okrole}"),
          escape=ESC_CASE),
        C("sts-session-deny-user-exact-GetUser", "rs_deny", ram("GetUser", UserName="{vd}"), NOPERM, ram("GetUser", UserName="{by}")),
        C("sts-session-deny-user-upper-GetUser", "rs_deny", ram("GetUser", UserName="{vd:upper}"), NOPERM, ram("GetUser", UserName="{by}"),
          escape=ESC_CASE),
        C("sts-session-widen-CreateGroup", "rs_widen", ram("CreateGroup", GroupName="{fresh}"), NOPERM, ram("ListGroups")),
        C("sts-session-widen-UpdateGroup", "rs_widen", ram("UpdateGroup", GroupName="{okgrp}", NewComments="x"), NOPERM, ram("GetGroup", GroupName="{okgrp}")),
        C("sts-session-widen-CreatePolicy", "rs_widen", ram("CreatePolicy", PolicyName="{fresh}", PolicyDocument="{doc_harmless}"), NOPERM, ram("ListPolicies")),
        C("sts-session-widen-AssumeRole", "rs_widen", ok, NOPERM, sts("GetCallerIdentity")),
        C("sts-session-notaction-ListUsers", "rs_notact", ram("ListUsers"), NOPERM, ram("GetUser", UserName="{by}")),
        C("sts-session-notaction-CreateRole", "rs_notact", ram("CreateRole", RoleName="{fresh}", AssumeRolePolicyDocument="{ecs_trust}"),
          NOPERM, ram("GetRole", RoleName="{okrole}")),
        C("sts-session-cond-SourceIp-ListRoles", "rs_cond", ram("ListRoles"), NOPERM, ram("GetRole", RoleName="{okrole}")),
        C("sts-session-role-without-policies-ListRoles", "rs_none", ram("ListRoles"), NOPERM, sts("GetCallerIdentity")),
    ]


def ecs_cases():
    """ECS actions (Forbidden.RAM) and ram:PassRole (InvalidUser.PassRoleForbidden)."""
    C = Case
    create = lambda **kw: ecs("CreateInstance", ImageId=dm.IMAGE, InstanceType=dm.ITYPE, VSwitchId="{vsw}", **kw)  # noqa: E731
    run = lambda **kw: ecs("RunInstances", ImageId=dm.IMAGE, InstanceType=dm.ITYPE, VSwitchId="{vsw}", Amount=1, **kw)  # noqa: E731
    attach = lambda role, *inst: ecs("AttachInstanceRamRole", RamRoleName=role, InstanceIds=ids(*inst))  # noqa: E731
    describe = ecs("DescribeInstances", InstanceIds=ids("{i1}"))
    describe_roles = ecs("DescribeInstanceRamRole", InstanceIds=ids("{i1}"))
    modify = lambda i: ecs("ModifyInstanceMetadataOptions", InstanceId=i, HttpTokens="optional")  # noqa: E731
    whoami = sts("GetCallerIdentity")
    return [
        C("ecs-none-DescribeInstances", "en", describe, FORBIDDEN, whoami),
        C("ecs-none-DescribeVpcs", "en", ecs("DescribeVpcs"), FORBIDDEN, whoami),
        C("ecs-none-DescribeRegions", "en", ecs("DescribeRegions"), FORBIDDEN, whoami),
        C("ecs-none-CreateInstance", "en", create(), FORBIDDEN, whoami),

        C("ecs-readonly-StartInstance", "ero", ecs("StartInstance", InstanceId="{i1}"), FORBIDDEN, describe),
        C("ecs-readonly-StopInstance", "ero", ecs("StopInstance", InstanceId="{i1}"), FORBIDDEN, describe),
        C("ecs-readonly-DeleteInstance", "ero", ecs("DeleteInstance", InstanceId="{idel}"), FORBIDDEN, describe),
        C("ecs-readonly-CreateInstance", "ero", create(), FORBIDDEN, ecs("DescribeVSwitches", VpcId="{vpc}")),
        C("ecs-readonly-RunInstances", "ero", run(), FORBIDDEN, describe),
        C("ecs-readonly-CreateVpc", "ero", ecs("CreateVpc", CidrBlock="10.78.0.0/16"), FORBIDDEN, ecs("DescribeVpcs")),
        C("ecs-readonly-CreateVSwitch", "ero", ecs("CreateVSwitch", VpcId="{vpc}", ZoneId="cn-hangzhou-h", CidrBlock="10.77.9.0/24"),
          FORBIDDEN, ecs("DescribeVSwitches", VpcId="{vpc}")),
        C("ecs-readonly-ModifyInstanceMetadataOptions", "ero", modify("{i1}"), FORBIDDEN, describe),
        C("ecs-readonly-AttachInstanceRamRole", "ero", attach("{er1}", "{i1}"), FORBIDDEN, describe_roles),
        C("ecs-readonly-DetachInstanceRamRole", "ero", ecs("DetachInstanceRamRole", InstanceIds=ids("{i1}")), FORBIDDEN, describe_roles),

        C("ecs-passrole-missing-AttachInstanceRamRole", "ef", attach("{er1}", "{i1}"), PASSROLE, ecs("DetachInstanceRamRole", InstanceIds=ids("{i2}"))),
        C("ecs-passrole-missing-upper-AttachInstanceRamRole", "ef", attach("{er1:upper}", "{i1}"), PASSROLE, describe_roles),
        C("ecs-passrole-missing-CreateInstance", "ef", create(RamRoleName="{er1}"), PASSROLE, describe),
        C("ecs-passrole-missing-RunInstances", "ef", run(RamRoleName="{er1}"), PASSROLE, describe),
        # the root's ClientToken answer is not handed to a caller who may not pass the role
        C("ecs-passrole-missing-clienttoken-CreateInstance", "ef", create(RamRoleName="{er1}", ClientToken="{fresh}"), PASSROLE, describe,
          setup=[create(RamRoleName="{er1}", ClientToken="{fresh}")],
          cleanup=[ecs("DeleteInstance", InstanceId="{@0.InstanceId}", Force="true")]),
        C("ecs-passrole-scoped-other-AttachInstanceRamRole", "epo", attach("{er2}", "{i1}"), PASSROLE, attach("{er1}", "{i1}")),
        C("ecs-passrole-scoped-other-CreateInstance", "epo", create(RamRoleName="{er2}"), PASSROLE, attach("{er1}", "{i1}")),
        *[C(f"ecs-passrole-deny-{variant}-AttachInstanceRamRole", "epd", attach("{er2:%s}" % variant, "{i1}"), PASSROLE, attach("{er1}", "{i1}"))
          for variant in ("exact", "upper", "alt")],
        *[C(f"ecs-passrole-denyspell-lower-req-{label}-AttachInstanceRamRole", "epd", attach("{erx:%s}" % variant, "{i1}"), PASSROLE,
            attach("{er1}", "{i1}"), escape=ESC_SPELL)
          for label, variant in (("stored", "exact"), ("lower", "lower"), ("upper", "upper"))],
        C("ecs-passrole-denyspell-lower-CreateInstance", "epd", create(RamRoleName="{erx}"), PASSROLE, attach("{er1}", "{i1}"), escape=ESC_SPELL),

        C("ecs-scoped-other-ModifyInstanceMetadataOptions", "esc", modify("{i2}"), FORBIDDEN, modify("{i1}")),
        C("ecs-scoped-other-AttachInstanceRamRole", "esc", attach("{er1}", "{i2}"), FORBIDDEN, attach("{er1}", "{i1}")),
        C("ecs-scoped-mixed-AttachInstanceRamRole", "esc", attach("{er1}", "{i1}", "{i2}"), FORBIDDEN, attach("{er1}", "{i1}")),
        C("ecs-scoped-StartInstance", "esc", ecs("StartInstance", InstanceId="{i1}"), FORBIDDEN, modify("{i1}")),

        C("ecs-deny-wild-DeleteInstance", "edn", ecs("DeleteInstance", InstanceId="{idel}"), FORBIDDEN, describe),
        C("ecs-deny-wild-DeleteVpc", "edn", ecs("DeleteVpc", VpcId="{vpc}"), FORBIDDEN, ecs("DescribeVpcs")),
        C("ecs-deny-resource-StopInstance", "edn", ecs("StopInstance", InstanceId="{i1}"), FORBIDDEN, describe),
        C("ecs-deny-cond-SourceIp-CreateVpc", "edn", ecs("CreateVpc", CidrBlock="10.78.0.0/16"), FORBIDDEN, ecs("DescribeVpcs")),
        C("ecs-deny-cond-SecureTransport-ModifyInstanceMetadataOptions", "edn", modify("{i1}"), FORBIDDEN, describe),
        C("ecs-deny-cond-CurrentTime-RunInstances", "edn", run(), FORBIDDEN, describe),

        C("ecs-notaction-CreateInstance", "ena", create(), FORBIDDEN, describe),
        C("ecs-notaction-DeleteInstance", "ena", ecs("DeleteInstance", InstanceId="{idel}"), FORBIDDEN, describe),
        C("ecs-notaction-CreateVSwitch", "ena", ecs("CreateVSwitch", VpcId="{vpc}", ZoneId="cn-hangzhou-h", CidrBlock="10.77.9.0/24"),
          FORBIDDEN, ecs("DescribeVSwitches", VpcId="{vpc}")),
        C("ecs-notaction-RunInstances", "ena", run(), FORBIDDEN, describe),
        C("ecs-notresource-DeleteInstance", "enr", ecs("DeleteInstance", InstanceId="{idel}"), FORBIDDEN, modify("{i1}")),
        C("ecs-notresource-StartInstance", "enr", ecs("StartInstance", InstanceId="{idel}"), FORBIDDEN, modify("{i1}")),

        C("ecs-session-passrole-AttachInstanceRamRole", "es_op", attach("{er1}", "{i1}"), PASSROLE, describe_roles),
        C("ecs-session-passrole-CreateInstance", "es_op", create(RamRoleName="{er1}"), PASSROLE, describe_roles),
        C("ecs-session-policy-AttachInstanceRamRole", "es_desc", attach("{er1}", "{i1}"), FORBIDDEN, describe),
        C("ecs-session-policy-CreateInstance", "es_desc", create(), FORBIDDEN, describe),
        C("ecs-session-policy-no-passrole-AttachInstanceRamRole", "es_nopass", attach("{er1}", "{i1}"), PASSROLE, describe),
    ] + ecs_resource_cases() + vpc_cases()


def fault_cases():
    """Metadata faults and credential events (rolestack:*, NoPermission): ECS permissions do not
    grant them, and an Allow scoped to one instance does not reach another."""
    C = Case
    own = admin("DescribeInstanceFaults", InstanceId="{i1}")
    inject = lambda i: admin("InjectInstanceFault", InstanceId=i, Fault="Status", Value="500", Path="/nothing-reads-this", Count="1")  # noqa: E731
    actions = [inject("{i1}"), admin("ClearInstanceFaults", InstanceId="{i1}"), own, admin("ListInstanceEvents", InstanceId="{i1}"),
               admin("RotateInstanceCredentials", InstanceId="{i1}"), admin("ExpireInstanceCredentials", InstanceId="{i1}")]
    return [
        *[C(f"faults-none-{a[1]}", "en", a, NOPERM, sts("GetCallerIdentity")) for a in actions],
        *[C(f"faults-ecsfull-{a[1]}", "ef", a, NOPERM, ecs("DescribeInstances", InstanceIds=ids("{i1}"))) for a in actions],
        C("faults-scoped-other-InjectInstanceFault", "rsf", inject("{i2}"), NOPERM, own),
        C("faults-scoped-other-ClearInstanceFaults", "rsf", admin("ClearInstanceFaults", InstanceId="{i2}"), NOPERM, own),
        C("faults-scoped-other-ListInstanceEvents", "rsf", admin("ListInstanceEvents", InstanceId="{i2}"), NOPERM,
          admin("ListInstanceEvents", InstanceId="{i1}")),
        C("faults-scoped-other-DescribeInstanceFaults", "rsf", admin("DescribeInstanceFaults", InstanceId="{i2}"), NOPERM, own),
        C("faults-scoped-unlisted-ExpireInstanceCredentials", "rsf", admin("ExpireInstanceCredentials", InstanceId="{i1}"), NOPERM, own),
        C("faults-scoped-unlisted-RotateInstanceCredentials", "rsf", admin("RotateInstanceCredentials", InstanceId="{i1}"), NOPERM, own),
        *[C(f"instance-creds-trust-deny-{a}", "root", admin(a, InstanceId="{i_trustdeny}"), "InvalidInstance.NoRamRole",
            admin(a, InstanceId="{i_trustok}"), status=404) for a in ("DescribeInstanceCredentials", "RotateInstanceCredentials")],
    ]


def trail_cases():
    """ActionTrail LookupEvents (`actiontrail:LookupEvents`) and RAM DecodeDiagnosticMessage
    (`ram:DecodeDiagnosticMessage`): no grant, other products' grants, an explicit Deny and a
    session policy each refuse; the read-only system policy allows the lookup. A refused
    DecodeDiagnosticMessage is refused before its message is read (garbage gets NoPermission)."""
    C = Case
    lookup = trail("LookupEvents", MaxResults="1")
    decode = ram("DecodeDiagnosticMessage", EncodedDiagnosticMessage="not-a-message")
    whoami = sts("GetCallerIdentity")
    return [
        C("trail-none-LookupEvents", "en", lookup, NOPERM, whoami),
        C("trail-ecsfull-LookupEvents", "ef", lookup, NOPERM, ecs("DescribeInstances", InstanceIds=ids("{i1}"))),
        C("trail-deny-LookupEvents", "atd", lookup, NOPERM, ram("GetAccountAlias")),
        C("trail-session-policy-LookupEvents", "ats", lookup, NOPERM, ram("GetRole", RoleName="{trailrole}")),
        C("trail-readonly-not-ram-CreateUser", "atr", ram("CreateUser", UserName="dm-trail-" + hexs()), NOPERM, lookup),
        C("ram-none-DecodeDiagnosticMessage", "en", decode, NOPERM, whoami),
        C("ram-readonly-DecodeDiagnosticMessage", "atd", decode, NOPERM, ram("GetAccountAlias")),
        C("ram-trailonly-DecodeDiagnosticMessage", "atr", decode, NOPERM, lookup),
    ]


def ecs_resource_cases():
    """Issue 14's ECS actions: security groups (also as CreateInstance's optional resource), tags,
    reboot, images, disks, attributes."""
    C = Case
    rule = lambda sg: ecs("AuthorizeSecurityGroup", SecurityGroupId=sg, IpProtocol="tcp", PortRange="22/22",  # noqa: E731
                          SourceCidrIp="192.0.2.0/24")
    create = lambda sg: ecs("CreateInstance", ImageId=dm.IMAGE, InstanceType=dm.ITYPE, VSwitchId="{vsw}", SecurityGroupId=sg)  # noqa: E731
    tag = lambda i: ecs("TagResources", ResourceType="instance", **{"ResourceId.1": i, "Tag.1.Key": "dm"})  # noqa: E731
    attr = ecs("DescribeInstanceAttribute", InstanceId="{i1}")
    user_data = lambda i: ecs("DescribeUserData", InstanceId=i)  # noqa: E731
    return [
        C("ecs-none-DescribeSecurityGroups", "en", ecs("DescribeSecurityGroups"), FORBIDDEN, sts("GetCallerIdentity")),
        C("ecs-none-DescribeImages", "en", ecs("DescribeImages"), FORBIDDEN, sts("GetCallerIdentity")),
        C("ecs-readonly-CreateSecurityGroup", "ero", ecs("CreateSecurityGroup", VpcId="{vpc}"), FORBIDDEN, ecs("DescribeSecurityGroups")),
        C("ecs-readonly-AuthorizeSecurityGroup", "ero", rule("{sg2}"), FORBIDDEN,
          ecs("DescribeSecurityGroupAttribute", SecurityGroupId="{sg2}")),
        C("ecs-readonly-DeleteSecurityGroup", "ero", ecs("DeleteSecurityGroup", SecurityGroupId="{sg2}"), FORBIDDEN, ecs("DescribeDisks")),
        C("ecs-readonly-ModifyInstanceAttribute", "ero", ecs("ModifyInstanceAttribute", InstanceId="{i1}", Description="dm"), FORBIDDEN, attr),
        C("ecs-readonly-RebootInstance", "ero", ecs("RebootInstance", InstanceId="{i1}"), FORBIDDEN, attr),
        C("ecs-none-DescribeUserData", "en", user_data("{i1}"), FORBIDDEN, sts("GetCallerIdentity")),
        C("ecs-readonly-ModifyInstanceAttribute-UserData", "ero", ecs("ModifyInstanceAttribute", InstanceId="{i1}", UserData="ZG0="),
          FORBIDDEN, user_data("{i1}")),
        C("ecs-deny-resource-DescribeUserData", "erd", user_data("{i1}"), FORBIDDEN, user_data("{i2}")),
        C("ecs-readonly-JoinSecurityGroup", "ero", ecs("JoinSecurityGroup", InstanceId="{i1}", SecurityGroupId="{sg2}"), FORBIDDEN,
          ecs("DescribeInstanceTypes")),
        C("ecs-readonly-TagResources", "ero", tag("{i1}"), FORBIDDEN, ecs("DescribeImages")),
        C("ecs-readonly-UntagResources", "ero", ecs("UntagResources", ResourceType="instance", All=True, **{"ResourceId.1": "{i1}"}),
          FORBIDDEN, ecs("DescribeInstanceTypeFamilies")),
        C("ecs-deny-resource-AuthorizeSecurityGroup", "erd", rule("{sg1}"), FORBIDDEN, rule("{sg2}")),
        C("ecs-deny-optional-resource-CreateInstance", "erd", create("{sg1}"), FORBIDDEN, create("{sg2}")),
        C("ecs-deny-resource-JoinSecurityGroup", "erd", ecs("JoinSecurityGroup", InstanceId="{i2}", SecurityGroupId="{sg1}"), FORBIDDEN,
          ecs("JoinSecurityGroup", InstanceId="{i2}", SecurityGroupId="{sg2}")),
        C("ecs-deny-resource-TagResources", "erd", tag("{i1}"), FORBIDDEN, tag("{i2}")),
        C("ecs-deny-mixed-TagResources", "erd", ecs("TagResources", ResourceType="instance",
                                                    **{"ResourceId.1": "{i2}", "ResourceId.2": "{i1}", "Tag.1.Key": "dm"}), FORBIDDEN, tag("{i2}")),
        C("ecs-deny-RebootInstance", "erd", ecs("RebootInstance", InstanceId="{i1}"), FORBIDDEN, attr),
        C("ecs-deny-DescribeImages", "erd", ecs("DescribeImages"), FORBIDDEN, ecs("DescribeInstanceTypes")),
        C("ecs-deny-region-DescribeDisks", "erd", ecs("DescribeDisks", RegionId="cn-shanghai"), FORBIDDEN, ecs("DescribeDisks")),
        C("ecs-session-policy-CreateSecurityGroup", "es_desc", ecs("CreateSecurityGroup", VpcId="{vpc}"), FORBIDDEN, ecs("DescribeSecurityGroups")),
        *key_pair_cases(),
    ]


def key_pair_cases():
    """SSH key pairs: one case per action (acs:ecs:<region>:<account>:keypair/<name>), and
    KeyPairName as CreateInstance's / RunInstances' optional resource."""
    C = Case
    kp = lambda action, name, **kw: ecs(action, KeyPairName=name, **kw)  # noqa: E731
    attach = lambda name, i: kp("AttachKeyPair", name, InstanceIds=ids(i))  # noqa: E731
    create = lambda name: ecs("CreateInstance", ImageId=dm.IMAGE, InstanceType=dm.ITYPE, VSwitchId="{vsw}", KeyPairName=name)  # noqa: E731
    run = lambda name: ecs("RunInstances", ImageId=dm.IMAGE, InstanceType=dm.ITYPE, VSwitchId="{vsw}", KeyPairName=name)  # noqa: E731
    listed = ecs("DescribeKeyPairs")
    return [
        C("ecs-none-DescribeKeyPairs", "en", listed, FORBIDDEN, sts("GetCallerIdentity")),
        C("ecs-readonly-CreateKeyPair", "ero", kp("CreateKeyPair", "dmkp{fresh}"), FORBIDDEN, listed),
        C("ecs-readonly-ImportKeyPair", "ero", kp("ImportKeyPair", "dmkp{fresh}", PublicKeyBody=PUBLIC_KEY), FORBIDDEN, listed),
        C("ecs-readonly-DeleteKeyPairs", "ero", ecs("DeleteKeyPairs", KeyPairNames=ids("{kp2}")), FORBIDDEN, listed),
        C("ecs-readonly-AttachKeyPair", "ero", attach("{kp2}", "{i2}"), FORBIDDEN, listed),
        C("ecs-deny-resource-CreateKeyPair", "erd", kp("CreateKeyPair", "dmkpx{fresh}"), FORBIDDEN, kp("CreateKeyPair", "dmkpy{fresh}")),
        C("ecs-deny-resource-ImportKeyPair", "erd", kp("ImportKeyPair", "dmkpx{fresh}", PublicKeyBody=PUBLIC_KEY), FORBIDDEN,
          kp("ImportKeyPair", "dmkpy{fresh}", PublicKeyBody=PUBLIC_KEY)),
        C("ecs-deny-mixed-DeleteKeyPairs", "erd", ecs("DeleteKeyPairs", KeyPairNames=ids("{kp2}", "{kp1}")), FORBIDDEN, listed),
        C("ecs-deny-resource-AttachKeyPair", "erd", attach("{kp1}", "{i2}"), FORBIDDEN, attach("{kp2}", "{i2}")),
        C("ecs-deny-resource-DetachKeyPair", "erd", kp("DetachKeyPair", "{kp1}", InstanceIds=ids("{i2}")), FORBIDDEN,
          kp("DescribeKeyPairs", "{kp1}")),
        C("ecs-deny-optional-resource-CreateInstance-KeyPairName", "erd", create("{kp1}"), FORBIDDEN, create("{kp2}")),
        C("ecs-deny-optional-resource-RunInstances-KeyPairName", "erd", run("{kp1}"), FORBIDDEN, run("{kp2}")),
        C("ecs-session-policy-CreateKeyPair", "es_desc", kp("CreateKeyPair", "dmkp{fresh}"), FORBIDDEN, listed),
    ]


def vpc_cases():
    """VPC 2016-04-28 (vpc:* actions, acs:vpc ARNs): Forbidden.RAM, 403."""
    C = Case
    return [
        C("vpc-none-DescribeVpcs", "en", vpc("DescribeVpcs"), FORBIDDEN, sts("GetCallerIdentity")),
        C("vpc-ecsfull-CreateVpc", "ef", vpc("CreateVpc", CidrBlock="10.79.0.0/16"), FORBIDDEN, vpc("DescribeVpcs")),
        C("vpc-ecsfull-DescribeVpcAttribute", "ef", vpc("DescribeVpcAttribute", VpcId="{vpc}"), FORBIDDEN, vpc("DescribeVSwitches")),
        C("vpc-ecs-action-does-not-grant-vpc", "edn", vpc("CreateVSwitch", VpcId="{vpc2}", ZoneId="cn-hangzhou-h", CidrBlock="10.78.9.0/24"),
          FORBIDDEN, ecs("DescribeVSwitches", VpcId="{vpc2}")),
        C("vpc-readonly-CreateVpc", "vro", vpc("CreateVpc", CidrBlock="10.79.0.0/16"), FORBIDDEN, vpc("DescribeVpcAttribute", VpcId="{vpc}")),
        C("vpc-readonly-ModifyVpcAttribute", "vro", vpc("ModifyVpcAttribute", VpcId="{vpc}", Description="dm"), FORBIDDEN,
          vpc("DescribeVSwitchAttributes", VSwitchId="{vsw}")),
        C("vpc-readonly-DeleteVSwitch", "vro", vpc("DeleteVSwitch", VSwitchId="{vsw}"), FORBIDDEN, vpc("DescribeVSwitches", VpcId="{vpc}")),
        C("vpc-scoped-other-ModifyVpcAttribute", "vsc", vpc("ModifyVpcAttribute", VpcId="{vpc2}", Description="dm"), FORBIDDEN,
          vpc("ModifyVpcAttribute", VpcId="{vpc}", Description="dm")),
        C("vpc-scoped-other-DescribeVpcAttribute", "vsc", vpc("DescribeVpcAttribute", VpcId="{vpc2}"), FORBIDDEN,
          vpc("DescribeVpcAttribute", VpcId="{vpc}")),
        C("vpc-deny-wild-DeleteVpc", "vdn", vpc("DeleteVpc", VpcId="{vpc2}"), FORBIDDEN, vpc("DescribeVpcs")),
        C("vpc-deny-wild-DeleteVSwitch", "vdn", vpc("DeleteVSwitch", VSwitchId="{vsw}"), FORBIDDEN, vpc("DescribeVSwitches")),
        C("vpc-deny-resource-CreateVSwitch", "vdn", vpc("CreateVSwitch", VpcId="{vpc}", ZoneId="cn-hangzhou-h", CidrBlock="10.77.9.0/24"),
          FORBIDDEN, vpc("DescribeVpcAttribute", VpcId="{vpc}")),
        C("vpc-session-policy-CreateVpc", "es_desc", vpc("CreateVpc", CidrBlock="10.79.0.0/16"), FORBIDDEN, ecs("DescribeVpcs")),
    ]


def oss_cases():
    """OSS: RAM policies, conditions (incl. oss:Prefix), NotAction/NotResource, bucket policies,
    role sessions against bucket-policy grants, anonymous access."""
    C = Case
    get_pub = oss("GetObject", "{bm}", "data/pub/a.txt")
    put_ok = oss("PutObject", "{bm}", "ok/{fresh}")
    bp_pub = oss("GetObject", "{bp}", "pub/a.txt")
    out = [
        C("oss-none-GetObject", "on", oss("GetObject", "{bm}", "data/pub/a.txt"), DENIED, bp_pub),
        C("oss-none-HeadObject", "on", oss("HeadObject", "{bm}", "data/pub/a.txt"), DENIED, bp_pub),
        C("oss-none-ListObjects", "on", oss("ListObjects", "{bm}"), DENIED, oss("ListObjects", "{bp}", prefix="pub/")),
        C("oss-none-ListBuckets", "on", oss("ListBuckets"), DENIED, bp_pub),
        C("oss-none-GetBucketInfo", "on", oss("GetBucketInfo", "{bm}"), DENIED, bp_pub),
        C("oss-none-PutBucket", "on", oss("PutBucket", "{fresh}"), DENIED, bp_pub),
        C("oss-bucketpolicy-prefix-empty-ListObjects", "on", oss("ListObjects", "{bp}"), DENIED, oss("ListObjects", "{bp}", prefix="pub/")),
        C("oss-bucketpolicy-prefix-secret-ListObjects", "on", oss("ListObjects", "{bp}", prefix="secret/"), DENIED,
          oss("ListObjects", "{bp}", prefix="pub/")),
        C("oss-bucketpolicy-getonly-PutObject", "on", oss("PutObject", "{bp}", "pub/new.txt"), DENIED, bp_pub),
        C("oss-bucketpolicy-outside-GetObject", "on", oss("GetObject", "{bp}", "secret/s.txt"), DENIED, bp_pub),

        C("oss-readonly-PutObject", "oro", oss("PutObject", "{bm}", "data/pub/new.txt"), DENIED, get_pub),
        C("oss-session-key-without-token-GetObject", "os_full_notoken", get_pub, "InvalidAccessKeyId", get_pub, ctl_who="os_full",
          ec="0002-00000003"),
        C("oss-session-token-twice-PresignGet", "os_full", presign("{bm}", "data/pub/a.txt", 3600, auth="v1", token_header=True),
          "InvalidArgument", presign("{bm}", "data/pub/a.txt", 3600, auth="v1"), ec="0002-00000010", status=400),
        C("oss-readonly-DeleteObject", "oro", oss("DeleteObject", "{bm}", "data/pub/a.txt"), DENIED, get_pub),
        C("oss-readonly-PutObjectAcl", "oro", oss("PutObjectAcl", "{bm}", "data/pub/a.txt", acl="public-read"), DENIED,
          oss("GetObjectAcl", "{bm}", "data/pub/a.txt")),
        C("oss-readonly-PutBucketAcl", "oro", oss("PutBucketAcl", "{bm}", acl="public-read"), DENIED, oss("GetBucketAcl", "{bm}")),
        C("oss-readonly-PutBucketPolicy", "oro", oss("PutBucketPolicy", "{bm}", policy='{"Version":"1","Statement":[{"Effect":"Allow",'
                                                                                      '"Action":["oss:*"],"Principal":["*"],"Resource":["*"]}]}'),
          DENIED, oss("ListObjects", "{bm}")),
        C("oss-readonly-DeleteBucketPolicy", "oro", oss("DeleteBucketPolicy", "{bp}"), DENIED, oss("GetBucketPolicy", "{bp}")),
        C("oss-readonly-DeleteBucket", "oro", oss("DeleteBucket", "{bx}"), DENIED, oss("GetBucketInfo", "{bx}")),
        C("oss-readonly-PutBucket", "oro", oss("PutBucket", "{fresh}"), DENIED, oss("ListBuckets")),
        C("oss-readonly-InitiateMultipartUpload", "oro", oss("InitiateMultipartUpload", "{bm}", "mp/x"), DENIED, get_pub),
        C("oss-readonly-PutObjectTagging", "oro", oss("PutObjectTagging", "{bm}", "data/pub/a.txt", tags={"k": "v"}), DENIED,
          oss("GetObjectTagging", "{bm}", "data/pub/a.txt")),
        C("oss-readonly-DeleteObjectTagging", "oro", oss("DeleteObjectTagging", "{bm}", "data/pub/a.txt"), DENIED,
          oss("GetObjectTagging", "{bm}", "data/pub/a.txt")),
        C("oss-readonly-PutBucketLifecycle", "oro", oss("PutBucketLifecycle", "{bm}"), DENIED, oss("GetBucketInfo", "{bm}")),
        # Bucket settings: AliyunOSSReadOnlyAccess reads them (oss:Get*), never changes them.
        C("oss-readonly-PutBucketEncryption", "oro", oss("PutBucketEncryption", "{bm}"), DENIED, oss("GetBucketStat", "{bm}")),
        C("oss-readonly-DeleteBucketEncryption", "oro", oss("DeleteBucketEncryption", "{bm}"), DENIED, oss("GetBucketLogging", "{bm}")),
        C("oss-readonly-PutBucketLogging", "oro", oss("PutBucketLogging", "{bm}"), DENIED, oss("GetBucketLogging", "{bm}")),
        C("oss-readonly-DeleteBucketLogging", "oro", oss("DeleteBucketLogging", "{bm}"), DENIED, oss("GetBucketStat", "{bm}")),
        C("oss-readonly-PutBucketStorageCapacity", "oro", oss("PutBucketStorageCapacity", "{bm}"), DENIED,
          oss("GetBucketStorageCapacity", "{bm}")),
        C("oss-readonly-PutBucketResourceGroup", "oro", oss("PutBucketResourceGroup", "{bm}", group="rg-dm1"), DENIED,
          oss("GetBucketResourceGroup", "{bm}")),
        C("oss-none-GetBucketStat", "on", oss("GetBucketStat", "{bm}"), DENIED, bp_pub),
        C("oss-readonly-PutSymlink", "oro", oss("PutSymlink", "{bm}", "data/pub/link", target="data/pub/a.txt"), DENIED,
          oss("GetObject", "{bm}", "data/pub/a.txt")),
        C("oss-none-GetObject-x-oss-process", "on", oss("GetObjectProcess", "{bm}", "data/pub/a.txt", process="image/resize,w_10"),
          DENIED, bp_pub),
        C("oss-readonly-RestoreObject", "oro", oss("RestoreObject", "{bm}", "data/pub/a.txt"), DENIED,
          oss("HeadObject", "{bm}", "data/pub/a.txt")),
        C("oss-readonly-PutBucketTagging", "oro", oss("PutBucketTagging", "{bm}", tags={"k": "v"}), DENIED,
          oss("GetBucketTagging", "{bm}")),
        # oss:ExistingObjectTag/<key>: the object's own tags decide; retagging it changes the answer.
        C("oss-existing-tag-GetObject", "otag", oss("GetObject", "{bm}", "tagged/{fresh}"), DENIED,
          oss("GetObject", "{bm}", "tagged/pub-{fresh}"),
          setup=[oss("PutObject", "{bm}", "tagged/{fresh}", tagging="class=secret"),
                 oss("PutObject", "{bm}", "tagged/pub-{fresh}", tagging="class=public")]),
        C("oss-existing-tag-untagged-GetObject", "otag", oss("GetObject", "{bm}", "data/pub/a.txt"), DENIED,
          oss("GetObjectTagging", "{bm}", "data/pub/a.txt")),
        C("oss-readonly-CopyObject", "oro", oss("CopyObject", "{bm}", "copy/x", src="data/pub/a.txt"), DENIED, get_pub),
        # A request naming a version (versionId) needs the *Version* action; the same request
        # without one is the control.
        C("oss-noversion-GetObjectVersion", "onv", oss("GetObject", "{bv}", "v/a.txt", version="{bv_v1}"), DENIED,
          oss("GetObject", "{bv}", "v/a.txt")),
        C("oss-noversion-HeadObjectVersion", "onv", oss("HeadObject", "{bv}", "v/a.txt", version="{bv_v1}"), DENIED,
          oss("HeadObject", "{bv}", "v/a.txt")),
        C("oss-noversion-DeleteObjectVersion", "onv", oss("DeleteObject", "{bv}", "v/a.txt", version="{bv_v1}"), DENIED,
          oss("DeleteObject", "{bv}", "tmp/{fresh}"), setup=[oss("PutObject", "{bv}", "tmp/{fresh}")]),
        C("oss-noversion-GetObjectVersionAcl", "onv", oss("GetObjectAcl", "{bv}", "v/a.txt", version="{bv_v1}"), DENIED,
          oss("GetObjectAcl", "{bv}", "v/a.txt")),
        C("oss-noversion-PutObjectVersionAcl", "onv", oss("PutObjectAcl", "{bv}", "v/a.txt", version="{bv_v1}", acl="public-read"), DENIED,
          oss("PutObjectAcl", "{bv}", "v/a.txt", acl="private")),
        C("oss-noversion-GetObjectVersionTagging", "onv", oss("GetObjectTagging", "{bv}", "v/a.txt", version="{bv_v1}"), DENIED,
          oss("GetObjectTagging", "{bv}", "v/a.txt")),
        C("oss-noversion-PutObjectVersionTagging", "onv", oss("PutObjectTagging", "{bv}", "v/a.txt", version="{bv_v1}", tags={"k": "v"}),
          DENIED, oss("PutObjectTagging", "{bv}", "v/a.txt", tags={"k": "v"})),
        C("oss-noversion-DeleteObjectVersionTagging", "onv", oss("DeleteObjectTagging", "{bv}", "v/a.txt", version="{bv_v1}"), DENIED,
          oss("DeleteObjectTagging", "{bv}", "v/a.txt")),
        C("oss-noversion-CopyObject-source-version", "onv", oss("CopyObject", "{bv}", "copy/{fresh}", src="v/a.txt", version="{bv_v1}"),
          DENIED, oss("CopyObject", "{bv}", "copy/{fresh}", src="v/a.txt")),
        C("oss-noversion-ListObjectVersions", "onv", oss("ListObjectVersions", "{bv}"), DENIED, oss("ListObjects", "{bv}")),
        C("oss-noversion-GetBucketVersioning", "onv", oss("GetBucketVersioning", "{bv}"), DENIED, oss("GetBucketInfo", "{bv}")),
        C("oss-readonly-PutBucketVersioning", "oro", oss("PutBucketVersioning", "{bv}", status="Suspended"), DENIED,
          oss("GetBucketVersioning", "{bv}")),
        C("oss-readonly-DeleteObjectVersion", "oro", oss("DeleteObject", "{bv}", "v/a.txt", version="{bv_v1}"), DENIED,
          oss("GetObject", "{bv}", "v/a.txt", version="{bv_v1}")),

        C("oss-deny-resource-GetObject", "of", oss("GetObject", "{bm}", "secret/c.txt"), DENIED, oss("GetObject", "{bm}", "data/priv/b.txt")),
        C("oss-deny-resource-DeleteObject", "of", oss("DeleteObject", "{bm}", "logs/l.txt"), DENIED, oss("DeleteObject", "{bm}", "tmp/{fresh}"),
          setup=[oss("PutObject", "{bm}", "tmp/{fresh}")]),
        C("oss-deny-bucket-PutBucketPolicy", "of", oss("PutBucketPolicy", "{bm}", policy='{"Version":"1","Statement":[]}'), DENIED,
          oss("GetBucketAcl", "{bm}")),
        C("oss-deny-otherbucket-GetObject", "of", oss("GetObject", "{bx}", "x.txt"), DENIED, get_pub),
        C("oss-deny-otherbucket-PutObject", "of", oss("PutObject", "{bx}", "new.txt"), DENIED, put_ok),
        C("oss-deny-otherbucket-ListObjects", "of", oss("ListObjects", "{bx}"), DENIED, oss("ListObjects", "{bm}")),

        C("oss-bucketpolicy-deny-userid-GetObject", "of", oss("GetObject", "{bp}", "secret/s.txt"), DENIED, bp_pub),
        C("oss-bucketpolicy-deny-star-PutObject", "of", oss("PutObject", "{bp}", "locked/new.txt"), DENIED, oss("PutObject", "{bp}", "open/{fresh}")),
        C("oss-bucketpolicy-deny-SecureTransport-DeleteObject", "of", oss("DeleteObject", "{bp}", "nodel/n.txt"), DENIED,
          oss("PutObject", "{bp}", "open/{fresh}")),
        C("oss-bucketpolicy-deny-user-upper-GetObject", "ocase", oss("GetObject", "{bp}", "case/c.txt"), DENIED, bp_pub, escape=ESC_PRINCIPAL),
        C("oss-bucketpolicy-deny-user-exact-GetObject", "ocase", oss("GetObject", "{bp}", "case4/c.txt"), DENIED, bp_pub),
        C("oss-bucketpolicy-deny-stsarn-upper-GetObject", "os_full", oss("GetObject", "{bp}", "case/c.txt"), DENIED, bp_pub, escape=ESC_PRINCIPAL),
        C("oss-bucketpolicy-deny-rolearn-upper-GetObject", "os_full", oss("GetObject", "{bp}", "case2/c.txt"), DENIED, bp_pub),
        C("oss-bucketpolicy-deny-stsarn-exact-GetObject", "os_full", oss("GetObject", "{bp}", "case3/c.txt"), DENIED, bp_pub),

        C("oss-prefix-priv-ListObjects", "op", oss("ListObjects", "{bm}", prefix="data/priv/"), DENIED, oss("ListObjects", "{bm}", prefix="data/pub/")),
        C("oss-prefix-empty-ListObjects", "op", oss("ListObjects", "{bm}"), DENIED, oss("ListObjects", "{bm}", prefix="data/pub/")),
        C("oss-prefix-parent-ListObjects", "op", oss("ListObjects", "{bm}", prefix="data/"), DENIED, oss("ListObjects", "{bm}", prefix="data/pub/")),
        C("oss-prefix-secret-ListObjectsV2", "op", oss("ListObjectsV2", "{bm}", prefix="secret/"), DENIED, oss("ListObjectsV2", "{bm}", prefix="data/pub/")),
        C("oss-prefix-GetObject-priv", "op", oss("GetObject", "{bm}", "data/priv/b.txt"), DENIED, get_pub),

        C("oss-cond-deny-SecureTransport-GetObject", "oc", oss("GetObject", "{bm}", "secret/c.txt"), DENIED, get_pub),
        C("oss-cond-deny-SourceIp-PutObject", "oc", oss("PutObject", "{bm}", "up/x.txt"), DENIED, put_ok),
        C("oss-cond-deny-CurrentTime-DeleteObject", "oc", oss("DeleteObject", "{bm}", "data/pub/a.txt"), DENIED, put_ok),
        C("oss-cond-deny-Prefix-ListObjects", "oc", oss("ListObjects", "{bm}", prefix="secret/"), DENIED, oss("ListObjects", "{bm}", prefix="data/")),
        C("oss-cond-deny-Delimiter-ListObjects", "oc", oss("ListObjects", "{bm}", delimiter="|"), DENIED, oss("ListObjects", "{bm}", delimiter="/")),
        C("oss-cond-deny-UserAgent-GetBucketAcl", "oc", oss("GetBucketAcl", "{bm}"), DENIED, oss("GetBucketInfo", "{bm}")),
        C("oss-cond-deny-PrincipalARN-GetObject", "oc", oss("GetObject", "{bm}", "logs/l.txt"), DENIED, get_pub),
        C("oss-cond-allow-SourceIp-GetObject", "oca", get_pub, DENIED, oss("GetBucketInfo", "{bm}")),
        C("oss-cond-allow-CurrentTime-ListObjects", "oca", oss("ListObjects", "{bm}"), DENIED, oss("GetBucketInfo", "{bm}")),
        C("oss-cond-allow-SecureTransport-PutObject", "oca", oss("PutObject", "{bm}", "ok/x.txt"), DENIED, oss("GetBucketInfo", "{bm}")),

        C("oss-notaction-PutObject", "ona", oss("PutObject", "{bm}", "ok/x.txt"), DENIED, get_pub),
        C("oss-notaction-DeleteObject", "ona", oss("DeleteObject", "{bm}", "data/pub/a.txt"), DENIED, get_pub),
        C("oss-notaction-PutBucketAcl", "ona", oss("PutBucketAcl", "{bm}", acl="public-read"), DENIED, oss("GetBucketAcl", "{bm}")),
        C("oss-notresource-GetObject", "onr", oss("GetObject", "{bm}", "secret/c.txt"), DENIED, get_pub),
        C("oss-notresource-otherbucket-GetObject", "onr", oss("GetObject", "{bx}", "x.txt"), DENIED, get_pub),
        C("oss-denynotresource-GetObject", "odnr", oss("GetObject", "{bx}", "x.txt"), DENIED, get_pub),
        C("oss-denynotresource-PutObject", "odnr", oss("PutObject", "{bx}", "new.txt"), DENIED, put_ok),
        C("oss-wild-resource-qmark-GetObject", "ow", oss("GetObject", "{bm}", "data/priv/b.txt"), DENIED, get_pub),
        C("oss-wild-action-GetBucketAcl", "ow", oss("GetBucketAcl", "{bm}"), DENIED, oss("GetBucketInfo", "{bm}")),
        C("oss-wild-action-PutObjectAcl", "ow", oss("PutObjectAcl", "{bm}", "data/pub/a.txt", acl="public-read"), DENIED, get_pub),
        C("oss-wild-actioncase-DeleteObject", "ow", oss("DeleteObject", "{bm}", "data/pub/a.txt"), DENIED, get_pub),

        C("oss-session-narrow-PutObject", "os_narrow", oss("PutObject", "{bm}", "data/new.txt"), DENIED, get_pub),
        C("oss-session-narrow-GetObject-secret", "os_narrow", oss("GetObject", "{bm}", "secret/c.txt"), DENIED, get_pub),
        C("oss-session-narrow-DeleteObject", "os_narrow", oss("DeleteObject", "{bm}", "data/pub/a.txt"), DENIED, get_pub),
        C("oss-session-narrow-GetObject-otherbucket", "os_narrow", oss("GetObject", "{bx}", "x.txt"), DENIED, get_pub),

        C("oss-anon-GetObject-private", "anon", get_pub, DENIED, bp_pub),
        C("oss-anon-PutObject", "anon", oss("PutObject", "{bp}", "pub/new.txt"), DENIED, bp_pub),
        C("oss-anon-ListObjects", "anon", oss("ListObjects", "{bp}", prefix="pub/"), DENIED, bp_pub),
        C("oss-anon-GetObject-outside", "anon", oss("GetObject", "{bp}", "secret/s.txt"), DENIED, bp_pub),
        C("oss-anon-DeleteObject", "anon", oss("DeleteObject", "{bp}", "pub/a.txt"), DENIED, bp_pub),
        C("oss-anon-ListBuckets", "anon", oss("ListBuckets"), DENIED, bp_pub),
        # OSS sets no response header for an anonymous GET, even of an object it may read.
        C("oss-anon-GetObject-response-override", "anon", oss("GetObject", "{bp}", "pub/a.txt", params={"response-content-type": "text/html"}),
          "InvalidRequest", bp_pub, status=400),

        # LiveChannels (issue 15): oss:PutLiveChannel etc. on <bucket>/<channel>, ListLiveChannel on
        # the bucket; read-only access reads them, never writes; a bucket policy granting
        # GetObject or an Allow elsewhere grants none of them.
        C("oss-readonly-PutLiveChannel", "oro", oss("PutLiveChannel", "{bm}", "live-{fresh}"), DENIED, oss("ListLiveChannel", "{bm}")),
        C("oss-readonly-PutLiveChannelStatus", "oro", oss("PutLiveChannelStatus", "{bm}", "live-{fresh}"), DENIED,
          oss("GetLiveChannelInfo", "{bm}", "live-{fresh}"),
          setup=[oss("PutLiveChannel", "{bm}", "live-{fresh}")], cleanup=[oss("DeleteLiveChannel", "{bm}", "live-{fresh}")]),
        C("oss-readonly-DeleteLiveChannel", "oro", oss("DeleteLiveChannel", "{bm}", "live-{fresh}"), DENIED,
          oss("GetLiveChannelStat", "{bm}", "live-{fresh}"),
          setup=[oss("PutLiveChannel", "{bm}", "live-{fresh}")], cleanup=[oss("DeleteLiveChannel", "{bm}", "live-{fresh}")]),
        C("oss-none-ListLiveChannel", "on", oss("ListLiveChannel", "{bm}"), DENIED, bp_pub),
        C("oss-none-GetLiveChannelInfo", "on", oss("GetLiveChannelInfo", "{bm}", "live-{fresh}"), DENIED, bp_pub,
          setup=[oss("PutLiveChannel", "{bm}", "live-{fresh}")], cleanup=[oss("DeleteLiveChannel", "{bm}", "live-{fresh}")]),
        C("oss-full-denied-bucket-PutLiveChannel", "of", oss("PutLiveChannel", "{bx}", "live-{fresh}"), DENIED,
          oss("PutLiveChannel", "{bm}", "live-{fresh}")),
        C("oss-anon-PutLiveChannel", "anon", oss("PutLiveChannel", "{bp}", "pub"), DENIED, bp_pub),
        C("oss-anon-ListLiveChannel", "anon", oss("ListLiveChannel", "{bp}"), DENIED, bp_pub),

        # Browser rules (issue 15): managing them is authorized like any bucket configuration; CORS
        # never grants; referer rules refuse anonymous and presigned requests a policy allows.
        C("oss-readonly-PutBucketCors", "oro", oss("PutBucketCors", "{bm}"), DENIED, oss("GetBucketInfo", "{bm}")),
        C("oss-readonly-DeleteBucketCors", "oro", oss("DeleteBucketCors", "{bm}"), DENIED, oss("GetBucketInfo", "{bm}")),
        C("oss-readonly-PutBucketReferer", "oro", oss("PutBucketReferer", "{bm}", allow_empty=False, referers=["http://x.test"]), DENIED,
          oss("GetBucketInfo", "{bm}")),
        C("oss-anon-cors-does-not-grant-PutObject", "anon",
          oss("PutObject", "{bp}", "pub/cors.txt", headers={"Origin": "http://app.test"}), DENIED, bp_pub,
          setup=[oss("PutBucketCors", "{bp}", origins=["*"], methods=["GET", "PUT", "POST", "DELETE", "HEAD"])],
          cleanup=[oss("DeleteBucketCors", "{bp}")]),
        C("oss-anon-referer-empty-GetObject", "anon", bp_pub, DENIED,
          oss("GetObject", "{bp}", "pub/a.txt", headers={"Referer": "http://allowed.test"}),
          setup=[oss("PutBucketReferer", "{bp}", allow_empty=False, referers=["http://allowed.test"])],
          cleanup=[oss("PutBucketReferer", "{bp}")], ec="0003-00000501"),
        C("oss-anon-referer-other-GetObject", "anon", oss("GetObject", "{bp}", "pub/a.txt", headers={"Referer": "http://other.test"}),
          DENIED, oss("GetObject", "{bp}", "pub/a.txt", headers={"Referer": "http://allowed.test"}),
          setup=[oss("PutBucketReferer", "{bp}", allow_empty=False, referers=["http://allowed.test"])],
          cleanup=[oss("PutBucketReferer", "{bp}")], ec="0003-00000503"),
        C("oss-presign-referer-GetObject", "root", presign("{bp}", "pub/a.txt", 3600), DENIED, bp_pub,
          setup=[oss("PutBucketReferer", "{bp}", allow_empty=False, referers=["http://allowed.test"])],
          cleanup=[oss("PutBucketReferer", "{bp}")], ec="0003-00000501"),
    ]
    # Escape 3: the session policy allows only GetObject on <bucket>/data/pub/*; the bucket policy
    # allows the role (role ARN in bs1, assumed-role ARN in bs2) PutObject and GetObject.
    for b, form in (("bs1", "rolearn"), ("bs2", "stsarn")):
        ctl = oss("GetObject", "{%s}" % b, "data/pub/a.txt")
        out += [
            C(f"oss-session-bucketpolicy-{form}-PutObject-pub", "os_sess", oss("PutObject", "{%s}" % b, "data/pub/new.txt"), DENIED, ctl,
              escape=ESC_SESSION),
            C(f"oss-session-bucketpolicy-{form}-PutObject-priv", "os_sess", oss("PutObject", "{%s}" % b, "data/priv/new.txt"), DENIED, ctl,
              escape=ESC_SESSION),
            C(f"oss-session-bucketpolicy-{form}-PutObject-top", "os_sess", oss("PutObject", "{%s}" % b, "top.txt"), DENIED, ctl, escape=ESC_SESSION),
            C(f"oss-session-bucketpolicy-{form}-GetObject-priv", "os_sess", oss("GetObject", "{%s}" % b, "data/priv/b.txt"), DENIED, ctl,
              escape=ESC_SESSION),
            C(f"oss-session-bucketpolicy-{form}-DeleteObject", "os_sess", oss("DeleteObject", "{%s}" % b, "data/pub/a.txt"), DENIED, ctl),
            C(f"oss-session-bucketpolicy-{form}-ListObjects", "os_sess", oss("ListObjects", "{%s}" % b), DENIED, ctl),
        ]
    # the same with a bucket policy that grants the role oss:PutObject only
    ctl = oss("GetObject", "{bs3}", "data/pub/a.txt")
    out += [
        C("oss-session-bucketpolicy-putonly-PutObject-pub", "os_sess", oss("PutObject", "{bs3}", "data/pub/new.txt"), DENIED, ctl,
          escape=ESC_SESSION),
        C("oss-session-bucketpolicy-putonly-PutObject-priv", "os_sess", oss("PutObject", "{bs3}", "data/priv/new.txt"), DENIED, ctl,
          escape=ESC_SESSION),
        C("oss-session-bucketpolicy-putonly-GetObject-priv", "os_sess", oss("GetObject", "{bs3}", "data/priv/b.txt"), DENIED, ctl),
    ]
    return out


def presign_cases():
    """oss2 presigned URLs fetched with requests: V4 lifetime above 7 days (escape 4), unauthorised URLs."""
    C = Case
    week, eight = dm.WEEK, 8 * DAY
    ec = dm.PRESIGN_TOO_LONG_EC
    return [
        C("oss-presign-v4-8days-root", "root", presign("{bm}", "data/pub/a.txt", eight), DENIED,
          presign("{bm}", "data/pub/a.txt", week), ec=ec, escape=ESC_PRESIGN),
        C("oss-presign-providerv4-8days-root", "root", presign("{bm}", "data/pub/a.txt", eight, auth="provider_v4"), DENIED,
          presign("{bm}", "data/pub/a.txt", week, auth="provider_v4"), ec=ec, escape=ESC_PRESIGN),
        C("oss-presign-v4-week-plus-1s-root", "root", presign("{bm}", "data/pub/a.txt", week + 1), DENIED,
          presign("{bm}", "data/pub/a.txt", week), ec=ec, escape=ESC_PRESIGN),
        C("oss-presign-v4-8days-ramuser", "oro", presign("{bm}", "data/pub/a.txt", eight), DENIED,
          presign("{bm}", "data/pub/a.txt", week), ec=ec, escape=ESC_PRESIGN),
        C("oss-presign-v4-8days-session", "os_narrow", presign("{bm}", "data/pub/a.txt", eight), DENIED,
          presign("{bm}", "data/pub/a.txt", week), ec=ec, escape=ESC_PRESIGN),
        C("oss-presign-v4-unauthorised-GetObject", "on", presign("{bm}", "data/pub/a.txt", 3600), DENIED, presign("{bp}", "pub/a.txt", 3600)),
        C("oss-presign-v1-unauthorised-GetObject", "on", presign("{bm}", "data/pub/a.txt", 3600, auth="v1"), DENIED,
          presign("{bp}", "pub/a.txt", 3600, auth="v1")),
        C("oss-presign-v4-readonly-PutObject", "oro", presign("{bm}", "up/x.txt", 3600, method="PUT"), DENIED, presign("{bm}", "data/pub/a.txt", 3600)),
        C("oss-presign-v1-readonly-PutObject", "oro", presign("{bm}", "up/x.txt", 3600, auth="v1", method="PUT"), DENIED,
          presign("{bm}", "data/pub/a.txt", 3600, auth="v1")),
    ]


def post_object_cases():
    """PostObject (browser forms) is authorized as PutObject and refused for its own reasons."""
    C = Case
    ok = post_form("{bm}", "up/{fresh}.txt", prefix="up/")
    return [
        C("oss-post-readonly-session-v4", "os_narrow", post_form("{bm}", "data/{fresh}.txt", sig="v4"), DENIED,
          post_form("{bm}", "data/{fresh}.txt", sig="v4"), ctl_who="os_full"),
        C("oss-post-readonly-ramuser-v1", "oro", post_form("{bm}", "up/{fresh}.txt"), DENIED, ok, ctl_who="root"),
        C("oss-post-forged-v1", "root", post_form("{bm}", "up/{fresh}.txt", forge=True), "SignatureDoesNotMatch", ok),
        C("oss-post-forged-v4-session", "os_full", post_form("{bm}", "up/{fresh}.txt", sig="v4", forge=True), "SignatureDoesNotMatch",
          post_form("{bm}", "up/{fresh}.txt", sig="v4")),
        C("oss-post-expired-policy", "root", post_form("{bm}", "up/{fresh}.txt", expired=True), DENIED, ok, ec="0006-00000213"),
        C("oss-post-key-outside-starts-with", "root", post_form("{bm}", "other/{fresh}.txt", prefix="up/"), DENIED, ok,
          ec="0006-00000227"),
        C("oss-post-anonymous-private-bucket", "anon", post_form("{bm}", "up/{fresh}.txt", sig="none"), DENIED,
          oss("GetObject", "{bp}", "pub/a.txt")),
        C("oss-post-s3v4-readonly-ramuser", "oro", post_form("{bm}", "up/{fresh}.txt", sig="s3v4"), DENIED, ok, ctl_who="root"),
        C("oss-post-s3-forged", "root", post_form("{bm}", "up/{fresh}.txt", sig="s3", forge=True), "SignatureDoesNotMatch",
          post_form("{bm}", "up/{fresh}.txt", sig="s3")),
        C("oss-post-s3v4-expired-session", "os_full", post_form("{bm}", "up/{fresh}.txt", sig="s3v4", expired=True), DENIED,
          post_form("{bm}", "up/{fresh}.txt", sig="s3v4"), ec="0006-00000213"),
        C("oss-post-bucketpolicy-deny", "os_full", post_form("{bp}", "locked/{fresh}.txt", sig="v4"), DENIED,
          post_form("{bp}", "pub/{fresh}.txt", sig="v4")),
    ]


# =====================================================================================================
# Issue 18: tags, MFA, self-service, service-linked roles, MFA devices, identity providers, OIDC
# =====================================================================================================

def tag(**kv):
    return json.dumps([{"Key": k, "Value": v} for k, v in kv.items()])


def build_sweep15_ecs_world(w: dm.World, root_ecs) -> None:
    """The ECS authorization sweep of the fifteenth session: two instances (one tagged env=prod),
    two security groups (one every user below is denied), and users whose Deny statements are
    scoped by region, resource tag, security group and image."""
    n = w.names
    for key in ("i15t", "i15u"):
        n[key] = h.ecs_instance(root_ecs, n["vsw"])
        w.created_instances.append(n[key])
    root_ecs.call("TagResources", {"RegionId": dm.REGION, "ResourceType": "instance", "ResourceId.1": n["i15t"],
                                   "Tag.1.Key": "env", "Tag.1.Value": "prod"})
    for key in ("sg15", "sg15ok"):
        n[key] = root_ecs.call("CreateSecurityGroup", {"RegionId": dm.REGION, "VpcId": n["vpc"]})["SecurityGroupId"]
    every = [h.allow(["ecs:*", "vpc:*"], "*")]
    w.user("s15reg", principal=True, prefix="dm-ecsregion", policies=[w.policy("s15reg_pol", every + [
        h.deny(["ecs:*", "vpc:*"], ["acs:ecs:cn-hangzhou:*:*", "acs:vpc:cn-hangzhou:*:*"])])])
    w.user("s15bj", principal=True, prefix="dm-ecsbeijing", policies=[w.policy("s15bj_pol", [
        h.allow("ecs:*", "acs:ecs:cn-beijing:*:*")])])
    w.user("s15tagd", principal=True, prefix="dm-ecstagdeny", policies=[w.policy("s15tagd_pol", every + [
        cond_deny("ecs:*", "*", {"StringEquals": {"acs:ResourceTag/env": ["prod"]}})])])
    w.user("s15sg", principal=True, prefix="dm-ecssgdeny", policies=[w.policy("s15sg_pol", every + [
        h.deny("ecs:*", f"acs:ecs:*:*:securitygroup/{n['sg15']}")])])
    w.user("s15img", principal=True, prefix="dm-ecsimgdeny", policies=[w.policy("s15img_pol", every + [
        h.deny("ecs:*", f"acs:ecs:*:*:image/{dm.IMAGE}")])])


def build_sweep15_ram_world(w: dm.World) -> None:
    """The policy-engine sweep of the fifteenth session: a role tagged both `secret=true` and
    `SECRET=x` (tag keys are case-sensitive: two tags), a victim user, and users whose Deny
    statements use a tag condition, an empty-region ARN and `acs:PrincipalAccount`."""
    acct, n = w.account, w.names
    tagged = w.name("r15tag", "dm-r15tag")
    w.ram_root("CreateRole", RoleName=tagged, AssumeRolePolicyDocument=n["ecs_trust"],
               **{"Tag.1.Key": "secret", "Tag.1.Value": "true", "Tag.2.Key": "SECRET", "Tag.2.Value": "x"})
    w.role("r15plain", prefix="dm-r15plain")
    w.user("u15victim", prefix="dm-u15victim")
    w.user("u15other", prefix="dm-u15other")
    allow_ram = h.allow(["ram:Get*", "ram:List*"], "*")
    w.user("s15tagkey", principal=True, prefix="dm-ramtagkey", policies=[w.policy("s15tagkey_pol", [
        allow_ram, cond_deny("ram:GetRole", "*", {"StringEquals": {"acs:ResourceTag/secret": ["true"]}})])])
    w.user("s15emptyregion", principal=True, prefix="dm-ramemptyregion", policies=[w.policy("s15emptyregion_pol", [
        allow_ram, h.deny("ram:GetUser", f"acs:ram::{acct}:user/{n['u15victim']}")])])
    w.user("s15acct", principal=True, prefix="dm-ramacct", policies=[w.policy("s15acct_pol", [
        allow_ram, cond_deny("ram:ListRoles", "*", {"StringEquals": {"acs:PrincipalAccount": [acct]}})])])


def sweep15_ram_cases():
    """RAM: tag keys differing only in case are two tags; a resource pattern with an empty region
    matches; acs:PrincipalAccount is filled in."""
    C = Case
    return [
        C("ram-tagkey-case-GetRole", "s15tagkey", ram("GetRole", RoleName="{r15tag}"), NOPERM, ram("GetRole", RoleName="{r15plain}")),
        C("ram-emptyregion-deny-GetUser", "s15emptyregion", ram("GetUser", UserName="{u15victim}"), NOPERM,
          ram("GetUser", UserName="{u15other}")),
        C("ram-principalaccount-deny-ListRoles", "s15acct", ram("ListRoles"), NOPERM, ram("ListUsers")),
    ]


def build_sweep16_world(w: dm.World) -> None:
    """The sixteenth session's policy sweep: Deny statements on system policies' own ARN
    (`acs:ram:*:system:policy/<name>`) and with an empty account, an Allow whose empty region names
    no region of a regional service, and a tag condition met by one of two values of one key."""
    acct, n = w.account, w.names
    w.user("u16target", prefix="dm-u16target")
    w.user("u16victim", prefix="dm-u16victim")
    w.role("r16tagged", prefix="dm-r16tagged")
    w.user("s16sysdeny", principal=True, prefix="dm-sysdeny", policies=[w.policy("s16sysdeny_pol", [
        h.allow("ram:*", "*"), h.deny(["ram:AttachPolicyToUser", "ram:AttachPolicyToRole", "ram:AttachPolicyToGroup"],
                                      "acs:ram:*:system:policy/AdministratorAccess")])])
    w.user("s16acctonly", principal=True, prefix="dm-acctonly", policies=[w.policy("s16acctonly_pol", [
        h.allow("ram:AttachPolicyToUser", [f"acs:ram:*:{acct}:policy/*", f"acs:ram:*:{acct}:user/*"]),
        h.allow("ram:GetPolicy", "acs:ram:*:system:policy/*")])])
    w.user("s16emptyacct", principal=True, prefix="dm-emptyacct", policies=[w.policy("s16emptyacct_pol", [
        h.allow(["ram:Get*", "ram:List*"], "*"), h.deny("ram:GetUser", f"acs:ram:*::user/{n['u16victim']}")])])
    w.user("s16ecsempty", principal=True, prefix="dm-ecsempty", policies=[w.policy("s16ecsempty_pol", [
        h.allow("ecs:Describe*", "*"), h.allow("ecs:StartInstance", f"acs:ecs::{acct}:instance/*")])])
    w.user("s16roledeny", principal=True, prefix="dm-roledeny", policies=["AliyunECSFullAccess", w.policy("s16roledeny_pol", [
        h.allow("ram:PassRole"), h.deny("ecs:AttachInstanceRamRole", f"acs:ram:*:{acct}:role/{n['er2']}"),
        h.deny("ecs:DetachInstanceRamRole", "acs:ram:*:*:role/*")])])
    w.user("s16instonly", principal=True, prefix="dm-instonly", policies=[w.policy("s16instonly_pol", [
        h.allow("ecs:Describe*"), h.allow("ecs:AttachInstanceRamRole", f"acs:ecs:*:*:instance/{n['i1']}"), h.allow("ram:PassRole")])])
    w.user("s16harden", principal=True, prefix="dm-harden", policies=["AliyunECSFullAccess", w.policy("s16harden_pol", [
        cond_deny(["ecs:CreateInstance", "ecs:RunInstances", "ecs:ModifyInstanceMetadataOptions"], "*",
                  {"Bool": {"ecs:SecurityHardeningMode": ["false"]}}),
        cond_deny("ecs:CreateInstance", "*", {"StringEquals": {"ecs:InstanceType": ["ecs.g7.2xlarge"]}})])])
    w.user("s16dup", principal=True, prefix="dm-duptag", policies=[w.policy("s16dup_pol", [
        {"Effect": "Allow", "Action": "ram:TagResources", "Resource": "*", "Condition": {"StringEquals": {"acs:RequestTag/env": ["dev"]}}},
        cond_deny("ram:TagResources", "*", {"StringNotEquals": {"acs:RequestTag/env": ["dev"]}})])])


def sweep16_cases():
    """System policies are authorized under `system` (a Deny on AdministratorAccess binds, an Allow
    on the account's policies does not cover it); an empty account in a Deny applies; an empty
    region in an Allow does not grant a regional service; Attach/DetachInstanceRamRole are authorized
    on the role as well as the instances; ecs:SecurityHardeningMode and ecs:InstanceType are filled
    in; one tag key twice is refused (such tags
    are no request tags at all, so the condition's Deny applies before the parameter check)."""
    C = Case
    attach = lambda name: ram("AttachPolicyToUser", PolicyType="System", PolicyName=name, UserName="{u16target}")  # noqa: E731
    tag = lambda **tags: ram("TagResources", ResourceType="role", ResourceNames='["{r16tagged}"]', **tags)  # noqa: E731
    attach_role = lambda role, *inst: ecs("AttachInstanceRamRole", RamRoleName=role, InstanceIds=ids(*inst))  # noqa: E731
    return [
        C("ram-systempolicy-deny-AttachPolicyToUser", "s16sysdeny", attach("AdministratorAccess"), NOPERM,
          attach("AliyunOSSReadOnlyAccess")),
        C("ram-systempolicy-accountarn-AttachPolicyToUser", "s16acctonly", attach("AdministratorAccess"), NOPERM,
          ram("GetPolicy", PolicyType="System", PolicyName="AdministratorAccess")),
        C("ram-emptyaccount-deny-GetUser", "s16emptyacct", ram("GetUser", UserName="{u16victim}"), NOPERM,
          ram("GetUser", UserName="{u16target}")),
        C("ecs-emptyregion-allow-StartInstance", "s16ecsempty", ecs("StartInstance", InstanceId="{i15u}"), FORBIDDEN,
          ecs("DescribeInstanceAttribute", InstanceId="{i15u}")),
        C("ecs-roleresource-deny-AttachInstanceRamRole", "s16roledeny", attach_role("{er2}", "{i1}"), FORBIDDEN,
          attach_role("{er1}", "{i1}")),
        C("ecs-roleresource-instanceonly-AttachInstanceRamRole", "s16instonly", attach_role("{er1}", "{i1}"), FORBIDDEN,
          ecs("DescribeInstanceRamRole", InstanceIds=ids("{i1}"))),
        C("ecs-roleresource-deny-DetachInstanceRamRole", "s16roledeny", ecs("DetachInstanceRamRole", InstanceIds=ids("{i2}")), FORBIDDEN,
          ecs("DescribeInstanceRamRole", InstanceIds=ids("{i2}")), setup=[attach_role("{er1}", "{i2}")],
          cleanup=[ecs("DetachInstanceRamRole", InstanceIds=ids("{i2}"))]),
        C("ecs-hardening-deny-CreateInstance", "s16harden",
          ecs("CreateInstance", ImageId=dm.IMAGE, InstanceType=dm.ITYPE, VSwitchId="{vsw}"), FORBIDDEN,
          ecs("DescribeInstances", InstanceIds=ids("{i1}"))),
        C("ecs-hardening-deny-RunInstances", "s16harden",
          ecs("RunInstances", ImageId=dm.IMAGE, InstanceType=dm.ITYPE, VSwitchId="{vsw}", Amount=1, HttpTokens="optional"), FORBIDDEN,
          ecs("DescribeInstances", InstanceIds=ids("{i1}"))),
        C("ecs-hardening-deny-ModifyInstanceMetadataOptions", "s16harden",
          ecs("ModifyInstanceMetadataOptions", InstanceId="{i1}", HttpTokens="optional"), FORBIDDEN,
          ecs("DescribeInstances", InstanceIds=ids("{i1}"))),
        C("ecs-instancetype-deny-CreateInstance", "s16harden",
          ecs("CreateInstance", ImageId=dm.IMAGE, InstanceType="ecs.g7.2xlarge", VSwitchId="{vsw}", HttpTokens="required"), FORBIDDEN,
          ecs("DescribeInstances", InstanceIds=ids("{i1}"))),
        C("ram-duplicate-tagkey-TagResources", "s16dup",
          tag(Tag='[{"Key": "env", "Value": "dev"}, {"Key": "env", "Value": "prod"}]'), NOPERM,
          tag(Tag='[{"Key": "env", "Value": "dev"}]')),
    ]


def build_sweep17_tags_world(w: dm.World, root_ecs) -> None:
    """The seventeenth session's tag sweep: the tags authorized are the tags applied. A security
    group to tag, a key pair tagged owner=bob beside an untagged one, an instance tagged owner=bob,
    and users whose statements are conditioned on acs:RequestTag/owner, acs:ResourceTag/owner or the
    legacy ecs:tag/owner."""
    n = w.names
    n["sg17"] = root_ecs.call("CreateSecurityGroup", {"RegionId": dm.REGION, "VpcId": n["vpc"]})["SecurityGroupId"]
    n["kp17bob"] = h.unique_name("dmkpbob")
    root_ecs.call("CreateKeyPair", {"RegionId": dm.REGION, "KeyPairName": n["kp17bob"], "Tag.1.Key": "owner", "Tag.1.Value": "bob"})
    n["i17bob"] = h.ecs_instance(root_ecs, n["vsw"])
    w.created_instances.append(n["i17bob"])
    root_ecs.call("TagResources", {"RegionId": dm.REGION, "ResourceType": "instance", "ResourceId.1": n["i17bob"],
                                   "Tag.1.Key": "owner", "Tag.1.Value": "bob"})
    bob = lambda key: {"StringEquals": {key: ["bob"]}}  # noqa: E731
    alice = {"StringEquals": {"acs:RequestTag/owner": ["alice"]}}
    w.user("t17reqdeny", principal=True, prefix="dm-reqtagdeny", policies=["AliyunECSFullAccess", w.policy("t17reqdeny_pol", [
        cond_deny("ecs:*", "*", bob("acs:RequestTag/owner"))])])
    w.user("t17reqallow", principal=True, prefix="dm-reqtagallow", policies=[w.policy("t17reqallow_pol", [
        cond_allow(["ecs:TagResources", "ecs:DescribeInstances"], "*", alice)])])
    w.user("t17resdeny", principal=True, prefix="dm-restagdeny", policies=["AliyunECSFullAccess", w.policy("t17resdeny_pol", [
        cond_deny("ecs:*", "*", bob("acs:ResourceTag/owner"))])])
    w.user("t17legacy", principal=True, prefix="dm-legacytag", policies=["AliyunECSFullAccess", w.policy("t17legacy_pol", [
        cond_deny("ecs:*", "*", bob("ecs:tag/owner"))])])


def sweep17_tags_cases():
    """ECS calls are authorized with the tags their handlers apply (every Tag.N.Key, gaps or not; a
    `Tag` parameter is no ECS tag), key pairs' own tags are their acs:ResourceTag, and the legacy
    ecs:tag/<key> carries the request's tags and the resource's (docs/authorization.md)."""
    C = Case
    tag = lambda **kw: ecs("TagResources", ResourceType="securitygroup", **{"ResourceId.1": "{sg17}"}, **kw)  # noqa: E731
    as_alice = {"Tag.1.Key": "owner", "Tag.1.Value": "alice"}
    decoy = {"Tag": json.dumps([{"Key": "owner", "Value": "alice"}]), "Tag.1.Key": "owner", "Tag.1.Value": "bob"}
    run = lambda **kw: ecs("RunInstances", ImageId=dm.IMAGE, InstanceType=dm.ITYPE, VSwitchId="{vsw}", Amount=1, **kw)  # noqa: E731
    describe = ecs("DescribeInstances", InstanceIds=ids("{i1}"))
    return [
        C("ecs-requesttag-gap-deny-TagResources", "t17reqdeny", tag(**{"Tag.2.Key": "owner", "Tag.2.Value": "bob"}), FORBIDDEN,
          tag(**as_alice)),
        C("ecs-requesttag-gap-deny-RunInstances", "t17reqdeny", run(**{"Tag.3.Key": "owner", "Tag.3.Value": "bob"}), FORBIDDEN,
          describe),
        C("ecs-requesttag-junktag-deny-TagResources", "t17reqdeny", tag(**{"Tag": "x", "Tag.1.Key": "owner", "Tag.1.Value": "bob"}),
          FORBIDDEN, tag(**as_alice)),
        C("ecs-requesttag-jsondecoy-allow-TagResources", "t17reqallow", tag(**decoy), FORBIDDEN, tag(**as_alice)),
        C("ecs-requesttag-jsondecoy-allow-DescribeInstances", "t17reqallow", ecs("DescribeInstances", **decoy), FORBIDDEN,
          ecs("DescribeInstances", **as_alice)),
        C("ecs-resourcetag-keypair-deny-DeleteKeyPairs", "t17resdeny", ecs("DeleteKeyPairs", KeyPairNames=json.dumps(["{kp17bob}"])),
          FORBIDDEN, ecs("DescribeKeyPairs", KeyPairName="{kp17bob}")),
        C("ecs-legacytag-request-deny-RunInstances", "t17legacy", run(**{"Tag.1.Key": "owner", "Tag.1.Value": "bob"}), FORBIDDEN,
          run(**as_alice)),
        C("ecs-legacytag-request-deny-TagResources", "t17legacy", tag(**{"Tag.1.Key": "owner", "Tag.1.Value": "bob"}), FORBIDDEN,
          tag(**as_alice)),
        C("ecs-legacytag-resource-deny-StartInstance", "t17legacy", ecs("StartInstance", InstanceId="{i17bob}"), FORBIDDEN,
          ecs("DescribeInstanceAttribute", InstanceId="{i1}")),
    ]


def build_sweep17_engine_world(w: dm.World) -> None:
    """The seventeenth session's policy-engine sweep: a role tagged with a Greek word ending in a
    capital sigma and a plain one, a user whose Deny names that word with StringEqualsIgnoreCase,
    policy documents with and without a date's time zone, and a bucket for bucket policies with
    and without a key given twice."""
    n = w.names
    sigma = w.name("r17sigma", "dm-r17sigma")
    w.ram_root("CreateRole", RoleName=sigma, AssumeRolePolicyDocument=n["ecs_trust"], **{"Tag.1.Key": "env", "Tag.1.Value": "ΟΔΟΣ"})
    w.role("r17plain", prefix="dm-r17plain")
    w.user("s17fold", principal=True, prefix="dm-fold", policies=[w.policy("s17fold_pol", [
        h.allow(["ram:Get*", "ram:List*"], "*"),
        cond_deny("ram:GetRole", "*", {"StringEqualsIgnoreCase": {"acs:ResourceTag/env": ["ΟΔΟΣ"]}})])])
    window = lambda t: h.policy_doc([{"Effect": "Allow", "Action": "oss:GetObject", "Resource": "*",  # noqa: E731
                                      "Condition": {"DateLessThan": {"acs:CurrentTime": t}}}])
    n["s17zoneless"], n["s17zoned"] = window("2999-08-12T17:00:00"), window("2999-08-12T17:00:00+08:00")
    bucket = w.make_bucket("b17pol", ["k.txt"])
    statement = (f'{{"Effect":"Deny","Principal":["*"],"Action":["oss:GetObject"],'
                 f'"Resource":["acs:oss:*:{w.account}:{bucket}/*"]')
    n["s17dupkey"] = '{"Version":"1","Statement":[' + statement + ',"Effect":"Allow"}]}'
    n["s17onekey"] = '{"Version":"1","Statement":[' + statement + '}]}'


def sweep17_engine_cases():
    """`…IgnoreCase` folds both sides alike (a final capital sigma); a date without its time zone
    is no date; a bucket policy naming a key twice is refused (serde_json kept the last
    `"Effect"`, so a Deny shown by GetBucketPolicy was an Allow)."""
    C = Case
    return [
        C("ram-ignorecase-sigma-deny-GetRole", "s17fold", ram("GetRole", RoleName="{r17sigma}"), NOPERM,
          ram("GetRole", RoleName="{r17plain}")),
        C("ram-zoneless-date-CreatePolicy", "root", ram("CreatePolicy", PolicyName="{fresh}", PolicyDocument="{s17zoneless}"),
          "MalformedPolicyDocument", ram("CreatePolicy", PolicyName="{fresh}", PolicyDocument="{s17zoned}"), status=400),
        C("oss-bucketpolicy-dupkey-PutBucketPolicy", "root", oss("PutBucketPolicy", "{b17pol}", policy="{s17dupkey}"),
          "InvalidPolicyDocument", oss("PutBucketPolicy", "{b17pol}", policy="{s17onekey}"), status=400),
    ]


def build_sweep17_oidc_world(w: dm.World) -> None:
    """The seventeenth session's OIDC sweep: two providers, one whose issuer URL a Deny on
    `ram:OidcIssuerUrl` names (`https://evil...`); a user allowed the IMS provider actions except
    Create/Update on such an issuer, and one denied only CreateOIDCProvider there (so replacing the
    evil provider's JWKS, which implies CreateOIDCProvider, is refused)."""
    fp = "902ef2deeb3c5b13ea4c3d5193629309e231ae55"
    for key, host in (("s17good", "good"), ("s17evil", "evil")):
        name = w.name(key, exact=f"s17{host}-{hexs()}")
        w.root(ims("CreateOIDCProvider", OIDCProviderName=name, IssuerUrl=f"https://{host}-{name}.idp.test", Fingerprints=fp,
                   ClientIds="app"))
    evil = {"StringLike": {"ram:OidcIssuerUrl": ["https://evil*"]}}
    provider_actions = ["ram:CreateOIDCProvider", "ram:UpdateOIDCProvider", "ram:DeleteOIDCProvider", "ram:GetOIDCProvider"]
    w.user("s17issuer", principal=True, prefix="dm-oidcissuer", policies=[w.policy("s17issuer_pol", [
        h.allow(provider_actions, "*"), cond_deny(["ram:CreateOIDCProvider", "ram:UpdateOIDCProvider"], "*", evil)])])
    w.user("s17rekey", principal=True, prefix="dm-oidcrekey", policies=[w.policy("s17rekey_pol", [
        h.allow(provider_actions, "*"), cond_deny("ram:CreateOIDCProvider", "*", evil)])])
    from test_federation import rsa_issuer

    w.names["s17jwks"] = json.dumps(rsa_issuer()[1])


def sweep17_oidc_cases():
    """`ram:OidcIssuerUrl` is filled in: the `IssuerUrl` a CreateOIDCProvider asks for, the issuer
    URL of the provider an UpdateOIDCProvider names, also for the CreateOIDCProvider a JWKS
    replacement implies."""
    C = Case
    fp = "902ef2deeb3c5b13ea4c3d5193629309e231ae55"
    create = lambda host: ims("CreateOIDCProvider", OIDCProviderName="{fresh}", IssuerUrl=f"https://{host}-{{fresh}}.test",  # noqa: E731
                              Fingerprints=fp)
    return [
        C("ims-oidcissuer-deny-CreateOIDCProvider", "s17issuer", create("evil"), NOPERM, create("good")),
        C("ims-oidcissuer-deny-UpdateOIDCProvider", "s17issuer", ims("UpdateOIDCProvider", OIDCProviderName="{s17evil}", NewDescription="dm"),
          NOPERM, ims("UpdateOIDCProvider", OIDCProviderName="{s17good}", NewDescription="dm")),
        C("ims-oidcissuer-deny-UpdateOIDCProvider-upper", "s17issuer",
          ims("UpdateOIDCProvider", OIDCProviderName="{s17evil:upper}", NewDescription="dm"), NOPERM,
          ims("UpdateOIDCProvider", OIDCProviderName="{s17good:upper}", NewDescription="dm")),
        C("ims-oidcissuer-deny-UpdateOIDCProvider-JWKS", "s17rekey", ims("UpdateOIDCProvider", OIDCProviderName="{s17evil}", JWKS="{s17jwks}"),
          NOPERM, ims("UpdateOIDCProvider", OIDCProviderName="{s17good}", JWKS="{s17jwks}")),
    ]



SH = "cn-shanghai"


def build_sweep17_ctx_world(w: dm.World, root_ecs) -> None:
    """The seventeenth session's request-context fix: checks made inside ECS handlers (ram:PassRole,
    AttachInstanceRamRole on the role) see the request's condition keys. A vSwitch and an instance
    in cn-shanghai, one in cn-hangzhou, and users whose Deny statements on those in-handler checks
    are conditioned on acs:RequestedRegion=cn-shanghai or on ecs:InstanceType."""
    acct, n = w.account, w.names
    _, n["vsw17sh"] = h.ecs_network(root_ecs, "10.79.0.0/16", "10.79.1.0/24", "cn-shanghai-l", region=SH)
    n["i17sh"] = h.ecs_instance(root_ecs, n["vsw17sh"], region=SH)
    n["i17hz"] = h.ecs_instance(root_ecs, n["vsw"])
    w.created_instances += [n["i17sh"], n["i17hz"]]
    in_sh = {"StringEquals": {"acs:RequestedRegion": [SH]}}
    w.user("s17ctxpass", principal=True, prefix="dm-passregion", policies=["AliyunECSFullAccess", w.policy("s17ctxpass_pol", [
        h.allow("ram:PassRole"), cond_deny("ram:PassRole", "*", in_sh)])])
    w.user("s17ctxrole", principal=True, prefix="dm-roleregion", policies=["AliyunECSFullAccess", w.policy("s17ctxrole_pol", [
        h.allow("ram:PassRole"), cond_deny("ecs:AttachInstanceRamRole", f"acs:ram:*:{acct}:role/*", in_sh)])])
    w.user("s17ctxtype", principal=True, prefix="dm-passtype", policies=["AliyunECSFullAccess", w.policy("s17ctxtype_pol", [
        h.allow("ram:PassRole"), cond_deny("ram:PassRole", "*", {"StringEquals": {"ecs:InstanceType": ["ecs.g7.large"]}})])])
    w.user("s17ctxtypeallow", principal=True, prefix="dm-passtypeallow", policies=["AliyunECSFullAccess", w.policy("s17ctxtypeallow_pol", [
        cond_allow("ram:PassRole", "*", {"StringEquals": {"ecs:InstanceType": [dm.ITYPE]}})])])


def sweep17_ctx_cases():
    """ram:PassRole and AttachInstanceRamRole's check on the role are decided with the request's
    condition keys (acs:RequestedRegion, ecs:InstanceType), as the gateway's check of the ECS action
    is; a key of another service than the checked action's (ecs:InstanceType for ram:PassRole) makes
    a Deny bind but never an Allow grant (docs/authorization.md)."""
    C = Case
    create = lambda region, vsw, **kw: ecs("CreateInstance", RegionId=region, ImageId=dm.IMAGE,  # noqa: E731
                                           InstanceType=kw.pop("InstanceType", dm.ITYPE), VSwitchId=vsw, **kw)
    run = lambda region, vsw: ecs("RunInstances", RegionId=region, ImageId=dm.IMAGE, InstanceType=dm.ITYPE,  # noqa: E731
                                  VSwitchId=vsw, Amount=1, RamRoleName="{er1}")
    attach = lambda region, inst: ecs("AttachInstanceRamRole", RegionId=region, RamRoleName="{er1}", InstanceIds=ids(inst))  # noqa: E731
    return [
        C("ecs-passrole-regiondeny-CreateInstance", "s17ctxpass", create(SH, "{vsw17sh}", RamRoleName="{er1}"), PASSROLE,
          create(dm.REGION, "{vsw}", RamRoleName="{er1}")),
        C("ecs-passrole-regiondeny-RunInstances", "s17ctxpass", run(SH, "{vsw17sh}"), PASSROLE, run(dm.REGION, "{vsw}")),
        C("ecs-passrole-regiondeny-AttachInstanceRamRole", "s17ctxpass", attach(SH, "{i17sh}"), PASSROLE, attach(dm.REGION, "{i17hz}")),
        C("ecs-roleresource-regiondeny-AttachInstanceRamRole", "s17ctxrole", attach(SH, "{i17sh}"), FORBIDDEN,
          attach(dm.REGION, "{i17hz}")),
        C("ecs-passrole-instancetype-deny-CreateInstance", "s17ctxtype",
          create(dm.REGION, "{vsw}", RamRoleName="{er1}", InstanceType="ecs.g7.large"), PASSROLE,
          create(dm.REGION, "{vsw}", RamRoleName="{er1}")),
        C("ecs-passrole-instancetype-allow-CreateInstance", "s17ctxtypeallow", create(dm.REGION, "{vsw}", RamRoleName="{er1}"), PASSROLE,
          create(dm.REGION, "{vsw}")),
    ]

def build_sweep17_kms_world(w: dm.World) -> None:
    """The seventeenth session's KMS sweep: a bucket with a plain and a KMS object, one whose default
    encryption is KMS, a public-read one with a KMS object; users with oss:* only, oss:* with a Deny
    of kms:*, and oss:* with kms:GenerateDataKey and kms:Decrypt."""
    kms = {"x-oss-server-side-encryption": "KMS"}
    k17 = w.make_bucket("k17", ["p.txt"])
    w.bucket("root", k17).put_object("k.txt", b"deny-matrix", headers=kms)
    rule = oss2.models.ServerSideEncryptionRule()
    rule.sse_algorithm = "KMS"
    w.bucket("root", w.make_bucket("k17d")).put_bucket_encryption(rule)
    k17p = w.make_bucket("k17p", ["p.txt"])
    w.bucket("root", k17p).put_object("k.txt", b"deny-matrix", headers=kms)
    w.bucket("root", k17p).put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    oss_all = h.allow("oss:*", "*")
    w.user("k17none", principal=True, prefix="dm-kmsnone", policies=[w.policy("k17none_pol", [oss_all])])
    w.user("k17deny", principal=True, prefix="dm-kmsdeny", policies=[w.policy("k17deny_pol", [oss_all, h.deny("kms:*", "*")])])
    w.user("k17ok", principal=True, prefix="dm-kmsok", policies=[w.policy("k17ok_pol", [
        oss_all, h.allow(["kms:GenerateDataKey", "kms:Decrypt"], "*")])])


def sweep17_kms_cases():
    """SSE-KMS needs the kms: actions on the key: writes that encrypt with KMS (the header, the
    bucket's default; CopyObject's target, InitiateMultipartUpload) kms:GenerateDataKey and
    kms:Decrypt, reads of a KMS object's body (GetObject, a copy's source) kms:Decrypt; an explicit
    Deny of kms:* refuses them, oss:* alone does not grant them, an anonymous request cannot use a key."""
    C = Case
    kms = {"x-oss-server-side-encryption": "KMS"}
    aes = {"x-oss-server-side-encryption": "AES256"}
    put = lambda bucket, **kw: oss("PutObject", bucket, "kms/{fresh}", **kw)  # noqa: E731
    get_kms, get_plain = oss("GetObject", "{k17}", "k.txt"), oss("GetObject", "{k17}", "p.txt")
    return [
        C("oss-kms-deny-PutObject-sse", "k17deny", put("{k17}", headers=kms), DENIED, put("{k17}"), ec="0003-00000201"),
        C("oss-kms-deny-PutObject-bucket-default", "k17deny", put("{k17d}"), DENIED, put("{k17d}", headers=aes), ec="0003-00000201"),
        C("oss-kms-deny-CopyObject-sse", "k17deny", oss("CopyObject", "{k17}", "kms/{fresh}", src="p.txt", headers=kms), DENIED,
          oss("CopyObject", "{k17}", "kms/{fresh}", src="p.txt"), ec="0003-00000201"),
        C("oss-kms-deny-CopyObject-kms-source", "k17deny", oss("CopyObject", "{k17}", "kms/{fresh}", src="k.txt"), DENIED,
          oss("CopyObject", "{k17}", "kms/{fresh}", src="p.txt"), ec="0003-00000201"),
        C("oss-kms-deny-GetObject", "k17deny", get_kms, DENIED, get_plain, ec="0003-00000201"),
        C("oss-kms-none-PutObject-sse", "k17none", put("{k17}", headers=kms), DENIED, put("{k17}", headers=kms), ctl_who="k17ok",
          ec="0003-00000202"),
        C("oss-kms-none-PutObject-bucket-default", "k17none", put("{k17d}"), DENIED, put("{k17d}"), ctl_who="k17ok"),
        C("oss-kms-none-InitiateMultipartUpload-sse", "k17none", oss("InitiateMultipartUpload", "{k17}", "kms/{fresh}", headers=kms),
          DENIED, oss("InitiateMultipartUpload", "{k17}", "kms/{fresh}")),
        C("oss-kms-none-GetObject", "k17none", get_kms, DENIED, get_kms, ctl_who="k17ok"),
        C("oss-kms-none-GetObject-head-allowed", "k17none", get_kms, DENIED, oss("HeadObject", "{k17}", "k.txt")),
        C("oss-kms-anon-GetObject-public-read", "anon", oss("GetObject", "{k17p}", "k.txt"), DENIED, oss("GetObject", "{k17p}", "p.txt")),
    ]


def build_sweep17_s3_world(w: dm.World) -> None:
    """The seventeenth session's S3-dialect sweep: a bucket whose SigV2 presigned URLs get OSS query
    parameters added after signing."""
    w.make_bucket("b17s3", ["a.txt"])


def sweep17_s3_cases():
    """SigV2 signs OSS's sub-resources as well as S3's (docs/s3-compatible.md, "Signatures"): an OSS
    parameter added to a boto3 SigV2 presigned URL (GetBucketInfo, GetBucketStat, AppendObject, an upload
    callback to a loopback address) breaks its signature; the URL as signed works."""
    C = Case
    sig_ec = "0002-00000429"
    listing = presign("{b17s3}", "", 3600, auth="s3")
    put = lambda append="": presign("{b17s3}", "up/{fresh}.txt", 3600, auth="s3", method="PUT", append=append)  # noqa: E731
    initiate = lambda append="": presign("{b17s3}", "ap/{fresh}.txt", 3600, auth="s3", method="POST", append=append)  # noqa: E731
    callback = base64.b64encode(json.dumps({"callbackUrl": "http://127.0.0.1:9/internal", "callbackBody": "x"}).encode()).decode()
    return [
        C("oss-s3v2-presign-ListObjects-plus-bucketInfo", "root", presign("{b17s3}", "", 3600, auth="s3", append="bucketInfo"),
          "SignatureDoesNotMatch", listing, ec=sig_ec),
        C("oss-s3v2-presign-ListObjects-plus-stat-readonly", "oro", presign("{b17s3}", "", 3600, auth="s3", append="stat"),
          "SignatureDoesNotMatch", listing, ec=sig_ec),
        C("oss-s3v2-presign-InitiateMultipartUpload-plus-append-session", "os_full", initiate("append&position=0"),
          "SignatureDoesNotMatch", initiate(), ec=sig_ec),
        C("oss-s3v2-presign-PutObject-plus-callback", "root", put("callback=" + callback.replace("=", "%3D")),
          "SignatureDoesNotMatch", put(), ec=sig_ec),
    ]


def build_sweep17_post_world(w: dm.World) -> None:
    """The seventeenth session's PostObject sweep: a bucket for forms with fields after the file."""
    w.make_bucket("b17post", ["a.txt"])


def sweep17_post_cases():
    """A PostObject form's file must be its last field (docs/oss.md, "PostObject"; OSS's EC
    0006-00000103): a field after it (here `x-oss-forbid-overwrite`, which would otherwise be
    silently dropped and the object overwritten) refuses the form; the same form without it works."""
    C = Case
    after = {"x-oss-forbid-overwrite": "true"}
    return [
        C("oss-post-field-after-file", "root", post_form("{b17post}", "a.txt", after_file=after), "MalformedPOSTRequest",
          post_form("{b17post}", "up/{fresh}.txt"), status=400, ec="0006-00000103"),
        C("oss-post-field-after-file-session-v4", "os_full", post_form("{b17post}", "a.txt", sig="v4", after_file=after),
          "MalformedPOSTRequest", post_form("{b17post}", "up/{fresh}.txt", sig="v4"), status=400, ec="0006-00000103"),
    ]


def build_sweep17_objacl_world(w: dm.World) -> None:
    """The seventeenth session's object-ACL sweep: a public-read-write bucket, in which each case
    puts objects of its own (private ones, and `default` ones the bucket's ACL decides for)."""
    w.bucket("root", w.make_bucket("b17acl")).put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ_WRITE)


def sweep17_objacl_cases():
    """An object's own ACL decides anonymous writes and deletes of it as it decides reads: in a
    public-read-write bucket a private object may not be overwritten (Put, Post, Copy onto,
    Append to, PutSymlink over, InitiateMultipartUpload / UploadPart / CompleteMultipartUpload
    onto it) or deleted (DeleteObject, DeleteMultipleObjects) anonymously; the controls write and
    delete a `default` object (or a free key) of the same bucket."""
    C = Case
    private = {"x-oss-object-acl": "private"}
    put = lambda key, **kw: oss("PutObject", "{b17acl}", key, **kw)  # noqa: E731
    objects = [put("priv/{fresh}", headers=private), put("open/{fresh}")]
    upload = lambda key: oss("InitiateMultipartUpload", "{b17acl}", key)  # noqa: E731
    part = lambda key, n: oss("UploadPart", "{b17acl}", key, upload_id=f"{{@{n}}}")  # noqa: E731
    complete = lambda key, n: oss("CompleteMultipartUpload", "{b17acl}", key, upload_id=f"{{@{n}}}")  # noqa: E731
    anon = "0003-00000002"
    return [
        C("oss-objacl-anon-PutObject-private", "anon", put("priv/{fresh}"), DENIED, put("open/{fresh}"), setup=objects, ec=anon,
          escape=ESC_OBJACL),
        C("oss-objacl-anon-PutObject-publicread", "anon", put("pr/{fresh}"), DENIED, put("open/{fresh}"), ec=anon,
          setup=[put("pr/{fresh}", headers={"x-oss-object-acl": "public-read"}), put("open/{fresh}")], escape=ESC_OBJACL),
        C("oss-objacl-anon-PostObject-private", "anon", post_form("{b17acl}", "priv/{fresh}", sig="none"), DENIED,
          post_form("{b17acl}", "open/{fresh}", sig="none"), setup=objects, escape=ESC_OBJACL),
        C("oss-objacl-anon-DeleteObject-private", "anon", oss("DeleteObject", "{b17acl}", "priv/{fresh}"), DENIED,
          oss("DeleteObject", "{b17acl}", "open/{fresh}"), setup=objects, ec=anon, escape=ESC_OBJACL),
        C("oss-objacl-anon-DeleteMultipleObjects-private", "anon", oss("DeleteMultipleObjects", "{b17acl}", keys=["priv/{fresh}"]),
          DENIED, oss("DeleteMultipleObjects", "{b17acl}", keys=["open/{fresh}"]), setup=objects, ec=anon, escape=ESC_OBJACL),
        C("oss-objacl-anon-CopyObject-private", "anon", oss("CopyObject", "{b17acl}", "priv/{fresh}", src="open/{fresh}"), DENIED,
          oss("CopyObject", "{b17acl}", "copy/{fresh}", src="open/{fresh}"), setup=objects, ec=anon, escape=ESC_OBJACL),
        C("oss-objacl-anon-AppendObject-private", "anon", oss("AppendObject", "{b17acl}", "app/{fresh}", position=len(b"deny-matrix")),
          DENIED, oss("AppendObject", "{b17acl}", "log/{fresh}"), ec=anon, escape=ESC_OBJACL,
          setup=[oss("AppendObject", "{b17acl}", "app/{fresh}", headers=private)]),
        C("oss-objacl-anon-PutSymlink-private", "anon", oss("PutSymlink", "{b17acl}", "priv/{fresh}", target="open/{fresh}"), DENIED,
          oss("PutSymlink", "{b17acl}", "link/{fresh}", target="open/{fresh}"), setup=objects, ec=anon, escape=ESC_OBJACL),
        C("oss-objacl-anon-InitiateMultipartUpload-private", "anon", upload("priv/{fresh}"), DENIED, upload("mp/{fresh}"),
          setup=objects, ec=anon, escape=ESC_OBJACL),
        # The uploads are the owner's, started before the private object was written.
        C("oss-objacl-anon-UploadPart-private", "anon", part("priv/{fresh}", 0), DENIED, part("mp/{fresh}", 2), ec=anon,
          setup=[upload("priv/{fresh}"), put("priv/{fresh}", headers=private), upload("mp/{fresh}")], escape=ESC_OBJACL),
        C("oss-objacl-anon-CompleteMultipartUpload-private", "anon", complete("priv/{fresh}", 0), DENIED, complete("mp/{fresh}", 3),
          ec=anon, setup=[upload("priv/{fresh}"), part("priv/{fresh}", 0), put("priv/{fresh}", headers=private),
                          upload("mp/{fresh}"), part("mp/{fresh}", 3)], escape=ESC_OBJACL),
    ]


def build_sweep17_ecsres_world(w: dm.World, root_ecs) -> None:
    """The seventeenth session's ECS resource fix: a second VPC with a vSwitch, and a user allowed
    every ECS and VPC action but denied that vSwitch and that VPC under the VPC product's ARNs
    (`acs:vpc:*:*:vswitch/<id>`, `acs:vpc:*:*:vpc/<id>`)."""
    n = w.names
    n["vpc17r"], n["vsw17r"] = h.ecs_network(root_ecs, "10.83.0.0/16", "10.83.1.0/24", "cn-hangzhou-h")
    w.user("s17resdeny", principal=True, prefix="dm-netdeny", policies=[w.policy("s17resdeny_pol", [
        h.allow(["ecs:*", "vpc:*"], "*"),
        h.deny(["ecs:*", "vpc:*"], [f"acs:vpc:*:*:vswitch/{n['vsw17r']}", f"acs:vpc:*:*:vpc/{n['vpc17r']}"])])])


def sweep17_ecsres_cases():
    """ECS authorizes the vSwitch CreateInstance/RunInstances put an instance in, and the VPC the
    legacy ECS CreateVSwitch and CreateSecurityGroup create in, under the VPC product's ARNs
    (docs/authorization.md)."""
    C = Case
    make = lambda action, vsw, **kw: ecs(action, ImageId=dm.IMAGE, InstanceType=dm.ITYPE, VSwitchId=vsw, **kw)  # noqa: E731
    vswitch = lambda vpc_id, cidr: ecs("CreateVSwitch", VpcId=vpc_id, ZoneId="cn-hangzhou-h", CidrBlock=cidr)  # noqa: E731
    return [
        C("ecs-vswitch-deny-CreateInstance", "s17resdeny", make("CreateInstance", "{vsw17r}"), FORBIDDEN,
          make("CreateInstance", "{vsw}"), escape=ESC_ECSRES),
        C("ecs-vswitch-deny-RunInstances", "s17resdeny", make("RunInstances", "{vsw17r}", Amount=1), FORBIDDEN,
          make("RunInstances", "{vsw}", Amount=1), escape=ESC_ECSRES),
        C("ecs-vpc-deny-CreateVSwitch", "s17resdeny", vswitch("{vpc17r}", "10.83.9.0/24"), FORBIDDEN,
          ecs("DescribeVSwitches", VpcId="{vpc}"), escape=ESC_ECSRES),
        C("ecs-vpc-deny-CreateSecurityGroup", "s17resdeny", ecs("CreateSecurityGroup", VpcId="{vpc17r}"), FORBIDDEN,
          ecs("CreateSecurityGroup", VpcId="{vpc}"), escape=ESC_ECSRES),
    ]


def sweep15_ecs_cases():
    """ECS: a call without RegionId is authorized in the region of what it names; an instance of
    another region is not found; acs:ResourceTag on instances; every security group and the image a
    call names are authorized."""
    C = Case
    attr = lambda i: ecs("DescribeInstanceAttribute", InstanceId=i)  # noqa: E731
    other_region = ecs("DescribeInstances", RegionId="cn-shanghai")
    create = lambda **kw: ecs("CreateInstance", ImageId=dm.IMAGE, InstanceType=dm.ITYPE, VSwitchId="{vsw}", **kw)  # noqa: E731
    return [
        C("ecs-region-deny-noregion-StopInstance", "s15reg", ecs("StopInstance", InstanceId="{i15u}", RegionId=""), FORBIDDEN, other_region),
        C("ecs-region-deny-noregion-ModifyInstanceMetadataOptions", "s15reg",
          ecs("ModifyInstanceMetadataOptions", InstanceId="{i15u}", HttpTokens="required", RegionId=""), FORBIDDEN, other_region),
        C("ecs-region-deny-noregion-DescribeVSwitches", "s15reg", ecs("DescribeVSwitches", VpcId="{vpc}", RegionId=""), FORBIDDEN,
          other_region),
        C("ecs-region-other-StartInstance", "s15bj", ecs("StartInstance", InstanceId="{i15u}", RegionId="cn-beijing"),
          "InvalidInstanceId.NotFound", ecs("DescribeInstances", RegionId="cn-beijing"), status=404),
        C("ecs-region-other-ModifyInstanceAttribute", "s15bj",
          ecs("ModifyInstanceAttribute", InstanceId="{i15u}", InstanceName="moved", RegionId="cn-beijing"),
          "InvalidInstanceId.NotFound", ecs("DescribeInstances", RegionId="cn-beijing"), status=404),
        C("ecs-resourcetag-deny-StartInstance", "s15tagd", ecs("StartInstance", InstanceId="{i15t}"), FORBIDDEN, attr("{i15u}")),
        C("ecs-resourcetag-deny-DescribeInstanceAttribute", "s15tagd", attr("{i15t}"), FORBIDDEN, attr("{i15u}")),
        C("ecs-sg-deny-CreateInstance-SecurityGroupIds", "s15sg", create(**{"SecurityGroupIds.1": "{sg15}"}), FORBIDDEN, attr("{i15u}")),
        C("ecs-sg-deny-ModifyInstanceAttribute-SecurityGroupIds", "s15sg",
          ecs("ModifyInstanceAttribute", InstanceId="{i15u}", **{"SecurityGroupIds.1": "{sg15}"}), FORBIDDEN, attr("{i15u}")),
        C("ecs-sg-deny-AuthorizeSecurityGroup-SourceGroupId", "s15sg",
          ecs("AuthorizeSecurityGroup", SecurityGroupId="{sg15ok}", SourceGroupId="{sg15}", IpProtocol="tcp", PortRange="22/22"),
          FORBIDDEN, ecs("AuthorizeSecurityGroup", SecurityGroupId="{sg15ok}", SourceCidrIp="10.0.0.0/8", IpProtocol="tcp", PortRange="22/22")),
        C("ecs-image-deny-CreateInstance", "s15img", create(), FORBIDDEN, attr("{i15u}")),
    ]


def build_sweep15_world(w: dm.World) -> None:
    """The OSS authorization sweep of the fifteenth session (docs/STATUS.md): a public-read bucket
    whose policy denies everyone (`Principal: []`) `secret/*` and denies everyone, the owner
    included, deleting `keep/*` over plain HTTP (a condition); a bucket tagged env=prod; a user
    allowed only PutObject (no PutObjectTagging); a user whose Deny statements test the ACL and
    bucket-tag condition keys."""
    acct = w.account
    bq = w.make_bucket("bq", ["pub/a.txt", "secret/s.txt", "keep/k.txt"])
    w.bucket("root", bq).put_bucket_acl(oss2.BUCKET_ACL_PUBLIC_READ)
    w.set_bucket_policy(bq, [
        {"Effect": "Deny", "Action": ["oss:GetObject"], "Principal": [], "Resource": [f"acs:oss:*:{acct}:{bq}/secret/*"]},
        {"Effect": "Deny", "Action": ["oss:DeleteObject"], "Principal": ["*"], "Resource": [f"acs:oss:*:{acct}:{bq}/keep/*"],
         "Condition": {"Bool": {"acs:SecureTransport": ["false"]}}},
    ])
    bt = w.make_bucket("bt", ["t.txt"])
    rule = oss2.models.TaggingRule()
    rule.add("env", "prod")
    w.bucket("root", bt).put_bucket_tagging(oss2.models.Tagging(rule))
    w.user("s15tag", principal=True, prefix="dm-ossputonly", policies=[w.policy("s15tag_pol", [
        h.allow(["oss:PutObject", "oss:GetObject"], [oarn(bq, "*")])])])
    w.user("s15acl", principal=True, prefix="dm-ossaclkeys", policies=["AliyunOSSFullAccess", w.policy("s15acl_deny", [
        cond_deny("oss:PutObject", oarn(bq, "*"), {"StringEquals": {"oss:x-oss-object-acl": ["public-read", "public-read-write"]}}),
        cond_deny("oss:PutBucketAcl", oarn(bq), {"StringEquals": {"oss:x-oss-acl": ["public-read-write"]}}),
        cond_deny("oss:GetObject", oarn("*", "*"), {"StringEquals": {"oss:BucketTag/env": ["prod"]}})])])


def sweep15_cases():
    """Bucket-policy `Principal: []` is everyone, a conditional Deny for everyone binds the owner,
    the ACL and bucket-tag condition keys are filled in, and tagging on upload needs PutObjectTagging."""
    C = Case
    pub = oss("GetObject", "{bq}", "pub/a.txt")
    return [
        C("oss-bucketpolicy-empty-principal-anon-GetObject", "anon", oss("GetObject", "{bq}", "secret/s.txt"), DENIED, pub),
        C("oss-bucketpolicy-empty-principal-user-GetObject", "s15acl", oss("GetObject", "{bq}", "secret/s.txt"), DENIED, pub),
        C("oss-bucketpolicy-conditional-everyone-owner-DeleteObject", "root", oss("DeleteObject", "{bq}", "keep/k.txt"), DENIED,
          oss("GetObject", "{bq}", "keep/k.txt")),
        C("oss-putobject-only-PutObject-tagging", "s15tag", oss("PutObject", "{bq}", "up/{fresh}", tagging="class=public"), DENIED,
          oss("PutObject", "{bq}", "up/{fresh}")),
        C("oss-cond-object-acl-PutObject", "s15acl", oss("PutObject", "{bq}", "up/{fresh}", headers={"x-oss-object-acl": "public-read"}),
          DENIED, oss("PutObject", "{bq}", "up/{fresh}", headers={"x-oss-object-acl": "private"})),
        C("oss-cond-bucket-acl-PutBucketAcl", "s15acl", oss("PutBucketAcl", "{bq}", acl="public-read-write"), DENIED,
          oss("PutBucketAcl", "{bq}", acl="public-read")),
        C("oss-cond-bucket-tag-GetObject", "s15acl", oss("GetObject", "{bt}", "t.txt"), DENIED, pub),
    ]


def build_issue18_world(w: dm.World) -> None:
    acct, n = w.account, w.names
    harmless = [h.allow("ram:GetAccountAlias")]
    # Tags: a role and a policy tagged env=prod, a role tagged env=dev.
    for key, env in (("tg_prod", "prod"), ("tg_dev", "dev")):
        w.role(key, prefix=f"tag{env}")
        w.ram_root("TagResources", ResourceType="role", ResourceNames=json.dumps([n[key]]), Tag=tag(env=env))
    tg_pol = w.policy("tg_pol", harmless)
    w.ram_root("TagResources", ResourceType="policy", ResourceNames=json.dumps([tg_pol]), Tag=tag(env="prod"))
    w.user("tg", principal=True, prefix="dm-tags", policies=[w.policy("tg_p", [
        cond_allow("ram:GetRole", "*", {"StringEquals": {"acs:ResourceTag/env": "dev"}}),
        h.allow(["ram:UpdateRole", "ram:UntagResources", "ram:CreateRole", "ram:GetPolicy", "ram:ListPolicyVersions"]),
        cond_deny(["ram:UpdateRole", "ram:UntagResources", "ram:GetPolicy"], "*", {"StringEquals": {"acs:ResourceTag/env": "prod"}}),
        cond_allow("ram:TagResources", "*", {"StringEquals": {"acs:RequestTag/team": "a"}}),
        cond_deny("ram:CreateRole", "*", {"StringEquals": {"acs:RequestTag/env": "prod"}}),
    ])])
    # MFA: AccessKey requests carry no MFA.
    w.user("mf", principal=True, prefix="dm-mfa", policies=[w.policy("mf_p", [
        cond_allow("ram:ListUsers", "*", {"Bool": {"acs:MFAPresent": "true"}}),
        cond_allow("ram:ListRoles", "*", {"NumericLessThan": {"acs:MFAPresentDuration": "3600"}}),
        h.allow("ram:ListGroups"),
    ])])
    # Self-service (the default security preference): own password and MFA device, not own keys.
    w.user("ss", principal=True, prefix="dm-self")
    # The console's password form is ChangePassword: an explicit Deny wins over the self-service grant.
    w.policy("pw_deny", [h.deny("ram:ChangePassword")])
    # ram:ServiceName on service-linked roles.
    w.user("sl", principal=True, prefix="dm-slr", policies=[w.policy("sl_p", [
        cond_allow("ram:CreateServiceLinkedRole", "*", {"StringEquals": {"ram:ServiceName": "archiving.ecs.aliyuncs.com"}}),
        h.allow("ram:GetServiceLinkedRoleTemplate"),
    ])])
    # MFA devices by serial number, a Deny spelled in lower case.
    keep = w.name("keepdev", exact="KeepDev-" + hexs())
    w.ram_root("CreateVirtualMFADevice", VirtualMFADeviceName=keep)
    w.user("md", principal=True, prefix="dm-mfadev", policies=[w.policy("md_p", [
        h.allow(["ram:CreateVirtualMFADevice", "ram:DeleteVirtualMFADevice", "ram:ListVirtualMFADevices"], arn("mfa", "*")),
        h.deny("ram:DeleteVirtualMFADevice", arn("mfa", keep.lower())),
    ])])
    # IMS identity providers.
    fp = "902ef2deeb3c5b13ea4c3d5193629309e231ae55"
    for key in ("okidp", "secretidp"):
        name = w.name(key, exact=f"{key}-{hexs()}")
        w.root(ims("CreateOIDCProvider", OIDCProviderName=name, IssuerUrl=f"https://{name}.idp.test", Fingerprints=fp, ClientIds="app"))
    w.user("oi", principal=True, prefix="dm-idp", policies=[w.policy("oi_p", [
        h.allow(["ram:GetOIDCProvider", "ram:DeleteOIDCProvider"], arn("oidc-provider", n["okidp"])),
        h.allow("ram:ListOIDCProviders"),
        h.deny("ram:DeleteOIDCProvider", arn("oidc-provider", n["okidp"])),
    ])])
    # AssumeRoleWithOIDC: a provider for the local issuer, a role trusting one subject of it.
    srv = w.server
    issuer = json.loads(srv.cli("oidc", "issuer", "--endpoint", srv.base_url, "--data-dir", str(srv.data_dir)).stdout)["Issuer"]
    idp = w.name("oidcidp", exact=h.local_oidc_provider(w.rpc("root", "ims"), issuer))
    provider = f"acs:ram::{acct}:oidc-provider/{idp}"
    n["oidc_arn"] = provider
    w.role("oidc_role", trust=json.dumps({"Version": "1", "Statement": [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Federated": [provider]},
        "Condition": {"StringEquals": {"oidc:sub": "system:serviceaccount:ns:ok", "oidc:aud": "sts.aliyuncs.com"}}}]}))
    w.role("oidc_deny_role", trust=json.dumps({"Version": "1", "Statement": [
        {"Action": "sts:AssumeRoleWithOIDC", "Effect": "Allow", "Principal": {"Federated": [provider]}},
        {"Action": "sts:AssumeRole", "Effect": "Deny", "Principal": {"Federated": [provider]},
         "Condition": {"StringLike": {"oidc:sub": "*:blocked"}}}]}))

    def token(sub):
        p = srv.cli("oidc", "token", "--sub", sub, "--aud", "sts.aliyuncs.com", "--endpoint", srv.base_url, "--data-dir", str(srv.data_dir))
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    for key, sub in (("tok_ok", "system:serviceaccount:ns:ok"), ("tok_other", "system:serviceaccount:ns:other"),
                     ("tok_blocked", "system:serviceaccount:ns:blocked")):
        n[key] = token(sub)
    head, _, sig = n["tok_ok"].split(".")
    import base64
    body = base64.urlsafe_b64encode(json.dumps({"iss": issuer, "sub": "system:serviceaccount:ns:ok", "aud": "sts.aliyuncs.com",
                                                "iat": 1, "exp": 99999999999}).encode()).rstrip(b"=").decode()
    n["tok_forged"] = f"{head}.{body}.{sig}"
    # An external issuer (its JWKS given to the provider): a signing key, an encryption key
    # (`use: enc`), and tokens that only a careless verifier takes (federation sweep).
    from test_federation import rs256, rsa_issuer, sign_jwt

    key, jwks = rsa_issuer()
    enc_key, enc_jwks = rsa_issuer()
    ext = w.name("extidp", exact=f"extidp-{hexs()}")
    ext_url = f"https://{ext}.idp.test"
    w.root(ims("CreateOIDCProvider", OIDCProviderName=ext, IssuerUrl=ext_url, Fingerprints=fp, ClientIds="ext-app",
               JWKS=json.dumps({"keys": jwks["keys"] + [dict(enc_jwks["keys"][0], kid="enc-1", use="enc")]})))
    n["ext_arn"] = f"acs:ram::{acct}:oidc-provider/{ext}"
    w.role("ext_role", trust=json.dumps({"Version": "1", "Statement": [{
        "Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Federated": [n["ext_arn"]]}}]}))
    now = int(time.time())
    claims = {"iss": ext_url, "sub": "user-1", "aud": "ext-app", "iat": now - 10, "exp": now + 3 * 3600}
    n["ext_ok"] = rs256(key, claims)
    n["ext_empty_sub"] = rs256(key, dict(claims, sub=""))
    n["ext_enc_key"] = rs256(enc_key, claims, kid="enc-1")
    n["ext_pss_on_rs256_key"] = sign_jwt(key, claims, alg="PS256")
    # UpdateOIDCProvider may change client ids and the description, not the keys: new keys need
    # what re-creating the provider needs (Delete and Create).
    _, attacker_jwks = rsa_issuer()
    n["attacker_jwks"] = json.dumps(attacker_jwks)
    w.user("ou", principal=True, prefix="dm-idpupd", policies=[w.policy("ou_p", [
        h.allow("ram:UpdateOIDCProvider", arn("oidc-provider", ext)),
    ])])


def issue18_cases():
    """Tags (acs:ResourceTag on the resource, acs:RequestTag on what a request sets), MFA conditions,
    the security preference's self-service grants, ram:ServiceName, MFA devices by serial number,
    IMS identity providers, and AssumeRoleWithOIDC trust (Federated principals, oidc:sub)."""
    C = Case
    oidc = lambda role, tok: sts("AssumeRoleWithOIDC", RoleArn="acs:ram::{acct}:role/" + role, OIDCProviderArn="{oidc_arn}",  # noqa: E731
                                 OIDCToken=tok, RoleSessionName="deny-matrix")
    ext = lambda tok: sts("AssumeRoleWithOIDC", RoleArn="acs:ram::{acct}:role/{ext_role}", OIDCProviderArn="{ext_arn}",  # noqa: E731
                          OIDCToken=tok, RoleSessionName="deny-matrix")
    fail = "AuthenticationFail.NoPermission"
    serial = "acs:ram::{acct}:mfa/"
    return [
        C("ram-tag-resource-allow-GetRole", "tg", ram("GetRole", RoleName="{tg_prod}"), NOPERM, ram("GetRole", RoleName="{tg_dev}")),
        C("ram-tag-resource-deny-UpdateRole", "tg", ram("UpdateRole", RoleName="{tg_prod}", NewDescription="x"), NOPERM,
          ram("UpdateRole", RoleName="{tg_dev}", NewDescription="x")),
        C("ram-tag-resource-deny-UpdateRole-upper", "tg", ram("UpdateRole", RoleName="{tg_prod:upper}", NewDescription="x"), NOPERM,
          ram("UpdateRole", RoleName="{tg_dev:upper}", NewDescription="x")),
        C("ram-tag-resource-deny-UntagResources", "tg", ram("UntagResources", ResourceType="role", ResourceNames='["{tg_prod}"]', TagKeys='["env"]'),
          NOPERM, ram("UntagResources", ResourceType="role", ResourceNames='["{tg_dev}"]', TagKeys='["none"]')),
        C("ram-tag-resource-deny-GetPolicy", "tg", ram("GetPolicy", PolicyType="Custom", PolicyName="{tg_pol}"), NOPERM,
          ram("ListPolicyVersions", PolicyType="Custom", PolicyName="{tg_pol}")),
        C("ram-tag-request-allow-TagResources", "tg", ram("TagResources", ResourceType="role", ResourceNames='["{tg_dev}"]', Tag=tag(team="b")),
          NOPERM, ram("TagResources", ResourceType="role", ResourceNames='["{tg_dev}"]', Tag=tag(team="a"))),
        C("ram-tag-request-deny-CreateRole", "tg", ram("CreateRole", RoleName="{fresh}", AssumeRolePolicyDocument="{ecs_trust}", Tag=tag(env="prod")),
          NOPERM, ram("CreateRole", RoleName="{fresh}", AssumeRolePolicyDocument="{ecs_trust}", Tag=tag(env="dev"))),
        C("ram-cond-allow-MFAPresent-ListUsers", "mf", ram("ListUsers"), NOPERM, ram("ListGroups")),
        C("ram-cond-allow-MFAPresentDuration-ListRoles", "mf", ram("ListRoles"), NOPERM, ram("ListGroups")),
        C("ram-selfservice-own-keys-off", "ss", ram("ListAccessKeys"), NOPERM, ram("CreateVirtualMFADevice", VirtualMFADeviceName="{ss}")),
        C("ram-selfservice-mfa-other-name", "ss", ram("CreateVirtualMFADevice", VirtualMFADeviceName="{fresh}"), NOPERM,
          ram("CreateVirtualMFADevice", VirtualMFADeviceName="{ss}")),
        C("ram-selfservice-mfa-other-user", "ss", ram("GetUserMFAInfo", UserName="{by}"), NOPERM,
          ram("CreateVirtualMFADevice", VirtualMFADeviceName="{ss}")),
        C("ram-selfservice-mfa-list", "ss", ram("ListVirtualMFADevices"), NOPERM, ram("CreateVirtualMFADevice", VirtualMFADeviceName="{ss}")),
        C("ram-cond-ServiceName-CreateServiceLinkedRole", "sl", ram("CreateServiceLinkedRole", ServiceName="actiontrail.aliyuncs.com"), NOPERM,
          ram("GetServiceLinkedRoleTemplate", ServiceName="actiontrail.aliyuncs.com")),
        C("ram-mfa-device-deny-serial", "md", ram("DeleteVirtualMFADevice", SerialNumber=serial + "{keepdev}"), NOPERM, ram("ListVirtualMFADevices")),
        C("ram-mfa-device-deny-serial-upper", "md", ram("DeleteVirtualMFADevice", SerialNumber=serial + "{keepdev:upper}"), NOPERM,
          ram("ListVirtualMFADevices")),
        C("ims-oidc-GetOIDCProvider-other", "oi", ims("GetOIDCProvider", OIDCProviderName="{secretidp}"), NOPERM,
          ims("GetOIDCProvider", OIDCProviderName="{okidp}")),
        C("ims-oidc-DeleteOIDCProvider-deny-upper", "oi", ims("DeleteOIDCProvider", OIDCProviderName="{okidp:upper}"), NOPERM,
          ims("ListOIDCProviders")),
        C("ims-oidc-CreateOIDCProvider-implicit", "oi", ims("CreateOIDCProvider", OIDCProviderName="{fresh}", IssuerUrl="https://{fresh}.test",
                                                               Fingerprints="aa"), NOPERM, ims("ListOIDCProviders")),
        C("console-ChangePassword-deny", "root",
          console("ChangePassword", UserName="{fresh}", OldPassword=dm.PASSWORD, NewPassword=dm.PASSWORD + "-2"), NOPERM,
          console("ChangePassword", UserName="{fresh}-ok", OldPassword=dm.PASSWORD, NewPassword=dm.PASSWORD + "-2"),
          setup=[ram("CreateUser", UserName="{fresh}"), ram("CreateLoginProfile", UserName="{fresh}", Password=dm.PASSWORD),
                 ram("AttachPolicyToUser", PolicyType="Custom", PolicyName="{pw_deny}", UserName="{fresh}"),
                 ram("CreateUser", UserName="{fresh}-ok"), ram("CreateLoginProfile", UserName="{fresh}-ok", Password=dm.PASSWORD)],
          cleanup=[ram("DetachPolicyFromUser", PolicyType="Custom", PolicyName="{pw_deny}", UserName="{fresh}"),
                   ram("DeleteLoginProfile", UserName="{fresh}"), ram("DeleteUser", UserName="{fresh}"),
                   ram("DeleteLoginProfile", UserName="{fresh}-ok"), ram("DeleteUser", UserName="{fresh}-ok")]),
        C("sts-oidc-trust-sub", "root", oidc("{oidc_role}", "{tok_other}"), fail, oidc("{oidc_role}", "{tok_ok}"), status=401),
        C("sts-oidc-trust-deny", "root", oidc("{oidc_deny_role}", "{tok_blocked}"), fail, oidc("{oidc_deny_role}", "{tok_ok}"), status=401),
        C("sts-oidc-forged-token", "root", oidc("{oidc_role}", "{tok_forged}"), "AuthenticationFail.OIDCToken.InvalidSignature",
          oidc("{oidc_role}", "{tok_ok}"), status=401),
        C("ims-oidc-UpdateOIDCProvider-JWKS-needs-recreate", "ou", ims("UpdateOIDCProvider", OIDCProviderName="{extidp}", JWKS="{attacker_jwks}"),
          NOPERM, ims("UpdateOIDCProvider", OIDCProviderName="{extidp}", NewDescription="dm"), escape=ESC_JWKS),
        C("sts-oidc-empty-sub", "root", ext("{ext_empty_sub}"), "AuthenticationFail.OIDCToken.Invalid", ext("{ext_ok}"), status=401,
          escape=ESC_OIDC),
        C("sts-oidc-encryption-key", "root", ext("{ext_enc_key}"), "AuthenticationFail.OIDCToken.InvalidSignature", ext("{ext_ok}"),
          status=401, escape=ESC_OIDC),
        C("sts-oidc-key-alg-mismatch", "root", ext("{ext_pss_on_rs256_key}"), "AuthenticationFail.OIDCToken.InvalidSignature",
          ext("{ext_ok}"), status=401, escape=ESC_OIDC),
    ]


# SDK-kind samples: the same case through the other client kinds / oss2 signature V4.
KIND_SAMPLES = [
    "ram-case-user-upper-AttachPolicyToUser", "ram-case-user-exact-AttachPolicyToUser", "ram-denyall-role-exact-UpdateRole",
    "ram-notaction-DeleteUser", "ram-cond-deny-SourceIp-CreateGroup", "sts-trust-ecs-only", "sts-permanent-key-with-session-token", "sts-session-deny-role-exact-GetRole",
    "sts-assume-deny-upper", "ecs-passrole-missing-AttachInstanceRamRole", "ecs-readonly-StartInstance",
    "ram-tag-resource-deny-UpdateRole", "ram-tag-request-deny-CreateRole", "ram-cond-allow-MFAPresent-ListUsers",
    "ram-mfa-device-deny-serial-upper", "ims-oidc-GetOIDCProvider-other",
]
SIG_SAMPLES = [
    "oss-session-bucketpolicy-rolearn-PutObject-pub", "oss-session-bucketpolicy-stsarn-GetObject-priv", "oss-readonly-PutObject",
    "oss-prefix-priv-ListObjects", "oss-bucketpolicy-deny-userid-GetObject", "oss-anon-GetObject-private", "oss-cond-deny-Prefix-ListObjects",
    "oss-session-key-without-token-GetObject",
]

# The same decisions through the S3-compatible API: each of these OSS cases again with boto3, SigV4
# and SigV2 (role sessions with their session policies, bucket policies, anonymous requests, RAM
# conditions) — the identical refusal, and the identical positive control.
S3_SAMPLES = [
    "oss-none-GetObject", "oss-none-ListBuckets", "oss-none-PutBucket", "oss-bucketpolicy-getonly-PutObject",
    "oss-bucketpolicy-outside-GetObject", "oss-readonly-PutObject", "oss-readonly-DeleteObject", "oss-readonly-PutBucketAcl",
    "oss-readonly-PutBucketPolicy", "oss-readonly-CopyObject", "oss-readonly-InitiateMultipartUpload", "oss-deny-resource-GetObject",
    "oss-deny-otherbucket-PutObject", "oss-bucketpolicy-deny-userid-GetObject", "oss-bucketpolicy-deny-star-PutObject",
    "oss-prefix-priv-ListObjects", "oss-prefix-secret-ListObjectsV2", "oss-cond-deny-Prefix-ListObjects",
    "oss-cond-deny-Delimiter-ListObjects", "oss-cond-deny-PrincipalARN-GetObject", "oss-notaction-PutObject",
    "oss-session-narrow-PutObject", "oss-session-narrow-GetObject-secret", "oss-session-narrow-GetObject-otherbucket",
    "oss-session-bucketpolicy-rolearn-DeleteObject", "oss-session-bucketpolicy-stsarn-ListObjects",
    "oss-session-bucketpolicy-putonly-GetObject-priv", "oss-anon-GetObject-private", "oss-anon-PutObject",
    "oss-anon-GetObject-outside",
]


def all_cases():
    base = (ram_case_variant_cases() + ram_deny_spelling_cases() + ram_deny_all_entity_cases() + ram_wildcard_cases()
            + ram_condition_cases() + sts_cases() + ecs_cases() + fault_cases() + trail_cases() + oss_cases() + presign_cases() + post_object_cases() + issue18_cases()
            + sweep15_cases() + sweep15_ecs_cases() + sweep15_ram_cases() + sweep16_cases() + sweep17_oidc_cases()
            + sweep17_ctx_cases() + sweep17_tags_cases() + sweep17_kms_cases() + sweep17_s3_cases() + sweep17_objacl_cases()
            + sweep17_ecsres_cases() + sweep17_engine_cases() + sweep17_post_cases())
    by_id = {c.id: c for c in base}
    assert len(by_id) == len(base), "duplicate case ids"
    samples = []
    for cid in KIND_SAMPLES:
        for kind in ("v2sig", "core"):
            samples.append(dataclasses.replace(by_id[cid], id=f"{cid}-sdk-{kind}", kind=kind, sample_of=cid))
    for cid in SIG_SAMPLES:
        samples.append(dataclasses.replace(by_id[cid], id=f"{cid}-sig-v4", sig="v4", sample_of=cid))
    for cid in S3_SAMPLES:
        for sig in ("s3v4", "s3"):
            samples.append(dataclasses.replace(by_id[cid], id=f"{cid}-{sig}", sig=sig, sample_of=cid))
    return base + samples


CASES = all_cases()


# =====================================================================================================
# Tests
# =====================================================================================================

@pytest.fixture(scope="module")
def world(server, root_ecs):
    w = dm.World(server)
    build_world(w, root_ecs)
    build_issue18_world(w)
    build_sweep15_world(w)
    build_sweep15_ecs_world(w, root_ecs)
    build_sweep15_ram_world(w)
    build_sweep16_world(w)
    build_sweep17_engine_world(w)
    build_sweep17_oidc_world(w)
    build_sweep17_ctx_world(w, root_ecs)
    build_sweep17_tags_world(w, root_ecs)
    build_sweep17_kms_world(w)
    build_sweep17_s3_world(w)
    build_sweep17_objacl_world(w)
    build_sweep17_ecsres_world(w, root_ecs)
    build_sweep17_post_world(w)
    for key in ("dl", "wl", "wna", "wdnr", "wsc"):
        w.names[f"{key}_self"] = w.names[key]
    yield w
    w.teardown()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_deny(world, case):
    dm.run_case(world, case)


def test_matrix_size():
    base = [c for c in CASES if c.sample_of is None]
    by_svc = {}
    for c in base:
        by_svc[c.req[0]] = by_svc.get(c.req[0], 0) + 1
    escapes = [c.id for c in base if c.escape]
    print(f"\ndeny matrix: {len(base)} deny cases ({len(CASES) - len(base)} SDK-kind re-runs), by service {by_svc}, "
          f"{len(escapes)} known escapes, {sum(1 for c in base if c.ctl is not None)} with a positive control")
    assert len(base) >= 200
    assert {"ram", "sts", "ims", "ecs", "vpc", "oss", "url"} <= set(by_svc)
    assert all(c.ctl is not None or c.noctl for c in CASES)
