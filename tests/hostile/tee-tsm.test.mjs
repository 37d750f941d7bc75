// tee-tsm.test.mjs - confidential workers on the hardware TEE backends
// (`tfaas serve --worker-tee tsm:DIR`, `gramine:DIR`) against fakes of their
// files (build/tests/fake_tee_tool) that serve a genuine SEV-SNP report (with
// its VCEK in configfs-tsm's auxblob) or SGX quote from ../shared/hw-evidence
// (TFAAS_HW_EVIDENCE; skipped, saying so, when absent). Genuine evidence
// cannot carry our report data, so the host plays the two attacks a real
// host could:
//  - it replays the genuine report as it is: the worker enclave refuses to
//    start (the report does not carry the report data it wrote);
//  - it splices the worker's report data into the genuine report: the worker
//    starts and asks for keys, and the key service verifies the report with
//    the pinned AMD roots and the VCEK as of now and refuses it (signature):
//    403, nothing released.
// Gramine the same way: no collateral reaches the key service yet, so the
// spliced quote is refused for want of it. And the operator's hardware test
// (scripts/hw-tee-test.sh) fails on both kinds of fake.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, api } from '../lib/server.mjs';
import { poll } from '../lib/e2e.mjs';
import { confidentialOf, deployBody, kmsSigningKey, ohttpInvoke } from '../lib/confidential.mjs';

const SAMPLES = process.env.TFAAS_HW_EVIDENCE;
const TOOL = join(process.env.TFAAS_TESTS_BIN || new URL('../../build/tests', import.meta.url).pathname, 'fake_tee_tool');
const skip = !SAMPLES || !existsSync(join(SAMPLES, 'manifest.json'))
  ? 'no hardware evidence samples (../shared/hw-evidence absent)' : false;
const REPORT = 'snp/virtee-milan.report';
const VCEK = 'snp/virtee-milan.vcek.der';
const SNP_REPORT_DATA_AT = 0x50;
const QUOTE = 'sgx/phala-sgx-v3.quote';
const SGX_REPORT_DATA_AT = 48 + 320; // header, then the report body's REPORTDATA
const CODE = 'function main(p) { return { hello: p.name }; }';

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

// A fake (fake_tee_tool ARGS: tsm or gramine) in a fresh directory; resolves
// once it serves.
async function fake(kind, ...args) {
  const root = mkdtempSync(join(tmpdir(), `tfaas-${kind}-`));
  const proc = spawn(TOOL, [kind, root, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => { if (String(d).includes('ready')) resolve(); });
    proc.on('exit', (code) => reject(new Error(`fake_tee_tool exited ${code}`)));
  });
  cleanup.push(async () => { proc.kill('SIGKILL'); rmSync(root, { recursive: true, force: true }); });
  return root;
}
const fakeTsm = (spliceAt) => fake('tsm', 'sev_guest', join(SAMPLES, REPORT), String(spliceAt), join(SAMPLES, VCEK));
const fakeGramine = (spliceAt) => fake('gramine', join(SAMPLES, QUOTE), String(spliceAt));

// A server whose confidential workers use the fake (`--worker-tee
// BACKEND:root`), and a deployed confidential function whose policy names
// the genuine evidence's guest or enclave.
async function serverWithFunction(backend, root, policy) {
  const server = await startServer({ extraArgs: ['--worker-tee', `${backend}:${root}`] });
  cleanup.push(() => server.stop());
  const attestation = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
  const r = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/hw',
    { body: await deployBody(attestation, 'hw', CODE, { policy }) });
  assert.equal(r.status, 200, r.text);
  return { server, certificate: confidentialOf(r.body).certificate, kmsKey: await kmsSigningKey(attestation) };
}
const snpPolicy = () => ({
  measurements: [readFileSync(join(SAMPLES, REPORT)).subarray(0x90, 0xc0).toString('hex')], engine: 'duktape', tee: ['sev-snp'],
});
const sgxPolicy = () => ({
  measurements: [readFileSync(join(SAMPLES, QUOTE)).subarray(48 + 64, 48 + 96).toString('hex')], engine: 'duktape', tee: ['sgx'],
});

test('a replayed genuine SEV-SNP report: the worker enclave refuses to start, saying why; nothing runs', { skip }, async () => {
  const { server, certificate, kmsKey } = await serverWithFunction('tsm', await fakeTsm(-1), snpPolicy());
  const r = await ohttpInvoke(server, 'hw', certificate, kmsKey, { name: 'x' });
  assert.ok(r.res.status >= 500, `status ${r.res.status}: ${r.bytes}`);
  // the enclave's stderr reaches the server's log before its exit fails the request; poll is a backstop
  assert.ok(await poll(() => /does not carry the report data written/.test(server.logs())), server.logs());
});

test('our report data spliced into a genuine SEV-SNP report: the key service refuses it (pinned AMD roots, VCEK from auxblob): 403', { skip }, async () => {
  const { server, certificate, kmsKey } = await serverWithFunction('tsm', await fakeTsm(SNP_REPORT_DATA_AT), snpPolicy());
  const r = await ohttpInvoke(server, 'hw', certificate, kmsKey, { name: 'x' });
  assert.equal(r.res.status, 403, String(r.bytes));
  assert.match(String(r.bytes), /evidence does not verify: evidence signature does not verify/);
  assert.doesNotMatch(server.logs(), /does not carry the report data written/);
});

test('gramine: a replayed genuine SGX quote stops the worker; our report data spliced in is refused by the key service (no collateral reaches it yet): 403', { skip }, async () => {
  const replay = await serverWithFunction('gramine', await fakeGramine(-1), sgxPolicy());
  const r = await ohttpInvoke(replay.server, 'hw', replay.certificate, replay.kmsKey, { name: 'x' });
  assert.ok(r.res.status >= 500, `status ${r.res.status}: ${r.bytes}`);
  assert.ok(await poll(() => /gramine: the platform's sgx evidence does not carry the report data written/.test(replay.server.logs())),
    replay.server.logs());
  const spliced = await serverWithFunction('gramine', await fakeGramine(SGX_REPORT_DATA_AT), sgxPolicy());
  const r2 = await ohttpInvoke(spliced.server, 'hw', spliced.certificate, spliced.kmsKey, { name: 'x' });
  assert.equal(r2.res.status, 403, String(r2.bytes));
  assert.match(String(r2.bytes), /evidence does not verify: evidence needs collateral or a key certificate that was not given/);
});

// The operator's hardware test (scripts/hw-tee-test.sh, tee_hw_probe) run on
// the fake: it must fail, saying why, where hardware would pass.
test('scripts/hw-tee-test.sh on the fake: the spliced report fails verification (exit 1, signature), the replayed one fails at start (exit 2)', { skip }, async () => {
  const script = new URL('../../scripts/hw-tee-test.sh', import.meta.url).pathname;
  const out = mkdtempSync(join(tmpdir(), 'tfaas-hwtest-'));
  cleanup.push(() => rmSync(out, { recursive: true, force: true }));
  const run = (root) => new Promise((resolve) => {
    execFile(script, ['tsm', '--tee-root', root], { env: { ...process.env, HW_TEE_OUT: join(out, 'ev.txt') } },
      (e, stdout, stderr) => resolve({ code: e ? e.code : 0, stderr }));
  });
  const spliced = await run(await fakeTsm(SNP_REPORT_DATA_AT));
  assert.equal(spliced.code, 1, spliced.stderr);
  assert.match(spliced.stderr, /tsm evidence refused: evidence signature does not verify/);
  assert.ok(readFileSync(join(out, 'ev.txt'), 'utf8').length > 1000); // the evidence is kept
  const replayed = await run(await fakeTsm(-1));
  assert.equal(replayed.code, 2, replayed.stderr);
  assert.match(replayed.stderr, /does not carry the report data written/);
});
