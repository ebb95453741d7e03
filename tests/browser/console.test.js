// The web console in a real headless Chromium (Debian's `chromium`), driven by playwright-core.
// A person signs in and walks seed 002 ("Bind an instance RAM role") steps 1-3 by clicking; the
// result is checked through the API (rolestack's signed CLI) and through the instance metadata
// service. Also: a RAM user without permissions sees RAM's real denial; POSTs without the CSRF
// token are refused; a screenshot of each page lands in target/console-screenshots/.
'use strict';

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const support = require('./support');

const { ROOT, launchChromium, removeProfiles, startServer } = support;

const SHOTS = path.join(ROOT, 'target', 'console-screenshots');
const REGION = 'cn-hangzhou';
const suffix = Date.now().toString(36);
const ROLE = `EcsRamRoleDocumentTesting-${suffix}`;

let server;
let endpoint;
let rootKey;
let browser;

function cli(args) {
  return support.cli(server, args);
}

// The API as the account root, through rolestack's signed CLI client (not the console).
function api(product, action, params = {}) {
  return support.api(server, product, action, params);
}

function apiError(product, action, params = {}) {
  const r = cli(['api', product, action, ...Object.entries(params).map(([k, v]) => `${k}=${v}`)]);
  assert.notEqual(r.status, 0, `${action} should fail: ${r.stdout}`);
  return `${r.stdout}${r.stderr}`;
}

async function newPage() {
  const context = await launchChromium({ viewport: { width: 1360, height: 860 } });
  // Nothing but this server may be contacted: the console is self-contained.
  const foreign = [];
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.host === new URL(endpoint).host) return route.continue();
    foreign.push(u.href);
    return route.abort();
  });
  const page = context.pages()[0] || await context.newPage();
  page.foreign = foreign;
  return { context, page };
}

async function shot(page, name) {
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

async function signInRoot(page) {
  await page.goto(`${endpoint}/console/`);
  assert.match(page.url(), /\/console\/signin$/);
  await page.getByLabel('AccessKey ID').fill(rootKey.AccessKeyId);
  await page.getByLabel('AccessKey secret').fill(rootKey.AccessKeySecret);
  await page.getByRole('button', { name: 'Sign in as account root' }).click();
  await page.waitForURL(/\/console\/#\/ram\/roles$/);
  await page.getByRole('heading', { name: 'RAM Roles', level: 1 }).waitFor();
}

before(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  server = await startServer('rolestack-browser-');
  ({ endpoint, rootKey } = server);
});

after(async () => {
  if (server) server.stop();
  removeProfiles();
});

test('seed 002 steps 1-3 by clicking, checked through the API and the metadata service', async () => {
  // Before: a VPC instance and a classic one (through the API), and a role that does not trust ECS.
  const vpc = api('ecs', 'CreateVpc', { RegionId: REGION, CidrBlock: '192.168.0.0/16', VpcName: 'console-vpc' }).VpcId;
  const vsw = api('ecs', 'CreateVSwitch', { RegionId: REGION, ZoneId: 'cn-hangzhou-i', VpcId: vpc, CidrBlock: '192.168.1.0/24', VSwitchName: 'console-vsw' }).VSwitchId;
  const iid = api('ecs', 'CreateInstance', {
    RegionId: REGION, ImageId: 'centos_7_03_64_40G_alibase_20170503.vhd', InstanceType: 'ecs.xn4.small', VSwitchId: vsw, InstanceName: 'seed-002-vpc',
  }).InstanceId;
  const classic = api('ecs', 'CreateInstance', {
    RegionId: REGION, ImageId: 'centos_7_03_64_40G_alibase_20170503.vhd', InstanceType: 'ecs.xn4.small', ZoneId: 'cn-hangzhou-i', InstanceName: 'seed-002-classic',
  }).InstanceId;
  const accountRole = `AccountTrusted-${suffix}`;
  api('ram', 'CreateRole', {
    RoleName: accountRole,
    AssumeRolePolicyDocument: JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: [`acs:ram::${rootKey.AccountId}:root`] } }], Version: '1' }),
  });

  const { context, page } = await newPage();
  try {
    await page.goto(`${endpoint}/console/signin`);
    await shot(page, '01-signin');
    await signInRoot(page);

    // Step 1: create an instance RAM role.
    await page.getByRole('navigation', { name: 'Products' }).getByRole('link', { name: 'RAM Roles' }).click();
    await page.getByRole('button', { name: 'Create RAM Role' }).click();
    const panel = page.getByRole('dialog', { name: 'Create RAM Role' });
    await panel.getByRole('radio', { name: /Alibaba Cloud Service/ }).check();
    await shot(page, '02-create-role-trusted-entity');
    await panel.getByRole('button', { name: 'Next' }).click();
    const normal = panel.getByRole('radio', { name: 'Normal Service Role' });
    await normal.check();
    assert.ok(await normal.isChecked());
    await panel.getByLabel('RAM Role Name').fill(ROLE);
    await panel.getByLabel('Note').fill('Instance RAM role for seed 002');
    await panel.getByLabel('Select Trusted Service').selectOption({ label: 'Elastic Compute Service' });
    await shot(page, '03-create-role-configure');
    await panel.getByRole('button', { name: 'OK' }).click();
    await panel.getByText(`The RAM role ${ROLE} has been created.`).waitFor();
    await shot(page, '04-create-role-finish');
    await panel.getByRole('button', { name: 'Close', exact: true }).click();
    await panel.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: ROLE, exact: true }).waitFor();
    await shot(page, '05-roles-list');

    // ... and check its Trust Policy Management tab.
    await page.getByRole('link', { name: ROLE, exact: true }).click();
    await page.getByRole('tab', { name: 'Trust Policy Management' }).click();
    const doc = await page.getByLabel('Trust policy document').textContent();
    assert.deepEqual(JSON.parse(doc).Statement[0].Principal, { Service: ['ecs.aliyuncs.com'] });
    await shot(page, '06-role-trust-policy');

    // Step 2: Permissions > Input and Attach a system policy, OK, Close.
    await page.getByRole('tab', { name: 'Permissions' }).click();
    await page.getByRole('button', { name: 'Input and Attach' }).click();
    const attach = page.getByRole('dialog', { name: 'Input and Attach' });
    await attach.getByRole('radio', { name: 'System Policy' }).check();
    await attach.getByLabel('Policy Name').fill('AliyunOSSReadOnlyAccess');
    await shot(page, '07-input-and-attach');
    await attach.getByRole('button', { name: 'OK' }).click();
    await attach.getByText('Authorized: AliyunOSSReadOnlyAccess is attached').waitFor();
    await attach.getByRole('button', { name: 'Close', exact: true }).click();
    await page.getByRole('tabpanel').getByRole('link', { name: 'AliyunOSSReadOnlyAccess' }).waitFor();
    await shot(page, '08-role-permissions');

    // Step 3: ECS > Instances & Images > Instances, region, More > Instance Settings > Bind/Unbind RAM Role.
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    await page.getByLabel('Region').selectOption(REGION);
    const row = page.getByRole('row').filter({ hasText: iid });
    await row.waitFor();
    await row.getByRole('button', { name: `More actions for ${iid}` }).click();
    await page.getByRole('menuitem', { name: 'Instance Settings' }).click();
    await page.getByRole('menuitem', { name: 'Bind/Unbind RAM Role' }).click();
    const bind = page.getByRole('dialog', { name: 'Bind/Unbind RAM Role' });
    const select = bind.getByLabel('RAM Role');
    await select.locator(`option[value="${ROLE}"]`).waitFor({ state: 'attached' });
    const offered = await select.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    assert.ok(offered.includes(ROLE), `${ROLE} offered: ${offered}`);
    assert.ok(!offered.includes(accountRole), `a role that does not trust ECS is not offered: ${offered}`);
    await select.selectOption(ROLE);
    await shot(page, '09-bind-ram-role');
    await bind.getByRole('button', { name: 'OK' }).click();
    await bind.waitFor({ state: 'detached' });
    await row.getByRole('cell', { name: ROLE, exact: true }).waitFor();
    await page.evaluate(() => document.getElementById('toasts').replaceChildren());
    await shot(page, '10-instances');
    // CreateInstance left it Stopped, and nothing runs on a stopped instance: More > Instance
    // Status > Start, and the row shows it Running.
    await row.getByRole('cell', { name: 'Stopped', exact: true }).waitFor();
    await row.getByRole('button', { name: `More actions for ${iid}` }).click();
    await page.getByRole('menuitem', { name: 'Instance Status' }).click();
    await page.getByRole('menuitem', { name: 'Start', exact: true }).click();
    await row.getByRole('cell', { name: 'Running', exact: true }).waitFor();
    await page.evaluate(() => document.getElementById('toasts').replaceChildren());

    // A classic network instance gets ECS's real error.
    const crow = page.getByRole('row').filter({ hasText: classic });
    await crow.getByRole('button', { name: `More actions for ${classic}` }).click();
    await page.getByRole('menuitem', { name: 'Instance Settings' }).click();
    await page.getByRole('menuitem', { name: 'Bind/Unbind RAM Role' }).click();
    const cbind = page.getByRole('dialog', { name: 'Bind/Unbind RAM Role' });
    await cbind.getByLabel('RAM Role').locator(`option[value="${ROLE}"]`).waitFor({ state: 'attached' });
    await cbind.getByLabel('RAM Role').selectOption(ROLE);
    await cbind.getByRole('button', { name: 'OK' }).click();
    await cbind.getByRole('alert').getByText('InvalidNetworkType.MismatchRamRole').waitFor();
    await shot(page, '11-bind-classic-error');
    await cbind.getByRole('button', { name: 'Cancel' }).click();
    assert.deepEqual(page.foreign, [], 'the console contacted no other host');
  } finally {
    await context.close();
  }

  // The result, through the API.
  const role = api('ram', 'GetRole', { RoleName: ROLE }).Role;
  assert.equal(role.Description, 'Instance RAM role for seed 002');
  const trust = JSON.parse(role.AssumeRolePolicyDocument);
  assert.equal(trust.Statement[0].Action, 'sts:AssumeRole');
  assert.equal(trust.Statement[0].Effect, 'Allow');
  assert.deepEqual(trust.Statement[0].Principal.Service, ['ecs.aliyuncs.com']);
  const attached = api('ram', 'ListPoliciesForRole', { RoleName: ROLE }).Policies.Policy;
  assert.deepEqual(attached.map((p) => [p.PolicyName, p.PolicyType]), [['AliyunOSSReadOnlyAccess', 'System']]);
  const sets = api('ecs', 'DescribeInstanceRamRole', { RegionId: REGION, InstanceIds: JSON.stringify([iid]) }).InstanceRamRoleSets.InstanceRamRoleSet;
  assert.deepEqual(sets, [{ InstanceId: iid, RamRoleName: ROLE }]);
  const cls = api('ecs', 'DescribeInstances', { RegionId: REGION, InstanceIds: JSON.stringify([classic]) }).Instances.Instance[0];
  assert.equal(cls.InstanceNetworkType, 'classic');

  // ... and through the instance metadata service: the role's credentials appear.
  const env = api('rolestack', 'PrepareInstanceEnvironment', { InstanceId: iid });
  assert.ok(env.Proxy, JSON.stringify(env));
  const base = `http://${env.Proxy}/latest/meta-data/ram/security-credentials/`;
  const listing = await fetch(base);
  assert.equal(listing.status, 200);
  assert.equal((await listing.text()).trim(), ROLE);
  const res = await fetch(base + ROLE);
  assert.equal(res.status, 200);
  const creds = await res.json();
  assert.equal(creds.Code, 'Success');
  assert.match(creds.AccessKeyId, /^STS\./);
  assert.ok(creds.AccessKeySecret && creds.SecurityToken && creds.Expiration, JSON.stringify(creds));
});

test('a RAM user without permissions signs in and sees the real NoPermission', async () => {
  const user = `console-user-${suffix}`;
  api('ram', 'CreateUser', { UserName: user });
  assert.match(apiError('ram', 'CreateLoginProfile', { UserName: user, Password: 'short' }), /InvalidParameter\.Password\.TooWeak/);
  api('ram', 'CreateLoginProfile', { UserName: user, Password: 'Console-Passw0rd' });
  const { context, page } = await newPage();
  try {
    await page.goto(`${endpoint}/console/`);
    await page.getByLabel('Logon name').fill(`${user}@${rootKey.AccountId}`);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in as RAM user' }).click();
    await page.getByRole('alert').getByText('The logon name or password is incorrect.').waitFor();
    await shot(page, '20-signin-wrong-password');

    await page.getByLabel('Logon name').fill(`${user}@${rootKey.AccountId}`);
    await page.getByLabel('Password').fill('Console-Passw0rd');
    await page.getByRole('button', { name: 'Sign in as RAM user' }).click();
    await page.waitForURL(/\/console\/#\/ram\/roles$/);
    await page.getByText(`${user}@${rootKey.AccountId}`).waitFor();
    // The list is denied by the policy engine, in plain words with RAM's code and message.
    const denied = page.getByRole('alert').filter({ hasText: 'NoPermission' });
    await denied.waitFor();
    assert.match(await denied.textContent(), /You do not have permission.*NoPermission.*ram:ListRoles/s);
    // The button is not hidden: trying it gets the real denial too.
    await page.getByRole('button', { name: 'Create RAM Role' }).click();
    const panel = page.getByRole('dialog', { name: 'Create RAM Role' });
    await panel.getByRole('button', { name: 'Next' }).click();
    await panel.getByLabel('RAM Role Name').fill(`Denied-${suffix}`);
    await panel.getByRole('button', { name: 'OK' }).click();
    const err = panel.getByRole('alert');
    await err.getByText('NoPermission').waitFor();
    assert.match(await err.textContent(), /ram:CreateRole/);
    await shot(page, '21-ram-user-no-permission');
    await panel.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Forbidden.RAM' }).waitFor();
    await shot(page, '22-ram-user-ecs-denied');

    // Sign out ends the session.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/console\/signin$/);
    await page.goto(`${endpoint}/console/`);
    assert.match(page.url(), /\/console\/signin$/);
  } finally {
    await context.close();
  }
  assert.match(apiError('ram', 'GetRole', { RoleName: `Denied-${suffix}` }), /EntityNotExist\.Role/);
  // A user with a login profile cannot be deleted until the profile is gone.
  assert.match(apiError('ram', 'DeleteUser', { UserName: user }), /DeleteConflict\.User\.LoginProfile/);
  api('ram', 'DeleteLoginProfile', { UserName: user });
  api('ram', 'DeleteUser', { UserName: user });
});

test('POSTs without the session CSRF token are refused with 403', async () => {
  const { context, page } = await newPage();
  try {
    await signInRoot(page);
    const req = context.request;
    const name = `Csrf-${suffix}`;
    const doc = JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['ecs.aliyuncs.com'] } }], Version: '1' });
    const noToken = await req.post(`${endpoint}/console/api/ram/CreateRole`, { data: { RoleName: name, AssumeRolePolicyDocument: doc } });
    assert.equal(noToken.status(), 403);
    assert.equal((await noToken.json()).Code, 'InvalidCsrfToken');
    const badToken = await req.post(`${endpoint}/console/api/ram/CreateRole`, { headers: { 'X-CSRF-Token': 'f'.repeat(64) }, data: { RoleName: name, AssumeRolePolicyDocument: doc } });
    assert.equal(badToken.status(), 403);
    const session = await (await req.get(`${endpoint}/console/api/session`)).json();
    const otherOrigin = await req.post(`${endpoint}/console/api/ram/CreateRole`, {
      headers: { 'X-CSRF-Token': session.CsrfToken, Origin: 'http://attacker.example' }, data: { RoleName: name, AssumeRolePolicyDocument: doc },
    });
    assert.equal(otherOrigin.status(), 403);
    const signout = await req.post(`${endpoint}/console/signout`, { form: { csrf_token: 'nope' }, maxRedirects: 0 });
    assert.equal(signout.status(), 403);
    assert.match(apiError('ram', 'GetRole', { RoleName: name }), /EntityNotExist\.Role/);
    // With the token the same call works: the refusal was the CSRF check.
    const ok = await req.post(`${endpoint}/console/api/ram/CreateRole`, { headers: { 'X-CSRF-Token': session.CsrfToken }, data: { RoleName: name, AssumeRolePolicyDocument: doc } });
    assert.equal(ok.status(), 200, await ok.text());
    api('ram', 'DeleteRole', { RoleName: name });
    // A sign-in form without its token is refused too.
    const anon = await fetch(`${endpoint}/console/signin`, { method: 'POST', body: new URLSearchParams({ kind: 'root', access_key_id: rootKey.AccessKeyId, access_key_secret: rootKey.AccessKeySecret }), redirect: 'manual' });
    assert.equal(anon.status, 303);
    assert.equal(anon.headers.get('set-cookie'), null, 'no session from a token-less sign-in');
    const cookies = await context.cookies(`${endpoint}/console/`);
    const c = cookies.find((x) => x.name === 'rolestack_console');
    assert.ok(c && c.httpOnly && c.sameSite === 'Strict' && c.path === '/console', JSON.stringify(c));
  } finally {
    await context.close();
  }
});

test('trust policy editing shows the engine error; policies, users and the instance wizard', async () => {
  const { context, page } = await newPage();
  try {
    await signInRoot(page);
    // Edit Trust Policy with seed 003's stray space in "Service ": the engine's precise error next to the editor.
    await page.goto(`${endpoint}/console/#/ram/roles/${encodeURIComponent(ROLE)}?tab=trust`);
    await page.getByRole('button', { name: 'Edit Trust Policy' }).click();
    const editor = page.getByLabel('Trust policy document');
    await editor.fill('{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service ":["ecs.aliyuncs.com"]}}],"Version":"1"}');
    await page.getByRole('button', { name: 'OK' }).click();
    const err = page.locator('#trust-error').getByRole('alert');
    await err.getByText('MalformedPolicyDocument').waitFor();
    assert.match(await err.textContent(), /Service /);
    await shot(page, '30-edit-trust-policy-error');
    await page.getByRole('button', { name: 'Cancel' }).click();

    // Policies: list, create a custom one (first with seed 000's bad Version), versions, references.
    await page.getByRole('link', { name: 'Policies', exact: true }).click();
    await page.getByRole('link', { name: 'AliyunOSSReadOnlyAccess' }).waitFor();
    await shot(page, '31-policies');
    await page.getByRole('link', { name: 'Create Policy' }).click();
    const pname = `ConsolePolicy-${suffix}`;
    await page.getByLabel('Policy Name').fill(pname);
    await page.getByLabel('Policy Document (JSON)').fill('{"Version":"2016-10-17","Statement":[{"Effect":"Allow","Action":"oss:Get*","Resource":"*"}]}');
    await page.getByRole('button', { name: 'OK' }).click();
    await page.locator('#policy-error').getByText('MalformedPolicyDocument').waitFor();
    await shot(page, '32-create-policy-error');
    await page.getByLabel('Policy Document (JSON)').fill('{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:Get*","oss:List*"],"Resource":"*"}]}');
    await page.getByRole('button', { name: 'OK' }).click();
    await page.waitForURL(new RegExp(`#/ram/policies/Custom/${pname}$`));
    await page.getByRole('tab', { name: 'Versions' }).click();
    await page.getByRole('cell', { name: 'v1 Default' }).waitFor();
    await page.goto(`${endpoint}/console/#/ram/policies/System/AliyunOSSReadOnlyAccess?tab=references`);
    await page.getByRole('tabpanel').getByRole('link', { name: ROLE }).waitFor();
    await shot(page, '33-policy-references');

    // Users: list and detail.
    api('ram', 'CreateUser', { UserName: `listed-${suffix}`, DisplayName: 'Listed User' });
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('link', { name: new RegExp(`listed-${suffix}`) }).click();
    await page.getByRole('tab', { name: 'Console Logon' }).click();
    await page.getByRole('button', { name: 'Enable Console Logon' }).click();
    const dlg = page.getByRole('dialog', { name: 'Enable Console Logon' });
    await dlg.getByLabel('New Password', { exact: true }).fill('Another-Passw0rd');
    await dlg.getByRole('button', { name: 'OK' }).click();
    await page.getByText('Enabled', { exact: true }).waitFor();
    await shot(page, '34-user-console-logon');
    assert.equal(api('ram', 'GetLoginProfile', { UserName: `listed-${suffix}` }).LoginProfile.UserName, `listed-${suffix}`);

    // Create an instance with the RAM role in its System Configurations step.
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    await page.getByRole('link', { name: 'Create Instance' }).click();
    await page.getByLabel('Zone').selectOption('cn-hangzhou-i');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('vSwitch').locator('option').first().waitFor({ state: 'attached' });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByLabel('Instance Name').fill(`wizard-${suffix}`);
    await page.getByLabel('RAM Role').locator(`option[value="${ROLE}"]`).waitFor({ state: 'attached' });
    await page.getByLabel('RAM Role').selectOption(ROLE);
    await shot(page, '35-create-instance-system-configurations');
    await page.getByRole('button', { name: 'Next' }).click();
    await shot(page, '36-create-instance-preview');
    await page.getByRole('button', { name: 'Create Instance' }).click();
    await page.waitForURL(/#\/ecs\/instances$/);
    const row = page.getByRole('row').filter({ hasText: `wizard-${suffix}` });
    await row.getByRole('cell', { name: ROLE, exact: true }).waitFor();
    const inst = api('ecs', 'DescribeInstances', { RegionId: REGION, InstanceName: `wizard-${suffix}` }).Instances.Instance[0];
    assert.equal(inst.Status, 'Running');
    const sets = api('ecs', 'DescribeInstanceRamRole', { RegionId: REGION, InstanceIds: JSON.stringify([inst.InstanceId]) }).InstanceRamRoleSets.InstanceRamRoleSet;
    assert.deepEqual(sets, [{ InstanceId: inst.InstanceId, RamRoleName: ROLE }]);
    assert.deepEqual(page.foreign, []);
  } finally {
    await context.close();
  }
});

test('VPC page: create a VPC and a vSwitch by clicking; the instance page shows its security group', async () => {
  const { context, page } = await newPage();
  try {
    await page.goto(`${endpoint}/console/signin`);
    await signInRoot(page);
    await page.getByRole('navigation', { name: 'Products' }).getByRole('link', { name: 'VPCs' }).click();
    await page.getByLabel('Region').selectOption(REGION);
    await page.getByRole('button', { name: 'Create VPC' }).click();
    const dlg = page.getByRole('dialog', { name: 'Create VPC' });
    await dlg.getByLabel('VPC Name').fill(`console-vpc-${suffix}`);
    await dlg.getByLabel('IPv4 CIDR Block').fill('172.20.0.0/16');
    await dlg.getByRole('button', { name: 'OK' }).click();
    await dlg.waitFor({ state: 'detached' });
    const vpcs = api('vpc', 'DescribeVpcs', { RegionId: REGION, VpcName: `console-vpc-${suffix}` }).Vpcs.Vpc;
    assert.equal(vpcs.length, 1);
    const vpc = vpcs[0].VpcId;
    assert.equal(vpcs[0].CidrBlock, '172.20.0.0/16');
    const row = page.getByRole('row').filter({ hasText: vpc });
    await row.waitFor();
    await shot(page, '20-vpcs');
    await row.getByRole('button', { name: `Create vSwitch in ${vpc}` }).click();
    const sw = page.getByRole('dialog', { name: 'Create vSwitch' });
    await sw.getByLabel('vSwitch Name').fill('console-vsw');
    await sw.getByLabel('Zone').locator('option[value="cn-hangzhou-i"]').waitFor({ state: 'attached' });
    await sw.getByLabel('Zone').selectOption('cn-hangzhou-i');
    // a block outside the VPC is the VPC service's own error, shown in the dialog
    await sw.getByLabel('IPv4 CIDR Block').fill('10.0.0.0/24');
    await sw.getByRole('button', { name: 'OK' }).click();
    await sw.getByText('InvalidParameter').waitFor();
    await sw.getByLabel('IPv4 CIDR Block').fill('172.20.1.0/24');
    await sw.getByRole('button', { name: 'OK' }).click();
    await sw.waitFor({ state: 'detached' });
    await row.getByText('console-vsw').waitFor();
    await shot(page, '21-vpc-with-vswitch');
    const vsw = api('vpc', 'DescribeVSwitches', { RegionId: REGION, VpcId: vpc }).VSwitches.VSwitch;
    assert.deepEqual(vsw.map((s) => [s.VSwitchName, s.ZoneId, s.CidrBlock]), [['console-vsw', 'cn-hangzhou-i', '172.20.1.0/24']]);

    // The seed's prerequisites are met: an instance in that vSwitch, with a security group.
    const sg = api('ecs', 'CreateSecurityGroup', { RegionId: REGION, VpcId: vpc, SecurityGroupName: 'console-sg' }).SecurityGroupId;
    const iid = api('ecs', 'CreateInstance', {
      RegionId: REGION, ImageId: 'centos_7_03_64_40G_alibase_20170503.vhd', InstanceType: 'ecs.xn4.small', VSwitchId: vsw[0].VSwitchId, SecurityGroupId: sg,
    }).InstanceId;
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    const irow = page.getByRole('row').filter({ hasText: iid });
    await irow.waitFor();
    await irow.getByText(sg).waitFor();
    await shot(page, '22-instance-security-group');
    assert.deepEqual(page.foreign, []);
  } finally {
    await context.close();
  }
});

async function signInUser(page, user, password) {
  await page.goto(`${endpoint}/console/`);
  await page.getByLabel('Logon name').fill(`${user}@${rootKey.AccountId}`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in as RAM user' }).click();
  await page.waitForURL(/\/console\/#\/ram\/roles$/);
}

// The event rows of the Event Query table (not their expanded detail rows).
async function eventRows(page) {
  return page.getByRole('table', { name: 'Events' }).locator('tbody > tr:not(.event-detail)').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.innerText.trim())));
}

test('ActionTrail Event Query: the console CreateRole and a refused call, paging, the full event, and why it was refused', async () => {
  const role = `TrailRole-${suffix}`;
  const denied = `TrailDenied-${suffix}`;
  const user = `trail-user-${suffix}`;
  api('ram', 'CreateUser', { UserName: user });
  api('ram', 'CreateLoginProfile', { UserName: user, Password: 'Console-Passw0rd' });

  // A RAM user without permissions tries to create a role in the console: refused.
  const u = await newPage();
  try {
    await signInUser(u.page, user, 'Console-Passw0rd');
    await u.page.getByRole('alert').filter({ hasText: 'NoPermission' }).waitFor();
    await u.page.getByRole('button', { name: 'Create RAM Role' }).click();
    const panel = u.page.getByRole('dialog', { name: 'Create RAM Role' });
    await panel.getByRole('button', { name: 'Next' }).click();
    await panel.getByLabel('RAM Role Name').fill(denied);
    await panel.getByRole('button', { name: 'OK' }).click();
    await panel.getByRole('alert').getByText('NoPermission').waitFor();
  } finally {
    await u.context.close();
  }

  const { context, page } = await newPage();
  try {
    await signInRoot(page);
    // The root creates a role through the console.
    await page.getByRole('button', { name: 'Create RAM Role' }).click();
    const panel = page.getByRole('dialog', { name: 'Create RAM Role' });
    await panel.getByRole('button', { name: 'Next' }).click();
    await panel.getByLabel('RAM Role Name').fill(role);
    await panel.getByRole('button', { name: 'OK' }).click();
    await panel.getByText(`The RAM role ${role} has been created.`).waitFor();
    await panel.getByRole('button', { name: 'Close', exact: true }).click();

    // ActionTrail > Event Query, filtered on the event name.
    await page.getByRole('navigation', { name: 'Products' }).getByRole('link', { name: 'Event Query' }).click();
    await page.getByRole('heading', { name: 'Event Query', level: 1 }).waitFor();
    await page.getByRole('table', { name: 'Events' }).waitFor();
    await page.getByLabel('Lookup attribute').selectOption('EventName');
    await page.getByLabel('Attribute value').fill('CreateRole');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(/^EventName = CreateRole · .* · newest first$/).waitFor();
    const table = page.getByRole('table', { name: 'Events' });
    const mine = table.getByRole('row').filter({ hasText: role });
    const refused = table.getByRole('row').filter({ hasText: denied });
    await mine.waitFor();
    await refused.waitFor();
    const rows = await eventRows(page);
    assert.ok(rows.length >= 2 && rows.every((r) => r[1].startsWith('CreateRole')), JSON.stringify(rows));
    const [mineCells] = rows.filter((r) => r[4].includes(role));
    assert.match(mineCells[1], /Console operation/);
    assert.equal(mineCells[2], 'Ram');
    assert.match(mineCells[3], /^root/);
    assert.match(mineCells[4], /ACS::RAM::Role/);
    assert.equal(mineCells[5], '—');
    assert.equal(mineCells[6], 'Write');
    const [refusedCells] = rows.filter((r) => r[4].includes(denied));
    assert.match(refusedCells[3], new RegExp(`^${user}\\s+ram-user`));
    assert.equal(refusedCells[5], 'NoPermission');
    await shot(page, '40-event-query');

    // The refused call's whole event.
    const toggle = refused.getByRole('button', { name: /^CreateRole at / });
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    const json = page.locator(`#${await toggle.getAttribute('aria-controls')}`).getByLabel(/^Event [0-9A-F-]{36}$/);
    await json.waitFor();
    const ev = JSON.parse(await json.textContent());
    assert.equal(ev.eventName, 'CreateRole');
    assert.equal(ev.eventType, 'ConsoleOperation');
    assert.equal(ev.errorCode, 'NoPermission');
    assert.match(ev.errorMessage, /ram:CreateRole/);
    assert.equal(ev.userIdentity.type, 'ram-user');
    assert.equal(ev.userIdentity.userName, user);
    assert.equal(ev.requestParameters.RoleName, denied);
    assert.equal(ev.serviceName, 'Ram');
    await shot(page, '41-event-json');
    await toggle.click();
    await json.waitFor({ state: 'hidden' });

    // Another attribute: the resource name finds only the calls on that role.
    await page.getByLabel('Lookup attribute').selectOption('ResourceName');
    await page.getByLabel('Attribute value').fill(role);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(new RegExp(`^ResourceName = ${role} · `)).waitFor();
    const byResource = await eventRows(page);
    assert.ok(byResource.length >= 1 && byResource.every((r) => r[4].includes(role)), JSON.stringify(byResource));

    // Paging with NextToken, newest first and oldest first (over more than a page of events).
    for (let i = 0; i < 11; i++) api('ram', 'GetAccountAlias');
    await page.getByLabel('Lookup attribute').selectOption('');
    await page.getByLabel('Events per page').selectOption('10');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(/^All events · .* · newest first$/).waitFor();
    await page.getByText(/^Page 1 · 10 event\(s\) · more$/).waitFor();
    const first = await eventRows(page);
    const times = (rs) => rs.map((r) => r[0]);
    assert.deepEqual(times(first), [...times(first)].sort().reverse(), 'newest first');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText(/^Page 2 · /).waitFor();
    const second = await eventRows(page);
    assert.ok(second.length > 0);
    assert.ok(times(second)[0] <= times(first)[first.length - 1], 'page 2 continues page 1');
    await shot(page, '42-event-query-page-2');
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByText(/^Page 1 · /).waitFor();
    assert.deepEqual(await eventRows(page), first);
    await page.getByLabel('Order').selectOption('FORWARD');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(/^All events · .* · oldest first$/).waitFor();
    await page.getByText(/^Page 1 · 10 event\(s\)/).waitFor();
    const oldest = await eventRows(page);
    assert.deepEqual(times(oldest), [...times(oldest)].sort(), 'oldest first');
    // A custom window that ended before the server started has nothing.
    await page.getByLabel('Time range').selectOption('custom');
    await page.getByLabel('Start time (UTC)').fill('2001-01-01T00:00:00');
    await page.getByLabel('End time (UTC)').fill('2001-01-02T00:00:00');
    await page.getByRole('button', { name: 'Search' }).click();
    await table.getByText('No events match.').waitFor();

    // Why was the user refused? The refused event links to the Policy Simulator, prefilled.
    await page.getByLabel('Time range').selectOption('7d');
    await page.getByLabel('Lookup attribute').selectOption('User');
    await page.getByLabel('Attribute value').fill(user);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText(new RegExp(`^User = ${user} · `)).waitFor();
    // (the user's console sign-in is an event of the sign-in service, labelled as one)
    const signIn = (await eventRows(page)).find((r) => r[1].startsWith('ConsoleSignin'));
    assert.ok(signIn, JSON.stringify(await eventRows(page)));
    assert.match(signIn[1], /Console sign-in/);
    assert.equal(signIn[2], 'AasSub');
    assert.ok(signIn[3].includes(user), signIn[3]);
    const userRow = table.getByRole('row').filter({ hasText: denied });
    await userRow.getByRole('button', { name: /^CreateRole at / }).click();
    await page.getByRole('link', { name: `Why? Simulate ram:CreateRole for ${user}` }).click();
    await page.waitForURL(/#\/diagnostics\/simulator\?/);
    await page.getByRole('heading', { name: 'Policy Simulator', level: 1 }).waitFor();
    assert.equal(await page.getByLabel('Actions').inputValue(), 'ram:CreateRole');
    assert.equal(await page.getByLabel('Resource').inputValue(), `acs:ram:*:${rootKey.AccountId}:role/${denied}`);
    await page.getByLabel('User Name').locator(`option[value="${user}"]`).waitFor({ state: 'attached' });
    assert.equal(await page.getByLabel('User Name').inputValue(), user);
    await page.getByRole('button', { name: 'Simulate' }).click();
    const result = page.getByRole('region', { name: 'ram:CreateRole: ImplicitDeny' });
    await result.getByText('No statement matches this action and resource.').waitFor();
    await shot(page, '43-why-denied-simulated');
    assert.deepEqual(page.foreign, []);
  } finally {
    await context.close();
  }
  // The lookups were themselves recorded (and are read events).
  const lookups = api('actiontrail', 'LookupEvents', { 'LookupAttribute.1.Key': 'EventName', 'LookupAttribute.1.Value': 'LookupEvents', MaxResults: 50 }).Events;
  assert.ok(lookups.some((e) => e.eventType === 'ConsoleOperation' && e.eventRW === 'Read'), JSON.stringify(lookups.slice(0, 2)));
  api('ram', 'DeleteRole', { RoleName: role });
  api('ram', 'DeleteLoginProfile', { UserName: user });
  api('ram', 'DeleteUser', { UserName: user });
});

test('Policy Simulator: Allow, ImplicitDeny, ExplicitDeny, a failed condition, a draft policy, a group, the trust check', async () => {
  const acct = rootKey.AccountId;
  const user = `sim-user-${suffix}`;
  const group = `sim-group-${suffix}`;
  const policy = `SimPolicy-${suffix}`;
  const trustRole = `SimTrust-${suffix}`;
  const bucket = `secret-${suffix}`;
  api('ram', 'CreateUser', { UserName: user });
  api('ram', 'CreateLoginProfile', { UserName: user, Password: 'Console-Passw0rd' });
  api('ram', 'CreatePolicy', {
    PolicyName: policy,
    PolicyDocument: JSON.stringify({
      Version: '1',
      Statement: [
        { Effect: 'Allow', Action: 'oss:Get*', Resource: '*' },
        { Sid: 'NoSecrets', Effect: 'Deny', Action: 'oss:GetObject', Resource: `acs:oss:*:*:${bucket}/*` },
        { Sid: 'OfficeOnly', Effect: 'Allow', Action: 'ecs:DescribeInstances', Resource: '*', Condition: { IpAddress: { 'acs:SourceIp': '10.0.0.0/8' } } },
      ],
    }),
  });
  api('ram', 'AttachPolicyToUser', { PolicyType: 'Custom', PolicyName: policy, UserName: user });
  api('ram', 'CreateGroup', { GroupName: group });
  api('ram', 'AttachPolicyToGroup', { PolicyType: 'System', PolicyName: 'AliyunOSSReadOnlyAccess', GroupName: group });
  api('ram', 'CreateRole', {
    RoleName: trustRole,
    AssumeRolePolicyDocument: JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['ecs.aliyuncs.com'] } }], Version: '1' }),
  });

  const { context, page } = await newPage();
  try {
    await signInRoot(page);
    await page.getByRole('navigation', { name: 'Products' }).getByRole('link', { name: 'Policy Simulator' }).click();
    await page.getByRole('heading', { name: 'Policy Simulator', level: 1 }).waitFor();
    const who = page.getByLabel('User Name');
    await who.locator(`option[value="${user}"]`).waitFor({ state: 'attached' });
    await who.selectOption(user);
    await page.getByLabel('Actions').fill('oss:GetObjectAcl\noss:GetObject\noss:PutObject');
    await page.getByLabel('Resource').fill(`acs:oss:*:${acct}:${bucket}/report.txt`);
    await page.getByRole('button', { name: 'Simulate' }).click();

    // Allow: the oss:Get* statement; ExplicitDeny: the Deny statement wins; ImplicitDeny: nothing allows.
    const allow = page.getByRole('region', { name: 'oss:GetObjectAcl: Allow' });
    const explicit = page.getByRole('region', { name: 'oss:GetObject: ExplicitDeny' });
    const implicit = page.getByRole('region', { name: 'oss:PutObject: ImplicitDeny' });
    await allow.waitFor();
    await explicit.waitFor();
    await implicit.waitFor();
    assert.equal(await allow.locator('.decision').textContent(), 'Allow');
    assert.match(await allow.locator('.decision').getAttribute('class'), /\ballow\b/);
    assert.match(await explicit.locator('.decision').getAttribute('class'), /\bexplicit\b/);
    assert.match(await implicit.locator('.decision').getAttribute('class'), /\bimplicit\b/);
    const denyRow = explicit.getByRole('row').filter({ hasText: 'Sid NoSecrets' });
    await denyRow.getByText('Deny', { exact: true }).waitFor();
    assert.match(await denyRow.textContent(), new RegExp(`${policy}.*Custom v1.*attached to RamUser ${user}`));
    assert.match(await explicit.textContent(), /explicitly denied by statement 1 \(Sid "NoSecrets"\)/);
    await allow.getByRole('row').filter({ hasText: 'statement 0' }).waitFor();
    await implicit.getByText('No statement matches this action and resource.').waitFor();
    await shot(page, '50-simulator-decisions');

    // A condition that the request context does not meet, then one it does.
    await page.getByLabel('Actions').fill('ecs:DescribeInstances');
    await page.getByLabel('Resource').fill('*');
    await page.getByRole('button', { name: 'Add Context Entry' }).click();
    await page.getByLabel('Context key 1').fill('acs:SourceIp');
    await page.getByLabel('Context value 1').fill('192.168.1.20');
    await page.getByRole('button', { name: 'Simulate' }).click();
    const unmet = page.getByRole('region', { name: 'ecs:DescribeInstances: ImplicitDeny' });
    const cond = unmet.getByRole('row').filter({ hasText: 'Sid OfficeOnly' });
    await cond.waitFor();
    assert.match(await cond.textContent(), /No, a condition is not met/);
    assert.match(await cond.getByRole('listitem').textContent(), /✗ not met\s*IpAddress acs:SourceIp in policy: 10\.0\.0\.0\/8; in request: 192\.168\.1\.20/);
    await shot(page, '51-simulator-failed-condition');
    await page.getByLabel('Context value 1').fill('10.1.2.3');
    await page.getByRole('button', { name: 'Simulate' }).click();
    const met = page.getByRole('region', { name: 'ecs:DescribeInstances: Allow' });
    assert.match(await met.getByRole('row').filter({ hasText: 'Sid OfficeOnly' }).getByRole('listitem').textContent(), /✓ met.*in request: 10\.1\.2\.3/);
    await page.getByRole('button', { name: 'Remove context entry 1' }).click();

    // A draft policy: the engine's error for a bad one; a good one is simulated as if attached.
    await page.getByLabel('Actions').fill('oss:PutObject');
    await page.getByLabel('Resource').fill(`acs:oss:*:${acct}:${bucket}/report.txt`);
    await page.getByLabel('Draft policy (optional)').fill('{"Version":"2016-10-17","Statement":[{"Effect":"Allow","Action":"oss:PutObject","Resource":"*"}]}');
    await page.getByRole('button', { name: 'Simulate' }).click();
    await page.locator('#sim-error').getByText('MalformedPolicyDocument').waitFor();
    await page.getByLabel('Draft policy (optional)').fill('{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:PutObject","Resource":"*"}]}');
    await page.getByRole('button', { name: 'Simulate' }).click();
    const drafted = page.getByRole('region', { name: 'oss:PutObject: Allow' });
    await drafted.getByRole('row').filter({ hasText: 'Draft' }).waitFor();
    assert.match(await drafted.textContent(), /draft/);
    await shot(page, '52-simulator-draft-policy');
    await page.getByLabel('Draft policy (optional)').fill('');

    // A group: its policies, attached to the group.
    await page.getByRole('radio', { name: 'RAM User Group' }).check();
    const groupSel = page.getByLabel('Group Name');
    await groupSel.locator(`option[value="${group}"]`).waitFor({ state: 'attached' });
    await groupSel.selectOption(group);
    await page.getByLabel('Actions').fill('oss:ListObjects, oss:DeleteObject');
    await page.getByLabel('Resource').fill('*');
    await page.getByRole('button', { name: 'Simulate' }).click();
    const listed = page.getByRole('region', { name: 'oss:ListObjects: Allow' });
    assert.match(await listed.getByRole('row').filter({ hasText: 'AliyunOSSReadOnlyAccess' }).textContent(), new RegExp(`attached to RamUserGroup ${group}`));
    await page.getByRole('region', { name: 'oss:DeleteObject: ImplicitDeny' }).waitFor();

    // The trust check: may a service assume the role?
    await page.getByRole('tab', { name: 'Trust Policy Check' }).click();
    const roleSel = page.getByLabel('Role Name');
    await roleSel.locator(`option[value="${trustRole}"]`).waitFor({ state: 'attached' });
    await roleSel.selectOption(trustRole);
    await page.getByLabel('Principal', { exact: true }).fill('ecs.aliyuncs.com');
    await page.getByRole('button', { name: 'Check Trust Policy' }).click();
    const trusted = page.getByRole('region', { name: 'sts:AssumeRole: Allow' });
    await trusted.getByText(`acs:ram::${acct}:role/${trustRole}`).waitFor();
    await trusted.getByRole('row').filter({ hasText: `trust policy of role ${trustRole}` }).waitFor();
    await shot(page, '53-simulator-trust-allow');
    await page.getByLabel('Principal', { exact: true }).fill('fc.aliyuncs.com');
    await page.getByRole('button', { name: 'Check Trust Policy' }).click();
    await page.getByRole('region', { name: 'sts:AssumeRole: ImplicitDeny' }).getByText('fc.aliyuncs.com').waitFor();

    // The bridge serves only the admin action the console needs.
    const session = await (await context.request.get(`${endpoint}/console/api/session`)).json();
    const clock = await context.request.post(`${endpoint}/console/api/rolestack/AdvanceClock`, { headers: { 'X-CSRF-Token': session.CsrfToken }, data: { Duration: '1h' } });
    assert.equal(clock.status(), 404);
    assert.equal((await clock.json()).Code, 'InvalidApi.NotFound');
    assert.deepEqual(page.foreign, []);
  } finally {
    await context.close();
  }

  // SimulatePolicy is authorized like any action: a RAM user without rolestack:SimulatePolicy is refused.
  const u = await newPage();
  try {
    await signInUser(u.page, user, 'Console-Passw0rd');
    await u.page.goto(`${endpoint}/console/#/diagnostics/simulator`);
    // The user may not list users: the name is typed instead.
    const typed = u.page.getByRole('textbox', { name: 'User Name' });
    await typed.fill(user);
    await u.page.getByLabel('Actions').fill('oss:GetObject');
    await u.page.getByRole('button', { name: 'Simulate' }).click();
    const err = u.page.locator('#sim-error');
    await err.getByText('NoPermission').waitFor();
    assert.match(await err.textContent(), /rolestack:SimulatePolicy/);
    await shot(u.page, '54-simulator-no-permission');
  } finally {
    await u.context.close();
  }
  for (const [action, params] of [
    ['DeleteRole', { RoleName: trustRole }],
    ['DetachPolicyFromGroup', { PolicyType: 'System', PolicyName: 'AliyunOSSReadOnlyAccess', GroupName: group }],
    ['DeleteGroup', { GroupName: group }],
    ['DetachPolicyFromUser', { PolicyType: 'Custom', PolicyName: policy, UserName: user }],
    ['DeletePolicy', { PolicyName: policy }],
    ['DeleteLoginProfile', { UserName: user }],
    ['DeleteUser', { UserName: user }],
  ]) api('ram', action, params);
});

// ---------------------------------------------------------------------------------------------
// Issue 18: the password policy, MFA devices and MFA at sign-in, tags on roles.

const crypto = require('node:crypto');

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s) from a Base32 seed, as an authenticator app computes it.
function totp(seed, at = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of seed.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const mac = crypto.createHmac('sha1', key).update(counter).digest();
  const off = mac[19] & 15;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

// Submits a RAM user's sign-in form; the caller waits for where it leads (the MFA step, the
// password change, or the console).
async function submitUserSignIn(page, user, password) {
  await page.goto(`${endpoint}/console/`);
  await page.getByLabel('Logon name').fill(`${user}@${rootKey.AccountId}`);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in as RAM user' }).click();
}

test('the password policy set in Settings refuses a weak console password in the browser', async () => {
  const user = `pw-policy-${suffix}`;
  const { context, page } = await newPage();
  try {
    await signInRoot(page);
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    await page.getByRole('heading', { name: 'Password Policy' }).waitFor();
    await page.getByLabel('Minimum length').fill('12');
    await page.getByLabel('Digits').check();
    await page.getByLabel('Upper-case letters').check();
    await page.getByRole('button', { name: 'Save Password Policy' }).click();
    await page.getByText('Password policy saved').waitFor();
    await shot(page, '60-settings-password-policy');
    const policy = api('ram', 'GetPasswordPolicy').PasswordPolicy;
    assert.equal(policy.MinimumPasswordLength, 12);
    assert.equal(policy.RequireNumbers, true);
  } finally {
    await context.close();
  }
  api('ram', 'CreateUser', { UserName: user });
  assert.match(apiError('ram', 'CreateLoginProfile', { UserName: user, Password: 'Short-1' }), /InvalidParameter\.Password\.TooWeak/);
  api('ram', 'CreateLoginProfile', { UserName: user, Password: 'Strong-Passw0rd', PasswordResetRequired: 'true' });
  const second = await newPage();
  try {
    const p = second.page;
    await submitUserSignIn(p, user, 'Strong-Passw0rd');
    await p.waitForURL(/\/console\/password$/);
    await p.getByLabel('Current password').fill('Strong-Passw0rd');
    await p.getByLabel('New password', { exact: true }).fill('weakpassword');
    await p.getByLabel('Confirm new password').fill('weakpassword');
    await p.getByRole('button', { name: 'Change password' }).click();
    const alert = p.getByRole('alert');
    await alert.getByText(/InvalidParameter\.Password\.TooWeak/).waitFor();
    assert.match(await alert.textContent(), /password policy/);
    await shot(p, '61-weak-password-refused');
    await p.getByLabel('Current password').fill('Strong-Passw0rd');
    await p.getByLabel('New password', { exact: true }).fill('Better-Passw0rd9');
    await p.getByLabel('Confirm new password').fill('Better-Passw0rd9');
    await p.getByRole('button', { name: 'Change password' }).click();
    await p.waitForURL(/\/console\/#\/ram\/roles$/);
  } finally {
    await second.context.close();
    api('ram', 'SetPasswordPolicy', { MinimumPasswordLength: 8, RequireNumbers: 'false', RequireUppercaseCharacters: 'false' });
    api('ram', 'DeleteLoginProfile', { UserName: user });
    api('ram', 'DeleteUser', { UserName: user });
  }
});

test('a RAM user binds an MFA device, then signs in with a code; the session is MFA-present', async () => {
  const user = `mfa-user-${suffix}`;
  api('ram', 'CreateUser', { UserName: user });
  api('ram', 'CreateLoginProfile', { UserName: user, Password: 'Mfa-Passw0rd' });
  // ListUsers only with MFA: the console session has it, the user's AccessKey never does.
  const pol = `needs-mfa-${suffix}`;
  api('ram', 'CreatePolicy', { PolicyName: pol, PolicyDocument: JSON.stringify({ Version: '1', Statement: [
    { Effect: 'Allow', Action: 'ram:ListUsers', Resource: '*', Condition: { Bool: { 'acs:MFAPresent': 'true' } } }] }) });
  api('ram', 'AttachPolicyToUser', { PolicyType: 'Custom', PolicyName: pol, UserName: user });
  let seed;
  const first = await newPage();
  try {
    const page = first.page;
    await submitUserSignIn(page, user, 'Mfa-Passw0rd');
    await page.waitForURL(/\/console\/#\/ram\/roles$/);
    await page.getByRole('link', { name: 'MFA Devices', exact: true }).click();
    await page.getByRole('button', { name: 'Bind a virtual MFA device' }).click();
    await page.getByRole('img', { name: 'QR code of the MFA key' }).waitFor();
    seed = (await page.locator('#mfa-seed').textContent()).trim();
    const now = Date.now() / 1000;
    await page.getByLabel('First code').fill(totp(seed, now - 30));
    await page.getByLabel('Next code').fill(totp(seed, now));
    await shot(page, '62-mfa-bind');
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    await page.getByText('MFA device bound').waitFor();
    await page.getByText(`acs:ram::${rootKey.AccountId}:mfa/${user}`).first().waitFor();
    // Without MFA at sign-in, the MFA-only action is refused in the console too.
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'NoPermission' }).waitFor();
  } finally {
    await first.context.close();
  }
  assert.equal(api('ram', 'GetUserMFAInfo', { UserName: user }).MFADevice.SerialNumber, `acs:ram::${rootKey.AccountId}:mfa/${user}`);
  const second = await newPage();
  try {
    const page = second.page;
    await submitUserSignIn(page, user, 'Mfa-Passw0rd');
    await page.waitForURL(/\/console\/mfa$/);
    await page.getByLabel('MFA code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').getByText(/MFA code is incorrect/).waitFor();
    await shot(page, '63-mfa-code-wrong');
    // The next step's code (the current one was spent binding).
    await page.getByLabel('MFA code').fill(totp(seed, Date.now() / 1000 + 30));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(/\/console\/#\/ram\/roles$/);
    await page.getByText(`${user}@${rootKey.AccountId} (MFA)`).waitFor();
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('row').filter({ hasText: user }).first().waitFor();
    await shot(page, '64-mfa-present-users');
  } finally {
    await second.context.close();
  }
  api('ram', 'UnbindMFADevice', { UserName: user });
  api('ram', 'DeleteVirtualMFADevice', { SerialNumber: `acs:ram::${rootKey.AccountId}:mfa/${user}` });
  api('ram', 'DetachPolicyFromUser', { PolicyType: 'Custom', PolicyName: pol, UserName: user });
  api('ram', 'DeletePolicy', { PolicyName: pol });
  api('ram', 'DeleteLoginProfile', { UserName: user });
  api('ram', 'DeleteUser', { UserName: user });
});

test('MFABindRequired: sign-in binds a device before the session starts; tags on a role', async () => {
  const user = `mfa-bind-${suffix}`;
  api('ram', 'CreateUser', { UserName: user });
  api('ram', 'CreateLoginProfile', { UserName: user, Password: 'Bind-Passw0rd', MFABindRequired: 'true' });
  const first = await newPage();
  try {
    const page = first.page;
    await submitUserSignIn(page, user, 'Bind-Passw0rd');
    await page.waitForURL(/\/console\/mfa$/);
    await page.getByRole('img', { name: 'QR code of the MFA key' }).waitFor();
    const seed = (await page.locator('#mfa-seed').textContent()).trim();
    await shot(page, '65-mfa-bind-required');
    const now = Date.now() / 1000;
    await page.getByLabel('First code').fill(totp(seed, now - 30));
    await page.getByLabel('Next code').fill(totp(seed, now));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(/\/console\/#\/ram\/roles$/);
    await page.getByText(`${user}@${rootKey.AccountId} (MFA)`).waitFor();
  } finally {
    await first.context.close();
  }
  assert.match(api('ram', 'GetUserMFAInfo', { UserName: user }).MFADevice.SerialNumber, /:mfa\//);

  const role = `Tagged-${suffix}`;
  api('ram', 'CreateRole', { RoleName: role, AssumeRolePolicyDocument: JSON.stringify({ Version: '1', Statement: [
    { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: ['ecs.aliyuncs.com'] } }] }) });
  const second = await newPage();
  try {
    const page = second.page;
    await signInRoot(page);
    await page.goto(`${endpoint}/console/#/ram/roles/${role}?tab=tags`);
    await page.getByText('No tags.').waitFor();
    await page.getByLabel('Tag key').fill('env');
    await page.getByLabel('Tag value').fill('lab');
    await page.getByRole('button', { name: 'Add Tag' }).click();
    await page.getByRole('cell', { name: 'env', exact: true }).waitFor();
    await shot(page, '66-role-tags');
    assert.deepEqual(api('ram', 'ListTagResources', { ResourceType: 'role', ResourceNames: JSON.stringify([role]) }).TagResources
      .map((t) => [t.TagKey, t.TagValue]), [['env', 'lab']]);
    await page.getByRole('button', { name: 'Remove tag env' }).click();
    await page.getByText('No tags.').waitFor();
    await page.getByRole('link', { name: 'MFA Devices', exact: true }).click();
    await page.getByRole('row').filter({ hasText: user }).first().waitFor();
    await shot(page, '67-mfa-devices-account');
    assert.deepEqual(page.foreign, []);
  } finally {
    await second.context.close();
  }
  api('ram', 'DeleteRole', { RoleName: role });
});

test('Metadata Faults on the instance page: inject, observe through the metadata service, clear, events', async () => {
  const vpc = api('ecs', 'CreateVpc', { RegionId: REGION, CidrBlock: '192.168.0.0/16', VpcName: 'faults-vpc' }).VpcId;
  const vsw = api('ecs', 'CreateVSwitch', { RegionId: REGION, ZoneId: 'cn-hangzhou-i', VpcId: vpc, CidrBlock: '192.168.9.0/24' }).VSwitchId;
  const iid = api('ecs', 'CreateInstance', {
    RegionId: REGION, ImageId: 'centos_7_03_64_40G_alibase_20170503.vhd', InstanceType: 'ecs.xn4.small', VSwitchId: vsw, InstanceName: 'faults',
  }).InstanceId;
  api('ecs', 'StartInstance', { InstanceId: iid }); // nothing runs on a stopped instance
  const env = api('rolestack', 'PrepareInstanceEnvironment', { InstanceId: iid });
  const { context, page } = await newPage();
  try {
    await page.goto(`${endpoint}/console/signin`);
    await signInRoot(page);
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: iid });
    await row.getByRole('button', { name: `More actions for ${iid}` }).click();
    await page.getByRole('menuitem', { name: 'Instance Settings' }).click();
    await page.getByRole('menuitem', { name: 'Metadata Faults' }).click();
    const dlg = page.getByRole('dialog', { name: 'Metadata Faults' });
    await dlg.getByText('No faults.').waitFor();
    await dlg.getByLabel('Fault', { exact: true }).selectOption('Status');
    await dlg.getByLabel('Value').fill('503');
    await dlg.getByLabel('Path').fill('/latest/api/token');
    await dlg.getByLabel('Ends after (requests)').fill('1');
    await dlg.getByRole('button', { name: 'Inject Fault' }).click();
    await dlg.getByText(/Status .*503.* 1 left — active/).waitFor();
    await shot(page, '40-metadata-faults');
    // The fault is real: the instance's next token request gets 503, the one after works.
    const put = () => fetch(`http://${env.Proxy}/latest/api/token`, { method: 'PUT', headers: { 'X-aliyun-ecs-metadata-token-ttl-seconds': '60' } });
    assert.equal((await put()).status, 503);
    assert.equal((await put()).status, 200);
    await dlg.getByRole('button', { name: 'Clear Faults' }).click();
    await dlg.getByText('No faults.').waitFor();
    await dlg.getByText(/FaultsCleared \(ClearInstanceFaults\)/).waitFor();
    await dlg.getByText(/FaultInjected \(InjectInstanceFault\)/).waitFor();
    // A refusal shows the API's own error.
    await dlg.getByLabel('Fault', { exact: true }).selectOption('Delay');
    await dlg.getByLabel('Value').fill('');
    await dlg.getByRole('button', { name: 'Inject Fault' }).click();
    await dlg.getByRole('alert').getByText('InvalidParameter.Fault').waitFor();
    await dlg.getByRole('button', { name: 'Close', exact: true }).click();
    assert.deepEqual(page.foreign, [], 'the console contacted no other host');
  } finally {
    await context.close();
  }
});

// Markup in data, in the address and in error messages must stay text: the page watches for any
// dialog, any CSP violation (an injected inline script or handler would be one) and any element
// the payloads would create.
test('markup in notes, documents, tags, addresses and error messages stays text', async () => {
  const xss = (tag) => `"><img src=x class=xss-${tag} onerror="window.__xss='${tag}'"><script>window.__xss='${tag}s'</script>`;
  const role = `XssRole-${suffix}`;
  const policy = `XssPolicy-${suffix}`;
  const user = `xss-user-${suffix}`;
  api('ram', 'CreateRole', {
    RoleName: role, Description: xss('role-note'),
    AssumeRolePolicyDocument: JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['ecs.aliyuncs.com'] } }], Version: '1' }),
  });
  api('ram', 'CreatePolicy', {
    PolicyName: policy, Description: xss('policy-note'),
    PolicyDocument: JSON.stringify({ Version: '1', Statement: [{ Effect: 'Allow', Action: 'ram:GetRole', Resource: '*', Condition: { StringEquals: { 'acs:UserAgent': xss('document') } } }] }),
  });
  api('ram', 'AttachPolicyToRole', { PolicyType: 'Custom', PolicyName: policy, RoleName: role });
  api('ram', 'CreateUser', { UserName: user, DisplayName: `javascript:alert(1)`, Comments: xss('user-comment') });
  api('ram', 'TagResources', { ResourceType: 'role', ResourceNames: JSON.stringify([role]), Tag: JSON.stringify([{ Key: 'xss', Value: xss('tag') }]) });
  const { context, page } = await newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.sourceFile}:${e.lineNumber}`));
  });
  const clean = async (where) => {
    const state = await page.evaluate(() => ({
      xss: window.__xss || null, csp: window.__csp, imgs: document.querySelectorAll('img[src="x"], [class^="xss-"]').length,
      scripts: [...document.scripts].map((s) => s.src),
    }));
    assert.equal(state.xss, null, `${where}: a payload ran`);
    assert.deepEqual(state.csp, [], `${where}: CSP violations (injected markup)`);
    assert.equal(state.imgs, 0, `${where}: a payload became an element`);
    assert.deepEqual(state.scripts, [`${endpoint}/console/static/app.js`], `${where}: scripts`);
    assert.deepEqual(dialogs, [], `${where}: dialogs`);
  };
  try {
    await signInRoot(page);
    await page.getByRole('searchbox').fill('XssRole');
    await page.getByRole('cell', { name: xss('role-note') }).waitFor();
    await clean('roles list');
    await page.getByRole('link', { name: role, exact: true }).click();
    await page.getByRole('definition').filter({ hasText: xss('role-note') }).waitFor();
    await page.getByRole('cell', { name: xss('policy-note') }).waitFor();
    await clean('role detail');
    await page.getByRole('tab', { name: 'Tags' }).click();
    await page.getByRole('cell', { name: xss('tag') }).waitFor();
    await clean('role tags');
    // An error message that echoes what was typed (Input and Attach with a name that does not exist).
    await page.getByRole('tab', { name: 'Permissions' }).click();
    await page.getByRole('button', { name: 'Input and Attach' }).click();
    const panel = page.getByRole('dialog', { name: 'Input and Attach' });
    await panel.getByLabel('Custom Policy').check();
    await panel.getByRole('combobox').fill(`<img src=x onerror="window.__xss='typed'">`);
    await panel.getByRole('button', { name: 'OK' }).click();
    await panel.getByRole('alert').getByText(/EntityNotExist\.Policy|InvalidParameter/).waitFor();
    await clean('error message');
    await panel.getByRole('button', { name: 'Cancel' }).click();
    await page.goto(`${endpoint}/console/#/ram/policies/Custom/${encodeURIComponent(policy)}`);
    await page.getByLabel('Policy document', { exact: true }).filter({ hasText: "window.__xss='document'" }).waitFor();
    await page.getByRole('definition').filter({ hasText: xss('policy-note') }).waitFor();
    await clean('policy detail');
    await page.goto(`${endpoint}/console/#/ram/users/${user}`);
    await page.getByRole('heading', { name: user, level: 1 }).waitFor();
    await page.goto(`${endpoint}/console/#/ram/users`);
    await page.getByText('javascript:alert(1)').waitFor();
    assert.equal(await page.locator('a[href^="javascript:"]').count(), 0);
    await clean('users');
    // Names typed in the address: shown as text in the heading, crumbs and title, refused by RAM.
    await page.goto(`${endpoint}/console/#/ram/roles/${encodeURIComponent(xss('address'))}`);
    await page.getByRole('alert').getByText(/EntityNotExist\.Role|InvalidParameter\.RoleName/).waitFor();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), xss('address'));
    assert.match(await page.title(), /window\.__xss='address'/);
    await clean('address');
    // A malformed escape in the address is a name like any other (it used to stop the page).
    await page.goto(`${endpoint}/console/#/ram/roles/Bad%E0%A4%A`);
    await page.getByRole('heading', { name: 'Bad%E0%A4%A', level: 1 }).waitFor();
    await page.getByRole('alert').getByText(/EntityNotExist\.Role|InvalidParameter\.RoleName/).waitFor();
    await clean('malformed address');
    await shot(page, '90-markup-stays-text');
    assert.deepEqual(page.foreign, [], 'the console contacted no other host (img src=x would)');
  } finally {
    await context.close();
    api('ram', 'DetachPolicyFromRole', { PolicyType: 'Custom', PolicyName: policy, RoleName: role });
    api('ram', 'DeletePolicy', { PolicyName: policy });
    api('ram', 'DeleteRole', { RoleName: role });
    api('ram', 'DeleteUser', { UserName: user });
  }
});

test('Settings: clearing the sign-in networks clears them (an empty field is sent, not left out)', async () => {
  api('ram', 'SetSecurityPreference', { LoginNetworkMasks: '127.0.0.0/8;10.0.0.0/8' });
  const { context, page } = await newPage();
  try {
    await signInRoot(page);
    await page.getByRole('link', { name: 'Settings', exact: true }).click();
    const masks = page.getByLabel('Console sign-in allowed from');
    await masks.waitFor();
    assert.equal(await masks.inputValue(), '127.0.0.0/8;10.0.0.0/8');
    await masks.fill('');
    await page.getByRole('button', { name: 'Save Security Preference' }).click();
    await page.getByText('Security preference saved').waitFor();
    assert.equal(api('ram', 'GetSecurityPreference').SecurityPreference.LoginProfilePreference.LoginNetworkMasks, '');
  } finally {
    await context.close();
    api('ram', 'SetSecurityPreference', { LoginNetworkMasks: '' });
  }
});

// Browsers speak HTTP/2 over TLS: the host is then in `:authority`, not in a Host header, and the
// POSTs' origin check must still see this server (it refused every console POST over HTTPS).
test('over HTTPS (HTTP/2) the console signs in and works; its cookie is Secure', async () => {
  const tls = server.tlsEndpoint;
  const context = await launchChromium({ ignoreHTTPSErrors: true });
  const foreign = [];
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.host === new URL(tls).host) return route.continue();
    foreign.push(u.href);
    return route.abort();
  });
  const page = context.pages()[0] || await context.newPage();
  try {
    await page.goto(`${tls}/console/`);
    assert.match(page.url(), /\/console\/signin$/);
    const version = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
    assert.equal(version, 'h2', 'Chromium speaks HTTP/2 to the TLS listener');
    await page.getByLabel('AccessKey ID').fill(rootKey.AccessKeyId);
    await page.getByLabel('AccessKey secret').fill(rootKey.AccessKeySecret);
    await page.getByRole('button', { name: 'Sign in as account root' }).click();
    await page.waitForURL(/\/console\/#\/ram\/roles$/);
    await page.getByRole('heading', { name: 'RAM Roles', level: 1 }).waitFor();
    const c = (await context.cookies(`${tls}/console/`)).find((x) => x.name === 'rolestack_console');
    assert.ok(c && c.secure && c.httpOnly && c.sameSite === 'Strict', JSON.stringify(c));
    // A bridge POST (Create RAM Role) goes through.
    const name = `Https-${suffix}`;
    await page.getByRole('button', { name: 'Create RAM Role' }).click();
    const panel = page.getByRole('dialog', { name: 'Create RAM Role' });
    await panel.getByRole('button', { name: 'Next' }).click();
    await panel.getByLabel('RAM Role Name').fill(name);
    await panel.getByLabel('Select Trusted Service').selectOption({ label: 'Elastic Compute Service' });
    await panel.getByRole('button', { name: 'OK' }).click();
    await panel.getByText(`The RAM role ${name} has been created.`).waitFor();
    await panel.getByRole('button', { name: 'Close', exact: true }).click();
    assert.equal(api('ram', 'GetRole', { RoleName: name }).Role.RoleName, name);
    api('ram', 'DeleteRole', { RoleName: name });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/console\/signin$/);
    assert.deepEqual(foreign, []);
  } finally {
    await context.close();
  }
});

test('Bind/Unbind RAM Role checks the roles\' trust several at a time; a pasted name too long is refused, not cut', async () => {
  const vpc = api('ecs', 'CreateVpc', { RegionId: REGION, CidrBlock: '172.16.0.0/16', VpcName: 'trust-checks' }).VpcId;
  const vsw = api('ecs', 'CreateVSwitch', { RegionId: REGION, ZoneId: 'cn-hangzhou-i', VpcId: vpc, CidrBlock: '172.16.1.0/24' }).VSwitchId;
  const iid = api('ecs', 'CreateInstance', {
    RegionId: REGION, ImageId: 'centos_7_03_64_40G_alibase_20170503.vhd', InstanceType: 'ecs.xn4.small', VSwitchId: vsw, InstanceName: 'trust-checks',
  }).InstanceId;
  const ecsTrust = JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['ecs.aliyuncs.com'] } }], Version: '1' });
  const acctTrust = JSON.stringify({ Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { RAM: [`acs:ram::${rootKey.AccountId}:root`] } }], Version: '1' });
  const ecsRole = `TrustChecksEcs-${suffix}`;
  api('ram', 'CreateRole', { RoleName: ecsRole, AssumeRolePolicyDocument: ecsTrust });
  for (let i = 0; i < 12; i++) api('ram', 'CreateRole', { RoleName: `TrustChecksAcct${i}-${suffix}`, AssumeRolePolicyDocument: acctTrust });
  const roleCount = api('ram', 'ListRoles', { MaxItems: 1000 }).Roles.Role.length;

  const { context, page } = await newPage();
  try {
    await signInRoot(page);
    // Each GetRole is held a moment, so the calls the dialog has in flight at once can be counted.
    let inFlight = 0;
    let most = 0;
    let getRoles = 0;
    await page.route('**/console/api/ram/GetRole', async (route) => {
      getRoles++;
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 150));
      inFlight--;
      await route.continue();
    });
    await page.getByRole('link', { name: 'Instances', exact: true }).click();
    await page.getByLabel('Region').selectOption(REGION);
    const row = page.getByRole('row').filter({ hasText: iid });
    await row.getByRole('button', { name: `More actions for ${iid}` }).click();
    await page.getByRole('menuitem', { name: 'Instance Settings' }).click();
    await page.getByRole('menuitem', { name: 'Bind/Unbind RAM Role' }).click();
    const bind = page.getByRole('dialog', { name: 'Bind/Unbind RAM Role' });
    const select = bind.getByLabel('RAM Role');
    await select.locator(`option[value="${ecsRole}"]`).waitFor({ state: 'attached' });
    const offered = await select.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    assert.ok(offered.includes(ecsRole) && !offered.some((v) => v.startsWith('TrustChecksAcct')), `only roles trusting ECS: ${offered}`);
    assert.equal(getRoles, roleCount, 'one trust check per role');
    assert.ok(most > 1 && most <= 8, `trust checks in flight at once: ${most} (one at a time took seconds with many roles)`);
    await bind.getByRole('button', { name: 'Cancel' }).click();
    await page.unroute('**/console/api/ram/GetRole');

    // Create RAM Role: a 70-character name is kept whole and RAM's refusal is shown; nothing is
    // created under a shortened name.
    const long = `L${suffix}`.padEnd(70, 'x');
    await page.getByRole('navigation', { name: 'Products' }).getByRole('link', { name: 'RAM Roles' }).click();
    await page.getByRole('button', { name: 'Create RAM Role' }).click();
    const panel = page.getByRole('dialog', { name: 'Create RAM Role' });
    await panel.getByRole('radio', { name: /Alibaba Cloud Service/ }).check();
    await panel.getByRole('button', { name: 'Next' }).click();
    await panel.getByLabel('RAM Role Name').fill(long);
    assert.equal(await panel.getByLabel('RAM Role Name').inputValue(), long, 'the name is not cut');
    await panel.getByRole('button', { name: 'OK' }).click();
    await panel.getByRole('alert').getByText('InvalidParameter.RoleName.Length').waitFor();
    await panel.getByRole('button', { name: 'Cancel' }).click();
    const names = api('ram', 'ListRoles', { MaxItems: 1000 }).Roles.Role.map((r) => r.RoleName);
    assert.ok(!names.some((n) => n.startsWith(`L${suffix}`)), `no role made from the long name: ${names}`);
  } finally {
    await context.close();
  }
});
