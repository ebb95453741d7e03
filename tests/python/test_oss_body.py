"""The PUT body path (ARCHITECTURE.md "Durable PUT, in this order"), through oss2 and a raw socket:
concurrent PUTs (whose blobs share directory fsyncs) all read back whole with the right ETag and
CRC-64; a body cut short by the client and a body refused for its Content-MD5 leave neither an
object nor a blob behind. Blobs are looked at where the server keeps them: files under
<data-dir>/blobs, or objects under its --blob-url (ROLESTACK_TEST_BLOB_URL)."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import oss2
import pytest

import rshelpers as h

REGION = "cn-hangzhou"


@pytest.fixture
def bucket(server) -> oss2.Bucket:
    r = server.root
    b = oss2.Bucket(oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"]), f"http://{server.endpoint}",
                    f"body-{uuid.uuid4().hex[:12]}", region=REGION)
    b.create_bucket()
    return b


def blobs(server) -> set:
    """Every blob the server's store holds now."""
    if server.blob_url is not None:
        return set(h.blob_store_objects(server.blob_url))
    root = Path(server.data_dir) / "blobs"
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def added_since(server, before: set) -> set:
    """The blobs the server holds that `before` lacks, once there are none (a cut-short body is
    dropped when the server notices the hang-up; a discarded body's file may wait a few seconds as
    a spare under a new name), or as they are after 20 s of polling. Blobs of `before` may go
    meanwhile: spares that earlier tests' deletions left expire."""
    deadline = time.monotonic() + 20
    while True:
        added = blobs(server) - before
        if not added or time.monotonic() > deadline:
            return added
        time.sleep(0.05)


def test_concurrent_puts_read_back_whole(server, bucket):
    before = blobs(server)
    bodies = {f"k{w}-{i}": os.urandom(200_000 + 7919 * w + i) for w in range(8) for i in range(4)}
    errors = []

    def put(keys):
        try:
            for k in keys:
                result = bucket.put_object(k, bodies[k])  # oss2 checks the answered CRC-64
                assert result.etag == hashlib.md5(bodies[k]).hexdigest().upper()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    keys = sorted(bodies)
    threads = [threading.Thread(target=put, args=(keys[w::8],)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    for k, data in bodies.items():
        got = bucket.get_object(k)
        assert got.read() == data
        crc = oss2.utils.Crc64(0)
        crc.update(data)
        assert int(got.headers["x-oss-hash-crc64ecma"]) == crc.crc
    # One new blob per object, nothing else (no staging leftovers).
    assert len(blobs(server) - before) == len(bodies)


def test_body_cut_short_leaves_nothing(server, bucket):
    before = blobs(server)
    url = urlsplit(bucket.sign_url("PUT", "cut", 600))
    size = 4 << 20
    with socket.create_connection((url.hostname, url.port), timeout=30) as s:
        s.sendall(f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                  f"Content-Length: {size}\r\n\r\n".encode())
        s.sendall(os.urandom(size // 3))
        time.sleep(0.3)  # let the server start writing the blob before the hang-up
    assert added_since(server, before) == set()
    assert not bucket.object_exists("cut")


def test_wrong_content_md5_leaves_nothing(server, bucket):
    before = blobs(server)
    data = os.urandom(300_000)
    wrong = base64.b64encode(hashlib.md5(data + b"x").digest()).decode()
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.put_object("md5", data, headers={"Content-MD5": wrong})
    assert e.value.status == 400 and e.value.code == "InvalidDigest"
    assert added_since(server, before) == set()
    assert not bucket.object_exists("md5")
    # The right one is stored.
    right = base64.b64encode(hashlib.md5(data).digest()).decode()
    bucket.put_object("md5", data, headers={"Content-MD5": right})
    assert bucket.get_object("md5").read() == data


def test_large_bodies_read_back_the_same_over_plain_tcp_tls_and_ranges(server, bucket):
    """GET sends mapped bodies with sendfile on plain TCP (ARCHITECTURE.md "OSS bodies"): whole
    bodies, ranges that start and end inside one, and a body read after its object was
    overwritten arrive byte for byte; the same over the TLS listener, which reads the mapping."""
    import requests

    first, second = os.urandom(3 << 20), os.urandom((1 << 20) + 12345)
    bucket.put_object("big", first)
    assert bucket.get_object("big").read() == first
    for start, end in [(0, 65535), (100_000, 2_900_000), ((3 << 20) - 70_000, (3 << 20) - 1)]:
        assert bucket.get_object("big", byte_range=(start, end)).read() == first[start:end + 1]
    bucket.put_object("big", second)
    assert bucket.get_object("big").read() == second

    r = server.root
    tls = oss2.Bucket(oss2.Auth(r["AccessKeyId"], r["AccessKeySecret"]), f"https://{server.tls_endpoint}",
                      bucket.bucket_name, region=REGION)
    for headers, status, want in [({}, 200, second), ({"Range": "bytes=70000-1000000"}, 206, second[70000:1000001])]:
        got = requests.get(tls.sign_url("GET", "big", 300), headers=headers, verify=str(server.ca_file), timeout=30)
        assert got.status_code == status
        assert got.content == want
