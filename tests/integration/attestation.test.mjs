// attestation.test.mjs - the key service end to end: GET /tfaas/v1/attestation
// from a real `tfaas serve` and its KMS enclave, `tfaas attest` with a root,
// an expected measurement and trust on first use, keys that survive a
// restart and a KMS crash, and sealed keys that refuse to open elsewhere.
// The KMS is its own binary (tfaas-kms): its measurement is not a worker's,
// and the document lists the worker measurements beside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, statSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, api, sleep } from '../lib/server.mjs';
import { runBin, runClient } from '../lib/run.mjs';
import { ENGINE_KINDS } from '../lib/e2e.mjs';
import { kmsPid, tamperFile } from '../lib/faults.mjs';

let server;
let dir;
let measurement;
const workerMeasurements = {}; // engine -> what the worker binary reports

const attest = (args, extra) => runClient(['attest', ...args], { dir, server, auth: false, env: extra });
const b64u = (s) => Buffer.from(s, 'base64url');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfaas-attest-'));
  server = await startServer({ keepState: true });
  measurement = (await runBin('tfaas-kms', ['--measurement'])).stdout.trim();
  assert.match(measurement, /^[0-9a-f]{64}$/);
  workerMeasurements.duktape = (await runBin('tfaas-enclave', ['--measurement'])).stdout.trim();
  if (ENGINE_KINDS.includes('js:v8')) workerMeasurements.v8 = (await runBin('tfaas-enclave-v8', ['--measurement'])).stdout.trim();
});
after(async () => {
  await server?.stop();
  rmSync(server.stateDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

test('the attestation document binds the KMS keys to its evidence', async () => {
  const r = await api(server, 'GET', '/tfaas/v1/attestation', { auth: null });
  assert.equal(r.status, 200, r.text);
  const doc = r.body;
  assert.equal(doc.tee, 'sim');
  assert.equal(doc.measurement, measurement);
  assert.equal(doc.kms.signing_key.kty, 'EC');
  assert.equal(doc.kms.hpke_key.kem_id, 32);
  assert.equal(b64u(doc.kms.hpke_key.public_key).length, 32);
  // the evidence claims, read without a JOSE library (compat/jose checks the signature)
  const [h, p] = doc.evidence.split('.');
  assert.equal(JSON.parse(b64u(h)).typ, 'tfaas-sim-evidence+jwt');
  const claims = JSON.parse(b64u(p));
  assert.equal(claims.measurement, measurement);
  assert.equal(claims.engine, 'kms', 'the key service runs no JavaScript engine');
  // the worker binaries measure differently from the KMS: none can derive its sealing key
  assert.deepEqual(doc.workers, workerMeasurements);
  for (const m of Object.values(doc.workers)) assert.notEqual(m, measurement);
  const point = Buffer.concat([Buffer.from([4]), b64u(doc.kms.signing_key.x), b64u(doc.kms.signing_key.y)]);
  const rd = createHash('sha512').update(Buffer.concat([Buffer.from('tfaas kms keys v1\0'), point,
    b64u(doc.kms.hpke_key.public_key)])).digest();
  assert.deepEqual(b64u(claims.report_data), rd);
  // the platform root and the sealed keys in the state directory
  assert.equal(readFileSync(join(server.stateDir, 'sim-platform.pem'), 'utf8'), doc.platform_key);
  assert.equal(statSync(join(server.stateDir, 'sim-platform.key')).mode & 0o777, 0o600);
  assert.ok(existsSync(join(server.stateDir, 'kms-keys.sealed')));
});

test('tfaas attest verifies against the root and measurement, refuses others, warns on TOFU', async () => {
  const root = join(server.stateDir, 'sim-platform.pem');
  let r = await attest(['--root', root, '--measurement', measurement]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`measurement  ${measurement}`));
  assert.doesNotMatch(r.stderr, /TRUST ON FIRST USE/);
  const pin = JSON.parse(readFileSync(join(dir, 'cfg', 'kms-pin.json'), 'utf8'));
  assert.equal(pin.measurement, measurement);
  assert.equal(pin.trust_on_first_use, false);

  const wrong = measurement.replace(/^./, (c) => (c === '0' ? '1' : '0'));
  r = await attest(['--root', root, '--measurement', wrong]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /REFUSED: evidence is of an enclave with another measurement/);

  const other = mkdtempSync(join(tmpdir(), 'tfaas-other-'));
  const otherServer = await startServer({ stateDir: other });
  await otherServer.stop();
  r = await attest(['--root', join(other, 'sim-platform.pem')]);
  rmSync(other, { recursive: true, force: true });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /REFUSED: evidence not signed by the trusted platform root/);

  r = await attest(['--measurement', 'xyz']);
  assert.equal(r.code, 2);

  // the worker measurements: pinned, checked against --worker-measurement
  const workerArgs = Object.entries(workerMeasurements).flatMap(([e, m]) => ['--worker-measurement', `${e}=${m}`]);
  r = await attest(['--root', root, '--measurement', measurement, ...workerArgs]);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /worker measurement below is the server's word/);
  assert.match(r.stdout, new RegExp(`worker       duktape ${workerMeasurements.duktape}`));
  r = await attest(['--root', root, '--measurement', measurement, '--worker-measurement', `duktape=${measurement}`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /REFUSED: the server's duktape worker measurement is [0-9a-f]{64}, not /);
  r = await attest(['--root', root, '--worker-measurement', 'duktape']);
  assert.equal(r.code, 2);

  // a fresh client without --root: trust on first use, said loudly
  r = await attest([], { TFAAS_KMS_PIN: join(dir, 'tofu-pin.json') });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /TRUST ON FIRST USE/);
  assert.equal(JSON.parse(readFileSync(join(dir, 'tofu-pin.json'), 'utf8')).trust_on_first_use, true);
});

test('a TOFU pin refuses a server whose platform key changed', async () => {
  const pinFile = join(dir, 'tofu-pin.json');
  const pin = JSON.parse(readFileSync(pinFile, 'utf8'));
  const other = mkdtempSync(join(tmpdir(), 'tfaas-other-'));
  const otherServer = await startServer({ stateDir: other });
  const r = await attest([], { TFAAS_KMS_PIN: pinFile, TFAAS_APIHOST: otherServer.url });
  await otherServer.stop();
  rmSync(other, { recursive: true, force: true });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /platform key differs from the one pinned/);
  assert.deepEqual(JSON.parse(readFileSync(pinFile, 'utf8')), pin);
});

test('the KMS keys survive a KMS crash and a server restart', async () => {
  const before1 = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
  const pid = kmsPid(server.proc.pid);
  assert.ok(pid, 'a KMS enclave runs');
  process.kill(pid, 'SIGKILL');
  await sleep(100);
  const after1 = await api(server, 'GET', '/tfaas/v1/attestation', { auth: null });
  assert.equal(after1.status, 200, after1.text);
  assert.deepEqual(after1.body.kms, before1.kms);
  const pid2 = kmsPid(server.proc.pid);
  assert.ok(pid2 && pid2 !== pid, 'a new KMS enclave runs');

  await server.stop();
  server = await startServer({ stateDir: server.stateDir, keepState: true });
  const after2 = await api(server, 'GET', '/tfaas/v1/attestation', { auth: null });
  assert.equal(after2.status, 200);
  assert.deepEqual(after2.body.kms, before1.kms);
});

test('tampered or foreign sealed keys do not open: 503, and the blob is kept', async () => {
  const state = server.stateDir;
  await server.stop();
  const sealedPath = join(state, 'kms-keys.sealed');
  const { good, bad } = tamperFile(sealedPath, 3);
  server = await startServer({ stateDir: state, keepState: true });
  let r = await api(server, 'GET', '/tfaas/v1/attestation', { auth: null });
  assert.equal(r.status, 503);
  assert.equal(r.body.error, 'The key service is not available.'); // docs/protocol.md §5.4, word for word
  assert.match(server.logs(), /do not unseal in this enclave/);
  assert.deepEqual(readFileSync(sealedPath), bad, 'the host never replaces keys it could not open');

  // a blob sealed by another installation (another platform key)
  const other = mkdtempSync(join(tmpdir(), 'tfaas-other-'));
  const otherServer = await startServer({ stateDir: other });
  await otherServer.stop();
  await server.stop();
  writeFileSync(sealedPath, readFileSync(join(other, 'kms-keys.sealed')));
  rmSync(other, { recursive: true, force: true });
  server = await startServer({ stateDir: state, keepState: true });
  r = await api(server, 'GET', '/tfaas/v1/attestation', { auth: null });
  assert.equal(r.status, 503);

  // the original blob works again
  await server.stop();
  writeFileSync(sealedPath, good);
  server = await startServer({ stateDir: state, keepState: true });
  r = await api(server, 'GET', '/tfaas/v1/attestation', { auth: null });
  assert.equal(r.status, 200);
});
