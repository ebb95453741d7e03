"""HTTP compression of GetObject / HeadObject as OSS does it (docs/oss.md, "HTTP compression"):
only whole objects of at least 1 KiB with a text content type, only when the request accepts
gzip; the answer is chunked, `Content-Encoding: gzip`, `Vary: Accept-Encoding`, without
`Content-Length`, `ETag` or `Accept-Ranges`. Seen through oss2 (which decodes) and through the raw
bytes of a presigned URL (which must be gzip)."""

from __future__ import annotations

import gzip
import os

import pytest
import requests

from test_oss import created_bucket, empty_and_delete

TEXT = (b"rolestack compresses text the way OSS does. " * 100)[:4000]


@pytest.fixture(scope="module")
def bucket(server, root):
    b = created_bucket(server.endpoint, root, "v4", "gz")
    b.put_object("page.txt", TEXT)  # text/plain from the extension
    b.put_object("data.json", TEXT, headers={"Content-Type": "application/json; charset=utf-8"})
    b.put_object("small.txt", TEXT[:1023])
    b.put_object("blob.bin", TEXT)  # application/octet-stream
    b.put_object("pre.txt", gzip.compress(TEXT), headers={"Content-Encoding": "gzip"})
    yield b
    empty_and_delete(b)


def raw_get(bucket, key, headers, method="GET"):
    """The answer to a presigned request, its body as sent (not decoded)."""
    url = bucket.sign_url(method, key, 300)
    r = requests.request(method, url, headers=headers, stream=True)
    body = r.raw.read(decode_content=False)
    return r, body


@pytest.mark.parametrize("key", ["page.txt", "data.json"])
def test_gzip_answer(bucket, key):
    plain = bucket.get_object(key)
    r, body = raw_get(bucket, key, {"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Vary"] == "Accept-Encoding"
    assert r.headers["Transfer-Encoding"] == "chunked"
    for absent in ("Content-Length", "ETag", "Accept-Ranges"):
        assert absent not in r.headers
    assert r.headers["x-oss-hash-crc64ecma"] == plain.headers["x-oss-hash-crc64ecma"]
    assert len(body) < len(TEXT)
    assert gzip.decompress(body) == TEXT
    # oss2 decodes it; the content is the object's.
    got = bucket.get_object(key, headers={"Accept-Encoding": "gzip"})
    assert got.read() == TEXT and got.content_length is None and got.headers["Content-Encoding"] == "gzip"


def test_head_says_gzip(bucket):
    r, _ = raw_get(bucket, "page.txt", {"Accept-Encoding": "gzip, deflate"}, method="HEAD")
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert "ETag" not in r.headers and "Content-Length" not in r.headers


@pytest.mark.parametrize("key,headers", [
    ("page.txt", {"Accept-Encoding": "identity"}),
    ("page.txt", {"Accept-Encoding": "gzip;q=0, deflate"}),
    ("page.txt", {"Accept-Encoding": "gzip", "Range": "bytes=0-2047"}),
    ("small.txt", {"Accept-Encoding": "gzip"}),
    ("blob.bin", {"Accept-Encoding": "gzip"}),
])
def test_not_compressed(bucket, key, headers):
    r, body = raw_get(bucket, key, headers)
    assert r.status_code in (200, 206)
    assert "Content-Encoding" not in r.headers
    assert r.headers["ETag"] and int(r.headers["Content-Length"]) == len(body)
    expected = TEXT[:2048] if "Range" in headers else (TEXT[:1023] if key == "small.txt" else TEXT)
    assert body == expected


def test_stored_encoding_is_not_compressed_again(bucket):
    r, body = raw_get(bucket, "pre.txt", {"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip" and r.headers["ETag"]
    assert gzip.decompress(body) == TEXT


def test_large_object_streams(bucket):
    data = os.urandom(256 * 1024) * 12  # 3 MiB, several chunks of the object stream
    bucket.put_object("big.txt", data)
    r, body = raw_get(bucket, "big.txt", {"Accept-Encoding": "gzip"})
    assert r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == data
