// enclave-kill.test.mjs - fault injection on one enclave, end to end over
// HTTP: `kill -9` of the tenant's enclave process while a blocking invoke
// runs in it. The invoke must answer 502 with OpenWhisk's "exited
// unexpectedly" developer error, the failed record must be stored, and the
// next invocations must succeed on a respawned enclave.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api, sleep } from '../lib/server.mjs';
import { putAction, invoke, poll } from '../lib/e2e.mjs';
import { enclavePids } from '../lib/faults.mjs';

const HELLO = "function main(params) { return { greeting: 'Hello, ' + (params.name || 'world') + '!' }; }";
const SPIN = 'function main() { for (;;) {} }';

let server;

before(async () => {
  server = await startServer();
  await putAction(server, 'hello', HELLO);
  await putAction(server, 'spin', SPIN, { limits: { timeout: 120000 } });
});

after(async () => { if (server) await server.stop(); });

test('kill -9 of the enclave mid-invocation: 502 developer error, record stored, next calls succeed', async () => {
  // warm the namespace's enclave, so the spin is delivered at once
  assert.equal((await invoke(server, 'hello')).status, 200);
  const pids = enclavePids(server.proc.pid);
  assert.ok(pids.length > 0, 'no tfaas-enclave child after a successful invoke');

  const spinning = invoke(server, 'spin');
  await sleep(1000); // well past the delivery of the INVOKE frame, far from the 120 s timeout
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  const r = await spinning;
  assert.equal(r.status, 502, r.text);
  assert.equal(r.body.response.success, false);
  assert.equal(r.body.response.status, 'action developer error');
  assert.match(r.body.response.result.error, /exited unexpectedly/);
  assert.ok(r.ms < 60000, `the failed invoke took ${r.ms} ms: it waited for the timeout, not for the death`);

  const stored = await api(server, 'GET', `/api/v1/namespaces/_/activations/${r.body.activationId}`);
  assert.equal(stored.status, 200, stored.text);
  assert.equal(stored.body.response.success, false);

  for (let i = 0; i < 3; i++) {
    const ok = await invoke(server, 'hello', { name: `after-${i}` }, { result: true });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.body, { greeting: `Hello, after-${i}!` });
  }
  const respawned = await poll(() => enclavePids(server.proc.pid).some((p) => !pids.includes(p)));
  assert.ok(respawned, 'no new enclave process after the kill');
  assert.equal(server.proc.exitCode, null, server.logs().slice(-2000));
});
