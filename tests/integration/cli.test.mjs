// cli.test.mjs - drives the real `tfaas` client binary against a real
// `tfaas serve`: action create/list/get/update/delete/invoke, activations,
// connection settings (env, flags, config file) and error exits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServer, sleep, freePort } from '../lib/server.mjs';
import { runBin } from '../lib/run.mjs';

let server;
let dir;
let env;

// Runs the client; resolves { code, stdout, stderr }.
function run(args, { extraEnv = {}, input, baseEnv = env } = {}) {
  return runBin('tfaas', args, { env: { ...baseEnv, ...extraEnv }, input });
}

// Runs and insists on exit 0, returning stdout.
async function ok(args, opts) {
  const r = await run(args, opts);
  assert.equal(r.code, 0, `tfaas ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const file = (name, text) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

// Polls `activation get ID --json` until the record exists.
async function waitActivation(id) {
  for (let i = 0; i < 100; i++) {
    const r = await run(['activation', 'get', id, '--json']);
    if (r.code === 0) return JSON.parse(r.stdout);
    await sleep(100);
  }
  throw new Error(`activation ${id} never appeared`);
}

const HELLO = `function main(params) {
  console.log('hello log ' + params.name);
  return { greeting: 'hello ' + params.name, n: params.n };
}`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfaas-cli-'));
  server = await startServer();
  // No ambient config may leak in: a config path that does not exist.
  env = {
    PATH: process.env.PATH,
    HOME: dir,
    TFAAS_APIHOST: server.url,
    TFAAS_AUTH: server.auth,
    TFAAS_CONFIG: join(dir, 'no-such-config'),
  };
});

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('create, list and get an action', async () => {
  const out = await ok(['action', 'create', 'hello', file('hello.js', HELLO)]);
  assert.match(out, /^ok: created action hello$/m);

  const dup = await run(['action', 'create', 'hello', file('hello.js', HELLO)]);
  assert.equal(dup.code, 1, 'creating an existing action fails');
  assert.match(dup.stderr, /^error: .+/m);

  const list = await ok(['action', 'list']);
  assert.match(list, /^hello\s+js:duktape\s/m);
  const listed = JSON.parse(await ok(['action', 'list', '--json']));
  assert.ok(listed.some((a) => a.name === 'hello'));

  const got = await ok(['action', 'get', 'hello']);
  assert.match(got, /^ok: got action hello$/m);
  const doc = JSON.parse(await ok(['action', 'get', 'hello', '--json', '--code']));
  assert.equal(doc.name, 'hello');
  assert.equal(doc.exec.kind, 'js:duktape');
  assert.equal(doc.exec.code, HELLO);
});

test('blocking invoke with --result and JSON-or-string parameters', async () => {
  const out = await ok(['action', 'invoke', 'hello', '--result', '-p', 'name', 'Bob', '-p', 'n', '42']);
  const result = JSON.parse(out);
  assert.deepEqual(result, { greeting: 'hello Bob', n: 42 });

  const quoted = JSON.parse(await ok(['action', 'invoke', 'hello', '-r', '-p', 'name', '"7"', '-p', 'n', 'x y']));
  assert.deepEqual(quoted, { greeting: 'hello 7', n: 'x y' });

  const params = file('params.json', JSON.stringify({ name: 'File', n: [1, 2] }));
  const fromFile = JSON.parse(await ok(['action', 'invoke', 'hello', '-r', '-P', params, '-p', 'n', '{"k":1}']));
  assert.deepEqual(fromFile, { greeting: 'hello File', n: { k: 1 } });

  const blocking = await ok(['action', 'invoke', 'hello', '--blocking', '-p', 'name', 'B']);
  assert.match(blocking, /^ok: invoked hello with id [0-9a-f]{32}$/m);
});

test('non-blocking invoke, then activation get, result, logs and list', async () => {
  const out = await ok(['action', 'invoke', 'hello', '-p', 'name', 'Async', '-p', 'n', '1']);
  const m = /^ok: invoked hello with id ([0-9a-f]{32})$/m.exec(out);
  assert.ok(m, `unexpected output: ${out}`);
  const id = m[1];

  const record = await waitActivation(id);
  assert.equal(record.activationId, id);
  assert.equal(record.name, 'hello');
  assert.equal(record.response.success, true);

  const human = await ok(['activation', 'get', id]);
  assert.match(human, new RegExp(`^ok: got activation ${id}$`, 'm'));

  const result = JSON.parse(await ok(['activation', 'result', id]));
  assert.deepEqual(result, { greeting: 'hello Async', n: 1 });

  const logs = await ok(['activation', 'logs', id]);
  assert.match(logs, /hello log Async/);

  const list = await ok(['activation', 'list', 'hello', '--limit', '50']);
  assert.match(list, new RegExp(`${id}\\s+success`));
  const listed = JSON.parse(await ok(['activation', 'list', '--json']));
  assert.ok(listed.some((a) => a.activationId === id));
});

test('update changes code and limits; a failing action exits 1', async () => {
  const v2 = 'function main(p) { return { version: 2 }; }';
  const out = await ok(['action', 'update', 'hello', file('v2.js', v2), '--memory', '128', '--timeout', '5000']);
  assert.match(out, /^ok: updated action hello$/m);
  const doc = JSON.parse(await ok(['action', 'get', 'hello', '--json', '--code']));
  assert.equal(doc.exec.code, v2);
  assert.equal(doc.limits.memory, 128);
  assert.equal(doc.limits.timeout, 5000);
  assert.deepEqual(JSON.parse(await ok(['action', 'invoke', 'hello', '-r'])), { version: 2 });

  // Update without a FILE keeps the code and changes only the limit.
  await ok(['action', 'update', 'hello', '--timeout', '6000']);
  const doc2 = JSON.parse(await ok(['action', 'get', 'hello', '--json', '--code']));
  assert.equal(doc2.exec.code, v2);
  assert.equal(doc2.limits.timeout, 6000);

  await ok(['action', 'create', 'boom', '-'], { input: 'function main() { throw new Error("kaboom"); }' });
  const r = await run(['action', 'invoke', 'boom', '-r']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: action boom failed/m);
  assert.ok(JSON.parse(r.stdout).error, 'the failed result is printed');
});

test('delete, then the action is gone', async () => {
  assert.match(await ok(['action', 'delete', 'hello']), /^ok: deleted action hello$/m);
  await run(['action', 'delete', 'boom']); // created by the previous test
  for (const args of [['action', 'get', 'hello'], ['action', 'delete', 'hello'], ['action', 'invoke', 'hello', '-r']]) {
    const r = await run(args);
    assert.equal(r.code, 1, args.join(' '));
    assert.match(r.stderr, /^error: .*(not exist|not found).*\(code: .+\)$/im, r.stderr);
  }
});

test('unknown activation id is an error', async () => {
  const r = await run(['activation', 'get', '0123456789abcdef0123456789abcdef']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: /m);
});

test('connection settings: flags beat env beat config file', async () => {
  const cfg = file('config', `# test config\nAPIHOST=${server.url}\nAUTH=${server.auth}\n`);
  const bare = { PATH: process.env.PATH, HOME: dir, TFAAS_CONFIG: cfg };
  await ok(['action', 'list'], { baseEnv: bare });

  const badAuth = `${server.auth.split(':')[0]}:wrong`;
  const viaEnv = await run(['action', 'list'], { baseEnv: bare, extraEnv: { TFAAS_AUTH: badAuth } });
  assert.equal(viaEnv.code, 1, 'env auth overrides the config file');
  assert.match(viaEnv.stderr, /^error: /m);

  await ok(['action', 'list', '--auth', server.auth], { baseEnv: bare, extraEnv: { TFAAS_AUTH: badAuth } });

  const broken = file('broken-config', 'this line has no equals sign\n');
  const r = await run(['action', 'list'], { baseEnv: { ...bare, TFAAS_CONFIG: broken } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /broken-config:1: expected KEY=VALUE/);
});

test('bad credentials exit 1 with the server message', async () => {
  const r = await run(['action', 'list', '--auth', 'not-a-user:not-a-key']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^error: .+/m);
});

test('server down: exit 1 naming the apihost', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const r = await run(['action', 'list', '--apihost', url]);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(url), r.stderr);
});

test('usage errors exit 2; --help exits 0', async () => {
  for (const args of [['action'], ['action', 'create'], ['action', 'create', 'x'], ['action', 'frob'],
    ['action', 'list', '--bogus'], ['action', 'get', 'a', 'b'], ['activation', 'list', '--limit', 'many'],
    ['action', 'invoke', 'x', '-p', 'only-key']]) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /usage: tfaas/);
  }
  for (const args of [['action', '--help'], ['action', 'create', '--help'], ['activation', 'logs', '-h']]) {
    const r = await run(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /^usage: tfaas /);
  }
  const missing = await run(['action', 'create', 'x', join(dir, 'missing.js')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /missing\.js/);
});
