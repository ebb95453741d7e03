"""ECS SSH key pairs end to end through the typed alibabacloud_ecs20140526 client: CreateKeyPair
(the private key answered once, matching the stored public key), ImportKeyPair (OpenSSH public key
checked, MD5 fingerprint), DescribeKeyPairs (name wildcards, fingerprint, paging, IncludePublicKey),
DeleteKeyPairs, AttachKeyPair / DetachKeyPair with per-instance results, `KeyPairName` on
CreateInstance / RunInstances / DescribeInstances, the metadata tree's `public-keys/` read from
inside the instance, the refusals with ECS's codes and statuses, and ActionTrail never holding the
private key."""

import base64
import hashlib
import json
import sys
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

import rshelpers as h
from instancekit import environment, exec_in, metadata
from test_actiontrail import lookup, trail

REGION = h.ECS_REGION
IMAGE = "centos_7_03_64_40G_alibase_20170503.vhd"
ITYPE = "ecs.xn4.small"
READ_KEY = ("import urllib.request as u; b='http://100.100.100.200/latest/meta-data/public-keys/';"
            "print(u.urlopen(b, timeout=5).read().decode()); print(u.urlopen(b + '0/openssh-key', timeout=5).read().decode())")


@pytest.fixture(scope="module")
def net(root_ecs):
    return h.ecs_network(root_ecs, "10.63.0.0/16", "10.63.1.0/24")


@pytest.fixture(scope="module")
def tea(typed):
    return typed["v3"]


def m():
    from alibabacloud_ecs20140526 import models
    return models


def name(prefix="kp"):
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def md5_fingerprint(openssh: str) -> str:
    digest = hashlib.md5(base64.b64decode(openssh.split()[1])).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 32, 2))


def ed25519_public() -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def fail(fn, **kw):
    """A typed call that must be refused with `code` and `status`."""
    return h.expect_error(lambda: h.tea_call(fn), **kw)


def describe(tea, **kw):
    return h.tea_call(lambda: tea.describe_key_pairs(m().DescribeKeyPairsRequest(region_id=REGION, **kw))).body


def create_instance(tea, vsw, **kw):
    req = m().CreateInstanceRequest(region_id=REGION, image_id=IMAGE, instance_type=ITYPE, v_switch_id=vsw, **kw)
    return h.tea_call(lambda: tea.create_instance(req)).body.instance_id


def instance_key(root_ecs, iid):
    return root_ecs.call("DescribeInstances", {"RegionId": REGION, "InstanceIds": json.dumps([iid])})["Instances"]["Instance"][0]["KeyPairName"]


def test_create_import_describe_delete(tea, server):
    kp = name()
    body = h.tea_call(lambda: tea.create_key_pair(m().CreateKeyPairRequest(region_id=REGION, key_pair_name=kp))).body
    assert body.key_pair_name == kp and body.key_pair_id and body.request_id
    private = serialization.load_pem_private_key(body.private_key_body.encode(), password=None)
    assert body.private_key_body.startswith("-----BEGIN PRIVATE KEY-----")
    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
    own_public = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    assert body.key_pair_finger_print == md5_fingerprint(own_public)
    # the stored public key is the private key's own; the private key is never answered again
    got = describe(tea, key_pair_name=kp, include_public_key=True)
    assert got.total_count == 1
    row = got.key_pairs.key_pair[0]
    assert (row.key_pair_name, row.key_pair_finger_print, row.public_key) == (kp, body.key_pair_finger_print, own_public)
    assert describe(tea, key_pair_name=kp).key_pairs.key_pair[0].public_key is None

    # import: RSA with a comment, and ed25519
    rsa_pub = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    imported = []
    for pub in (rsa_pub + " me@laptop", ed25519_public()):
        n = name("imp")
        r = h.tea_call(lambda: tea.import_key_pair(m().ImportKeyPairRequest(region_id=REGION, key_pair_name=n, public_key_body=pub))).body
        assert (r.key_pair_name, r.key_pair_finger_print) == (n, md5_fingerprint(pub))
        assert describe(tea, key_pair_name=n, include_public_key=True).key_pairs.key_pair[0].public_key == " ".join(pub.split()[:2])
        imported.append(n)

    # filters: wildcards, fingerprint, paging
    stem = name("wild")
    for suffix in ("a", "b", "c"):
        h.tea_call(lambda: tea.import_key_pair(m().ImportKeyPairRequest(region_id=REGION, key_pair_name=f"{stem}-{suffix}",
                                                                          public_key_body=ed25519_public())))
    assert describe(tea, key_pair_name=f"{stem}*").total_count == 3
    assert describe(tea, key_pair_name=f"*{stem[5:]}-b").key_pairs.key_pair[0].key_pair_name == f"{stem}-b"
    assert describe(tea, key_pair_name=f"*{stem[5:]}*", page_size=2, page_number=2).key_pairs.key_pair[0].key_pair_name == f"{stem}-c"
    assert describe(tea, key_pair_name=stem).total_count == 0
    # tags given at creation: shown, and a filter
    tagged = name("tag")
    tag = m().ImportKeyPairRequestTag(key="team", value="blue")
    h.tea_call(lambda: tea.import_key_pair(m().ImportKeyPairRequest(region_id=REGION, key_pair_name=tagged, public_key_body=ed25519_public(),
                                                                      tag=[tag])))
    row = describe(tea, key_pair_name=tagged).key_pairs.key_pair[0]
    assert [(t.tag_key, t.tag_value) for t in row.tags.tag] == [("team", "blue")]
    by_tag = describe(tea, key_pair_name="tag-*", tag=[m().DescribeKeyPairsRequestTag(key="team", value="blue")])
    assert [k.key_pair_name for k in by_tag.key_pairs.key_pair] == [tagged]
    imported.append(tagged)
    by_fp = describe(tea, key_pair_finger_print=body.key_pair_finger_print)
    assert [k.key_pair_name for k in by_fp.key_pairs.key_pair] == [kp]
    # another region does not see them
    assert h.tea_call(lambda: tea.describe_key_pairs(m().DescribeKeyPairsRequest(region_id="cn-shanghai", key_pair_name=kp))).body.total_count == 0

    # delete: all named must exist, then all go
    names = [kp, *imported, f"{stem}-a", f"{stem}-b", f"{stem}-c"]
    fail(lambda: tea.delete_key_pairs(m().DeleteKeyPairsRequest(region_id=REGION, key_pair_names=json.dumps([kp, "kp-nosuch"]))),
                   code="InvalidKeyPairName.NotFound", status=400)
    assert describe(tea, key_pair_name=kp).total_count == 1
    h.tea_call(lambda: tea.delete_key_pairs(m().DeleteKeyPairsRequest(region_id=REGION, key_pair_names=json.dumps(names))))
    for n in names:
        assert describe(tea, key_pair_name=n).total_count == 0
    deleted = lookup(trail(server), ("ResourceName", imported[0]), ("EventName", "DeleteKeyPairs")).events
    assert len(deleted) == 1 and deleted[0]["eventRW"] == "Write", deleted

    # ActionTrail records the calls on the key pair by name, never the private key
    events = lookup(trail(server), ("ResourceName", kp)).events
    assert {e["eventName"] for e in events} >= {"CreateKeyPair", "DescribeKeyPairs"}, events
    created = [e for e in events if e["eventName"] == "CreateKeyPair"]
    assert created[0]["requestParameters"]["KeyPairName"] == kp and created[0]["eventRW"] == "Write"
    secret_line = body.private_key_body.split("\n")[1]
    assert secret_line not in json.dumps(events) and "PrivateKeyBody" not in json.dumps(events)


@pytest.mark.parametrize("kp_name,body,code,status", [
    ("1starts-with-digit", None, "InvalidKeyPairName.Malformed", 400),
    ("x", None, "InvalidKeyPairName.Malformed", 400),
    ("http://kp", None, "InvalidKeyPairName.Malformed", 400),
    ("bad space", None, "InvalidKeyPairName.Malformed", 400),
    ("ok-name", "ssh-rsa not-base64!", "InvalidPublicKeyBody.Malformed", 400),
    ("ok-name", "ssh-foo AAAA", "InvalidPublicKeyBody.Malformed", 400),
    ("ok-name", "just-one-word", "InvalidPublicKeyBody.Malformed", 400),
])
def test_refusals(tea, kp_name, body, code, status):
    if body is None:
        fail(lambda: tea.create_key_pair(m().CreateKeyPairRequest(region_id=REGION, key_pair_name=kp_name)), code=code, status=status,
             message_contains="Specified Key Pair name is not valid.")
    else:
        fail(lambda: tea.import_key_pair(m().ImportKeyPairRequest(region_id=REGION, key_pair_name=kp_name + uuid.uuid4().hex[:6],
                                                                             public_key_body=body)), code=code, status=status)


def test_duplicate_and_missing(tea, root_ecs):
    kp = name()
    h.tea_call(lambda: tea.import_key_pair(m().ImportKeyPairRequest(region_id=REGION, key_pair_name=kp, public_key_body=ed25519_public())))
    fail(lambda: tea.create_key_pair(m().CreateKeyPairRequest(region_id=REGION, key_pair_name=kp)),
                   code="KeyPair.AlreadyExist", status=400)
    # the same name in another region is another key pair
    h.tea_call(lambda: tea.import_key_pair(m().ImportKeyPairRequest(region_id="cn-shanghai", key_pair_name=kp, public_key_body=ed25519_public())))
    h.expect_error(lambda: root_ecs.call("CreateKeyPair", {"RegionId": REGION}), code="MissingParameter", status=400)
    h.expect_error(lambda: root_ecs.call("ImportKeyPair", {"RegionId": REGION, "KeyPairName": name()}), code="MissingParameter", status=400)
    fail(lambda: tea.attach_key_pair(m().AttachKeyPairRequest(region_id=REGION, key_pair_name="kp-nosuch",
                                                                        instance_ids=json.dumps(["i-x"]))),
                   code="InvalidKeyPairName.NotFound", status=400)
    fail(lambda: tea.delete_key_pairs(m().DeleteKeyPairsRequest(region_id=REGION, key_pair_names="not json")),
                   code="InvalidKeyPairNames.Malformed", status=400)


def test_instances_and_metadata(server, tea, root_ecs, net):
    kp = name()
    pub = ed25519_public()
    h.tea_call(lambda: tea.import_key_pair(m().ImportKeyPairRequest(region_id=REGION, key_pair_name=kp, public_key_body=pub)))
    openssh = " ".join(pub.split()[:2])

    # CreateInstance with KeyPairName: DescribeInstances shows it, the metadata tree serves it
    iid = create_instance(tea, net[1], key_pair_name=kp)
    assert instance_key(root_ecs, iid) == kp
    listed = root_ecs.call("DescribeInstances", {"RegionId": REGION, "KeyPairName": kp})["Instances"]["Instance"]
    assert [i["InstanceId"] for i in listed] == [iid]
    root_ecs.call("StartInstance", {"InstanceId": iid})
    p = exec_in(server, iid, sys.executable, "-c", READ_KEY)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:2] == [f"0={kp}", openssh]
    env = environment(server, iid)
    assert "public-keys/" in metadata(env, "").text.split("\n")
    assert metadata(env, "public-keys").text == f"0={kp}"
    assert metadata(env, "public-keys/0/").text == "openssh-key"

    # RunInstances with KeyPairName; an unknown key pair refuses the whole call
    req = m().RunInstancesRequest(region_id=REGION, image_id=IMAGE, instance_type=ITYPE, v_switch_id=net[1], amount=2, key_pair_name=kp)
    ids = h.tea_call(lambda: tea.run_instances(req)).body.instance_id_sets.instance_id_set
    assert [instance_key(root_ecs, i) for i in ids] == [kp, kp]
    h.expect_error(lambda: create_instance(tea, net[1], key_pair_name="kp-nosuch"), code="InvalidKeyPairName.NotFound", status=404)

    # a bare instance has no public-keys/
    bare = create_instance(tea, net[1])
    assert instance_key(root_ecs, bare) == ""
    root_ecs.call("StartInstance", {"InstanceId": bare})
    benv = environment(server, bare)
    assert metadata(benv, "public-keys/").status_code == 404
    assert metadata(benv, "public-keys/0/openssh-key").status_code == 404
    assert "public-keys/" not in metadata(benv, "").text.split("\n")

    # AttachKeyPair: per-instance results; a missing instance fails alone
    other = name()
    other_pub = ed25519_public()
    h.tea_call(lambda: tea.import_key_pair(m().ImportKeyPairRequest(region_id=REGION, key_pair_name=other, public_key_body=other_pub)))
    r = h.tea_call(lambda: tea.attach_key_pair(m().AttachKeyPairRequest(
        region_id=REGION, key_pair_name=other, instance_ids=json.dumps([bare, "i-bp1nosuchinstance00"])))).body
    assert (r.key_pair_name, r.total_count, r.fail_count) == (other, "2", "1")
    res = {x.instance_id: x for x in r.results.result}
    assert (res[bare].success, res[bare].code) == ("true", "200")
    assert (res["i-bp1nosuchinstance00"].success, res["i-bp1nosuchinstance00"].code) == ("false", "InvalidInstanceId.NotFound")
    assert instance_key(root_ecs, bare) == other
    assert metadata(benv, "public-keys/0/openssh-key").text == " ".join(other_pub.split()[:2])

    # DetachKeyPair: only from instances bound to that key pair
    r = h.tea_call(lambda: tea.detach_key_pair(m().DetachKeyPairRequest(
        region_id=REGION, key_pair_name=other, instance_ids=json.dumps([bare, iid])))).body
    assert (r.total_count, r.fail_count) == ("2", "1")
    res = {x.instance_id: x for x in r.results.result}
    assert res[bare].success == "true" and res[iid].success == "false"
    assert instance_key(root_ecs, bare) == "" and instance_key(root_ecs, iid) == kp
    assert metadata(benv, "public-keys/").status_code == 404

    # a deleted key pair stays on the instances bound to it
    h.tea_call(lambda: tea.delete_key_pairs(m().DeleteKeyPairsRequest(region_id=REGION, key_pair_names=json.dumps([kp]))))
    assert instance_key(root_ecs, iid) == kp
    assert metadata(env, "public-keys/0/openssh-key").text == openssh


def test_quota_of_500_per_region(tea, root_ecs):
    """ECS keeps at most 500 key pairs per region: the 501st is QuotaExceed.KeyPair (403), in that
    region only, and deleting one makes room again. A region no other test uses, emptied after."""
    region, pub, stem = "cn-beijing", ed25519_public(), name("quota")
    names = [f"{stem}-{i}" for i in range(500)]
    for n in names:
        root_ecs.call("ImportKeyPair", {"RegionId": region, "KeyPairName": n, "PublicKeyBody": pub})
    try:
        fail(lambda: tea.import_key_pair(m().ImportKeyPairRequest(region_id=region, key_pair_name=f"{stem}-x", public_key_body=pub)),
             code="QuotaExceed.KeyPair", status=403, message_contains="The key pair quota exceeds")
        fail(lambda: tea.create_key_pair(m().CreateKeyPairRequest(region_id=region, key_pair_name=f"{stem}-y")),
             code="QuotaExceed.KeyPair", status=403)
        # other regions are not affected
        other = name("quota-other")
        h.tea_call(lambda: tea.import_key_pair(m().ImportKeyPairRequest(region_id=REGION, key_pair_name=other, public_key_body=pub)))
        h.tea_call(lambda: tea.delete_key_pairs(m().DeleteKeyPairsRequest(region_id=REGION, key_pair_names=json.dumps([other]))))
        h.tea_call(lambda: tea.delete_key_pairs(m().DeleteKeyPairsRequest(region_id=region, key_pair_names=json.dumps(names[:1]))))
        names = names[1:]
        h.tea_call(lambda: tea.import_key_pair(m().ImportKeyPairRequest(region_id=region, key_pair_name=f"{stem}-x", public_key_body=pub)))
        names.append(f"{stem}-x")
        assert h.tea_call(lambda: tea.describe_key_pairs(m().DescribeKeyPairsRequest(region_id=region, page_size=1))).body.total_count == 500
    finally:
        for i in range(0, len(names), 100):
            root_ecs.call("DeleteKeyPairs", {"RegionId": region, "KeyPairNames": json.dumps(names[i:i + 100])})
