// A rolestack server for one test file: a fresh data dir, a free loopback port, stopped by stop().
'use strict';

const { spawn } = require('node:child_process');
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

/** Starts `rolestack serve` (plus `extraArgs`, e.g. `--fake-clock`); resolves to { endpoint, dataDir,
 *  root: {id, secret, accountId}, stop() }. */
async function startServer(prefix, extraArgs = []) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--tls-listen', '127.0.0.1:0', ...extraArgs], { stdio: 'ignore' });
  await waitHealthy(endpoint, 60000);
  const raw = JSON.parse(fs.readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
  return {
    endpoint,
    dataDir,
    root: { id: raw.AccessKeyId, secret: raw.AccessKeySecret, accountId: raw.AccountId },
    stop() {
      child.kill('SIGTERM');
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

module.exports = { BIN, ROOT, startServer };
