// cli-web.test.mjs - the `tfaas` client's web actions, sequences and API
// routes against a real `tfaas serve`: action create --web / --sequence,
// api create|list|delete, and their usage errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../lib/server.mjs';
import { runBin } from '../lib/run.mjs';

let server;
let dir;
let env;

const run = (args) => runBin('tfaas', args, { env });
async function ok(args) {
  const r = await run(args);
  assert.equal(r.code, 0, `tfaas ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const GREET = "function main(p) { return { greeting: 'Hello, ' + (p.name || p.who || 'world') + '!' }; }";
const SHOUT = 'function main(p) { return { greeting: p.greeting.toUpperCase() }; }';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfaas-cliweb-'));
  server = await startServer();
  env = { PATH: process.env.PATH, HOME: dir, TFAAS_APIHOST: server.url, TFAAS_AUTH: server.auth,
    TFAAS_CONFIG: join(dir, 'no-such-config') };
  writeFileSync(join(dir, 'greet.js'), GREET);
  writeFileSync(join(dir, 'shout.js'), SHOUT);
});
after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('action create --web true serves the action without credentials', async () => {
  await ok(['action', 'create', 'greet', join(dir, 'greet.js'), '--web', 'true']);
  const doc = JSON.parse(await ok(['action', 'get', 'greet', '--json']));
  assert.ok(doc.annotations.some((a) => a.key === 'web-export' && a.value === true), JSON.stringify(doc));
  const r = await fetch(`${server.url}/api/v1/web/guest/default/greet.json?name=Ada`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { greeting: 'Hello, Ada!' });
  await ok(['action', 'update', 'greet', '--web', 'false']);
  assert.equal((await fetch(`${server.url}/api/v1/web/guest/default/greet.json`)).status, 404);
  await ok(['action', 'update', 'greet', '--web', 'raw']);
  const raw = JSON.parse(await ok(['action', 'get', 'greet', '--json']));
  assert.ok(raw.annotations.some((a) => a.key === 'raw-http' && a.value === true));
  await ok(['action', 'update', 'greet', '--web', 'true']);
});

test('action create --sequence chains actions', async () => {
  await ok(['action', 'create', 'shout', join(dir, 'shout.js')]);
  await ok(['action', 'create', 'loud', '--sequence', 'greet,shout']);
  const out = JSON.parse(await ok(['action', 'invoke', 'loud', '-p', 'name', 'Ada', '--result']));
  assert.deepEqual(out, { greeting: 'HELLO, ADA!' });
  const doc = JSON.parse(await ok(['action', 'get', 'loud', '--json']));
  assert.deepEqual(doc.exec.components, ['/guest/greet', '/guest/shout']);
  // an update without --sequence keeps the components
  await ok(['action', 'update', 'loud', '-p', 'name', 'Bo']);
  const out2 = JSON.parse(await ok(['action', 'invoke', 'loud', '--result']));
  assert.deepEqual(out2, { greeting: 'HELLO, BO!' });
});

test('usage errors: exit 2 with the reason', async () => {
  for (const [args, msg] of [
    [['action', 'create', 'x', join(dir, 'greet.js'), '--sequence', 'a'], /--sequence takes no FILE/],
    [['action', 'create', 'x'], /missing FILE/],
    [['action', 'create', 'x', join(dir, 'greet.js'), '--web', 'maybe'], /true, false or raw/],
    [['action', 'create', 'x', '--sequence', 'greet', '--confidential'], /confidential/],
    [['api', 'create', '/b', '/p'], /missing/],
  ]) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  const bad = await run(['action', 'create', 'x', '--sequence', 'nothere']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Sequence component does not exist/);
});

test('api create, list and delete', async () => {
  const created = await ok(['api', 'create', '/hello', '/greet/{who}', 'get', 'greet']);
  assert.match(created, /^ok: created API http:\/\/.*\/apigw\/guest$/m);
  const list = await ok(['api', 'list']);
  assert.match(list, /^get\s+http:\/\/\S+\/apigw\/guest\/hello\/greet\/\{who\}\s+greet$/m);
  const r = await fetch(`${server.url}/apigw/guest/hello/greet/Ada`);
  assert.equal(r.status, 200);
  assert.deepEqual(await r.json(), { greeting: 'Hello, Ada!' });
  await ok(['api', 'delete', '/hello']);
  assert.equal((await fetch(`${server.url}/apigw/guest/hello/greet/Ada`)).status, 404);
  const again = await run(['api', 'delete', '/hello']);
  assert.equal(again.code, 1);
  const bad = await run(['api', 'create', 'nobase', '/p', 'GET', 'greet']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /base path/);
});
