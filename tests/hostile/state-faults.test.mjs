// state-faults.test.mjs - `tfaas serve` on a state directory it cannot
// write: an existing store made read-only, an empty read-only directory,
// and a state path under a read-only parent. Each must fail at start with
// a message naming the state directory and the reason and a non-zero exit
// status, without crashing (no signal, no sanitizer report) and without
// touching the store's files. When the suite runs as root, the server runs
// as nobody (file modes do not bind root), from a copy of the binaries
// that nobody can execute.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServer } from '../lib/server.mjs';
import { putAction } from '../lib/e2e.mjs';
import { integrityCheck, isRoot, runTfaas } from '../lib/faults.mjs';

const root = mkdtempSync(join(tmpdir(), 'tfaas-rostate-'));
let bin = BIN; // where the unprivileged runs find tfaas and tfaas-enclave

before(() => {
  chmodSync(root, 0o755);
  if (isRoot()) {
    bin = join(root, 'bin');
    mkdirSync(bin, { mode: 0o755 });
    for (const f of ['tfaas', 'tfaas-enclave']) {
      copyFileSync(join(BIN, f), join(bin, f));
      chmodSync(join(bin, f), 0o755);
    }
  }
});

after(() => {
  // give write permission back so the tree can be removed
  const open = (dir) => {
    chmodSync(dir, 0o755);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) open(join(dir, e.name)); else chmodSync(join(dir, e.name), 0o644);
    }
  };
  open(root);
  rmSync(root, { recursive: true, force: true });
});

// Hashes of every file in dir, to show a failed start changed nothing.
function snapshot(dir) {
  const out = {};
  for (const f of readdirSync(dir).sort()) out[f] = createHash('sha256').update(readFileSync(join(dir, f))).digest('hex');
  return out;
}

function readOnly(dir) {
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o444);
  chmodSync(dir, 0o555);
}

async function serveFails(stateDir, reason) {
  const r = await runTfaas(['serve', '--listen', '127.0.0.1:0', '--state', stateDir,
    '--enclave', join(bin, 'tfaas-enclave')], { unprivileged: true, bin });
  assert.equal(r.signal, null, `tfaas serve was killed by ${r.signal}:\n${r.out}`);
  assert.notEqual(r.code, 0, `tfaas serve started on a read-only state directory:\n${r.out}`);
  assert.doesNotMatch(r.out, /listening on/);
  assert.doesNotMatch(r.out, /Sanitizer|runtime error/, r.out);
  assert.match(r.out, new RegExp(`tfaas serve: .*${stateDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), r.out);
  assert.match(r.out, reason, r.out);
  return r;
}

test('an existing store made read-only: clear error, non-zero exit, files untouched', async () => {
  const dir = join(root, 'existing');
  const server = await startServer({ stateDir: dir });
  await putAction(server, 'kept', 'function main() { return {}; }');
  await server.stop();
  readOnly(dir);
  const before = snapshot(dir);
  await serveFails(dir, /read-?only|Permission denied|writable/i);
  assert.deepEqual(snapshot(dir), before);
  chmodSync(dir, 0o755);
  assert.equal(await integrityCheck(dir), 'ok');
});

test('an empty read-only state directory: clear error, non-zero exit, nothing created', async () => {
  const dir = join(root, 'empty');
  mkdirSync(dir);
  readOnly(dir);
  await serveFails(dir, /Permission denied|read-?only/i);
  assert.deepEqual(readdirSync(dir), []);
});

test('a state directory under a read-only parent: clear error, non-zero exit', async () => {
  const parent = join(root, 'parent');
  mkdirSync(parent);
  readOnly(parent);
  await serveFails(join(parent, 'state'), /cannot create state directory.*Permission denied/);
});

test('a state directory that cannot be searched: clear error, non-zero exit, files untouched', async () => {
  const dir = join(root, 'unsearchable');
  const server = await startServer({ stateDir: dir });
  await server.stop();
  const before = snapshot(dir);
  chmodSync(dir, 0o600);
  await serveFails(dir, /cannot reach state database.*Permission denied/);
  chmodSync(dir, 0o755);
  assert.deepEqual(snapshot(dir), before);
});
