// A pod's credentials in Node: @alicloud/credentials' default chain with the OIDC environment
// variables (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE)
// exchanges a token from rolestack's local issuer (`rolestack oidc token`) at its default STS
// endpoint, under `rolestack exec`, and ali-oss lists a bucket with the role's credentials. A
// forged token is refused. Needs root for the namespace (CI runs as root).
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { BIN, startServer } = require('./support/server');

const isRoot = process.getuid && process.getuid() === 0;
const skip = !isRoot && process.env.CI !== 'true' ? 'network namespaces need root (CI runs as root)' : false;
let server;

function cli(args, extraEnv = {}) {
  const env = { ...process.env, ROLESTACK_ENDPOINT: server.endpoint, ROLESTACK_DATA_DIR: server.dataDir };
  for (const k of Object.keys(env)) if (k.startsWith('ALIBABA_CLOUD_') || k.startsWith('OSS_')) delete env[k];
  Object.assign(env, extraEnv);
  return spawnSync(BIN, args, { env, encoding: 'utf8', cwd: __dirname });
}

function ok(args) {
  const r = cli(args);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

const api = (product, action, params) => JSON.parse(ok(['api', product, action, ...Object.entries(params).map(([k, v]) => `${k}=${v}`)]));

// `rolestack exec` hands the command the caller's AccessKey; a pod has none.
const NO_KEY = ['env', '-u', 'ALIBABA_CLOUD_ACCESS_KEY_ID', '-u', 'ALIBABA_CLOUD_ACCESS_KEY_SECRET', '-u', 'OSS_ACCESS_KEY_ID', '-u', 'OSS_ACCESS_KEY_SECRET'];

before(async () => { server = await startServer('rolestack-node-oidc-'); });
after(() => { if (server) server.stop(); });

test('the default credential chain with OIDC environment variables gets role credentials and lists OSS', { skip }, () => {
  const account = server.root.accountId;
  const issuer = JSON.parse(ok(['oidc', 'issuer'])).Issuer;
  const idp = `node-idp-${Date.now()}`;
  api('ims', 'CreateOIDCProvider', { OIDCProviderName: idp, IssuerUrl: issuer, Fingerprints: '902ef2deeb3c5b13ea4c3d5193629309e231ae55', ClientIds: 'sts.aliyuncs.com' });
  const providerArn = `acs:ram::${account}:oidc-provider/${idp}`;
  const role = `NodePodRole${Date.now()}`;
  api('ram', 'CreateRole', {
    RoleName: role,
    AssumeRolePolicyDocument: JSON.stringify({
      Version: '1',
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Federated: [providerArn] },
        Condition: { StringEquals: { 'oidc:sub': 'system:serviceaccount:default:node-app', 'oidc:aud': 'sts.aliyuncs.com' } } }],
    }),
  });
  api('ram', 'AttachPolicyToRole', { PolicyType: 'System', PolicyName: 'AliyunOSSReadOnlyAccess', RoleName: role });
  const bucket = `rs-node-pod-${Date.now()}`;
  const mk = cli(['exec', '--', process.execPath, '-e',
    `const OSS=require('ali-oss');const c=new OSS({region:'oss-cn-hangzhou',secure:true,accessKeyId:process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,accessKeySecret:process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET});c.putBucket('${bucket}').then(()=>{c.useBucket('${bucket}');return c.put('pod.txt',Buffer.from('x'))}).then(()=>console.log('made'),e=>{console.error(e);process.exit(1)})`]);
  assert.equal(mk.status, 0, mk.stdout + mk.stderr);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rolestack-pod-'));
  const tokenFile = path.join(dir, 'token');
  ok(['oidc', 'token', '--sub', 'system:serviceaccount:default:node-app', '--aud', 'sts.aliyuncs.com', '--out', tokenFile]);
  const podEnv = {
    ALIBABA_CLOUD_ROLE_ARN: `acs:ram::${account}:role/${role}`,
    ALIBABA_CLOUD_OIDC_PROVIDER_ARN: providerArn,
    ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile,
    ALIBABA_CLOUD_ROLE_SESSION_NAME: 'node-pod',
  };
  const r = cli(['exec', '--', ...NO_KEY, process.execPath, path.join(__dirname, 'programs', 'oidc_pod.js'), bucket], podEnv);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop());
  assert.match(out.AccessKeyId, /^STS\./);
  assert.deepEqual(out.Keys, ['pod.txt']);

  // A token whose payload was changed under its signature is refused by STS.
  const [h, , s] = fs.readFileSync(tokenFile, 'utf8').trim().split('.');
  const forged = Buffer.from(JSON.stringify({ iss: issuer, sub: 'system:serviceaccount:default:node-app', aud: 'sts.aliyuncs.com', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 })).toString('base64url');
  fs.writeFileSync(tokenFile, `${h}.${forged}.${s}`);
  const bad = cli(['exec', '--', ...NO_KEY, process.execPath, path.join(__dirname, 'programs', 'oidc_pod.js'), bucket], podEnv);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stdout + bad.stderr, /AuthenticationFail\.OIDCToken\.InvalidSignature/);
});
