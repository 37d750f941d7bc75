// evidence-cli.test.mjs - `tfaas evidence verify` on the genuine SGX, TDX
// and SEV-SNP samples of ../shared/hw-evidence (TFAAS_HW_EVIDENCE; skipped,
// saying so, when absent): exit status, the --json claims, refusal of
// debug evidence, of stale collateral and of a tampered quote, and usage
// errors. The verification itself is unit-tested in test_evidence_hw.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBin } from '../lib/run.mjs';

const SAMPLES = process.env.TFAAS_HW_EVIDENCE;
const skip = !SAMPLES || !existsSync(join(SAMPLES, 'manifest.json'))
  ? 'no hardware evidence samples (../shared/hw-evidence absent)' : false;
const manifest = skip ? { samples: [] } : JSON.parse(readFileSync(join(SAMPLES, 'manifest.json'), 'utf8'));

function argsOf(s, at = s.verify_at) {
  const a = ['evidence', 'verify', join(SAMPLES, s.quote ?? s.report), '--at', at, '--json'];
  if (s.collateral) a.push('--collateral', join(SAMPLES, s.collateral));
  if (s.key_cert) a.push('--cert', join(SAMPLES, s.key_cert));
  if (s.ca_chain) a.push('--ca', join(SAMPLES, s.ca_chain));
  return a;
}

async function verify(args) {
  const r = await runBin('tfaas', args);
  return { ...r, json: r.stdout.trim().startsWith('{') ? JSON.parse(r.stdout) : null };
}

for (const s of manifest.samples) {
  test(`evidence verify ${s.id}: ${s.expect.verdict}${s.expect.debug ? ' (debug: refused)' : ''}`, { skip }, async () => {
    const r = await verify(argsOf(s));
    const accepted = s.expect.verdict === 'valid' && !s.expect.debug;
    assert.equal(r.code, accepted ? 0 : 1, r.stdout + r.stderr);
    assert.equal(r.json.verdict, accepted ? 'valid' : 'refused');
    if (s.expect.verdict === 'valid') {
      assert.equal(r.json.tee, s.kind === 'snp' ? 'sev-snp' : s.kind);
      assert.equal(r.json.debug, s.expect.debug);
      assert.equal(r.json.tcb_status, s.expect.tcb_status ?? '');
      assert.match(r.json.report_data, /^[0-9a-f]{128}$/);
      assert.match(r.json[{ sgx: 'mr_enclave', tdx: 'mr_td', snp: 'measurement' }[s.kind]], /^[0-9a-f]{64,96}$/);
      assert.ok(Array.isArray(r.json.advisory_ids));
    } else {
      assert.equal(r.json.error, 'TCB level not supported');
    }
  });
}

test('evidence verify refuses collateral and certificates outside their validity', { skip }, async () => {
  const dcap = manifest.samples.find((s) => s.id === 'phala-tdx-v4');
  let r = await verify(argsOf(dcap, '2025-10-01T00:00:00Z'));
  assert.equal(r.code, 1);
  assert.equal(r.json.verdict, 'refused');
  const snp = manifest.samples.find((s) => s.id === 'virtee-snp-milan');
  r = await verify(argsOf(snp, '2100-01-01T00:00:00Z'));
  assert.equal(r.code, 1);
  assert.match(r.json.reason, /expired/);
});

test('evidence verify refuses a quote with a flipped bit in its body', { skip }, async () => {
  const s = manifest.samples.find((x) => x.id === 'automata-sgx-v3');
  const dir = mkdtempSync(join(tmpdir(), 'tfaas-evidence-'));
  try {
    const q = readFileSync(join(SAMPLES, s.quote));
    q[48 + 64] ^= 1; // MRENCLAVE
    const path = join(dir, 'q');
    writeFileSync(path, q);
    const args = argsOf(s);
    args[2] = path;
    const r = await verify(args);
    assert.equal(r.code, 1);
    assert.equal(r.json.error, 'evidence signature does not verify');
    // Text output names the reason too.
    const t = await runBin('tfaas', args.filter((a) => a !== '--json'));
    assert.equal(t.code, 1);
    assert.match(t.stdout, /^REFUSED: quote signature does not verify/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('evidence verify: usage errors exit 2, unreadable files 1', async () => {
  assert.equal((await runBin('tfaas', ['evidence'])).code, 2);
  assert.equal((await runBin('tfaas', ['evidence', 'verify', 'x', '--at', 'yesterday'])).code, 2);
  assert.equal((await runBin('tfaas', ['evidence', 'verify', '/nonexistent/quote'])).code, 1);
  const help = await runBin('tfaas', ['evidence', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--collateral FILE/);
});
