// state-faults.test.mjs - `tfaas serve` on a state directory it cannot
// write: an existing store made read-only, an empty read-only directory,
// and a state path under a read-only parent. Each must fail at start with
// a message naming the state directory and the reason and a non-zero exit
// status, without crashing (no signal, no sanitizer report) and without
// touching the store's files. When the suite runs as root, the server runs
// as nobody (file modes do not bind root), from a copy of the binaries
// that nobody can execute, on directories given to nobody.
//
// And a state directory others could tamper with: one that its group or
// everyone can write to, or that another user owns, is refused before
// anything is created in it; links planted in a private one at the names
// of its secrets are neither read nor written through.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync, chownSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync,
  symlinkSync, writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServer, storeArgs } from '../lib/server.mjs';
import { putAction } from '../lib/e2e.mjs';
import { NOBODY, integrityCheck, isRoot, runTfaas } from '../lib/faults.mjs';

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
      if (e.isDirectory()) open(join(dir, e.name)); else if (!e.isSymbolicLink()) chmodSync(join(dir, e.name), 0o644);
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

// The unprivileged runs are nobody's: give them a directory of their own, as
// serve refuses a state directory owned by another user.
function giveToRunner(dir) {
  if (!isRoot()) return;
  chownSync(dir, NOBODY, NOBODY);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) giveToRunner(join(dir, e.name)); else chownSync(join(dir, e.name), NOBODY, NOBODY);
  }
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
  giveToRunner(dir);
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
  giveToRunner(dir);
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
  giveToRunner(dir);
  const before = snapshot(dir);
  chmodSync(dir, 0o600);
  await serveFails(dir, /cannot reach state database.*Permission denied/);
  chmodSync(dir, 0o755);
  assert.deepEqual(snapshot(dir), before);
});

// --- state directories others could tamper with --------------------------

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Links at the names of the state's secrets: the private key's to a file
// that does not exist yet (writing through would create it), the public
// key's and guest.auth's to files that exist (writing through would change
// them). Returns a check that none was read or written through.
function plantLinks(dir, name) {
  const victim = join(root, `victim-${name}`);
  mkdirSync(victim, { mode: 0o755 });
  writeFileSync(join(victim, 'existing.pem'), 'victim pem\n');
  writeFileSync(join(victim, 'auth'), 'victim auth\n');
  symlinkSync(join(victim, 'stolen.key'), join(dir, 'sim-platform.key'));
  symlinkSync(join(victim, 'existing.pem'), join(dir, 'sim-platform.pem'));
  symlinkSync(join(victim, 'auth'), join(dir, 'guest.auth'));
  return () => {
    assert.ok(!existsSync(join(victim, 'stolen.key')), 'the private key was written through a planted link');
    assert.equal(readFileSync(join(victim, 'existing.pem'), 'utf8'), 'victim pem\n');
    assert.equal(readFileSync(join(victim, 'auth'), 'utf8'), 'victim auth\n');
    assert.deepEqual(readdirSync(victim).sort(), ['auth', 'existing.pem']);
  };
}

async function refused(args, dir, reason) {
  // A server that (wrongly) starts is killed after 15 s: the failure.
  const r = await runTfaas(args, { timeoutMs: 15000 });
  assert.equal(r.signal, null, `tfaas was killed by ${r.signal} (did it start?):\n${r.out}`);
  assert.notEqual(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /listening on/);
  assert.doesNotMatch(r.out, /Sanitizer|runtime error/, r.out);
  assert.match(r.out, new RegExp(`state directory ${escape(dir)} ${reason}`), r.out);
}

for (const [label, mode, reason] of [
  ['world-writable', 0o777, 'is writable by others \\(mode 777\\).*chmod go-w'],
  ['world-writable sticky (like /tmp)', 0o1777, 'is writable by others'],
  ['group-writable', 0o770, 'is writable by its group'],
]) {
  test(`a ${label} state directory with planted links is refused before anything is written`, async () => {
    const dir = join(root, `open-${mode.toString(8)}`);
    mkdirSync(dir);
    chmodSync(dir, mode);
    const untouched = plantLinks(dir, mode.toString(8));
    // storeArgs: under make test-pg serve's store is PostgreSQL, and the
    // directory (the keys, guest.auth) must still be checked.
    await refused(['serve', '--listen', '127.0.0.1:0', '--state', dir, ...storeArgs(dir)], dir, reason);
    await refused(['admin', 'namespace', 'list', '--state', dir], dir, reason);
    assert.deepEqual(readdirSync(dir).sort(), ['guest.auth', 'sim-platform.key', 'sim-platform.pem']);
    untouched();
  });
}

test('a state directory owned by another user is refused', { skip: !isRoot() && 'only root can make one' }, async () => {
  const dir = join(root, 'nobodys');
  mkdirSync(dir, { mode: 0o700 });
  chownSync(dir, NOBODY, NOBODY);
  await refused(['serve', '--listen', '127.0.0.1:0', '--state', dir, ...storeArgs(dir)], dir, `belongs to uid ${NOBODY}`);
  assert.deepEqual(readdirSync(dir), []);
});

test('links planted in a private state directory are neither read nor written through', async () => {
  const dir = join(root, 'planted');
  mkdirSync(dir, { mode: 0o700 });
  const untouched = plantLinks(dir, 'private');
  // It starts (the links are the owner's own doing), without the platform
  // key, and says why; guest.auth is replaced by a file of its own.
  const server = await startServer({ stateDir: dir });
  try {
    assert.match(server.logs(), /sim-platform\.key: it is a symbolic link/, server.logs());
  } finally {
    await server.stop();
  }
  untouched();
  assert.ok(lstatSync(join(dir, 'guest.auth')).isFile(), 'guest.auth is still a link');
  assert.equal(readFileSync(join(dir, 'guest.auth'), 'utf8').trim(), server.auth);
});
