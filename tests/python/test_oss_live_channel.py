"""LiveChannels through oss2 (signature V1 and V4): the configuration is stored, validated and
reported as OSS does, with the ingest and play URLs on the bucket's OSS name; no RTMP ingest runs,
so the stat is `Idle` and the history empty (docs/oss.md, "Live channels")."""

from __future__ import annotations

import oss2
import pytest
import requests

from test_oss import created_bucket, empty_and_delete


def info(description="", status="enabled", playlist="live.m3u8", duration=5, count=3):
    target = oss2.models.LiveChannelInfoTarget(playlist_name=playlist, frag_duration=duration, frag_count=count)
    return oss2.models.LiveChannelInfo(status=status, description=description, target=target)


@pytest.fixture(params=["v1", "v4"])
def bucket(request, server, root):
    b = created_bucket(server.endpoint, root, request.param, "lc")
    yield b
    for ch in oss2.LiveChannelIterator(b):
        b.delete_live_channel(ch.name)
    empty_and_delete(b)


def test_create_get_list_status_delete(bucket):
    name = bucket.bucket_name
    created = bucket.create_live_channel("cam1", info("front door", duration=2, count=10))
    assert created.publish_url == f"rtmp://{name}.oss-cn-hangzhou.aliyuncs.com/live/cam1"
    assert created.play_url == f"http://{name}.oss-cn-hangzhou.aliyuncs.com/cam1/live.m3u8"

    got = bucket.get_live_channel("cam1")
    assert (got.description, got.status) == ("front door", "enabled")
    assert (got.target.type, got.target.frag_duration, got.target.frag_count, got.target.playlist_name) == ("HLS", "2", "10", "live.m3u8")

    listed = bucket.list_live_channel()
    assert [c.name for c in listed.channels] == ["cam1"]
    assert listed.channels[0].publish_url == created.publish_url and listed.channels[0].status == "enabled"
    assert listed.channels[0].last_modified > 0

    bucket.put_live_channel_status("cam1", "disabled")
    assert bucket.get_live_channel("cam1").status == "disabled"
    assert bucket.get_live_channel_stat("cam1").status == "Idle"
    assert bucket.get_live_channel_history("cam1").records == []

    # PutLiveChannel again replaces the configuration.
    bucket.create_live_channel("cam1", info("back door"))
    assert bucket.get_live_channel("cam1").description == "back door"

    assert bucket.delete_live_channel("cam1").status == 204
    with pytest.raises(oss2.exceptions.NotFound) as e:
        bucket.get_live_channel("cam1")
    assert e.value.code == "NoSuchLiveChannel"


def test_listing_pages_in_byte_order(bucket):
    names = ["p-b", "p-A", "p-a", "p-c", "q-x"]
    for n in names:
        bucket.create_live_channel(n, info())
    first = bucket.list_live_channel(prefix="p-", max_keys=2)
    assert [c.name for c in first.channels] == ["p-A", "p-a"]
    assert first.is_truncated and first.next_marker == "p-a"
    rest = bucket.list_live_channel(prefix="p-", marker=first.next_marker, max_keys=2)
    assert [c.name for c in rest.channels] == ["p-b", "p-c"] and not rest.is_truncated
    assert [c.name for c in oss2.LiveChannelIterator(bucket, max_keys=1)] == sorted(names)


@pytest.mark.parametrize("conf,ec", [
    (info(playlist="x" * 200 + ".m3u8"), "0044-00000017"),
    (info(playlist="abc.text"), "0044-00000018"),
    (info(duration=0), None),
    (info(count=101), None),
    (info(status="paused"), None),
    (info(description="d" * 129), None),
])
def test_invalid_configuration(bucket, conf, ec):
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.create_live_channel("bad", conf)
    assert (e.value.status, e.value.code) == (400, "InvalidArgument")
    if ec:
        assert e.value.ec == ec
    assert bucket.list_live_channel().channels == []


def test_errors(bucket):
    with pytest.raises(oss2.exceptions.NotFound):
        bucket.delete_live_channel("absent")
    with pytest.raises(oss2.exceptions.NotFound):
        bucket.put_live_channel_status("absent", "disabled")
    bucket.create_live_channel("ch", info())
    with pytest.raises(oss2.exceptions.ServerError) as e:
        bucket.put_live_channel_status("ch", "on")
    assert e.value.code == "InvalidArgument"
    # A bucket with channels is not empty.
    with pytest.raises(oss2.exceptions.BucketNotEmpty):
        bucket.delete_bucket()
    # PostVodPlaylist / GetVodPlaylist: nothing is ever recorded to play back.
    url = bucket.sign_url("GET", "ch/live.m3u8", 60, params={"vod": "", "startTime": "1", "endTime": "2"})
    assert requests.get(url).status_code == 501
