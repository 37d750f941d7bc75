// shared-lanes.test.mjs - the shared enclave pipelines (issue 14): beyond a
// function's concurrency its activations are sent to wait in the function's
// lane inside the one process all tenants share. Against the real server
// and enclave (--isolation shared-enclave, --workers 2), the risks that
// brings (src/host/scheduler/lane_share.c):
// - a namespace deleted while its activations wait in the shared enclave's
//   lane: they end unrun (503 "The namespace was deleted."), none runs after
//   the retire, the neighbour keeps being served by the same process;
// - a hostile tenant keeping both workers busy with a lane full of waiting
//   activations: another tenant's hello gets the first worker that frees,
//   not the one after the whole lane;
// - the shared enclave killed while two tenants each run one activation and
//   have two waiting: the running ones fail, the waiting ones never ran and
//   succeed on the next enclave.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api, sleep, storeArgs } from '../lib/server.mjs';
import { createNamespace, putAction, invoke, poll } from '../lib/e2e.mjs';
import { enclavePids, runTfaas } from '../lib/faults.mjs';

const HELLO = 'function main() { return { ok: true }; }';
const busy = (ms) => `function main() { var t = Date.now(); while (Date.now() - t < ${ms}) {} return { ok: true }; }`;
const admin = (verb, name, server) =>
  runTfaas(['admin', 'namespace', verb, name, '--state', server.stateDir, ...storeArgs(server.stateDir)]);


describe('--isolation shared-enclave: activations waiting in the shared enclave\'s lanes', () => {
  let server;
  before(async () => {
    server = await startServer({ extraArgs: ['--isolation', 'shared-enclave', '--workers', '2'] });
    await putAction(server, 'hello', HELLO);
    assert.equal((await invoke(server, 'hello')).status, 200);
  });
  after(async () => { if (server) await server.stop(); });

  test('namespace deleted while its activations wait in the lane: they end unrun, none runs, the neighbour is served', async () => {
    // Each of bob's activations runs RUN_MS; five wait behind the first.
    // Run one after another they would answer over 25 s; taken out of the
    // lane they answer when the server notices the deletion (its 100 ms
    // poll), long before the first ends.
    const RUN_MS = 6000;
    const pids = enclavePids(server.proc.pid);
    const bob = await createNamespace(server, 'lanebob');
    await putAction(bob, 'a', busy(RUN_MS), { limits: { timeout: 60000 } });
    const first = invoke(bob, 'a');
    await sleep(300);
    const started = Date.now();
    const behind = [];
    for (let i = 0; i < 5; i++) behind.push(invoke(bob, 'a'));
    await sleep(300);
    const out = await admin('delete', 'lanebob', server);
    assert.equal(out.code, 0, out.out);
    const answers = await Promise.all(behind);
    for (const r of answers) {
      assert.equal(r.status, 503, r.text);
      assert.match(r.body.error, /The namespace was deleted/);
    }
    assert.ok(Date.now() - started < 2 * RUN_MS,
      `the waiting activations answered after ${Date.now() - started} ms: they ran after the deletion`);
    // the neighbour, in the same process, meanwhile and afterwards
    const r = await invoke(server, 'hello', {}, { result: true });
    assert.equal(r.status, 200, r.text);
    const ran = await first; // it ran before the deletion: not stored
    assert.equal(ran.status, 404, ran.text);
    assert.deepEqual(enclavePids(server.proc.pid), pids, 'the shared enclave was replaced');
    assert.ok(/namespace lanebob#[0-9a-f]{16} was deleted/.test(server.logs()), server.logs().slice(-2000));
  });

  test('a hostile tenant\'s lane beside a well-behaved tenant: the hello gets the first free worker', async () => {
    // The hostile tenant holds both workers (concurrency 2) with RUN_MS
    // activations and has 14 more waiting in its lane: served in order,
    // they would keep both workers for 7 x RUN_MS. The guest's hello must
    // wait for at most the two that run when it comes (its bound: one
    // RUN_MS; given 3, far below the lane's 7).
    const RUN_MS = 2000;
    const evil = await createNamespace(server, 'laneevil');
    await putAction(evil, 'spin', busy(RUN_MS), { limits: { timeout: 60000, concurrency: 2 } });
    const load = [];
    for (let i = 0; i < 16; i++) load.push(api(evil, 'POST', '/api/v1/namespaces/_/actions/spin', { body: {} }));
    for (const r of await Promise.all(load)) assert.equal(r.status, 202, r.text);
    await sleep(500); // all sent, both workers busy
    const r = await invoke(server, 'hello', {}, { result: true });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.ms < 3 * RUN_MS, `the guest's hello waited ${r.ms} ms behind the hostile tenant's lane`);
    // the hostile tenant's work is not lost: all 16 end, successfully
    const done = await poll(async () => {
      const list = await api(evil, 'GET', '/api/v1/namespaces/_/activations?limit=50&docs=true');
      return list.body.length === 16 && list.body.every((a) => a.response.success);
    }, { timeoutMs: 16 * RUN_MS + 30000, intervalMs: 500 });
    assert.ok(done, 'the hostile tenant\'s activations did not all succeed');
  });

  test('the shared enclave killed with two tenants\' activations waiting in lanes: those ran nowhere and succeed', async () => {
    const RUN_MS = 3000;
    const ns = [server, await createNamespace(server, 'lanecrash')];
    for (const s of ns) await putAction(s, 'slow', busy(RUN_MS), { limits: { timeout: 60000 } });
    const calls = [];
    for (const s of ns) {
      calls.push(invoke(s, 'slow'));
      await sleep(200);
    }
    for (const s of ns) for (let i = 0; i < 2; i++) calls.push(invoke(s, 'slow'));
    await sleep(1000); // both run, four wait; far from RUN_MS's end
    const pids = enclavePids(server.proc.pid);
    assert.equal(pids.length, 1, `enclaves: ${pids}`);
    process.kill(pids[0], 'SIGKILL');
    const answers = await Promise.all(calls);
    for (const r of answers.slice(0, 2)) {
      assert.equal(r.status, 502, r.text);
      assert.match(r.body.response.result.error, /exited unexpectedly/);
    }
    for (const r of answers.slice(2)) {
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.response.success, true);
    }
  });
});
