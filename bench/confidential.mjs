// Confidential hello (issue 3): the hello function deployed confidentially
// and called over the full OHTTP path (HPKE decapsulation in the worker
// enclave, Binary HTTP, the function, response encapsulation, a signed
// receipt inside every response), against the same hello deployed in plaintext,
// both with wrk at the same settings on the same server.
//
// Every confidential request must be a fresh encapsulation (the enclave
// refuses replays) and carry a Date within 60 s, so the requests are made
// just before the run by tests/tools' tfaas_crypto_tool (src/common's OHTTP
// client, in C) into a file that bench/wrk/ohttp.lua sends in order; their
// number is sized from the plaintext rate. One request made and opened by the
// JavaScript client (@hpke/core) first proves the path works end to end.
// Each run's server CPU is also split by thread name (`threads`, µs per
// request); with --perf FILE, `perf record --call-graph dwarf` of the server's
// processes covers the confidential run (where its stages' time goes).
// During the confidential run the JavaScript client also sends a request
// every 100 ms, opens its response and verifies its receipt chain (jose and
// WebCrypto): the sizes of the signed batches those receipts belong to
// (`batch_sizes_seen`) show how many calls one signature served.
// usage: node confidential.mjs --bin DIR --tools DIR --tmp DIR --out FILE.json
//        [--seconds 10] [--warmup 2] [--conns 64] [--server-cpu 0] [--client-cpu 1]
//        [--perf FILE] [--concurrency N]
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { HELLO_CODE, basicAuth, fail, parseArgs, putAction, runWrk, runWrkAsync, startServe, stopGroup, treeCpuUs,
  treePids, treeThreadCpuUs } from './lib.mjs';
import { confidentialOf, deployBody, jwsClaims, kmsSigningKey, verifyReceiptChain } from '../tests/lib/confidential.mjs';
import { AEADS, bhttpJsonRequest, ohttpClient, ohttpOpenInner } from '../tests/lib/ohttp-client.mjs';

const args = parseArgs(process.argv.slice(2));
if (!args.bin || !args.tools || !args.tmp || !args.out) fail('confidential.mjs: --bin, --tools, --tmp and --out are required');
const seconds = Number(args.seconds || 10);
const warmup = Number(args.warmup || 2);
const conns = Number(args.conns || 64);
const serverCpu = args['server-cpu'] || '0';
const clientCpu = args['client-cpu'] || '1';
const log = (m) => console.error(`bench: ${m}`);
const AEAD = AEADS.find((a) => a.name === 'ChaCha20-Poly1305');
// The confidential action's concurrency (--concurrency): by default none is
// given, so the action has OpenWhisk's default, 1, as a tenant's would. At or
// below the enclave's worker threads (2 on a 2-core machine) the host also
// sends calls to wait in the action's lane, and a worker goes on with them
// itself and signs their receipts in batches (docs/protocol.md §6.5); above
// (the 4 this bench used until 2026-12-07) the host sends a call only when a
// worker is free, a round trip through the host per call.
const CONF_CONCURRENCY = args.concurrency ? Number(args.concurrency) : null;

function cryptoTool(input) {
  const out = execFileSync(path.join(args.tools, 'tfaas_crypto_tool'), { input: JSON.stringify(input), encoding: 'utf8' });
  return JSON.parse(out);
}

const srv = await startServe({ bin: args.bin, tmp: args.tmp, cpu: serverCpu });
try {
  const put = await putAction(srv.base, srv.auth, 'hello', HELLO_CODE);
  if (put.status !== 200) fail(`create hello: HTTP ${put.status}`);
  const att = await (await fetch(`${srv.base}/tfaas/v1/attestation`)).json();
  const dep = await fetch(`${srv.base}/tfaas/v1/namespaces/_/actions/chello`, {
    method: 'PUT', headers: { authorization: basicAuth(srv.auth), 'content-type': 'application/json' },
    body: JSON.stringify({ ...(await deployBody(att, 'chello', HELLO_CODE)),
      ...(CONF_CONCURRENCY ? { limits: { concurrency: CONF_CONCURRENCY } } : {}) }),
  });
  const depBody = await dep.json();
  if (dep.status !== 200) fail(`confidential deploy: HTTP ${dep.status} ${JSON.stringify(depBody).slice(0, 200)}`);
  const cert = confidentialOf(depBody).certificate;
  const keys = Buffer.from(JSON.parse(Buffer.from(cert.split('.')[1], 'base64url')).ohttp_keys, 'base64url');
  const url = `${srv.base}/tfaas/v1/namespaces/_/actions/chello/ohttp`;

  // One request end to end with the independent JS client, its receipt
  // chain verified (the sealed response's fields): it also makes the worker
  // enclave fetch its keys from the KMS before the measured runs. Returns
  // the size of the batch its receipt was signed in.
  const kmsKey = await kmsSigningKey(att), fnClaims = (await jwsClaims(cert, kmsKey)).claims;
  const probe = async () => {
    const st = await ohttpClient(new Uint8Array(keys), AEAD, await bhttpJsonRequest('/chello', { name: 'Ada' }));
    const r = await fetch(url, { method: 'POST', headers: { authorization: basicAuth(srv.auth), 'content-type': 'message/ohttp-req' }, body: st.encReq });
    if (r.status !== 200) fail(`confidential hello: HTTP ${r.status} ${await r.text()}`);
    const inner = await ohttpOpenInner(st, AEAD, new Uint8Array(await r.arrayBuffer()));
    let v;
    try {
      v = await verifyReceiptChain(inner, kmsKey, fnClaims);
    } catch (e) {
      fail(`confidential hello: the receipt does not verify: ${e.message}`);
    }
    const text = v.result.toString('utf8');
    if (!text.includes('Hello, Ada!')) fail(`confidential hello: unexpected response ${JSON.stringify(text.slice(0, 200))}`);
    return v.batch.root.size;
  };
  await probe();

  const helloUrl = `${srv.base}/api/v1/namespaces/_/actions/hello?blocking=true&result=true`;
  const body = JSON.stringify({ name: 'Ada' });
  // The server's CPU per request of a run (its whole process tree), and its
  // split by thread name.
  // during: an async function run while wrk runs (its value is w.during).
  const measured = async (opts, during) => {
    const c0 = treeCpuUs(srv.child.pid), t0 = treeThreadCpuUs(srv.child.pid);
    const wp = runWrkAsync(opts);
    const extra = during ? await during() : undefined;
    const w = await wp;
    w.during = extra;
    const n = Math.max(1, w.requests), t1 = treeThreadCpuUs(srv.child.pid);
    w.cpu_us = (treeCpuUs(srv.child.pid) - c0) / n;
    w.threads = Object.fromEntries(Object.keys(t1).map((k) => [k, Math.round((t1[k] - (t0[k] || 0)) / n * 10) / 10])
      .filter(([, v]) => v > 0));
    return w;
  };
  runWrk({ url: helloUrl, body, auth: srv.authB64, conns, seconds: warmup, cpu: clientCpu });
  const plain = await measured({ url: helloUrl, body, auth: srv.authB64, conns, seconds, cpu: clientCpu });
  log(`confidential: plaintext hello ${Math.round(plain.rps)} req/s, p99 ${(plain.p99_us / 1000).toFixed(2)} ms`);

  // Fresh requests for the warm-up and for the run, each in its own file (a
  // new wrk starts at its file's first request), sized from the plaintext
  // rate with room to spare.
  const msg = Buffer.from(await bhttpJsonRequest('/chello', { name: 'Ada' })).toString('hex');
  const make = (name, secs) => {
    const count = Math.min(2_000_000, Math.ceil(plain.rps * secs * 1.3) + 1000);
    const file = path.join(args.tmp, name);
    cryptoTool({ op: 'ohttp_client_batch', keys: keys.toString('hex'), aead: AEAD.id, msg, count, out: file });
    return { count, file };
  };
  const t0 = Date.now();
  const warm = make('ohttp-warmup.bin', warmup);
  const run = make('ohttp-run.bin', seconds);
  const count = warm.count + run.count;
  log(`confidential: ${count} encapsulated requests made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  runWrk({ url, auth: srv.authB64, conns, seconds: warmup, cpu: clientCpu, script: 'ohttp.lua', env: { BENCH_REQUESTS: warm.file } });
  const perf = args.perf ? spawn('perf', ['record', '-q', '--call-graph', 'dwarf', '-o', args.perf,
    '-p', treePids(srv.child.pid).join(','), '--', 'sleep', String(seconds)], { stdio: 'ignore' }) : null;
  const perfDone = perf ? new Promise((resolve) => perf.on('close', resolve)) : null;
  // The probes, one every 100 ms while the run lasts (they are ~0.1% of its requests).
  const probes = async () => {
    const sizes = [];
    for (const end = Date.now() + (seconds - 0.5) * 1000; Date.now() < end;) {
      sizes.push(await probe());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return sizes;
  };
  const conf = await measured({ url, auth: srv.authB64, conns, seconds, cpu: clientCpu, script: 'ohttp.lua',
    env: { BENCH_REQUESTS: run.file } }, probes);
  const sizes = conf.during;
  const batchSizes = Object.fromEntries([...new Set(sizes)].sort((a, b) => a - b)
    .map((k) => [k, sizes.filter((x) => x === k).length]));
  log(`confidential: receipts probed ${sizes.length}, batch sizes seen ${JSON.stringify(batchSizes)}`);
  if (perfDone) await perfDone;
  log(`confidential: confidential hello ${Math.round(conf.rps)} req/s, p99 ${(conf.p99_us / 1000).toFixed(2)} ms, errors ${conf.errors}`);
  const pick = (w) => ({ rps: w.rps, p50_ms: w.p50_us / 1000, p99_ms: w.p99_us / 1000, errors: w.errors,
    server_cpu_us_per_request: w.cpu_us, server_cpu_us_per_request_by_thread: w.threads });
  writeFileSync(args.out, JSON.stringify({
    seconds, warmup, conns, aead: AEAD.name, requests_made: count, concurrency: CONF_CONCURRENCY ?? 1,
    plaintext: pick(plain), confidential: pick(conf),
    // Of the probes' receipts: how many were signed in a batch of each size
    // (a call is seen in proportion to its batch's size).
    batch_sizes_seen: batchSizes,
    mean_batch_size_seen: sizes.length ? sizes.reduce((a, b) => a + b, 0) / sizes.length : null,
    // Calls per signature: a batch of k is seen k times as often as a batch
    // of 1, so the harmonic mean of the sizes seen estimates it.
    calls_per_signature: sizes.length ? sizes.length / sizes.reduce((a, b) => a + 1 / b, 0) : null,
    // Server time per request that confidentiality adds (the server is on one core).
    added_us_per_request: (1 / conf.rps - 1 / plain.rps) * 1e6,
    // The same, from the server's CPU time: steadier on a shared machine.
    added_cpu_us_per_request: conf.cpu_us - plain.cpu_us,
  }, null, 2) + '\n');
} finally {
  await stopGroup(srv.child);
}
