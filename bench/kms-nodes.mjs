// The key service on several nodes (issue 16, docs/protocol.md §5.6): what a
// confidential function's first call costs on node B when it was deployed
// through node A (B's KMS syncs the shared state from the store and releases
// the keys of a record A's KMS made), against the first call on A itself
// and a warm call on B; and how long B takes to start when its KMS joins
// A's (the attested key transfer) against A's own start.
// Both nodes share A's state directory as their store (SQLite; the same
// code path as PostgreSQL for the KMS) and A's sim platform key.
// usage: node kms-nodes.mjs --bin DIR --tmp DIR --out FILE.json [--rounds 8] [--server-cpu 0]
import { copyFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HELLO_CODE, basicAuth, fail, parseArgs, startServe, stopGroup, summarize } from './lib.mjs';
import { confidentialOf, deployBody } from '../tests/lib/confidential.mjs';
import { AEADS, bhttpJsonRequest, ohttpClient, ohttpOpenResponse } from '../tests/lib/ohttp-client.mjs';

const args = parseArgs(process.argv.slice(2));
if (!args.bin || !args.tmp || !args.out) fail('kms-nodes.mjs: --bin, --tmp and --out are required');
const rounds = Number(args.rounds || 8);
const cpu = args['server-cpu'] || '0';
const log = (m) => console.error(`bench: ${m}`);
const AEAD = AEADS.find((a) => a.name === 'ChaCha20-Poly1305');

// Deploys HELLO_CODE confidentially as `name` through node n; its OHTTP keys.
async function deploy(n, att, name) {
  const r = await fetch(`${n.base}/tfaas/v1/namespaces/_/actions/${name}`, {
    method: 'PUT', headers: { authorization: basicAuth(n.auth), 'content-type': 'application/json' },
    body: JSON.stringify(await deployBody(att, name, HELLO_CODE)),
  });
  const body = await r.json();
  if (r.status !== 200) fail(`deploy ${name}: HTTP ${r.status} ${JSON.stringify(body).slice(0, 200)}`);
  const cert = confidentialOf(body).certificate;
  return new Uint8Array(Buffer.from(JSON.parse(Buffer.from(cert.split('.')[1], 'base64url')).ohttp_keys, 'base64url'));
}

// One confidential call of `name` through node n; its wall time in ms.
async function call(n, name, keys) {
  const st = await ohttpClient(keys, AEAD, await bhttpJsonRequest(`/${name}`, { name: 'Ada' }));
  const t0 = process.hrtime.bigint();
  const r = await fetch(`${n.base}/tfaas/v1/namespaces/_/actions/${name}/ohttp`, {
    method: 'POST', headers: { authorization: basicAuth(n.auth), 'content-type': 'message/ohttp-req' }, body: st.encReq,
  });
  const bytes = new Uint8Array(await r.arrayBuffer());
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 200) fail(`call ${name}: HTTP ${r.status} ${Buffer.from(bytes).toString().slice(0, 200)}`);
  const inner = (await ohttpOpenResponse(st, AEAD, bytes)).toString('latin1');
  if (!inner.includes('Hello, Ada!')) fail(`call ${name}: unexpected response`);
  return ms;
}

let t = performance.now();
const a = await startServe({ bin: args.bin, tmp: args.tmp, cpu });
const startA = performance.now() - t;
let b;
try {
  t = performance.now();
  b = await startServe({
    bin: args.bin, tmp: args.tmp, cpu,
    extraArgs: ['--store', a.state, '--guest-auth', a.auth, '--kms-peer', a.base],
    prepareState: (dir) => ['sim-platform.key', 'sim-platform.pem'].forEach((f) => copyFileSync(path.join(a.state, f), path.join(dir, f))),
  });
  const startB = performance.now() - t;
  b.auth = a.auth;
  const att = await (await fetch(`${a.base}/tfaas/v1/attestation`)).json();
  const attB = await (await fetch(`${b.base}/tfaas/v1/attestation`)).json();
  if (JSON.stringify(attB.kms) !== JSON.stringify(att.kms)) fail('node B does not present node A\'s key service keys');
  const cross = [], local = [], warm = [];
  for (let i = 0; i < rounds; i++) {
    const kx = await deploy(a, att, `x${i}`);
    cross.push(await call(b, `x${i}`, kx));
    warm.push(await call(b, `x${i}`, kx));
    const kl = await deploy(a, att, `l${i}`);
    local.push(await call(a, `l${i}`, kl));
  }
  const out = {
    start_ms: { node_a: startA, node_b_joining: startB },
    first_call_ms: { cross_node: summarize(cross), same_node: summarize(local) },
    warm_call_ms: summarize(warm),
    rounds,
  };
  writeFileSync(args.out, JSON.stringify(out, null, 2));
  log(`kms-nodes: start A ${startA.toFixed(0)} ms, B joining ${startB.toFixed(0)} ms; first call on B after deploy on A ` +
      `median ${out.first_call_ms.cross_node.p50.toFixed(1)} ms, on A ${out.first_call_ms.same_node.p50.toFixed(1)} ms, ` +
      `warm on B ${out.warm_call_ms.p50.toFixed(1)} ms`);
} finally {
  if (b) await stopGroup(b.child);
  await stopGroup(a.child);
}
