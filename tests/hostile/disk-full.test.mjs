// disk-full.test.mjs - `tfaas serve` whose state directory runs out of
// space: the store lives on a 4 MiB tmpfs that the test then fills. While
// full, action PUTs and invocations must fail with a 500 and OpenWhisk's
// error body (never a crash or a hang), answers that were 200 must still
// be kept, and once space is freed the server must work again without a
// restart. After a restart everything acknowledged is there and the store
// passes `PRAGMA integrity_check`. Mounting needs root with CAP_SYS_ADMIN;
// elsewhere the test is skipped and says why.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, api } from '../lib/server.mjs';
import { putAction, invoke } from '../lib/e2e.mjs';
import { integrityCheck, tinyDisk } from '../lib/faults.mjs';

const ECHO = 'function main(p) { return { x: p.x }; }';
const disk = tinyDisk('tfaas-full-');
const { mnt, mounted, filler } = disk;
const mountError = disk.why;
const stateDir = join(mnt, 'state');
after(() => disk.unmount());

// Writes to filler until the filesystem refuses.
const fillDisk = disk.fill;

function putBig(server, name) {
  // 20 KB of code per action, so the store needs new pages for each
  const code = `function main() { return { pad: "${'y'.repeat(20000)}" }; }`;
  return api(server, 'PUT', `/api/v1/namespaces/_/actions/${name}`, { body: { exec: { kind: 'js:duktape', code } } });
}

test('a full state disk: 500s with a clear error, no crash, recovery once space is freed', { skip: mounted ? false : `cannot mount a tmpfs: ${mountError}` }, async () => {
  const acked = { actions: new Set(['echo']), activations: new Map() };
  const server = await startServer({ stateDir, extraArgs: ['--max-blocking-wait', '20000'] });
  try {
    await putAction(server, 'echo', ECHO);
    const first = await invoke(server, 'echo', { x: 0 });
    assert.equal(first.status, 200, first.text);
    acked.activations.set(first.body.activationId, 0);

    fillDisk();
    let failures = 0;
    for (let i = 1; i <= 30; i++) {
      const r = i % 2 ? await putBig(server, `big-${i}`) : await invoke(server, 'echo', { x: i });
      assert.ok(r.status === 200 || r.status === 500, `unexpected ${r.status} on a full disk: ${r.text}`);
      if (r.status === 500) {
        failures++;
        assert.equal(typeof r.body.error, 'string', r.text);
      } else if (i % 2) {
        acked.actions.add(`big-${i}`);
      } else {
        acked.activations.set(r.body.activationId, i);
      }
      assert.equal(server.proc.exitCode, null, `server exited on a full disk:\n${server.logs().slice(-2000)}`);
    }
    assert.ok(failures > 0, 'nothing failed on a full disk: the test did not fill it');
    assert.match(server.logs(), /disk is full/);

    rmSync(filler);
    const put = await putBig(server, 'after');
    assert.equal(put.status, 200, put.text);
    acked.actions.add('after');
    const inv = await invoke(server, 'echo', { x: 99 });
    assert.equal(inv.status, 200, inv.text);
    acked.activations.set(inv.body.activationId, 99);
  } finally {
    await server.stop();
  }
  assert.equal(await integrityCheck(stateDir), 'ok');

  const again = await startServer({ stateDir });
  try {
    for (const name of acked.actions) {
      const r = await api(again, 'GET', `/api/v1/namespaces/_/actions/${name}`);
      assert.equal(r.status, 200, `acknowledged action ${name} is gone: ${r.text}`);
    }
    for (const [id, x] of acked.activations) {
      const r = await api(again, 'GET', `/api/v1/namespaces/_/activations/${id}`);
      assert.equal(r.status, 200, `acknowledged activation ${id} is gone: ${r.text}`);
      assert.deepEqual(r.body.response.result, { x });
    }
  } finally {
    await again.stop();
  }
});
