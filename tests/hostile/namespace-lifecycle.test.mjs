// namespace-lifecycle.test.mjs - a deleted namespace does not live on
// (issue 10, item 3). Tenant bob warms action `a`, keeps a secret in a
// global and has an activation running when the operator runs `tfaas admin
// namespace delete bob` (another process, on the running server's state)
// and then `admin namespace create bob`. The new bob must share nothing with
// the old: its own `a` runs its own code with fresh globals at once (not the
// old warm heap, not queued behind the old activation), it sees no action
// and no activation of the old bob, and the activation that was running at
// deletion is never stored. In enclave-per-tenant mode the old bob's enclave
// process is stopped; in shared-enclave mode the shared process keeps
// serving the neighbour (guest) throughout.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api, sleep, storeArgs } from '../lib/server.mjs';
import { createNamespace, putAction, invoke, poll } from '../lib/e2e.mjs';
import { enclavePids, runTfaas } from '../lib/faults.mjs';

const OLD = [
  'var secret = "none";',
  'function main(p) {',
  '  if (p.set) secret = p.set;',
  '  if (p.busyMs) { var t = Date.now(); while (Date.now() - t < p.busyMs) {} }',
  '  return { code: "old", secret: secret };',
  '}'].join('\n');
const NEW = 'function main() { return { code: "new", secret: typeof secret === "undefined" ? "none" : secret }; }';
const HELLO = 'function main() { return { ok: true }; }';
// How long the old bob's activation runs: it is still running when bob is
// deleted, and on a build that stored it, its record exists by BUSY_MS plus
// the margin after it started.
const BUSY_MS = 10000;
const STORED_MARGIN_MS = 3000;
// serve looks for deleted namespaces every 100 ms (GATEWAY_RETIRE_POLL_MS)
// and kills their enclaves at once; reaping is the watchdog's next tick.
// Generous for a loaded machine, still far below the 600 s idle TTL that
// would stop it otherwise.
const STOP_WITHIN_MS = 10000;

const admin = (verb, name, server) => runTfaas(['admin', 'namespace', verb, name, '--state', server.stateDir, ...storeArgs(server.stateDir)]);

for (const mode of ['enclave-per-tenant', 'shared-enclave']) {
  describe(`--isolation ${mode}`, () => {
    let server;
    before(async () => {
      server = await startServer({ extraArgs: ['--isolation', mode, '--workers', '2'] });
      await putAction(server, 'hello', HELLO);
    });
    after(async () => { if (server) await server.stop(); });

    test('delete + create again: no warm code, globals, actions or activations of the old namespace', async () => {
      assert.equal((await invoke(server, 'hello')).status, 200);
      const guestPids = enclavePids(server.proc.pid);

      let bob = await createNamespace(server, 'bob');
      await putAction(bob, 'a', OLD, { limits: { timeout: 60000 } });
      let r = await invoke(bob, 'a', { set: 'old-secret' }, { result: true });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { code: 'old', secret: 'old-secret' });
      const bobPids = enclavePids(server.proc.pid).filter((p) => !guestPids.includes(p));
      assert.equal(bobPids.length, mode === 'shared-enclave' ? 0 : 1, `bob's enclaves: ${bobPids}`);

      // running when bob is deleted
      const started = Date.now();
      const running = await api(bob, 'POST', '/api/v1/namespaces/_/actions/a', { body: { busyMs: BUSY_MS } });
      assert.equal(running.status, 202, running.text);
      const runningId = running.body.activationId;
      await sleep(300);

      let out = await admin('delete', 'bob', server);
      assert.equal(out.code, 0, out.out);
      bob = await createNamespace(server, 'bob');

      let list = await api(bob, 'GET', '/api/v1/namespaces/_/actions');
      assert.equal(list.status, 200, list.text);
      assert.deepEqual(list.body, []);
      // a plain create, as a new tenant does (no ?overwrite, which would also
      // have dropped warm heaps of that name)
      const put = await api(bob, 'PUT', '/api/v1/namespaces/_/actions/a', { body: { exec: { kind: 'js:duktape', code: NEW } } });
      assert.equal(put.status, 200, put.text);
      r = await invoke(bob, 'a', {}, { result: true });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { code: 'new', secret: 'none' }, 'the new bob ran the old bob\'s warm code');
      assert.ok(Date.now() - started < BUSY_MS,
        `the new bob waited ${Date.now() - started} ms: behind the old bob's activation`);

      if (bobPids.length) {
        const gone = await poll(() => !enclavePids(server.proc.pid).includes(bobPids[0]), { timeoutMs: STOP_WITHIN_MS });
        assert.ok(gone, `the deleted namespace's enclave ${bobPids[0]} still runs`);
      }
      // the server notices the deletion on its next namespace poll (100 ms), which a loaded machine may delay
      assert.ok(await poll(() => /namespace bob#[0-9a-f]{16} was deleted/.test(server.logs()), { timeoutMs: STOP_WITHIN_MS }),
        `no retirement of the deleted bob in the log:\n${server.logs()}`);

      // the old activation had every chance to be stored by now
      await sleep(Math.max(0, started + BUSY_MS + STORED_MARGIN_MS - Date.now()));
      const old = await api(bob, 'GET', `/api/v1/namespaces/_/activations/${runningId}`);
      assert.equal(old.status, 404, `the old bob's activation is readable by the new bob: ${old.text}`);
      list = await api(bob, 'GET', '/api/v1/namespaces/_/activations?docs=true');
      assert.equal(list.status, 200, list.text);
      assert.equal(list.body.length, 1, JSON.stringify(list.body));
      assert.deepEqual(list.body[0].response.result, { code: 'new', secret: 'none' });

      // the neighbour never noticed
      r = await invoke(server, 'hello', {}, { result: true });
      assert.equal(r.status, 200, r.text);
      for (const pid of guestPids) assert.ok(enclavePids(server.proc.pid).includes(pid), `guest's enclave ${pid} died`);

      out = await admin('delete', 'bob', server);
      assert.equal(out.code, 0, out.out);
    });
  });
}

test('an activation running when its namespace is deleted: a blocking caller learns so, nothing is stored', async () => {
  const server = await startServer();
  try {
    let bob = await createNamespace(server, 'bob');
    await putAction(bob, 'a', OLD, { limits: { timeout: 60000 } });
    assert.equal((await invoke(bob, 'a')).status, 200);
    const waiting = invoke(bob, 'a', { busyMs: BUSY_MS });
    await sleep(300);
    const out = await admin('delete', 'bob', server);
    assert.equal(out.code, 0, out.out);
    const r = await waiting;
    assert.equal(r.status, 404, r.text);
    assert.match(r.body.error, /namespace was deleted while the activation ran/);
    bob = await createNamespace(server, 'bob');
    const list = await api(bob, 'GET', '/api/v1/namespaces/_/activations');
    assert.deepEqual(list.body, []);
  } finally {
    await server.stop();
  }
});
