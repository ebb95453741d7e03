// ali-oss (Node) LiveChannels against rolestack, signature V1 and V4: putChannel, getChannel,
// listChannels (prefix, marker, max-keys), putChannelStatus, getChannelStatus, getChannelHistory,
// deleteChannel. The configuration is stored and reported; no RTMP ingest runs (docs/oss.md,
// "Live channels"), so the stat is Idle and the history empty.
'use strict';

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer } = require('./support/server');
const { rootClient } = require('./support/oss');

let server;

before(async () => {
  server = await startServer('rolestack-node-live-');
});

after(() => {
  if (server) server.stop();
});

const conf = (description) => ({
  Description: description,
  Status: 'enabled',
  Target: { Type: 'HLS', FragDuration: '10', FragCount: '5', PlaylistName: 'play.m3u8' },
});

for (const v4 of [false, true]) {
  describe(`ali-oss LiveChannels with signature ${v4 ? 'V4' : 'V1'}`, () => {
    const bucket = `node-live-${v4 ? 'v4' : 'v1'}-${crypto.randomBytes(5).toString('hex')}`;
    let c;

    before(async () => {
      c = rootClient(server, bucket, v4);
      await c.putBucket(bucket);
    });

    after(async () => {
      await c.deleteBucket(bucket);
    });

    test('create, read, list, status, stat, history, delete', async () => {
      const put = await c.putChannel('cam', conf('lobby'));
      assert.deepEqual(put.publishUrls, [`rtmp://${bucket}.oss-cn-hangzhou.aliyuncs.com/live/cam`]);
      assert.deepEqual(put.playUrls, [`http://${bucket}.oss-cn-hangzhou.aliyuncs.com/cam/play.m3u8`]);
      await c.putChannel('cam2', conf('yard'));

      const got = await c.getChannel('cam');
      assert.equal(got.data.Description, 'lobby');
      assert.equal(got.data.Status, 'enabled');
      assert.equal(got.data.Target.FragDuration, '10');
      assert.equal(got.data.Target.PlaylistName, 'play.m3u8');

      const page = await c.listChannels({ prefix: 'cam', 'max-keys': 1 });
      assert.deepEqual(page.channels.map((x) => x.Name), ['cam']);
      assert.ok(page.isTruncated);
      assert.equal(page.nextMarker, 'cam');
      const rest = await c.listChannels({ prefix: 'cam', marker: page.nextMarker });
      assert.deepEqual(rest.channels.map((x) => x.Name), ['cam2']);
      assert.deepEqual(rest.channels[0].PlayUrls, [`http://${bucket}.oss-cn-hangzhou.aliyuncs.com/cam2/play.m3u8`]);

      await c.putChannelStatus('cam', 'disabled');
      assert.equal((await c.getChannel('cam')).data.Status, 'disabled');
      assert.equal((await c.getChannelStatus('cam')).data.Status, 'Idle');
      assert.deepEqual((await c.getChannelHistory('cam')).records, []);

      await c.deleteChannel('cam');
      await c.deleteChannel('cam2');
      await assert.rejects(c.getChannel('cam'), (e) => e.status === 404 && e.code === 'NoSuchLiveChannel');
      assert.deepEqual((await c.listChannels({})).channels, []);
    });
  });
}
