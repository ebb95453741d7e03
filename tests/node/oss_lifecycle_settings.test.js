// ali-oss (Node) against rolestack's OSS bucket configuration, unchanged apart from the endpoint,
// signature V1 and V4: lifecycle rules (round trip, a refused rule, expiration run by the server's
// fake clock after `rolestack clock advance`), default encryption (put/get/delete and the header
// on new objects), GetBucketStat, and an upload callback to a loopback application whose signature
// is checked the way OSS's sample callback server checks it (docs/oss.md, "Upload callbacks").
'use strict';

const { test, before, after, describe } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { spawnSync } = require('node:child_process');
const { BIN, ROOT, startServer } = require('./support/server');
const { rootClient, emptyAndDeleteBucket, getVia } = require('./support/oss');

let server;

before(async () => {
  server = await startServer('rolestack-node-oss-settings-', ['--fake-clock']);
});

after(() => {
  if (server) server.stop();
});

function cli(...args) {
  const env = { ...process.env, ROLESTACK_ENDPOINT: server.endpoint, ROLESTACK_DATA_DIR: server.dataDir };
  const r = spawnSync(BIN, args, { env, encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
}

/** Polls `check` until it holds: the lifecycle runner acts on its own timer. */
async function eventually(check, what) {
  for (let i = 0; i < 100; i += 1) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`lifecycle did not ${what}`);
}

/** A loopback callback application recording what it is sent, answering JSON. */
function callbackApp() {
  const seen = [];
  const app = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      seen.push({ path: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ ok: true }));
    });
  });
  return new Promise((resolve) => app.listen(0, '127.0.0.1', () => resolve({ app, seen, port: app.address().port })));
}

/** OSS's sample callback server's check: fetch the PEM key named (base64) by x-oss-pub-key-url,
 *  verify the base64 `authorization`, MD5withRSA over the URL-decoded path, `?query`, "\n", body. */
async function verifyLikeOssSample({ path, headers, body }) {
  const keyUrl = Buffer.from(headers['x-oss-pub-key-url'], 'base64').toString();
  // The key URL names the host the upload was sent to: fetched from rolestack's own loopback
  // listener with that Host header, never resolved here.
  const key = await getVia(server.endpoint, keyUrl);
  assert.equal(key.status, 200);
  assert.match(key.body, /^-----BEGIN PUBLIC KEY-----/);
  const [rawPath, query] = path.split(/\?(.*)/s);
  const signed = decodeURIComponent(rawPath) + (query ? `?${query}` : '');
  const ok = crypto.verify('md5', Buffer.concat([Buffer.from(`${signed}\n`), body]), key.body,
    Buffer.from(headers.authorization, 'base64'));
  return { ok, keyUrl };
}

for (const v4 of [false, true]) {
  describe(`ali-oss bucket configuration with signature ${v4 ? 'V4' : 'V1'}`, () => {
    const bucket = `node-cfg-${v4 ? 'v4' : 'v1'}-${crypto.randomBytes(5).toString('hex')}`;
    let c;

    before(async () => {
      c = rootClient(server, bucket, v4);
      await c.putBucket(bucket);
    });

    after(async () => {
      await emptyAndDeleteBucket(c, bucket);
    });

    test('lifecycle: round trip, a refused rule, expiration by the server clock', async () => {
      await assert.rejects(c.getBucketLifecycle(bucket), (e) => e.status === 404 && e.code === 'NoSuchLifecycle');
      await c.putBucketLifecycle(bucket, [
        { id: 'expire-tmp', status: 'Enabled', prefix: 'tmp/', expiration: { days: 1 } },
        { id: 'cold-logs', status: 'Enabled', prefix: 'logs/', transition: { days: 30, storageClass: 'IA' } },
      ]);
      const { rules } = await c.getBucketLifecycle(bucket);
      const byId = Object.fromEntries(rules.map((r) => [r.id, r]));
      assert.equal(byId['expire-tmp'].prefix, 'tmp/');
      assert.equal(String(byId['expire-tmp'].expiration.days), '1');
      assert.equal(byId['cold-logs'].transition.storageClass, 'IA');
      // A transition to a colder class after the expiration is refused, as OSS does.
      await assert.rejects(
        c.putBucketLifecycle(bucket, [
          { id: 'bad', status: 'Enabled', prefix: 'x/', expiration: { days: 10 }, transition: { days: 20, storageClass: 'IA' } },
        ]),
        (e) => e.status === 400 && e.code === 'InvalidArgument',
      );
      await c.put('tmp/old.txt', Buffer.from('gone soon'));
      await c.put('keep/me.txt', Buffer.from('stays'));
      cli('clock', 'advance', '49h');
      await eventually(async () => {
        const listed = await c.list({ prefix: 'tmp/' });
        return !(listed.objects || []).length;
      }, 'expire tmp/old.txt');
      assert.equal((await c.get('keep/me.txt')).content.toString(), 'stays');
      await c.deleteBucketLifecycle(bucket);
      await assert.rejects(c.getBucketLifecycle(bucket), (e) => e.code === 'NoSuchLifecycle');
    });

    test('default encryption applies to new objects; stat counts them', async () => {
      await assert.rejects(c.getBucketEncryption(bucket), (e) => e.status === 404 && e.code === 'NoSuchServerSideEncryptionRule');
      await c.putBucketEncryption(bucket, { SSEAlgorithm: 'AES256' });
      const { encryption } = await c.getBucketEncryption(bucket);
      assert.equal(encryption.SSEAlgorithm, 'AES256');
      await c.put('enc/a.txt', Buffer.from('12345'));
      const head = await c.head('enc/a.txt');
      assert.equal(head.res.headers['x-oss-server-side-encryption'], 'AES256');
      await assert.rejects(c.putBucketEncryption(bucket, { SSEAlgorithm: 'ROT13' }),
        (e) => e.status === 400 && e.code === 'InvalidEncryptionAlgorithmError');
      await c.deleteBucketEncryption(bucket);
      await assert.rejects(c.getBucketEncryption(bucket), (e) => e.code === 'NoSuchServerSideEncryptionRule');
      const listed = await c.list({ 'max-keys': 1000 });
      const expected = (listed.objects || []).reduce((n, o) => n + o.size, 0);
      const { stat } = await c.getBucketStat(bucket);
      assert.equal(Number(stat.ObjectCount), (listed.objects || []).length);
      assert.equal(Number(stat.Storage), expected);
    });

    test('upload callback: signed like OSS, verified like its sample server', async () => {
      const { app, seen, port } = await callbackApp();
      try {
        const r = await c.put('cb/x.txt', Buffer.from('hello'), {
          callback: { url: `http://127.0.0.1:${port}/up%20loaded?from=oss`, body: 'object=${object}&size=${size}' },
        });
        assert.equal(r.res.status, 200);
        assert.deepEqual(r.data, { ok: true });
        assert.equal(seen.length, 1);
        assert.equal(seen[0].body.toString(), 'object=cb%2Fx.txt&size=5');
        const { ok, keyUrl } = await verifyLikeOssSample(seen[0]);
        assert.ok(ok, 'the callback signature verifies');
        // Served by rolestack on the host the upload was sent to (ali-oss names the bucket's
        // virtual host in its Host header even when it connects to an IP endpoint).
        assert.equal(new URL(keyUrl).pathname, '/callback_pub_key_v1.pem');
        // The signature is bound to the body.
        const tampered = { ...seen[0], body: Buffer.from('object=other&size=5') };
        assert.equal((await verifyLikeOssSample(tampered)).ok, false);
      } finally {
        app.close();
      }
    });
  });
}
