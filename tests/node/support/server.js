// A rolestack server for one test file: a fresh data dir, a free loopback port, stopped by stop().
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const net = require('node:net');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BIN = process.env.ROLESTACK_BIN || path.join(ROOT, 'target', 'debug', 'rolestack');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

async function waitHealthy(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) return;
    } catch (_) { /* not yet listening */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`rolestack did not become healthy at ${url}`);
}

/** Starts `rolestack serve` (plus `extraArgs`, e.g. `--fake-clock`); resolves to { endpoint,
 *  tlsHost (`127.0.0.1:<port>` of the TLS listener), caFile (its CA, for NODE_EXTRA_CA_CERTS), dataDir,
 *  root: {id, secret, accountId}, stop() }. */
async function startServer(prefix, extraArgs = []) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const port = await freePort();
  const tlsHost = `127.0.0.1:${await freePort()}`;
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--tls-listen', tlsHost, ...extraArgs], { stdio: 'ignore' });
  await waitHealthy(endpoint, 60000);
  const raw = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
  return {
    endpoint,
    tlsHost,
    caFile: path.join(dataDir, 'ca.pem'),
    dataDir,
    root: { id: raw.AccessKeyId, secret: raw.AccessKeySecret, accountId: raw.AccountId },
    stop() {
      child.kill('SIGTERM');
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `rolestack api <product> <action> k=v...` as the account root of `server`; returns the
 *  parsed JSON answer (throws with the output when the call fails). */
function api(server, product, action, params) {
  const env = { ...process.env, ROLESTACK_ENDPOINT: server.endpoint, ROLESTACK_DATA_DIR: server.dataDir };
  for (const k of Object.keys(env)) if (k.startsWith('ALIBABA_CLOUD_')) delete env[k];
  const r = spawnSync(BIN, ['api', product, action, ...Object.entries(params).map(([k, v]) => `${k}=${v}`)], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${action}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

module.exports = { BIN, ROOT, api, startServer };
