// attestation-hardware.test.mjs - `tfaas attest` against a KMS that presents
// hardware evidence (docs/protocol.md §5.5). tfaas produces no hardware
// evidence yet, so the host plays the attacker: a proxy in front of a real
// `tfaas serve` answers GET /tfaas/v1/attestation with the real KMS keys but
// genuine SGX/TDX/SEV-SNP evidence recorded elsewhere
// (../shared/hw-evidence, TFAAS_HW_EVIDENCE; skipped, saying so, when
// absent). The client must verify that evidence for what it is and refuse
// it, saying why, and pin nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, api } from '../lib/server.mjs';
import { runClient } from '../lib/run.mjs';
import { startHostProxy } from '../lib/host-proxy.mjs';

const SAMPLES = process.env.TFAAS_HW_EVIDENCE;
const skip = !SAMPLES || !existsSync(join(SAMPLES, 'manifest.json'))
  ? 'no hardware evidence samples (../shared/hw-evidence absent)' : false;

let server;
let dir;
let doc;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'tfaas-attest-hw-'));
  server = await startServer();
  doc = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
});
after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sample = (rel) => readFileSync(join(SAMPLES, rel));
const pem = (der) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;

// Runs `tfaas attest ARGS` through a host that serves `fake` as the document.
async function attestThrough(fake, args = []) {
  const proxy = await startHostProxy(server, (q) => {
    if (q.path === '/tfaas/v1/attestation')
      q.reply = { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(fake) };
  });
  const pin = join(dir, `pin-${Math.random().toString(36).slice(2)}.json`);
  try {
    const r = await runClient(['attest', ...args], { dir, server: proxy, auth: false, env: { TFAAS_KMS_PIN: pin } });
    return { ...r, pinned: existsSync(pin) };
  } finally {
    await proxy.stop();
  }
}

// The real KMS keys with a genuine SNP report (and its VCEK) as evidence.
function snpDoc(mutate = (b) => b) {
  const report = mutate(Buffer.from(sample('snp/virtee-milan.report')));
  const { platform_key: _, ...rest } = doc;
  return { ...rest, tee: 'sev-snp', evidence: report.toString('base64url'), key_cert: pem(sample('snp/virtee-milan.vcek.der')) };
}

test('genuine SEV-SNP evidence of another guest: verified as such, refused for not binding the KMS keys', { skip }, async () => {
  const r = await attestThrough(snpDoc());
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /KMS attestation REFUSED: the evidence does not bind the KMS keys the server sent \(sev-snp evidence binds other report data\)/);
  assert.equal(r.pinned, false);
});

test('the same report with one bit flipped: refused for its signature', { skip }, async () => {
  const r = await attestThrough(snpDoc((b) => { b[0x90] ^= 1; return b; }));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /REFUSED: evidence signature does not verify: report signature does not verify with the VCEK/);
  assert.equal(r.pinned, false);
});

test('--ca that does not hold the chain of the key certificate: refused', { skip }, async () => {
  const r = await attestThrough(snpDoc(), ['--ca', join(SAMPLES, 'roots/amd-genoa-ask-ark.pem')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /REFUSED: certificate chain does not verify to a trusted root: VCEK certificate chain/);
});

test('a genuine TDX quote with its collateral, whose CRLs and TCB info have expired by now: refused for that', { skip }, async () => {
  const collateral = JSON.parse(sample('tdx/phala-2506-tdx-b0c06f000000.collateral.json'));
  const { platform_key: _, ...rest } = doc;
  const fake = { ...rest, tee: 'tdx', evidence: sample('tdx/phala-tdx-v4.quote').toString('base64url'), collateral };
  const r = await attestThrough(fake);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /REFUSED: .*(CRL has expired|collateral not valid at the verification time)/);
  // without collateral the quote cannot be judged at all
  const r2 = await attestThrough({ ...fake, collateral: undefined });
  assert.match(r2.stderr, /REFUSED: evidence needs collateral/);
});

test('--measurement takes 64 or 96 hex digits', { skip }, async () => {
  const r = await attestThrough(snpDoc(), ['--measurement', 'ab'.repeat(47)]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /96 for TDX or SEV-SNP/);
});
