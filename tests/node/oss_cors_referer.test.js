// ali-oss (Node) with bucket CORS rules and referer rules, signature V1 and V4: putBucketCORS /
// getBucketCORS / deleteBucketCORS, the preflight answered from the rules, putBucketReferer /
// getBucketReferer and the referer check of anonymous reads.
'use strict';

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { startServer } = require('./support/server');
const { rootClient, emptyAndDeleteBucket } = require('./support/oss');

let server;
let endpoint;

before(async () => {
  server = await startServer('rolestack-node-cors-');
  ({ endpoint } = server);
});

after(() => {
  if (server) server.stop();
});

for (const v4 of [false, true]) {
  describe(`ali-oss CORS and referer, signature ${v4 ? 'V4' : 'V1'}`, () => {
    const bucket = `cors-${v4 ? 'v4' : 'v1'}-${crypto.randomBytes(5).toString('hex')}`;
    let c;

    before(async () => {
      c = rootClient(server, bucket, v4);
      await c.putBucket(bucket);
    });

    after(async () => {
      await emptyAndDeleteBucket(c, bucket);
    });

    test('CORS rules and the preflight', async () => {
      await assert.rejects(c.getBucketCORS(bucket), (e) => e.code === 'NoSuchCORSConfiguration' && e.status === 404);
      await c.putBucketCORS(bucket, [{ allowedOrigin: 'http://127.0.0.1:*', allowedMethod: ['GET', 'PUT'], allowedHeader: '*', exposeHeader: 'ETag', maxAgeSeconds: '30' }]);
      const got = await c.getBucketCORS(bucket);
      assert.equal(got.rules.length, 1);
      assert.equal(got.rules[0].allowedOrigin, 'http://127.0.0.1:*');
      assert.deepEqual(got.rules[0].allowedMethod, ['GET', 'PUT']);
      const ok = await fetch(`${endpoint}/${bucket}/k`, { method: 'OPTIONS', headers: { Origin: 'http://127.0.0.1:3000', 'Access-Control-Request-Method': 'PUT' } });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('access-control-allow-origin'), 'http://127.0.0.1:3000');
      assert.equal(ok.headers.get('access-control-max-age'), '30');
      const no = await fetch(`${endpoint}/${bucket}/k`, { method: 'OPTIONS', headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'PUT' } });
      assert.equal(no.status, 403);
      await c.deleteBucketCORS(bucket);
      await assert.rejects(c.getBucketCORS(bucket), (e) => e.code === 'NoSuchCORSConfiguration');
    });

    test('referer rules for anonymous reads', async () => {
      await c.put('pub.txt', Buffer.from('public'), { headers: { 'x-oss-object-acl': 'public-read' } });
      await c.putBucketReferer(bucket, false, ['http://*.example.com']);
      const got = await c.getBucketReferer(bucket);
      assert.equal(got.allowEmpty, false);
      assert.deepEqual(got.referers, ['http://*.example.com']);
      const denied = await fetch(`${endpoint}/${bucket}/pub.txt`);
      assert.equal(denied.status, 403);
      assert.match(await denied.text(), /<EC>0003-00000501<\/EC>/);
      const allowed = await fetch(`${endpoint}/${bucket}/pub.txt`, { headers: { Referer: 'http://www.example.com' } });
      assert.equal(await allowed.text(), 'public');
      // Signed requests are not subject to referer rules.
      assert.equal((await c.get('pub.txt')).content.toString(), 'public');
      await c.putBucketReferer(bucket, true, []);
      assert.equal((await fetch(`${endpoint}/${bucket}/pub.txt`)).status, 200);
    });
  });
}
