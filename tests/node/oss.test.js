// ali-oss (Node) against rolestack's OSS, unchanged apart from the endpoint
// (`endpoint: 'http://127.0.0.1:<port>'`: an IP endpoint makes ali-oss use path-style URLs):
// put/get/head/delete, range, listing v1/v2 with pagination and delimiter, multipart, copy,
// non-ASCII keys, signed URLs, error parsing, object tagging, symlinks, archive storage and restore;
// with signature V1 (default) and V4.
'use strict';

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { startServer } = require('./support/server');
const { rootClient, emptyAndDeleteBucket, getVia } = require('./support/oss');

let server;
let endpoint;
let dataDir;

before(async () => {
  server = await startServer('rolestack-node-oss-');
  ({ endpoint, dataDir } = server);
});

after(() => {
  if (server) server.stop();
});

for (const v4 of [false, true]) {
  describe(`ali-oss with signature ${v4 ? 'V4' : 'V1'}`, () => {
    const bucket = `node-${v4 ? 'v4' : 'v1'}-${crypto.randomBytes(5).toString('hex')}`;
    let c;

    before(async () => {
      c = rootClient(server, bucket, v4);
      await c.putBucket(bucket);
    });

    after(async () => {
      await emptyAndDeleteBucket(c, bucket);
    });

    test('put, get, head, range, delete', async () => {
      const put = await c.put('dir/hello.txt', Buffer.from('hello from ali-oss'), { meta: { color: 'blue' } });
      assert.equal(put.res.status, 200);
      const got = await c.get('dir/hello.txt');
      assert.equal(got.content.toString(), 'hello from ali-oss');
      const head = await c.head('dir/hello.txt');
      assert.equal(head.meta.color, 'blue');
      assert.equal(head.res.headers['content-length'], '18');
      const part = await c.get('dir/hello.txt', { headers: { Range: 'bytes=0-4' } });
      assert.equal(part.res.status, 206);
      assert.equal(part.content.toString(), 'hello');
      await c.delete('dir/hello.txt');
      await assert.rejects(c.get('dir/hello.txt'), (e) => e.code === 'NoSuchKey' && e.status === 404 && !!e.requestId);
      await assert.rejects(c.head('dir/hello.txt'), (e) => e.status === 404);
    });

    test('listing v1 and v2, pagination and delimiter, non-ASCII keys', async () => {
      const keys = ['a/1', 'a/2', 'b', '中文/键 名.txt'];
      for (const k of keys) await c.put(k, Buffer.from(k));
      const page = await c.list({ 'max-keys': 2 });
      assert.deepEqual(page.objects.map((o) => o.name), ['a/1', 'a/2']);
      assert.ok(page.isTruncated && page.nextMarker);
      const rest = await c.list({ 'max-keys': 10, marker: page.nextMarker });
      assert.deepEqual(rest.objects.map((o) => o.name), ['b', '中文/键 名.txt']);
      const top = await c.list({ delimiter: '/' });
      assert.deepEqual(top.prefixes, ['a/', '中文/']);
      const v2 = await c.listV2({ 'max-keys': 3 });
      assert.equal(v2.objects.length, 3);
      assert.ok(v2.isTruncated && v2.nextContinuationToken);
      const v2rest = await c.listV2({ 'continuation-token': v2.nextContinuationToken });
      assert.deepEqual(v2rest.objects.map((o) => o.name), ['中文/键 名.txt']);
      assert.equal((await c.get('中文/键 名.txt')).content.toString(), '中文/键 名.txt');
      await c.deleteMulti(keys);
      assert.equal(((await c.list()).objects || []).length, 0);
    });

    test('multipart upload and copy', async () => {
      const data = crypto.randomBytes(300 * 1024 + 11);
      const file = path.join(dataDir, `mp-${v4}.bin`);
      fs.writeFileSync(file, data);
      await c.multipartUpload('mp.bin', file, { partSize: 100 * 1024 });
      const got = await c.get('mp.bin');
      assert.ok(got.content.equals(data));
      await c.copy('mp-copy.bin', 'mp.bin');
      const head = await c.head('mp-copy.bin');
      assert.equal(Number(head.res.headers['content-length']), data.length);
      await c.delete('mp.bin');
      await c.delete('mp-copy.bin');
    });

    test('signed URL (virtual-hosted) and errors', async () => {
      await c.put('signed.txt', Buffer.from('signed'));
      // ali-oss signs URLs only for a host name endpoint (V1 refuses an IP, V4 drops the bucket
      // from a path-style URL): sign for `localhost` and send the virtual-hosted request
      // (`Host: <bucket>.localhost:<port>`) to 127.0.0.1.
      const named = rootClient(server, bucket, v4, { endpoint: endpoint.replace('127.0.0.1', 'localhost') });
      const url = v4 ? await named.signatureUrlV4('GET', 60, {}, 'signed.txt') : named.signatureUrl('signed.txt', { expires: 60 });
      assert.ok(new URL(url).host.startsWith(`${bucket}.localhost`), url);
      const r = await getVia(endpoint, url);
      assert.equal(r.status, 200, r.body);
      assert.equal(r.body, 'signed');
      const tampered = await getVia(endpoint, url.replace('signed.txt', 'other.txt'));
      assert.equal(tampered.status, 403);
      const bad = rootClient(server, bucket, v4, { accessKeySecret: 'wrong' });
      await assert.rejects(bad.get('signed.txt'), (e) => e.code === 'SignatureDoesNotMatch' && e.status === 403);
      const missing = rootClient(server, `${bucket}-none`, v4);
      await assert.rejects(missing.get('x'), (e) => e.code === 'NoSuchBucket' && e.status === 404);
      await c.delete('signed.txt');
    });

    test('object tagging, symlinks, archive storage', async () => {
      await c.put('tagged.txt', Buffer.from('t'), { headers: { 'x-oss-tagging': 'a=1&b=2' } });
      assert.deepEqual((await c.getObjectTagging('tagged.txt')).tag, { a: '1', b: '2' });
      await c.putObjectTagging('tagged.txt', { team: 'blue' });
      assert.deepEqual((await c.getObjectTagging('tagged.txt')).tag, { team: 'blue' });
      await c.deleteObjectTagging('tagged.txt');
      assert.deepEqual((await c.getObjectTagging('tagged.txt')).tag, {});
      await assert.rejects(c.put('bad.txt', Buffer.from('x'), { headers: { 'x-oss-tagging': 'aa=bb=cc' } }),
        (e) => e.code === 'InvalidTag' && e.status === 400);

      await c.putSymlink('link.txt', 'tagged.txt');
      assert.equal((await c.getSymlink('link.txt')).targetName, 'tagged.txt');
      assert.equal((await c.get('link.txt')).content.toString(), 't');

      await c.put('cold.txt', Buffer.from('frozen'), { headers: { 'x-oss-storage-class': 'Archive' } });
      const head = await c.head('cold.txt');
      assert.equal(head.res.headers['x-oss-storage-class'], 'Archive');
      await assert.rejects(c.get('cold.txt'), (e) => e.code === 'InvalidObjectState' && e.status === 403);
      const restored = await c.restore('cold.txt', { type: 'Archive', Days: 1 });
      assert.equal(restored.res.status, 202);
      assert.equal((await c.head('cold.txt')).res.headers['x-oss-restore'], 'ongoing-request="true"');
      for (const k of ['tagged.txt', 'link.txt', 'cold.txt']) await c.delete(k);
    });
  });
}
