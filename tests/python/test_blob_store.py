"""Object bodies in an S3-compatible store (`serve --blob-url s3://…`), readiness and graceful
shutdown.

moto's S3 server (tests/python/requirements.txt) runs on a loopback port as the stand-in store;
each server gets a bucket of its own, inspected directly with boto3. Official oss2 clients only.

* large bodies go to the store in parts (a multipart upload there) and read back whole and in
  ranges, also across the parts of an OSS multipart object;
* kill -9 in the middle of a PUT leaves no object, neither in OSS nor in the store;
* orphan collection removes a body the store holds without a record (what a crash between body
  and record leaves), and keeps it while it is younger than the URL's orphan_grace;
* `/ready` is 200 while the store and the blob store answer and 503 with the reason when the
  blob store is gone; `/health` stays 200;
* SIGTERM while a long GET is in flight: the GET completes byte-exact, new connections are
  refused, and the server exits cleanly.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import threading
import time
import uuid

import oss2
import pytest
import requests

import rshelpers as h

REGION = "cn-hangzhou"
MiB = 1024 * 1024
PART = 8 * MiB  # rolestack-blob-opendal's PART_SIZE: bodies above it are multipart uploads


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    s3 = h.MotoS3(tmp_path_factory.mktemp("moto") / "moto.log").start()
    try:
        yield s3
    finally:
        s3.stop()


def s3_server(moto: h.MotoS3, tmp_path, orphan_grace: str = "0s", bucket: str | None = None) -> h.RolestackServer:
    srv = h.RolestackServer(tmp_path / "data", tmp_path / "server.log")
    srv.blob_url = moto.blob_url(bucket or moto.new_bucket(), prefix="bodies", orphan_grace=orphan_grace)
    srv.blob_env = moto.env()
    return srv.start()


@pytest.fixture
def s3_srv(moto, tmp_path):
    srv = s3_server(moto, tmp_path)
    try:
        yield srv
    finally:
        srv.stop()


def oss_bucket(srv: h.RolestackServer, name: str) -> oss2.Bucket:
    r = srv.root
    return oss2.Bucket(oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"]), f"http://{srv.endpoint}", name,
                       region=REGION, connect_timeout=15)


def new_bucket(srv: h.RolestackServer) -> oss2.Bucket:
    b = oss_bucket(srv, f"blob-{uuid.uuid4().hex[:12]}")
    b.create_bucket()
    return b


def body(n: int, seed: int = 1) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB of varied bytes
    return (block * (n // len(block) + 1))[:n]


def store_objects(srv: h.RolestackServer) -> dict:
    return h.blob_store_objects(srv.blob_url)


def store_uploads(moto: h.MotoS3, srv: h.RolestackServer) -> list:
    bucket = srv.blob_url.split("://", 1)[1].split("/", 1)[0]
    return moto.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def wait_for(what: str, check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"gave up waiting for {what}"
            return value
        time.sleep(0.1)


# -- bodies --------------------------------------------------------------------------------------

def test_large_bodies_are_multipart_in_the_store_and_read_back_in_ranges(s3_srv, moto):
    b = new_bucket(s3_srv)
    data = body(2 * PART + 12_345)
    b.put_object("big", data)
    # One body, one object in the store, whole: uploaded in parts, completed, nothing left open.
    assert sorted(store_objects(s3_srv).values()) == [len(data)]
    assert store_uploads(moto, s3_srv) == []
    assert b.get_object("big").read() == data
    for first, last in [(0, 0), (PART - 3, PART + 5), (len(data) - 10, len(data) - 1), (12_345, 2 * PART)]:
        assert b.get_object("big", byte_range=(first, last)).read() == data[first:last + 1], (first, last)
    assert b.get_object("big", byte_range=(len(data) - 100, None)).read() == data[-100:]

    # An OSS multipart object: each part its own blob; a range across parts reads through.
    upload = b.init_multipart_upload("parts").upload_id
    pieces = [body(6 * MiB, 2), body(9 * MiB, 3), body(777, 4)]
    parts = [oss2.models.PartInfo(i + 1, b.upload_part("parts", upload, i + 1, p).etag) for i, p in enumerate(pieces)]
    b.complete_multipart_upload("parts", upload, parts)
    whole = b"".join(pieces)
    assert b.get_object("parts").read() == whole
    first, last = 6 * MiB - 1000, 15 * MiB + 10
    assert b.get_object("parts", byte_range=(first, last)).read() == whole[first:last + 1]
    assert len(store_objects(s3_srv)) == 1 + len(pieces)

    # Overwrite and delete remove the replaced bodies from the store.
    b.put_object("big", b"small now")
    b.delete_object("parts")
    assert sorted(store_objects(s3_srv).values()) == [len(b"small now")]


def test_kill9_during_put_leaves_no_object(s3_srv, moto):
    b = new_bucket(s3_srv)
    b.put_object("kept", b"kept body")
    before = store_objects(s3_srv)
    sent_a_part = threading.Event()
    release = threading.Event()

    def slow_body():
        # Past two parts: the first is held back until a second shows the body is not one PUT.
        for _ in range(2 * PART // MiB + 2):
            yield body(MiB, 5)
        sent_a_part.set()
        release.wait(60)
        yield body(MiB, 6)

    failure = []

    def put():
        try:
            b.put_object("half", slow_body())
        except Exception as e:  # the connection dies with the server
            failure.append(e)

    t = threading.Thread(target=put, daemon=True)
    t.start()
    assert sent_a_part.wait(60)
    wait_for("the store to see the upload under way", lambda: store_uploads(moto, s3_srv))
    s3_srv.proc.send_signal(signal.SIGKILL)
    s3_srv.proc.wait(timeout=15)
    release.set()
    t.join(30)
    assert failure, "the PUT cannot have succeeded: its server was killed"

    # Nothing of the half-written body is visible: not the OSS object, not a blob in the store
    # (the store's upload was never completed, and an incomplete upload is no object).
    assert store_objects(s3_srv) == before
    s3_srv.restart()
    b = oss_bucket(s3_srv, b.bucket_name)
    with pytest.raises(oss2.exceptions.NoSuchKey):
        b.get_object("half")
    assert [o.key for o in oss2.ObjectIterator(b)] == ["kept"]
    assert b.get_object("kept").read() == b"kept body"
    assert store_objects(s3_srv) == before


def test_orphan_collection_removes_bodies_without_a_record(moto, tmp_path):
    bucket = moto.new_bucket()
    srv = s3_server(moto, tmp_path / "a", bucket=bucket)
    try:
        b = new_bucket(srv)
        b.put_object("kept", body(3 * MiB, 7))
        referenced = store_objects(srv)
        srv.stop()
        # A body the store holds but no record names: what a crash between the body's upload and
        # its record's commit leaves.
        orphan = uuid.uuid4().hex
        moto.client().put_object(Bucket=bucket, Key=f"bodies/{orphan}", Body=b"never committed")
        # Not a blob name: never touched.
        moto.client().put_object(Bucket=bucket, Key="bodies/README", Body=b"someone else's")
        assert orphan in store_objects(srv)

        # A server whose grace covers the orphan's age keeps it (another node may still be
        # about to commit its record).
        srv.blob_url = moto.blob_url(bucket, prefix="bodies", orphan_grace="1h")
        srv.start()
        wait_for("orphan collection to finish", lambda: "orphan collection done" in srv.log_path.read_text())
        assert orphan in store_objects(srv)
        srv.stop()

        srv.blob_url = moto.blob_url(bucket, prefix="bodies", orphan_grace="0s")
        srv.log_path.write_text("")
        srv.start()
        wait_for("the orphan to be collected", lambda: orphan not in store_objects(srv))
        left = store_objects(srv)
        assert set(left) == set(referenced) | {"README"}
        assert oss_bucket(srv, b.bucket_name).get_object("kept").read() == body(3 * MiB, 7)
    finally:
        srv.stop()


# -- readiness -----------------------------------------------------------------------------------

def test_ready_follows_the_blob_store(tmp_path):
    own = h.MotoS3(tmp_path / "moto.log").start()
    srv = s3_server(own, tmp_path)
    try:
        r = requests.get(f"{srv.base_url}/ready", timeout=30)
        assert (r.status_code, r.text) == (200, "ready")
        own.stop()
        r = requests.get(f"{srv.base_url}/ready", timeout=60)
        assert r.status_code == 503
        assert r.text.startswith("not ready: blob store unreachable"), r.text
        # Liveness is not readiness: the process still answers.
        assert requests.get(f"{srv.base_url}/health", timeout=30).status_code == 200
    finally:
        srv.stop()
        own.stop()


def test_ready_on_the_default_stores(server):
    r = requests.get(f"{server.base_url}/ready", timeout=30)
    assert (r.status_code, r.text) == (200, "ready")
    # A signed GET /ready is OSS (a bucket named `ready`), not the probe.
    r = requests.get(f"{server.base_url}/ready", headers={"Authorization": "OSS LTAIxxxx:c2lnbmF0dXJl"}, timeout=30)
    assert r.status_code != 200 and "<Error>" in r.text


# -- graceful shutdown ---------------------------------------------------------------------------

@pytest.mark.parametrize("blobs", ["disk", "s3"])
def test_sigterm_lets_a_long_get_finish(blobs, moto, tmp_path):
    if blobs == "s3":
        srv = s3_server(moto, tmp_path)
    else:
        srv = h.RolestackServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        b = new_bucket(srv)
        data = body(80 * MiB, 9)  # above the mapped-read limit: streamed from the blob store
        b.put_object("long", data)
        digest = hashlib.md5()
        with requests.get(b.sign_url("GET", "long", 600), stream=True, timeout=60) as r:
            assert r.status_code == 200
            chunks = r.iter_content(256 * 1024)
            got = next(chunks)
            digest.update(got)
            n = len(got)
            # The response is under way (far more of it than socket buffers hold is still to come).
            srv.proc.send_signal(signal.SIGTERM)
            # The listener closes: a new connection is refused while this one drains.
            wait_for("the listener to close", lambda: not accepts(srv.port))
            for chunk in chunks:
                digest.update(chunk)
                n += len(chunk)
        assert n == len(data)
        assert digest.hexdigest() == hashlib.md5(data).hexdigest()
        assert srv.proc.wait(timeout=60) == 0
        assert "rolestack stopped" in srv.log_path.read_text()
    finally:
        srv.stop()


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return True
    except OSError:
        return False
