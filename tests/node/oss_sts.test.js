// ali-oss with STS credentials, the way Node applications get them: @alicloud/credentials'
// `ram_role_arn` provider assumes a role at rolestack's STS (HTTPS listener, its CA trusted through
// NODE_EXTRA_CA_CERTS) and ali-oss refreshes the token through `refreshSTSToken` /
// `refreshSTSTokenInterval`. A read-only role reads and signs GET URLs; its writes (PutObject,
// DeleteMultipleObjects, InitiateMultipartUpload, a signed PUT URL) are refused with OSS's
// AccessDenied as ali-oss parses it; a full-access role's writes succeed; the session's key sent
// without its token is OSS's InvalidAccessKeyId (EC 0002-00000003). Signature V1 and V4.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const path = require('node:path');
const { startServer } = require('./support/server');
const { rootClient, emptyAndDeleteBucket, ossRolesAndAssumer } = require('./support/oss');

let server;
let key;
let root;
const bucket = `node-sts-${crypto.randomBytes(5).toString('hex')}`;

/** Runs programs/sts_oss_app.js for `role` with signature `signing`; resolves to its JSON line. */
function runApp(role, signing) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('ALIBABA_CLOUD_') || k.startsWith('OSS_')) delete env[k];
  Object.assign(env, {
    ROLESTACK_ENDPOINT: server.endpoint,
    STS_HOST: server.tlsHost,
    NODE_EXTRA_CA_CERTS: server.caFile,
    ALIBABA_CLOUD_ACCESS_KEY_ID: key.AccessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: key.AccessKeySecret,
  });
  const arn = `acs:ram::${server.root.accountId}:role/${role}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'programs', 'sts_oss_app.js'), arn, bucket, signing], { env, cwd: __dirname });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`sts_oss_app exited ${code}: ${out}${err}`));
      return resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  });
}

before(async () => {
  server = await startServer('rolestack-node-sts-');
  key = ossRolesAndAssumer(server, 'NodeOssReader', 'NodeOssWriter', 'node-app');
  root = rootClient(server, bucket);
  await root.putBucket(bucket);
  await root.put('r.txt', Buffer.from('readable'));
});

after(async () => {
  if (root) await emptyAndDeleteBucket(root, bucket);
  if (server) server.stop();
});

for (const signing of ['v1', 'v4']) {
  test(`read-only role through refreshSTSToken (${signing}): reads, signed GET; writes refused`, async () => {
    const r = await runApp('NodeOssReader', signing);
    assert.match(r.accessKeyId, /^STS\./);
    assert.deepEqual(r.read, { ok: 'readable' });
    // Every request after the first asks refreshSTSToken (interval 0).
    assert.ok(r.refreshed >= 3, JSON.stringify(r));
    for (const denied of [r.write, r.deleteMulti, r.initMultipart]) {
      assert.equal(denied.name, 'AccessDeniedError', JSON.stringify(denied));
      assert.equal(denied.code, 'AccessDenied');
      assert.equal(denied.status, 403);
      assert.match(denied.requestId, /^[0-9A-F]{24}$/);
      assert.ok(denied.hostId.startsWith(`${bucket}.`), denied.hostId);
      assert.equal(denied.ecCode, '0003-00000202');
    }
    assert.equal(r.signedGet.status, 200);
    assert.deepEqual(r.signedPut, { status: 403, code: 'AccessDenied' });
    // OSS's answer to an STS key sent without its token.
    assert.equal(r.withoutToken.code, 'InvalidAccessKeyId', JSON.stringify(r.withoutToken));
    assert.equal(r.withoutToken.status, 403);
    assert.equal(r.withoutToken.ecCode, '0002-00000003');
    await assert.rejects(root.head('w.txt'), (e) => e.status === 404);
    await assert.rejects(root.head('signed-put.txt'), (e) => e.status === 404);
  });

  test(`full-access role through refreshSTSToken (${signing}): writes and signed PUT succeed`, async () => {
    const r = await runApp('NodeOssWriter', signing);
    assert.deepEqual(r.read, { ok: 'readable' });
    assert.deepEqual(r.write, { ok: 200 });
    assert.deepEqual(r.deleteMulti, { ok: 200 });
    assert.deepEqual(r.initMultipart, { ok: 'aborted' });
    assert.equal(r.signedGet.status, 200);
    assert.equal(r.signedPut.status, 200);
    assert.equal((await root.get('signed-put.txt')).content.toString(), 'via-url');
    await root.deleteMulti(['w.txt', 'signed-put.txt']);
  });
}
