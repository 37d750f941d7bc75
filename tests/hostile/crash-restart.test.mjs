// crash-restart.test.mjs - fault injection on the whole server: `kill -9` of
// `tfaas serve` while clients create actions and run blocking invocations,
// then a restart on the same state directory. Every action whose PUT was
// answered 200 and every activation whose blocking invoke was answered with
// its record (200, or 502 for the few that fail) must still be there, and
// the SQLite store must pass `PRAGMA integrity_check`. Non-blocking 202s are
// not counted: OpenWhisk, too, only promises that record once it has run.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, api } from '../lib/server.mjs';
import { putAction, poll } from '../lib/e2e.mjs';
import { integrityCheck } from '../lib/faults.mjs';

const ECHO = "function main(p) { return { n: p.n, who: p.who }; }";
const CLIENTS = 8;          // concurrent request loops
const KILL_AFTER = 150;     // acknowledged invocations before the kill
const MAX_REQUESTS = 2000;  // per client, a bound in case the kill never comes

const stateDir = mkdtempSync(join(tmpdir(), 'tfaas-crash-'));
after(() => rmSync(stateDir, { recursive: true, force: true }));

// One client: blocking invokes, and every tenth request an action PUT.
// Records what the server acknowledged; stops at the first refused
// connection (the server is gone) or when told to.
async function client(server, id, acked, state) {
  for (let i = 0; i < MAX_REQUESTS && !state.stop; i++) {
    state.inflight++;
    try {
      if (i % 10 === 9) {
        const name = `made-${id}-${i}`;
        await putAction(server, name, ECHO);
        acked.actions.add(name);
        continue;
      }
      const name = `echo-${(id + i) % 4}`;
      const r = await api(server, 'POST', `/api/v1/namespaces/_/actions/${name}?blocking=true`,
        { body: { n: i, who: id } });
      if ((r.status === 200 || r.status === 502) && r.body && r.body.activationId) {
        acked.activations.set(r.body.activationId, { status: r.status, n: i, who: id });
      }
    } catch {
      // the kill: a refused or reset connection; answers not received are not acknowledged
      if (state.killed) return;
    } finally {
      state.inflight--;
    }
  }
}

test('kill -9 of tfaas serve under load loses nothing acknowledged; the store stays sound', async (t) => {
  const first = await startServer({ stateDir });
  const acked = { actions: new Set(), activations: new Map() };
  for (let k = 0; k < 4; k++) {
    await putAction(first, `echo-${k}`, ECHO);
    acked.actions.add(`echo-${k}`);
  }

  const state = { stop: false, killed: false, inflight: 0 };
  const clients = Array.from({ length: CLIENTS }, (_, id) => client(first, id, acked, state));
  const loaded = await poll(() => acked.activations.size >= KILL_AFTER, { timeoutMs: 120000, intervalMs: 20 });
  assert.ok(loaded, `only ${acked.activations.size} invocations acknowledged in 120 s:\n${first.logs().slice(-2000)}`);
  state.killed = true;
  const inflight = state.inflight;
  first.proc.kill('SIGKILL');
  await new Promise((r) => (first.proc.exitCode !== null || first.proc.signalCode !== null ? r() : first.proc.once('exit', r)));
  state.stop = true;
  await Promise.all(clients);
  assert.equal(first.proc.signalCode, 'SIGKILL');
  t.diagnostic(`killed with ${inflight} requests in flight; acknowledged: ${acked.actions.size} actions, ` +
    `${acked.activations.size} activations`);

  // The database as the kill left it (the shell replays the WAL).
  assert.equal(await integrityCheck(stateDir), 'ok');

  const second = await startServer({ stateDir });
  try {
    for (const name of acked.actions) {
      const r = await api(second, 'GET', `/api/v1/namespaces/_/actions/${name}`);
      assert.equal(r.status, 200, `acknowledged action ${name} is gone after the restart: ${r.text}`);
      assert.equal(r.body.exec.code, ECHO);
    }
    for (const [id, want] of acked.activations) {
      const r = await api(second, 'GET', `/api/v1/namespaces/_/activations/${id}`);
      assert.equal(r.status, 200, `acknowledged activation ${id} is gone after the restart: ${r.text}`);
      assert.equal(r.body.activationId, id);
      if (want.status === 200) assert.deepEqual(r.body.response.result, { n: want.n, who: want.who });
    }
    // and the restarted server works
    const r = await api(second, 'POST', '/api/v1/namespaces/_/actions/echo-0?blocking=true&result=true',
      { body: { n: -1, who: 'after' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { n: -1, who: 'after' });
  } finally {
    await second.stop();
  }
  assert.equal(await integrityCheck(stateDir), 'ok');
});
