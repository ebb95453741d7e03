// ali-oss against requests rolestack refuses from their headers while the body is still on the
// way (see tests/python/test_early_refusal.py): the client must get OSS's error, never a dropped
// connection, and the same client keeps working. Before the fix (an unread body made the server
// close the connection) the 4 MiB rounds failed on every run with 'write EPIPE' / ECONNRESET.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const OSS = require('ali-oss');
const { startServer } = require('./support/server');

let server;

before(async () => {
  server = await startServer('rolestack-node-refusal-');
});

after(() => {
  if (server) server.stop();
});

const ROUNDS = 12;

for (const size of [4 * 1024 * 1024, 1]) {
  test(`refused PUTs of ${size} B read the error (${ROUNDS} rounds)`, async () => {
    const { endpoint, root } = server;
    const bucket = `er-${crypto.randomBytes(6).toString('hex')}`;
    const client = new OSS({ endpoint, accessKeyId: root.id, accessKeySecret: root.secret, bucket, region: 'oss-cn-hangzhou' });
    await client.putBucket(bucket);
    const wrongSecret = new OSS({ endpoint, accessKeyId: root.id, accessKeySecret: 'not-the-secret', bucket, region: 'oss-cn-hangzhou' });
    const body = Buffer.alloc(size, 'r');
    const tags = Array.from({ length: 11 }, (_, i) => `a${i}=b`).join('&');
    for (let i = 0; i < ROUNDS; i++) {
      await assert.rejects(client.put('k', body, { headers: { 'x-oss-tagging': tags } }), (e) => {
        assert.equal(e.status, 400, `${e.name}: ${e.message}`);
        assert.equal(e.code, 'InvalidTag');
        return true;
      });
      await assert.rejects(wrongSecret.put('k', body), (e) => {
        assert.equal(e.status, 403, `${e.name}: ${e.message}`);
        assert.equal(e.code, 'SignatureDoesNotMatch');
        return true;
      });
    }
    await client.put('k', body);
    assert.equal((await client.get('k')).content.length, size);
    await client.delete('k');
    await client.deleteBucket(bucket);
  });
}
