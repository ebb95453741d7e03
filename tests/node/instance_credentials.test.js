// @alicloud/credentials (Node) inside an instance: its default chain reaches the ECS RAM role
// provider at 100.100.100.200 in the instance's network namespace, and @alicloud/sts20150401 calls
// GetCallerIdentity with those credentials. Needs root for the namespace (CI runs as root).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { BIN, ROOT, startServer } = require('./support/server');

const isRoot = process.getuid && process.getuid() === 0;
let server;
let dataDir;
let endpoint;

function cli(args, extraEnv = {}) {
  const env = { ...process.env, ROLESTACK_ENDPOINT: endpoint, ROLESTACK_DATA_DIR: dataDir, ...extraEnv };
  for (const k of Object.keys(env)) if (k.startsWith('ALIBABA_CLOUD_')) delete env[k];
  const r = spawnSync(BIN, args, { env, encoding: 'utf8', cwd: ROOT });
  return r;
}

function api(product, action, params) {
  const r = cli(['api', product, action, ...Object.entries(params).map(([k, v]) => `${k}=${v}`)]);
  assert.equal(r.status, 0, `${action}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

before(async () => {
  server = await startServer('rolestack-node-');
  ({ endpoint, dataDir } = server);
});

after(() => {
  if (server) server.stop();
});

test('@alicloud/credentials default chain inside an instance', { skip: !isRoot && process.env.CI !== 'true' ? 'network namespaces need root (CI runs as root)' : false }, () => {
  const role = `NodeEcsRole${Date.now()}`;
  api('ram', 'CreateRole', {
    RoleName: role,
    AssumeRolePolicyDocument: JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['ecs.aliyuncs.com'] } }], Version: '1' }),
  });
  const vpc = api('ecs', 'CreateVpc', { RegionId: 'cn-hangzhou', CidrBlock: '192.168.0.0/16' }).VpcId;
  const vsw = api('ecs', 'CreateVSwitch', { RegionId: 'cn-hangzhou', ZoneId: 'cn-hangzhou-i', VpcId: vpc, CidrBlock: '192.168.1.0/24' }).VSwitchId;
  const iid = api('ecs', 'CreateInstance', {
    RegionId: 'cn-hangzhou', ImageId: 'centos_7_03_64_40G_alibase_20170503.vhd', InstanceType: 'ecs.xn4.small', VSwitchId: vsw, RamRoleName: role,
  }).InstanceId;
  // CreateInstance leaves it Stopped, and nothing runs on a stopped instance.
  api('ecs', 'StartInstance', { InstanceId: iid });
  const r = cli(['instance', 'exec', iid, '--', process.execPath, path.join(__dirname, 'programs', 'whoami.js')]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const who = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.equal(who.IdentityType, 'AssumedRoleUser');
  assert.match(who.AccessKeyId, /^STS\./);
  assert.ok(who.Arn.endsWith(`:assumed-role/${role}/vm-ram-${iid}`), who.Arn);
});
