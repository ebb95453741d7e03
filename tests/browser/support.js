// What the browser test files share: one rolestack server per file (a fresh data directory, a
// free loopback port, its log next to the data directory), rolestack's signed CLI as the account
// root, OSS requests as the root and an assumed OSS role, and headless Chromium contexts with
// throwaway profiles.
'use strict';

const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = process.env.ROLESTACK_BIN || path.join(ROOT, 'target', 'debug', 'rolestack');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** rolestack's CLI against `server`, with no ambient Alibaba Cloud credentials. */
function cli(server, args) {
  const env = { ...process.env, ROLESTACK_ENDPOINT: server.endpoint, ROLESTACK_DATA_DIR: server.dataDir };
  for (const k of Object.keys(env)) if (k.startsWith('ALIBABA_CLOUD_')) delete env[k];
  return spawnSync(BIN, args, { env, encoding: 'utf8', cwd: ROOT });
}

/** `rolestack api PRODUCT ACTION K=V ...` as the account root; the parsed answer. */
function api(server, product, action, params = {}) {
  const r = cli(server, ['api', product, action, ...Object.entries(params).map(([k, v]) => `${k}=${v}`)]);
  assert.equal(r.status, 0, `${action}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Starts `rolestack serve`; resolves to { endpoint, tlsEndpoint, dataDir, rootKey, stop() } once /health answers. */
async function startServer(prefix) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const port = await freePort();
  const tlsPort = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dataDir = path.join(work, 'data');
  const log = fs.openSync(path.join(work, 'server.log'), 'a');
  const child = spawn(BIN, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--tls-listen', `127.0.0.1:${tlsPort}`], { stdio: ['ignore', log, log] });
  let up = false;
  for (let i = 0; i < 150 && !up; i++) {
    try { up = (await fetch(`${endpoint}/health`)).ok; } catch (_) { /* not yet */ }
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(up, `rolestack did not start at ${endpoint}`);
  // tlsEndpoint: the same server over HTTPS (its certificate is signed by the data directory's ca.pem).
  const server = { endpoint, tlsEndpoint: `https://127.0.0.1:${tlsPort}`, dataDir, stop() { child.kill('SIGTERM'); } };
  const c = cli(server, ['credentials', '--data-dir', dataDir, '--format', 'json']);
  assert.equal(c.status, 0, c.stderr);
  server.rootKey = JSON.parse(c.stdout);
  return server;
}

/** OSS V1 as the account root, from node (setting up buckets and their rules); `resource` is the
 *  path (`/<bucket>/` for the bucket itself) and sub-resource, signed as written. */
async function ossAsRoot(server, method, resource, { body = '', contentType = '', headers = {} } = {}) {
  const { rootKey } = server;
  const date = new Date().toUTCString();
  const ossHeaders = Object.entries(headers).filter(([k]) => k.startsWith('x-oss-')).sort(([a], [b]) => (a < b ? -1 : 1));
  const canonical = ossHeaders.map(([k, v]) => `${k}:${v}\n`).join('');
  const sts = `${method}\n\n${contentType}\n${date}\n${canonical}${resource}`;
  const sig = crypto.createHmac('sha1', rootKey.AccessKeySecret).update(sts).digest('base64');
  const h = { ...headers, Date: date, Authorization: `OSS ${rootKey.AccessKeyId}:${sig}` };
  if (contentType) h['Content-Type'] = contentType;
  return fetch(`${server.endpoint}${resource}`, { method, headers: h, body: body || undefined });
}

/** STS credentials of a new role `role` with AliyunOSSFullAccess under `sessionPolicy`. STS
 *  refuses AssumeRole signed by the root: a RAM user `user` allowed sts:AssumeRole assumes it. */
function assumeOssRole(server, role, user, sessionPolicy) {
  const account = server.rootKey.AccountId;
  api(server, 'ram', 'CreateRole', {
    RoleName: role,
    AssumeRolePolicyDocument: JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: [`acs:ram::${account}:root`] } }], Version: '1' }),
  });
  api(server, 'ram', 'AttachPolicyToRole', { PolicyType: 'System', PolicyName: 'AliyunOSSFullAccess', RoleName: role });
  api(server, 'ram', 'CreateUser', { UserName: user });
  api(server, 'ram', 'AttachPolicyToUser', { PolicyType: 'System', PolicyName: 'AliyunSTSAssumeRoleAccess', UserName: user });
  const key = api(server, 'ram', 'CreateAccessKey', { UserName: user }).AccessKey;
  const assumed = cli(server, ['api', '--access-key-id', key.AccessKeyId, '--access-key-secret', key.AccessKeySecret,
    'sts', 'AssumeRole', `RoleArn=acs:ram::${account}:role/${role}`, 'RoleSessionName=browser', `Policy=${sessionPolicy}`]);
  assert.equal(assumed.status, 0, assumed.stdout + assumed.stderr);
  return JSON.parse(assumed.stdout).Credentials;
}

const profiles = [];

/** A headless Chromium context on a fresh profile (`options`: e.g. a viewport). */
async function launchChromium(options = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolestack-chromium-'));
  profiles.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    ...options,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  context.setDefaultTimeout(15000);
  return context;
}

/** Removes the profiles of every context launched so far. */
function removeProfiles() {
  for (const d of profiles.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

module.exports = { ROOT, api, assumeOssRole, cli, launchChromium, ossAsRoot, removeProfiles, startServer };
