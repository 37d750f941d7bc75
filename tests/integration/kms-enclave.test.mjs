// kms-enclave.test.mjs - the key service is its own enclave (issue 11, item
// 4): tfaas-kms measures differently from every worker (so no worker
// derives its sealing key), and a confidential worker enclave of either
// engine holds no platform private key: not named on its command line, no
// descriptor on the key file or the quoting service left open once it runs
// tenant code, and not in its memory, while the key service's memory does
// hold it (the control that shows the scan would find it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';
import { startServer, api } from '../lib/server.mjs';
import { ENGINE_KINDS } from '../lib/e2e.mjs';
import { enclavePids, kmsPid } from '../lib/faults.mjs';
import { confidentialOf, deployBody, engineOf, kmsSigningKey, memoryHolds } from '../lib/confidential.mjs';
import { AEADS, bhttpJsonRequest, ohttpClient } from '../lib/ohttp-client.mjs';

let server;
let attestation;

before(async () => {
  server = await startServer();
  attestation = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
});
after(async () => { await server?.stop(); });

// Deploys and invokes a confidential function of `kind`; resolves once the
// worker enclave answered (keys released, code run).
async function runConfidential(kind) {
  const name = `keys-${engineOf(kind)}`;
  const r = await api(server, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}`,
    { body: await deployBody(attestation, name, 'function main() { return { ok: true }; }', { kind }) });
  assert.equal(r.status, 200, r.text);
  const { payload } = await jose.compactVerify(confidentialOf(r.body).certificate, await kmsSigningKey(attestation));
  const keys = Buffer.from(JSON.parse(new TextDecoder().decode(payload)).ohttp_keys, 'base64url');
  const state = await ohttpClient(new Uint8Array(keys), AEADS[1], await bhttpJsonRequest(`/${name}`, {}, new Date()));
  const res = await fetch(`${server.url}/tfaas/v1/namespaces/_/actions/${name}/ohttp`, {
    method: 'POST', body: state.encReq,
    headers: { 'content-type': 'message/ohttp-req', authorization: 'Basic ' + Buffer.from(server.auth).toString('base64') },
  });
  assert.equal(res.status, 200, Buffer.from(await res.arrayBuffer()).toString());
}

test('the KMS measures differently from every worker: no worker derives its sealing key', () => {
  assert.equal(Object.keys(attestation.workers).length, ENGINE_KINDS.length);
  for (const [engine, m] of Object.entries(attestation.workers)) {
    assert.match(m, /^[0-9a-f]{64}$/, engine);
    assert.notEqual(m, attestation.measurement, `${engine} worker shares the KMS measurement`);
  }
});

test('a confidential worker enclave holds no platform private key; the key service does', async () => {
  for (const kind of ENGINE_KINDS) await runConfidential(kind);
  const keyFile = join(server.stateDir, 'sim-platform.key');
  const pem = readFileSync(keyFile, 'utf8');
  const d = Buffer.from(createPrivateKey(pem).export({ format: 'jwk' }).d, 'base64url');
  // the scalar as bytes, its little-endian form (OpenSSL's BIGNUM limbs on
  // x86-64), and the PEM text as read from the file
  const needles = [d, Buffer.from(d).reverse(), Buffer.from(pem.split('\n')[1])];
  const workers = enclavePids(server.proc.pid);
  assert.equal(workers.length, ENGINE_KINDS.length, 'one confidential enclave per engine');
  for (const pid of workers) {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(!cmdline.includes('--platform-key'), `worker ${pid} was given the platform key: ${cmdline.join(' ')}`);
    assert.ok(cmdline.includes('--quote-fd') && cmdline.includes('--platform-root'), cmdline.join(' '));
    const fds = readdirSync(`/proc/${pid}/fd`);
    const links = fds.map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));
    assert.ok(!links.includes(keyFile), `worker ${pid} has the key file open`);
    // beyond stdio, the IPC channel (fd 3) only: the quoting channel (fd 4)
    // closed before tenant code ran
    assert.deepEqual(fds.filter((fd) => Number(fd) > 2 && links[fds.indexOf(fd)].startsWith('socket:')), ['3'], links.join(' '));
    if (process.env.TFAAS_SANITIZE !== 'ON')
      assert.deepEqual(memoryHolds(pid, needles).map(String), [], `worker ${pid} holds the platform key`);
  }
  if (process.env.TFAAS_SANITIZE === 'ON') return;
  const kms = kmsPid(server.proc.pid);
  assert.ok(kms, 'a KMS enclave runs');
  assert.ok(memoryHolds(kms, needles.slice(0, 2)).length > 0, 'the scan finds the key in the KMS (control)');
});
