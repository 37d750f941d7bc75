// confidential-canary.test.mjs - the tfaas CLI end to end (attest, action
// create --confidential, action invoke --confidential, receipt verify), and
// the canary check of issue 3: after a confidential deploy and invocation
// (on Duktape and on V8),
// the canary strings in the code, in the input and in the sealed default
// parameters (secrets: -p and -P of action create --confidential) appear
// nowhere in the state directory (SQLite files), the host's logs, or the
// memory of the host process (read through /proc/PID/mem, as a core dump
// would hold it); nor
// does the receipt (with the call's status, CPU time and peak memory), which
// travels inside the encrypted response only (issue 11).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SANITIZED, startServer, api } from '../lib/server.mjs';
import { runClient } from '../lib/run.mjs';
import { assertStateLacks, memoryHolds } from '../lib/confidential.mjs';
import { ENGINE_KINDS } from '../lib/e2e.mjs';

const CODE_CANARY = 'CANARY-in-the-code-5d1e0b';
const INPUT_CANARY = 'CANARY-in-the-input-93ac4f';
const SECRET_CANARY = 'CANARY-in-a-secret-parameter-c07a2e'; // -p of action create
const SECRET_FILE_CANARY = 'CANARY-in-a-secret-file-41b9d8'; // -P of action create (V8)
let server;
let dir;
let receiptField; // the receipt of one call (the tfaas-receipt field), as the client opened it

const tfaas = (args, extra) => runClient(args, { dir, server, env: extra });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfaas-canary-'));
  server = await startServer();
  writeFileSync(join(dir, 'f.js'),
    `function main(p) { console.log("log ${CODE_CANARY} " + p.secret + " " + p.apikey); ` +
    `return { echo: p.secret, tag: "${CODE_CANARY}", key: p.apikey }; }`);
  writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ apikey: SECRET_FILE_CANARY }));
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('attest, deploy and invoke with the CLI; the receipt verifies offline and refuses a forged one', async () => {
  let r = await tfaas(['attest', '--root', join(server.stateDir, 'sim-platform.pem')]);
  assert.equal(r.code, 0, r.stderr);
  r = await tfaas(['action', 'create', 'secret', join(dir, 'f.js'), '--confidential', '-p', 'apikey', SECRET_CANARY]);
  assert.equal(r.code, 0, r.stderr);
  r = await tfaas(['action', 'invoke', 'secret', '--confidential', '-p', 'secret', INPUT_CANARY]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { echo: INPUT_CANARY, tag: CODE_CANARY, key: SECRET_CANARY });
  // the request's parameters override the sealed defaults
  r = await tfaas(['action', 'invoke', 'secret', '--confidential', '-p', 'apikey', 'mine']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { tag: CODE_CANARY, key: 'mine' });
  // the host stores no parameter of it
  const doc = await api(server, 'GET', '/api/v1/namespaces/_/actions/secret');
  assert.deepEqual(doc.body.parameters, []);
  assert.match(r.stderr, /receipt verified: guest\/secret version 1, activation [0-9a-f]{32}/);

  r = await tfaas(['action', 'invoke', 'secret', '--confidential', '-p', 'secret', INPUT_CANARY, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.status, 200);
  receiptField = out.receipt;
  assert.equal(out.receipt_claims.status, 200);
  assert.ok(out.receipt_claims.peak_memory > 0);
  writeFileSync(join(dir, 'receipt.json'), r.stdout);
  r = await tfaas(['receipt', 'verify', join(dir, 'receipt.json')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok: receipt verified: activation/);
  // a receipt that does not match the response is refused
  writeFileSync(join(dir, 'forged.json'), JSON.stringify({ ...out, result_sha256: '00'.repeat(32) }));
  r = await tfaas(['receipt', 'verify', join(dir, 'forged.json')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /receipt REFUSED: the receipt does not match the request and the result/);
  // a receipt under another function's certificate is refused
  const other = { ...out, worker_certificate: out.function_certificate };
  writeFileSync(join(dir, 'forged2.json'), JSON.stringify(other));
  r = await tfaas(['receipt', 'verify', join(dir, 'forged2.json')]);
  assert.equal(r.code, 1);
  // invoking a function with no certificate, or a plain one, sends nothing
  await api(server, 'PUT', '/api/v1/namespaces/_/actions/plain', { body: { exec: { kind: 'js:duktape', code: 'function main(){return {};}' } } });
  r = await tfaas(['action', 'invoke', 'plain', '--confidential']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refusing to send anything: no deploy of 'plain' is pinned on this client/);
  r = await tfaas(['action', 'invoke', 'plain', '--confidential', '--expect-namespace', 'guest',
    '--expect-code-hash', '00'.repeat(32)]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not confidential/);
});

test('the same on V8: js:v8 deploys, invokes and verifies its receipt', { skip: !ENGINE_KINDS.includes('js:v8') && 'built without V8' }, async () => {
  let r = await tfaas(['action', 'create', 'secret-v8', join(dir, 'f.js'), '--confidential', '--kind', 'js:v8',
    '-P', join(dir, 'secrets.json')]);
  assert.equal(r.code, 0, r.stderr);
  r = await tfaas(['action', 'invoke', 'secret-v8', '--confidential', '-p', 'secret', INPUT_CANARY, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.result, { echo: INPUT_CANARY, tag: CODE_CANARY, key: SECRET_FILE_CANARY });
  writeFileSync(join(dir, 'receipt-v8.json'), r.stdout);
  r = await tfaas(['receipt', 'verify', join(dir, 'receipt-v8.json')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok: receipt verified: activation/);
});

test('the canaries and the receipt appear nowhere on the host: state files, logs, process memory', async () => {
  // the receipt's claims (status, cpu_time_us, peak_memory, nonce) as the
  // receipt carries them (base64url), and its signed root's signature
  const rf = JSON.parse(receiptField);
  const needles = [CODE_CANARY, INPUT_CANARY, SECRET_CANARY, rf.claims, rf.root.split('.')[2]];
  if (ENGINE_KINDS.includes('js:v8')) needles.push(SECRET_FILE_CANARY);
  assertStateLacks(server.stateDir, needles);
  for (const s of needles) assert.ok(!server.logs().includes(s), `the host's log holds ${s}`);
  // Under ASan the process maps terabytes of shadow and allocator space:
  // its memory is scanned in the release build only.
  if (SANITIZED) return;
  assert.deepEqual(memoryHolds(server.proc.pid, needles), [], 'the host process memory holds a canary');
  // the check itself works: a plaintext action puts its code in the host's memory
  const plainCanary = 'CANARY-plaintext-control-77e1';
  await api(server, 'PUT', '/api/v1/namespaces/_/actions/ctl', { body: { exec: { kind: 'js:duktape',
    code: `function main(){ return { v: "${plainCanary}" }; }` } } });
  await api(server, 'POST', '/api/v1/namespaces/_/actions/ctl?blocking=true', { body: {} });
  assert.deepEqual(memoryHolds(server.proc.pid, [plainCanary]), [plainCanary]);
});
