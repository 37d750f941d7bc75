// Engine × isolation-mode matrix of the benchmark (issue 4), with workerd
// measured the same way in the same run:
//   - warm hello, JSON echo and CPU-bound fib(25): requests/s and p99 (wrk)
//   - cold start: create a fresh action, time its first result (tfaas only:
//     workerd cannot deploy at run time)
//   - memory per additional warm function at N = 1, 100, 1000 functions
//     (PSS of the server and every process it forked; workerd: one worker
//     per function behind a router worker), and what 24 GiB would hold.
// usage: node matrix.mjs --bin DIR --workerd PATH --tmp DIR --out FILE.json
//        [--engines "duktape v8"] [--modes "..."] [--seconds 5] [--warmup 1]
//        [--conns 64] [--fib-conns 8] [--cold 20] [--density "1 100 1000"]
//        [--server-cpu 0] [--client-cpu 1] [--only tfaas|workerd]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  ECHO_CODE, FIB_CODE, HELLO_CODE, HELLO_RESULT, expectResult, fail, firstInvokes, freePort, invokeAction,
  parseArgs, putAction, runWrk, sleep, spawnGroup, startServe, stopGroup, treeCpuUs, treeMemory, untilUp,
} from './lib.mjs';

const args = parseArgs(process.argv.slice(2));
if (!args.tmp || !args.out) fail('matrix.mjs: --tmp and --out are required');
const seconds = Number(args.seconds || 5);
const warmup = Number(args.warmup || 1);
const conns = Number(args.conns || 64);
const fibConns = Number(args['fib-conns'] || 8);
const coldCount = Number(args.cold || 20);
const densitySteps = (args.density || '1 100 1000').split(/\s+/).filter(Boolean).map(Number);
const serverCpu = args['server-cpu'] || '0';
const clientCpu = args['client-cpu'] || '1';
const only = args.only || '';
const log = (m) => console.error(`bench: ${m}`);

const HELLO_BODY = JSON.stringify({ name: 'Ada' });
const ECHO_BODY = JSON.stringify({
  id: 4217, name: 'Ada Lovelace', active: true, ratio: 0.618, tags: ['analytical', 'engine', 'notes'],
  address: { city: 'London', zip: 'W1' }, history: [1815, 1843, 1852], comment: null,
});
const WORKLOADS = [
  { fn: 'hello', code: HELLO_CODE, body: HELLO_BODY, expect: HELLO_RESULT, conns },
  { fn: 'echo', code: ECHO_CODE, body: ECHO_BODY, expect: JSON.parse(ECHO_BODY), conns },
  { fn: 'fib', code: FIB_CODE, body: '{}', expect: { fib25: 75025 }, conns: fibConns },
];
const KIND = { duktape: 'js:duktape', v8: 'js:v8' };

function memAvailableKb() {
  return Number(/^MemAvailable:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] || 0);
}

// Runs every workload: a warm-up run, then the measured one. pid is the
// server's: the CPU time of its process tree over the measured run, per
// request (cpu_us), which moves far less than requests/s when other work
// shares the machine (lib.mjs, treeCpuUs).
function loadRuns(urlOf, auth, pid) {
  const out = {};
  for (const w of WORKLOADS) {
    runWrk({ url: urlOf(w.fn), body: w.body, auth, conns: w.conns, seconds: warmup, cpu: clientCpu, timeout: '10s' });
    const c0 = treeCpuUs(pid);
    const r = runWrk({ url: urlOf(w.fn), body: w.body, auth, conns: w.conns, seconds, cpu: clientCpu, timeout: '10s' });
    const cpuUs = (treeCpuUs(pid) - c0) / Math.max(1, r.requests);
    log(`  ${w.fn.padEnd(5)} ${String(w.conns).padStart(3)} conns ${Math.round(r.rps).toString().padStart(7)} req/s  ` +
        `p99 ${(r.p99_us / 1000).toFixed(2)} ms  ${Math.round(cpuUs)} us CPU/req  errors ${r.errors}`);
    out[w.fn] = { conns: w.conns, rps: r.rps, p50_ms: r.p50_us / 1000, p99_ms: r.p99_us / 1000, errors: r.errors,
      cpu_us: cpuUs };
  }
  return out;
}

// Memory per additional function: at each N of densitySteps, measureAt(N)
// brings a server to N functions, each invoked once and so warm, and
// returns settledMemory of it; basePssKb is its PSS with none. Stops early
// when the next step would need more than half of what the machine has
// available, and says so. unit names a function in the log.
async function density(basePssKb, measureAt, label, unit) {
  const steps = [];
  let prev = { n: 0, pss_kb: basePssKb }; let perFnKb = 0;
  for (const n of densitySteps) {
    const needKb = perFnKb * (n - prev.n);
    if (needKb > memAvailableKb() / 2) {
      log(`  ${label}: N=${n} skipped (would need ~${Math.round(needKb / 1024)} MiB)`);
      steps.push({ n, skipped: `needs ~${Math.round(needKb / 1024)} MiB` });
      continue;
    }
    const mem = await measureAt(n);
    perFnKb = Math.max(0, (mem.pss_kb - prev.pss_kb) / (n - prev.n));
    steps.push({ n, pss_kb: mem.pss_kb, rss_kb: mem.rss_kb, procs: mem.procs, per_fn_kb: perFnKb });
    log(`  ${label}: N=${n}: ${Math.round(mem.pss_kb / 1024)} MiB PSS in ${mem.procs} processes, ` +
        `${Math.round(perFnKb)} KiB per additional ${unit}`);
    prev = { n, pss_kb: mem.pss_kb };
  }
  return { base_pss_kb: basePssKb, steps };
}

// treeMemory of a server once the pages it freed have settled.
async function settledMemory(pid) {
  await sleep(300);
  return treeMemory(pid);
}

// ------------------------------------------------------------------ tfaas
function tfaasHelp(bin) {
  const r = spawnSync(path.join(bin, 'tfaas'), ['serve', '--help'], { encoding: 'utf8' });
  return `${r.stdout || ''}${r.stderr || ''}`;
}

function startTfaas(bin, mode, help) {
  const extra = [];
  if (help.includes('--isolation')) extra.push('--isolation', mode);
  if (help.includes('--max-enclaves')) extra.push('--max-enclaves', '2000');
  // One namespace deploys up to 1000 functions, one warm process each in
  // enclave-per-function mode: no per-namespace limit of its own (its share
  // of the 2000 is then 2000 / (1 + 1) = 1000, enough).
  if (help.includes('--max-enclaves-per-namespace')) extra.push('--max-enclaves-per-namespace', '0');
  // wrk is one client address; --conns may exceed the per-client default
  if (help.includes('--max-connections-per-client')) extra.push('--max-connections-per-client', '0');
  return startServe({ bin, tmp: args.tmp, cpu: serverCpu, extraArgs: extra });
}

async function measureTfaas(bin, engine, mode, help) {
  const kind = KIND[engine];
  const label = `tfaas ${engine} ${mode}`;
  log(`${label}: warm load`);
  let srv = await startTfaas(bin, mode, help);
  const result = { server: 'tfaas', engine, mode };
  try {
    for (const w of WORKLOADS) {
      const put = await putAction(srv.base, srv.auth, w.fn, w.code, true, kind);
      if (put.status !== 200) fail(`${label}: create ${w.fn}: HTTP ${put.status} ${(await put.text()).slice(0, 200)}`);
      await expectResult(await invokeAction(srv.base, srv.auth, w.fn, JSON.parse(w.body)), w.expect, `${label} ${w.fn}`);
    }
    const authB64 = Buffer.from(srv.auth).toString('base64');
    result.load = loadRuns((fn) => `${srv.base}/api/v1/namespaces/_/actions/${fn}?blocking=true&result=true`, authB64,
      srv.child.pid);
    log(`${label}: cold start, ${coldCount} fresh actions`);
    result.cold = await firstInvokes(srv.base, srv.auth, coldCount, { kind, prefix: 'cold' });
  } finally {
    await stopGroup(srv.child);
  }
  // Density on a fresh server, so the load runs' extra heaps do not count.
  srv = await startTfaas(bin, mode, help);
  try {
    // One server throughout: each step deploys the functions up to its N.
    let deployed = 0;
    result.density = await density(treeMemory(srv.child.pid).pss_kb, async (n) => {
      for (let i = deployed; i < n; i++) {
        const name = `fn-${i}`;
        const put = await putAction(srv.base, srv.auth, name, `${HELLO_CODE}\n// function ${i}\n`, false, kind);
        if (put.status !== 200) fail(`${label}: create ${name}: HTTP ${put.status} ${(await put.text()).slice(0, 200)}`);
        await expectResult(await invokeAction(srv.base, srv.auth, name, { name: 'Ada' }), HELLO_RESULT, `${label} ${name}`);
      }
      deployed = n;
      return settledMemory(srv.child.pid);
    }, label, 'function');
  } finally {
    await stopGroup(srv.child);
  }
  return result;
}

// ---------------------------------------------------------------- workerd
// A workerd config with `n` workers w0..w(n-1), each its own isolate running
// a distinct copy of hello, behind a router worker that forwards /wI to wI
// and serves the three load functions itself from bench/workerd/worker.js.
function workerdConfig(dir, n, port) {
  const lit = (s) => JSON.stringify(s); // Cap'n Proto text literals take the same escapes
  const services = ['(name = "router", worker = .router)'];
  const bindings = [];
  const workers = [];
  for (let i = 0; i < n; i++) {
    services.push(`(name = "w${i}", worker = .w${i})`);
    bindings.push(`(name = "w${i}", service = "w${i}")`);
    const src = `${HELLO_CODE}\n// function ${i}\n` +
      'export default { async fetch(req) { return Response.json(main(await req.json())); } };';
    workers.push(`const w${i} :Workerd.Worker = (modules = [(name = "w.js", esModule = ${lit(src)})], compatibilityDate = "2024-09-23");`);
  }
  const router = `import bench from "./worker.js";
export default { fetch(req, env) {
  const name = new URL(req.url).pathname.slice(1);
  return env[name] ? env[name].fetch(req) : bench.fetch(req);
} };`;
  const text = `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ ${services.join(', ')} ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "router") ],
);
const router :Workerd.Worker = (
  modules = [ (name = "router.js", esModule = ${lit(router)}), (name = "worker.js", esModule = embed "worker.js") ],
  bindings = [ ${bindings.join(', ')} ],
  compatibilityDate = "2024-09-23",
);
${workers.join('\n')}
`;
  const file = path.join(dir, `density-${n}.capnp`);
  writeFileSync(file, text);
  return file;
}

async function startWorkerd(workerd, n) {
  const here = path.dirname(new URL(import.meta.url).pathname);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // The config embeds worker.js by a relative path: write it beside it.
  const dir = mkdtempSync(path.join(args.tmp, 'workerd-'));
  writeFileSync(path.join(dir, 'worker.js'), readFileSync(path.join(here, 'workerd', 'worker.js')));
  const config = workerdConfig(dir, n, port);
  const child = spawnGroup(['taskset', '-c', serverCpu, workerd, 'serve', config]);
  await untilUp(child, async () => (await fetch(`${base}/hello`, { method: 'POST', body: HELLO_BODY })).arrayBuffer(),
    'workerd', 120_000);
  return { child, base };
}

async function measureWorkerd(workerd) {
  const label = 'workerd';
  const result = { server: 'workerd', engine: 'v8', mode: 'isolate per worker' };
  log(`${label}: warm load`);
  let srv = await startWorkerd(workerd, 0);
  try {
    for (const w of WORKLOADS) {
      await expectResult(await fetch(`${srv.base}/${w.fn}`, { method: 'POST', body: w.body }), w.expect, `${label} ${w.fn}`);
    }
    result.load = loadRuns((fn) => `${srv.base}/${fn}`, Buffer.from('bench:workerd').toString('base64'), srv.child.pid);
  } finally {
    await stopGroup(srv.child);
  }
  // workerd loads its workers at start-up: one process per N, each worker
  // called once so that its isolate has run code.
  srv = await startWorkerd(workerd, 0);
  let basePssKb;
  try { basePssKb = treeMemory(srv.child.pid).pss_kb; } finally { await stopGroup(srv.child); }
  result.density = await density(basePssKb, async (n) => {
    srv = await startWorkerd(workerd, n);
    try {
      for (let i = 0; i < n; i++) {
        await expectResult(await fetch(`${srv.base}/w${i}`, { method: 'POST', body: HELLO_BODY }),
          HELLO_RESULT, `${label} w${i}`);
      }
      return await settledMemory(srv.child.pid);
    } finally {
      await stopGroup(srv.child);
    }
  }, label, 'worker');
  return result;
}

// ------------------------------------------------------------------- main
const results = [];
if (only !== 'workerd') {
  if (!args.bin) fail('matrix.mjs: --bin is required');
  const help = tfaasHelp(args.bin);
  const engines = (args.engines || 'duktape v8').split(/\s+/).filter(Boolean)
    .filter((e) => e === 'duktape' || existsSync(path.join(args.bin, `tfaas-enclave-${e}`)) ||
      (log(`tfaas: no tfaas-enclave-${e} in ${args.bin}: engine ${e} not measured`), false));
  let modes = (args.modes || 'enclave-per-tenant enclave-per-function shared-enclave').split(/\s+/).filter(Boolean);
  if (!help.includes('--isolation')) {
    log('tfaas serve has no --isolation: measuring its only mode, enclave-per-tenant');
    modes = ['enclave-per-tenant'];
  }
  for (const engine of engines) for (const mode of modes) results.push(await measureTfaas(args.bin, engine, mode, help));
}
if (only !== 'tfaas') {
  if (!args.workerd) fail('matrix.mjs: --workerd is required');
  results.push(await measureWorkerd(args.workerd));
}
writeFileSync(args.out, JSON.stringify({ seconds, warmup, conns, fib_conns: fibConns, results }, null, 2) + '\n');
log(`matrix written to ${args.out}`);
