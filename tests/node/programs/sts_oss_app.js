// A Node application that assumes a RAM role with @alicloud/credentials' `ram_role_arn` provider
// (STS at $STS_HOST over HTTPS, trusted through NODE_EXTRA_CA_CERTS) and hands the token to ali-oss
// through `refreshSTSToken` / `refreshSTSTokenInterval`, the way ali-oss's documentation shows.
// Also sends the session's key without its token.
// Usage: sts_oss_app.js <RoleArn> <bucket> <v1|v4>; OSS at $ROLESTACK_ENDPOINT, the caller's AccessKey
// in ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET. Reads `r.txt`, tries writes, signs URLs; prints one JSON
// line with each outcome (an ali-oss error as its name, code, status, requestId, hostId, ecCode).
'use strict';

const Credential = require('@alicloud/credentials').default;
const { Config } = require('@alicloud/credentials');
const OSS = require('ali-oss');
const { getVia } = require('../support/oss');

/** Sends `method` to the signed `url` at the server's loopback listener (the URL's host name is
 *  never resolved); resolves to { status, code } (`code` from an `<Error>` body). */
async function sendSigned(method, url, body) {
  const r = await getVia(process.env.ROLESTACK_ENDPOINT, url, { method, body });
  return { status: r.status, code: (r.body.match(/<Code>([^<]*)<\/Code>/) || [])[1] };
}

async function outcome(f) {
  try {
    return { ok: await f() };
  } catch (e) {
    if (!e.code || !e.status) throw e;
    return { name: e.name, code: e.code, status: e.status, requestId: e.requestId, hostId: e.hostId, ecCode: e.ecCode };
  }
}

async function main() {
  const [roleArn, bucket, signing] = process.argv.slice(2);
  const credential = new Credential(new Config({
    type: 'ram_role_arn',
    accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
    roleArn,
    roleSessionName: 'node-oss-app',
    stsEndpoint: process.env.STS_HOST,
  }));
  const first = await credential.getCredential();
  let refreshed = 0;
  const options = {
    region: 'oss-cn-hangzhou',
    bucket,
    secure: false,
    authorizationV4: signing === 'v4',
    accessKeyId: first.accessKeyId,
    accessKeySecret: first.accessKeySecret,
    stsToken: first.securityToken,
    refreshSTSToken: async () => {
      refreshed += 1;
      const c = await credential.getCredential();
      return { accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, stsToken: c.securityToken };
    },
    refreshSTSTokenInterval: 0,
  };
  const client = new OSS({ ...options, endpoint: process.env.ROLESTACK_ENDPOINT });
  // Signed URLs need a host name endpoint (virtual-hosted URLs); they are sent to the loopback listener.
  const named = new OSS({ ...options, endpoint: process.env.ROLESTACK_ENDPOINT.replace('127.0.0.1', 'localhost') });
  const v4 = signing === 'v4';
  const getUrl = v4 ? await named.signatureUrlV4('GET', 60, {}, 'r.txt') : await named.asyncSignatureUrl('r.txt', { expires: 60 });
  const putUrl = v4 ? await named.signatureUrlV4('PUT', 60, {}, 'signed-put.txt') : await named.asyncSignatureUrl('signed-put.txt', { method: 'PUT', expires: 60 });
  const result = {
    accessKeyId: first.accessKeyId,
    read: await outcome(async () => (await client.get('r.txt')).content.toString()),
    write: await outcome(async () => (await client.put('w.txt', Buffer.from('w'))).res.status),
    deleteMulti: await outcome(async () => (await client.deleteMulti(['r-missing.txt'], { quiet: true })).res.status),
    initMultipart: await outcome(async () => {
      const { uploadId } = await client.initMultipartUpload('mp.bin');
      await client.abortMultipartUpload('mp.bin', uploadId);
      return 'aborted';
    }),
    // The session's key without its token (an application that dropped `stsToken`).
    withoutToken: await outcome(async () => {
      const bare = new OSS({ ...options, endpoint: process.env.ROLESTACK_ENDPOINT, stsToken: undefined, refreshSTSToken: undefined });
      return (await bare.get('r.txt')).res.status;
    }),
    signedGet: await sendSigned('GET', getUrl),
    signedPut: await sendSigned('PUT', putUrl, 'via-url'),
  };
  result.refreshed = refreshed;
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
