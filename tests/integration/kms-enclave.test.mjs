// kms-enclave.test.mjs - the key service is its own enclave (issue 11, item
// 4): tfaas-kms measures differently from every worker (so no worker
// derives its sealing key), and a confidential worker enclave of either
// engine holds no platform private key: not named on its command line, no
// descriptor on the key file or the quoting service left open once it runs
// tenant code, and not in its memory, while the key service's memory does
// hold it (the control that shows the scan would find it). A host that runs
// another key service (a tfaas-kms with other bytes) gets its releases
// refused by every worker, which knows the KMS measurement it was built with.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import { BIN, SANITIZED, startServer, api } from '../lib/server.mjs';
import { runBin } from '../lib/run.mjs';
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

// Deploys and invokes a confidential function of `kind` on srv; resolves to
// the answer's bytes (as text) once the worker enclave answered `status`.
async function runConfidential(kind, { srv = server, att = attestation, status = 200 } = {}) {
  const name = `keys-${engineOf(kind)}`;
  const r = await api(srv, 'PUT', `/tfaas/v1/namespaces/_/actions/${name}`,
    { body: await deployBody(att, name, 'function main() { return { ok: true }; }', { kind }) });
  assert.equal(r.status, 200, r.text);
  const { payload } = await jose.compactVerify(confidentialOf(r.body).certificate, await kmsSigningKey(att));
  const keys = Buffer.from(JSON.parse(new TextDecoder().decode(payload)).ohttp_keys, 'base64url');
  const state = await ohttpClient(new Uint8Array(keys), AEADS[1], await bhttpJsonRequest(`/${name}`, {}, new Date()));
  const res = await fetch(`${srv.url}/tfaas/v1/namespaces/_/actions/${name}/ohttp`, {
    method: 'POST', body: state.encReq,
    headers: { 'content-type': 'message/ohttp-req', authorization: 'Basic ' + Buffer.from(srv.auth).toString('base64') },
  });
  const text = Buffer.from(await res.arrayBuffer()).toString();
  assert.equal(res.status, status, text);
  return text;
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
    // beyond stdio, the IPC channel (fd 3) and the egress channel (fd 5,
    // fetch's connection requests to the host) only: the quoting channel
    // (fd 4) closed before tenant code ran
    assert.deepEqual(fds.filter((fd) => Number(fd) > 2 && links[fds.indexOf(fd)].startsWith('socket:')), ['3', '5'], links.join(' '));
    if (!SANITIZED)
      assert.deepEqual(memoryHolds(pid, needles).map(String), [], `worker ${pid} holds the platform key`);
  }
  if (SANITIZED) return;
  const kms = kmsPid(server.proc.pid);
  assert.ok(kms, 'a KMS enclave runs');
  assert.ok(memoryHolds(kms, needles.slice(0, 2)).length > 0, 'the scan finds the key in the KMS (control)');
});

test('a key service the workers were not built with gets its releases refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfaas-rogue-kms-'));
  copyFileSync(join(BIN, 'tfaas-qe'), join(dir, 'tfaas-qe'));
  copyFileSync(join(BIN, 'tfaas-kms'), join(dir, 'tfaas-kms'));
  appendFileSync(join(dir, 'tfaas-kms'), 'another build'); // runs the same, measures differently
  const rogue = await startServer({ extraArgs: ['--kms', join(dir, 'tfaas-kms')] });
  try {
    const att = (await api(rogue, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
    const genuine = (await runBin('tfaas-kms', ['--measurement'])).stdout.trim();
    assert.match(att.measurement, /^[0-9a-f]{64}$/);
    assert.notEqual(att.measurement, genuine);
    for (const kind of ENGINE_KINDS) {
      const text = await runConfidential(kind, { srv: rogue, att, status: 403 });
      assert.match(text, /does not come from an attested key service/);
    }
  } finally {
    await rogue.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
