// shutdown.test.mjs - SIGTERM with long activations queued ends in bounded
// time (issue 10). One long activation runs, more wait in the action's
// queue (concurrency 1), one of them a blocking invoke. On SIGTERM the
// queued ones must not start (no enclave is started or replaced to serve
// them): the blocking caller gets 503 at once, each queued activation is
// recorded as failed with "did not run", the running one gets the drain
// time (10 s) and is then ended, and `tfaas serve` exits 0 within the
// stated bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, api, sleep, assertCleanExit } from '../lib/server.mjs';
import { putAction } from '../lib/e2e.mjs';

const LONG = 'function main(p) { var t = Date.now(); while (Date.now() - t < p.busyMs) {} return { ok: true }; }';
const BUSY_MS = 60000; // outlasts the drain on any machine
// serve's promise (tfaas serve --help): running activations get 10 s, then
// their enclaves get 1 s to exit before SIGKILL, then records are flushed.
// The margin is for a loaded machine; a server that keeps serving its
// queue would need BUSY_MS per queued activation.
const DRAIN_MS = 10000;
const EXIT_BOUND_MS = DRAIN_MS + 10000;
// The queued blocking caller is answered as soon as its failure is recorded:
// well before the drain ends.
const ANSWER_BOUND_MS = DRAIN_MS / 2;

test('SIGTERM with a queue: queued work fails at once, the server exits in bounded time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfaas-shutdown-'));
  try {
    const server = await startServer({ stateDir: dir, extraArgs: ['--workers', '1'] });
    await putAction(server, 'long', LONG, { limits: { timeout: 120000 } });
    const post = (blocking) => api(server, 'POST', `/api/v1/namespaces/_/actions/long?blocking=${blocking}`,
      { body: { busyMs: BUSY_MS } });
    const running = await post(false);
    assert.equal(running.status, 202, running.text);
    await sleep(500);
    const queued = [];
    for (let i = 0; i < 3; i++) {
      const r = await post(false);
      assert.equal(r.status, 202, r.text);
      queued.push(r.body.activationId);
    }
    const blocking = post(true);
    await sleep(500);

    const exited = new Promise((resolve) => server.proc.once('exit', resolve));
    const t0 = Date.now();
    server.proc.kill('SIGTERM');
    const answer = await blocking;
    const answeredMs = Date.now() - t0;
    assert.equal(answer.status, 503, answer.text);
    assert.match(answer.body.error, /shutting down; the activation did not run/);
    assert.ok(answeredMs < ANSWER_BOUND_MS, `the queued blocking caller waited ${answeredMs} ms`);
    await exited;
    const exitMs = Date.now() - t0;
    assertCleanExit(server.proc, server.logs());
    assert.ok(exitMs < EXIT_BOUND_MS, `tfaas serve took ${exitMs} ms to stop`);
    assert.ok(exitMs >= DRAIN_MS - 1000, `the running activation did not get its drain time (${exitMs} ms)`);

    // What the records say, read back by a server on the same state.
    const again = await startServer({ stateDir: dir });
    try {
      for (const id of queued) {
        const r = await api(again, 'GET', `/api/v1/namespaces/_/activations/${id}`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.response.status, 'whisk internal error');
        assert.equal(r.body.response.result.error, 'The server is shutting down; the activation did not run.');
      }
      const r = await api(again, 'GET', `/api/v1/namespaces/_/activations/${running.body.activationId}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.response.result.error, 'The scheduler is shutting down.');
    } finally {
      await again.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
