// enclave-share.test.mjs - one tenant cannot take every enclave (issue 10,
// item 7). Tenant greedy annotates long actions `tfaas-isolation:
// enclave-per-function`, each asking for a process of its own, and starts
// them all at once. With --max-enclaves 4 it gets its share (4 / (1 + 1) =
// 2), the rest answer 429 with the share message, and another tenant's
// invoke still gets an enclave (not 503). Without --max-enclaves the
// per-namespace limit (--max-enclaves-per-namespace) bounds the processes
// one tenant can start.
import { test, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api, sleep } from '../lib/server.mjs';
import { createNamespace, putAction, invoke } from '../lib/e2e.mjs';
import { enclavePids, runTfaas } from '../lib/faults.mjs';

const LONG = 'function main(p) { var t = Date.now(); while (Date.now() - t < p.busyMs) {} return { ok: true }; }';
const HELLO = 'function main() { return { ok: true }; }';
// Long enough to still run when the other tenant asks, on any machine: the
// test ends them by stopping the server.
const BUSY_MS = 30000;
const OWN = [{ key: 'tfaas-isolation', value: 'enclave-per-function' }];

async function putOwn(ns, name) {
  const r = await api(ns, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
    body: { exec: { kind: 'js:duktape', code: LONG }, annotations: OWN, limits: { timeout: 60000 } } });
  assert.equal(r.status, 200, r.text);
}

// Starts `count` long activations of greedy, one function (and so one
// enclave) each; resolves to their HTTP statuses once all were answered.
async function grab(greedy, count) {
  const statuses = [];
  for (let i = 0; i < count; i++) {
    await putOwn(greedy, `long${i}`);
    const r = await api(greedy, 'POST', `/api/v1/namespaces/_/actions/long${i}`, { body: { busyMs: BUSY_MS } });
    if (r.status === 429) assert.match(r.body.error, /Every enclave this namespace may have is busy/);
    statuses.push(r.status);
  }
  return statuses;
}

describe('--max-enclaves 4', () => {
  let server;
  after(async () => { if (server) await server.stop(); });

  test('a tenant with enclave-per-function actions cannot make another tenant get 503', async () => {
    server = await startServer({ extraArgs: ['--isolation', 'enclave-per-tenant', '--max-enclaves', '4', '--workers', '1'] });
    const greedy = await createNamespace(server, 'greedy');
    await putAction(server, 'hello', HELLO);
    const statuses = await grab(greedy, 4);
    await sleep(300);
    const r = await invoke(server, 'hello', {}, { result: true });
    assert.equal(r.status, 200, `the other tenant was refused: ${r.text}`);
    assert.deepEqual(statuses, [202, 202, 429, 429]);
    assert.equal(enclavePids(server.proc.pid).length, 3);
  });
});

describe('--max-enclaves-per-namespace without --max-enclaves', () => {
  let server;
  after(async () => { if (server) await server.stop(); });

  test('one tenant starts at most that many enclave processes', async () => {
    server = await startServer({ extraArgs: ['--max-enclaves-per-namespace', '2', '--workers', '1'] });
    assert.match(server.logs(), /at most 2 per namespace/);
    const greedy = await createNamespace(server, 'greedy');
    await putAction(server, 'hello', HELLO);
    assert.deepEqual(await grab(greedy, 4), [202, 202, 429, 429]);
    await sleep(300);
    assert.equal((await invoke(server, 'hello', {}, { result: true })).status, 200);
    assert.equal(enclavePids(server.proc.pid).length, 3);
  });
});

test('--max-enclaves-per-namespace: documented, checked, 8 by default', async () => {
  const help = await runTfaas(['serve', '--help']);
  assert.equal(help.code, 0, help.out);
  assert.match(help.out, /--max-enclaves-per-namespace N/);
  assert.match(help.out, /\(default 8\)/);
  const bad = await runTfaas(['serve', '--max-enclaves-per-namespace', 'many', '--listen', '127.0.0.1:0']);
  assert.equal(bad.code, 2, bad.out);
  assert.match(bad.out, /invalid value 'many' for --max-enclaves-per-namespace/);
  const server = await startServer();
  try {
    assert.match(server.logs(), /at most 8 per namespace/);
  } finally {
    await server.stop();
  }
});
