// ali-oss (Node) against rolestack's OSS bucket versioning, unchanged apart from the endpoint:
// put/getBucketVersioning, a version id per write, get/head/copy/delete by versionId, delete
// markers, deleteMulti with versions and listObjectVersions (getBucketVersions) with paging;
// with signature V1 (default) and V4.
'use strict';

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer } = require('./support/server');
const { rootClient } = require('./support/oss');

let server;

before(async () => {
  server = await startServer('rolestack-node-oss-versioning-');
});

after(() => {
  if (server) server.stop();
});

/** Every version and delete marker, page by page. */
async function allVersions(c, query = {}) {
  const versions = [];
  const markers = [];
  let keyMarker;
  let versionIdMarker;
  for (;;) {
    const q = { ...query };
    if (keyMarker !== undefined) Object.assign(q, { keyMarker, versionIdMarker });
    const page = await c.getBucketVersions(q);
    versions.push(...page.objects);
    markers.push(...page.deleteMarker);
    if (!page.isTruncated) return { versions, markers };
    keyMarker = page.nextKeyMarker;
    versionIdMarker = page.nextVersionIdMarker;
  }
}

for (const v4 of [false, true]) {
  describe(`ali-oss versioning with signature ${v4 ? 'V4' : 'V1'}`, () => {
    const bucket = `node-ver-${v4 ? 'v4' : 'v1'}-${crypto.randomBytes(5).toString('hex')}`;
    let c;

    before(async () => {
      c = rootClient(server, bucket, v4);
      await c.putBucket(bucket);
    });

    after(async () => {
      const { versions, markers } = await allVersions(c);
      for (const v of [...versions, ...markers]) await c.delete(v.name, { versionId: v.versionId });
      await c.deleteBucket(bucket);
    });

    test('versions, delete markers and reads by version', async () => {
      assert.equal((await c.getBucketVersioning(bucket)).versionStatus, undefined);
      await c.putBucketVersioning(bucket, 'Enabled');
      assert.equal((await c.getBucketVersioning(bucket)).versionStatus, 'Enabled');

      const v1 = (await c.put('k', Buffer.from('one'))).res.headers['x-oss-version-id'];
      const v2 = (await c.put('k', Buffer.from('two'))).res.headers['x-oss-version-id'];
      assert.ok(v1 && v2 && v1 !== v2);
      assert.equal((await c.get('k', { versionId: v1 })).content.toString(), 'one');
      assert.equal((await c.head('k')).res.headers['x-oss-version-id'], v2);
      assert.equal((await c.head('k', { versionId: v1 })).res.headers['content-length'], '3');

      const copied = await c.copy('c', 'k', { versionId: v1 });
      assert.equal(copied.res.headers['x-oss-copy-source-version-id'], v1);
      assert.equal((await c.get('c')).content.toString(), 'one');

      const del = await c.delete('k');
      assert.equal(del.res.headers['x-oss-delete-marker'], 'true');
      const marker = del.res.headers['x-oss-version-id'];
      await assert.rejects(c.get('k'), (e) => e.status === 404 && e.code === 'NoSuchKey');
      await assert.rejects(c.get('k', { versionId: marker }), (e) => e.status === 405 && e.code === 'MethodNotAllowed');
      await assert.rejects(c.get('k', { versionId: 'IllegalVersion' }), (e) => e.status === 400 && e.code === 'InvalidArgument');

      const { versions, markers } = await allVersions(c, { prefix: 'k' });
      assert.deepEqual(versions.map((v) => [v.versionId, v.isLatest]), [[v2, false], [v1, false]]);
      assert.deepEqual(markers.map((m) => m.versionId), [marker]);

      // Removing the marker makes v2 current again.
      await c.delete('k', { versionId: marker });
      assert.equal((await c.get('k')).content.toString(), 'two');
    });

    test('deleteMulti with versions and paged listings', async () => {
      const ids = [];
      for (let i = 0; i < 5; i += 1) {
        ids.push((await c.put('many', Buffer.from(`v${i}`))).res.headers['x-oss-version-id']);
      }
      const { versions } = await allVersions(c, { prefix: 'many', maxKeys: 2 });
      assert.deepEqual(versions.map((v) => v.versionId), [...ids].reverse());
      const result = await c.deleteMulti(ids.slice(0, 3).map((versionId) => ({ key: 'many', versionId })));
      assert.equal(result.res.status, 200);
      const left = await allVersions(c, { prefix: 'many' });
      assert.deepEqual(left.versions.map((v) => v.versionId), [ids[4], ids[3]]);
    });
  });
}
