// PostObject (browser form uploads) the way Node backends prepare them with ali-oss and browsers
// send them: `calculatePostSignature(policy)` (V1: OSSAccessKeyId, Signature, policy) and
// `signPostObjectPolicyV4(policy, date)` (V4: the x-oss-credential / x-oss-date /
// x-oss-signature-version conditions in the policy), the form sent with Node's own fetch and
// FormData (the file last); with the root's key and with an STS session of a role assumed through
// @alicloud/sts20150401 (x-oss-security-token). A read-only session's upload and a key outside the
// policy's starts-with are refused with OSS's XML errors.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const OSS = require('ali-oss');
const Sts = require('@alicloud/sts20150401');
const { Config } = require('@alicloud/openapi-client');
const { startServer } = require('./support/server');
const { rootClient, emptyAndDeleteBucket, ossRolesAndAssumer } = require('./support/oss');

let server;
let root;
let assumer;
const bucket = `node-post-${crypto.randomBytes(5).toString('hex')}`;
const expiration = new Date(Date.now() + 3600 * 1000).toISOString();

/** Sends the form as a browser does (fields, then the file); resolves to { status, headers, text }. */
async function postForm(fields, content = 'from a form', filename = 'a.txt') {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([content]), filename);
  const r = await fetch(`${server.endpoint}/${bucket}`, { method: 'POST', body: form, redirect: 'manual' });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

const xmlField = (text, name) => (text.match(new RegExp(`<${name}>([^<]*)</${name}>`)) || [])[1];

/** The V1 form fields for `client`'s key (and token). */
function v1Fields(client, conditions, token) {
  const signed = client.calculatePostSignature({ expiration, conditions });
  return { ...signed, ...(token ? { 'x-oss-security-token': token } : {}) };
}

/** The V4 form fields: the signing fields are conditions of the policy too. */
function v4Fields(client, conditions, token) {
  const date = new Date();
  const stamp = date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const signing = {
    'x-oss-signature-version': 'OSS4-HMAC-SHA256',
    'x-oss-credential': `${client.options.accessKeyId}/${stamp.slice(0, 8)}/cn-hangzhou/oss/aliyun_v4_request`,
    'x-oss-date': stamp,
    ...(token ? { 'x-oss-security-token': token } : {}),
  };
  const policy = { expiration, conditions: [...conditions, ...Object.entries(signing).map(([k, v]) => ({ [k]: v }))] };
  const signature = client.signPostObjectPolicyV4(policy, date);
  return { ...signing, policy: Buffer.from(JSON.stringify(policy), 'utf8').toString('base64'), 'x-oss-signature': signature };
}

/** An STS session of `role` (assumed by a RAM user allowed to) as an ali-oss client. */
async function sessionClient(role) {
  const sts = new Sts.default(new Config({
    accessKeyId: assumer.AccessKeyId,
    accessKeySecret: assumer.AccessKeySecret,
    endpoint: new URL(server.endpoint).host,
    protocol: 'http',
    regionId: 'cn-hangzhou',
  }));
  const r = await sts.assumeRole(new Sts.AssumeRoleRequest({
    roleArn: `acs:ram::${server.root.accountId}:role/${role}`, roleSessionName: 'node-post',
  }));
  const c = r.body.credentials;
  return {
    client: new OSS({ accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, stsToken: c.securityToken, endpoint: server.endpoint, bucket, region: 'oss-cn-hangzhou', secure: false }),
    token: c.securityToken,
  };
}

before(async () => {
  server = await startServer('rolestack-node-post-');
  assumer = ossRolesAndAssumer(server, 'NodePostReader', 'NodePostWriter', 'node-post-app');
  root = rootClient(server, bucket);
  await root.putBucket(bucket);
});

after(async () => {
  if (root) await emptyAndDeleteBucket(root, bucket);
  if (server) server.stop();
});

test('calculatePostSignature (V1): the form stores the object, 201 answers PostResponse', async () => {
  const conditions = [['starts-with', '$key', 'uploads/'], ['content-length-range', 1, 1024], { bucket }];
  const r = await postForm({ key: 'uploads/${filename}', success_action_status: '201', 'x-oss-meta-from': 'node', ...v1Fields(root, conditions) }, 'v1 body', 'photo.txt');
  assert.equal(r.status, 201, r.text);
  assert.equal(xmlField(r.text, 'Key'), 'uploads/photo.txt');
  assert.equal(xmlField(r.text, 'Bucket'), bucket);
  const got = await root.get('uploads/photo.txt');
  assert.equal(got.content.toString(), 'v1 body');
  assert.equal(got.res.headers['x-oss-meta-from'], 'node');
});

test('signPostObjectPolicyV4 (V4): the form stores the object, 204 by default', async () => {
  const r = await postForm({ key: 'v4/a.txt', ...v4Fields(root, [['starts-with', '$key', 'v4/']]) }, 'v4 body');
  assert.equal(r.status, 204, r.text);
  assert.equal((await root.get('v4/a.txt')).content.toString(), 'v4 body');
});

test('STS sessions: a writer role uploads (V1 and V4), a reader role is refused', async () => {
  const writer = await sessionClient('NodePostWriter');
  for (const [key, fields] of [['sts/v1.txt', v1Fields], ['sts/v4.txt', v4Fields]]) {
    const r = await postForm({ key, ...fields(writer.client, [['starts-with', '$key', 'sts/']], writer.token) }, key);
    assert.equal(r.status, 204, r.text);
    assert.equal((await root.get(key)).content.toString(), key);
  }
  const reader = await sessionClient('NodePostReader');
  const r = await postForm({ key: 'sts/ro.txt', ...v4Fields(reader.client, [['starts-with', '$key', 'sts/']], reader.token) });
  assert.equal(r.status, 403, r.text);
  assert.equal(xmlField(r.text, 'Code'), 'AccessDenied');
  assert.match(xmlField(r.text, 'Message'), /oss:PutObject/);
  await assert.rejects(root.head('sts/ro.txt'), (e) => e.status === 404);
});

test('refusals: key outside starts-with, forged signature, size', async () => {
  const inside = [['starts-with', '$key', 'in/'], ['content-length-range', 0, 8]];
  let r = await postForm({ key: 'out/x.txt', ...v1Fields(root, inside) });
  assert.equal(r.status, 403);
  assert.equal(xmlField(r.text, 'Code'), 'AccessDenied');
  assert.equal(xmlField(r.text, 'EC'), '0006-00000227');
  const forged = rootClient(server, bucket, false, { accessKeySecret: 'not-the-secret' });
  r = await postForm({ key: 'in/x.txt', ...v1Fields(forged, inside) });
  assert.equal(r.status, 403);
  assert.equal(xmlField(r.text, 'Code'), 'SignatureDoesNotMatch');
  r = await postForm({ key: 'in/x.txt', ...v4Fields(forged, inside) });
  assert.equal(xmlField(r.text, 'Code'), 'SignatureDoesNotMatch');
  r = await postForm({ key: 'in/x.txt', ...v1Fields(root, inside) }, 'more than eight bytes');
  assert.equal(r.status, 400);
  assert.equal(xmlField(r.text, 'Code'), 'EntityTooLarge');
  await assert.rejects(root.head('in/x.txt'), (e) => e.status === 404);
});
