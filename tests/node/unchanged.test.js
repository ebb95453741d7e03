// Node applications written for the real cloud, run unchanged under `rolestack exec`: service
// names resolve to rolestack in the workstation's namespace and its local CA is trusted
// (NODE_EXTRA_CA_CERTS). Needs root for the namespace (CI runs as root).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { BIN, startServer } = require('./support/server');

const isRoot = process.getuid && process.getuid() === 0;
let server;

function cli(args, extraEnv = {}) {
  const env = { ...process.env, ROLESTACK_ENDPOINT: server.endpoint, ROLESTACK_DATA_DIR: server.dataDir };
  for (const k of Object.keys(env)) if (k.startsWith('ALIBABA_CLOUD_') || k.startsWith('OSS_')) delete env[k];
  Object.assign(env, extraEnv);
  // From this folder, so `node -e` finds the pinned node_modules.
  return spawnSync(BIN, args, { env, encoding: 'utf8', cwd: __dirname });
}

function api(product, action, params) {
  const r = cli(['api', product, action, ...Object.entries(params).map(([k, v]) => `${k}=${v}`)]);
  assert.equal(r.status, 0, `${action}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

before(async () => { server = await startServer('rolestack-node-unchanged-'); });
after(() => { if (server) server.stop(); });

test('ram_role_arn with its default STS endpoint and ali-oss virtual-hosted URLs under rolestack exec',
  { skip: !isRoot && process.env.CI !== 'true' ? 'network namespaces need root (CI runs as root)' : false }, () => {
    const account = server.root.accountId;
    const role = `NodeAppRole${Date.now()}`;
    api('ram', 'CreateRole', {
      RoleName: role,
      AssumeRolePolicyDocument: JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: [`acs:ram::${account}:root`] } }], Version: '1' }),
    });
    api('ram', 'AttachPolicyToRole', { PolicyType: 'System', PolicyName: 'AliyunOSSFullAccess', RoleName: role });
    const bucket = `rs-node-${Date.now()}`;
    const made = cli(['exec', '--', 'curl', '-sS', '-X', 'PUT', '-o', '/dev/null', '-w', '%{http_code}', `https://${bucket}.oss-cn-hangzhou.aliyuncs.com/`]);
    assert.equal(made.stdout, '403', 'an unsigned PutBucket over HTTPS reaches OSS and is refused');
    // The root makes the bucket with the official SDK, inside the same workstation.
    const mk = cli(['exec', '--', process.execPath, '-e',
      `const OSS=require('ali-oss');new OSS({region:'oss-cn-hangzhou',secure:true,accessKeyId:process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,accessKeySecret:process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET}).putBucket('${bucket}').then(()=>console.log('made'),e=>{console.error(e);process.exit(1)})`]);
    assert.equal(mk.status, 0, mk.stdout + mk.stderr);
    // STS refuses AssumeRole signed by the root: the app runs with a RAM user's AccessKey.
    const user = `node-assumer-${Date.now()}`;
    api('ram', 'CreateUser', { UserName: user });
    api('ram', 'AttachPolicyToUser', { PolicyType: 'System', PolicyName: 'AliyunSTSAssumeRoleAccess', UserName: user });
    api('ram', 'CreatePolicy', { PolicyName: user, PolicyDocument: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'rolestack:PrepareWorkstationEnvironment', Resource: '*' }] }) });
    api('ram', 'AttachPolicyToUser', { PolicyType: 'Custom', PolicyName: user, UserName: user });
    const key = api('ram', 'CreateAccessKey', { UserName: user }).AccessKey;
    const r = cli(['exec', '--', process.execPath, path.join(__dirname, 'programs', 'cloud_app.js'), `acs:ram::${account}:role/${role}`, bucket],
      { ALIBABA_CLOUD_ACCESS_KEY_ID: key.AccessKeyId, ALIBABA_CLOUD_ACCESS_KEY_SECRET: key.AccessKeySecret });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /network namespace/);
    const out = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.match(out.AccessKeyId, /^STS\./);
    assert.deepEqual(out.Keys, ['from-node.txt']);
    assert.equal(out.SignedUrlHost, `${bucket}.oss-cn-hangzhou.aliyuncs.com`);
    assert.deepEqual(out.Fetched, { status: 200, body: 'virtual-hosted' });
    const nx = cli(['exec', '--', process.execPath, '-e', "require('node:dns').lookup('www.example.com',(e)=>{console.log(e?e.code:'resolved')})"]);
    assert.equal(nx.stdout.trim(), 'ENOTFOUND');
  });
