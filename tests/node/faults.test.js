// @alicloud/credentials (Node) inside an instance while its metadata service is broken on purpose
// (docs/faults.md): a long-running program (programs/fault_loop.js) keeps one credential client and
// calls STS and OSS step by step, or builds a fresh client, while faults are injected with
// `rolestack instance fault`. Each step is one request/answer (no timed assertions); the 30 s outage
// ends by moving the server's fake clock. Needs root for the namespace (CI runs as root).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const readline = require('node:readline');
const path = require('node:path');
const OSS = require('ali-oss');
const { BIN, ROOT, startServer } = require('./support/server');

const isRoot = process.getuid && process.getuid() === 0;
let server;

function env() {
  const e = { ...process.env, ROLESTACK_ENDPOINT: server.endpoint, ROLESTACK_DATA_DIR: server.dataDir };
  for (const k of Object.keys(e)) if (k.startsWith('ALIBABA_CLOUD_')) delete e[k];
  return e;
}

function cli(...args) {
  const r = spawnSync(BIN, args, { env: env(), encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

function api(product, action, params) {
  return cli('api', product, action, ...Object.entries(params).map(([k, v]) => `${k}=${v}`));
}

/** programs/fault_loop.js inside the instance; `step(cmd)` resolves to its JSON answer. */
async function program(iid, bucket, hardened = false) {
  // `instance exec` clears ALIBABA_CLOUD_* from the environment; set inside, it stays.
  const inside = hardened ? ['env', 'ALIBABA_CLOUD_IMDSV1_DISABLED=true'] : [];
  const child = spawn(BIN, ['instance', 'exec', iid, '--', ...inside, process.execPath, path.join(__dirname, 'programs', 'fault_loop.js'), bucket],
    { env: env(), cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    assert.ok(!done, `the program ended: ${stderr}`);
    return JSON.parse(value);
  };
  assert.deepEqual(await next(), { ready: true });
  return {
    async step(cmd) { child.stdin.write(`${cmd}\n`); return next(); },
    close() { child.stdin.end(); },
  };
}

before(async () => {
  server = await startServer('rolestack-node-faults-', ['--fake-clock']);
});

after(() => {
  if (server) server.stop();
});

test('@alicloud/credentials under metadata faults and credential events',
  { skip: !isRoot && process.env.CI !== 'true' ? 'network namespaces need root (CI runs as root)' : false }, async () => {
    const role = `NodeFaultRole${Date.now()}`;
    api('ram', 'CreateRole', {
      RoleName: role,
      AssumeRolePolicyDocument: JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['ecs.aliyuncs.com'] } }], Version: '1' }),
    });
    const policy = `NodeFaultPolicy${Date.now()}`;
    api('ram', 'CreatePolicy', { PolicyName: policy, PolicyDocument: JSON.stringify({ Statement: [{ Action: ['oss:Get*', 'sts:GetCallerIdentity'], Effect: 'Allow', Resource: '*' }], Version: '1' }) });
    api('ram', 'AttachPolicyToRole', { PolicyType: 'Custom', PolicyName: policy, RoleName: role });
    const vpc = api('ecs', 'CreateVpc', { RegionId: 'cn-hangzhou', CidrBlock: '192.168.0.0/16' }).VpcId;
    const vsw = api('ecs', 'CreateVSwitch', { RegionId: 'cn-hangzhou', ZoneId: 'cn-hangzhou-i', VpcId: vpc, CidrBlock: '192.168.7.0/24' }).VSwitchId;
    const iid = api('ecs', 'CreateInstance', {
      RegionId: 'cn-hangzhou', ImageId: 'centos_7_03_64_40G_alibase_20170503.vhd', InstanceType: 'ecs.xn4.small', VSwitchId: vsw, RamRoleName: role,
    }).InstanceId;
    // CreateInstance leaves it Stopped, and nothing runs on a stopped instance.
    api('ecs', 'StartInstance', { InstanceId: iid });
    const bucket = `nodefaults${Date.now()}`;
    const rootOss = new OSS({ accessKeyId: server.root.id, accessKeySecret: server.root.secret, endpoint: server.endpoint, region: 'oss-cn-hangzhou' });
    await rootOss.putBucket(bucket);
    rootOss.useBucket(bucket);
    await rootOss.put('probe', Buffer.from('x'));
    const faults = () => cli('instance', 'faults', iid).Faults.Fault;

    const prog = await program(iid, bucket);
    const log = [];
    const step = async (label, cmd) => { const r = await prog.step(cmd); log.push([label, cmd, r]); return r; };
    try {
      const first = await step('start', 'sts');
      assert.ok(first.ok, JSON.stringify(first));
      assert.ok((await step('start', 'oss')).ok);

      // Five 500s: the cached client never asks; fresh clients fail until the 500s are used up.
      cli('instance', 'fault', iid, '--status', '500', '--count', '5');
      assert.deepEqual(await step('500s', 'sts'), { ok: true, AccessKeyId: first.AccessKeyId });
      assert.equal(faults()[0].RemainingCount, 5, 'the cached client did not touch the metadata service');
      const outcomes = [await step('500s', 'new')];
      while (!outcomes[outcomes.length - 1].ok) {
        assert.ok(outcomes.length < 6, JSON.stringify(outcomes));
        outcomes.push(await step('500s', 'new'));
      }
      assert.equal(outcomes[0].stage, 'credentials');
      assert.match(outcomes[0].error, /500/);
      assert.equal(faults()[0].Active, false);

      // A 2 s delay: over the 1 s read timeout.
      cli('instance', 'fault', iid, '--delay', '2s', '--count', '3');
      assert.ok((await step('delay', 'sts')).ok);
      const delayed = await step('delay', 'new');
      assert.equal(delayed.ok, false);
      assert.equal(delayed.stage, 'credentials');
      cli('instance', 'fault', iid, '--clear');
      assert.ok((await step('delay', 'new')).ok);

      // A 30 s outage, ended by the server's clock.
      cli('instance', 'fault', iid, '--reset', '--for', '30s');
      assert.ok((await step('outage', 'sts')).ok);
      assert.ok((await step('outage', 'oss')).ok);
      const down = await step('outage', 'new');
      assert.equal(down.ok, false);
      assert.equal(down.stage, 'credentials');
      cli('clock', 'advance', '31s');
      assert.ok((await step('outage', 'new')).ok);

      // Throttling at 1/s.
      cli('instance', 'fault', iid, '--throttle', '1/s');
      const throttled = await step('throttle', 'new');
      assert.equal(throttled.ok, false);
      assert.match(throttled.error, /429/);
      assert.ok((await step('throttle', 'sts')).ok);
      cli('instance', 'fault', iid, '--clear');
      assert.ok((await step('throttle', 'new')).ok);

      // A failing token request: tolerated by default (tokenless fallback), fatal with IMDSv1 disabled.
      cli('instance', 'fault', iid, '--status', '500', '--path', '/latest/api/token', '--count', '1');
      assert.ok((await step('token', 'new')).ok, 'fell back to a tokenless read');
      assert.equal(faults().at(-1).Active, false, 'the token request got the 500');
      const hardened = await program(iid, bucket, true);
      try {
        assert.ok((await hardened.step('sts')).ok);
        cli('instance', 'fault', iid, '--status', '500', '--path', '/latest/api/token', '--count', '1');
        const refusedToken = await hardened.step('new');
        assert.equal(refusedToken.ok, false);
        assert.match(refusedToken.error, /get metadata token failed with 500/);
        assert.ok((await hardened.step('sts')).ok, 'the cached client is not affected');
        assert.ok((await hardened.step('new')).ok);
      } finally {
        hardened.close();
      }

      // A stale document (Expiration already past): unlike Python's, this provider uses a fetched
      // set even when its Expiration is past (and plans to fetch again within about a minute).
      const served = cli('instance', 'credentials', iid).Credentials.AccessKeyId;
      cli('instance', 'fault', iid, '--stale-credentials', '--count', '1');
      assert.deepEqual(await step('stale', 'new'), { ok: true, AccessKeyId: served });
      assert.equal(faults().find((f) => f.Fault.Kind === 'StaleCredentials').Active, false, 'the stale document was served');
      assert.ok((await step('stale', 'sts')).ok);

      // Expired and kept served.
      const current = cli('instance', 'credentials', iid).Credentials.AccessKeyId;
      cli('instance', 'fault', iid, '--expire-credentials');
      const refused = await step('expired', 'sts');
      assert.equal(refused.ok, false);
      assert.equal(refused.code, 'InvalidSecurityToken.Expired');
      const refusedOss = await step('expired', 'oss');
      assert.equal(refusedOss.ok, false);
      assert.equal(refusedOss.code, 'SecurityTokenExpired');
      // A fresh client takes the expired set (see the stale document above); STS refuses it.
      const fresh = await step('expired', 'new');
      assert.deepEqual([fresh.ok, fresh.stage, fresh.AccessKeyId, fresh.code], [false, 'call', current, 'InvalidSecurityToken.Expired']);
      cli('instance', 'fault', iid, '--clear');
      const renewed = await step('expired', 'new');
      assert.ok(renewed.ok);
      assert.notEqual(renewed.AccessKeyId, current);
      assert.equal((await step('expired', 'sts')).ok, false, 'the long-lived client keeps the expired set');

      // Rotate now, then a session revoked while in use, with a second long-running program.
      const prog2 = await program(iid, bucket);
      try {
        const before2 = await prog2.step('sts');
        assert.ok(before2.ok);
        const rotated = cli('instance', 'rotate-credentials', iid);
        assert.equal(rotated.PreviousAccessKeyId, before2.AccessKeyId);
        assert.deepEqual(await prog2.step('sts'), before2, 'the old set is still valid');
        assert.equal((await prog2.step('new')).AccessKeyId, rotated.AccessKeyId);
        cli('role', 'revoke-sessions', role);
        const gone = await prog2.step('sts');
        assert.deepEqual([gone.ok, gone.code], [false, 'InvalidSecurityToken.Expired']);
        const again = await prog2.step('new');
        assert.ok(again.ok, 'a fresh client gets a new set');
        assert.notEqual(again.AccessKeyId, rotated.AccessKeyId);
      } finally {
        prog2.close();
      }
    } finally {
      prog.close();
      if (process.env.ROLESTACK_FAULTS_LOG) console.log(JSON.stringify(log, null, 1));
    }
  });
