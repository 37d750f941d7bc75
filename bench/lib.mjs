// Small helpers shared by the benchmark's node clients.
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// An unused loopback TCP port, chosen by the kernel.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Nearest-rank percentile of an array of numbers (p in 0..100).
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function summarize(values) {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    min: Math.min(...values),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}

// Children started by these scripts run in their own process group so that
// the server and everything it forks (tfaas enclaves) can be ended together.
const children = new Set();

export function spawnGroup(argv, options = {}) {
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore', ...options });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export async function stopGroup(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
  const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    await exited;
  }
}

function killAllNow() {
  for (const child of children) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { killAllNow(); process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 })[sig]); });
}

export function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}

// Parses "--key value" pairs.
export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) fail(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

// The functions under test, as deployed to tfaas (bench/workerd/worker.js
// holds the same three).
export const HELLO_CODE = "function main(params){return {greeting:'Hello, '+(params.name||'world')+'!'}}";
export const ECHO_CODE = 'function main(params){return params}';
export const FIB_CODE = 'function fib(n){return n<2?n:fib(n-1)+fib(n-2)}\nfunction main(params){return {fib25:fib(25)}}';
// What hello returns for the input every script sends it, {name: 'Ada'}.
export const HELLO_RESULT = { greeting: 'Hello, Ada!' };

// Whether a response body is the JSON value `expect`: compared after a parse,
// so whitespace does not matter (key order does); a body that is not JSON is
// compared as it is (and so never matches).
export function isResult(body, expect) {
  let got;
  try { got = JSON.stringify(JSON.parse(body)); } catch { got = body; }
  return got === JSON.stringify(expect);
}

// Reads a response; fails the run unless it is a 200 whose body isResult(expect).
export async function expectResult(res, expect, what) {
  const body = await res.text();
  if (res.status !== 200) fail(`${what}: HTTP ${res.status} ${body.slice(0, 200)}`);
  if (!isResult(body, expect)) fail(`${what}: got ${body.slice(0, 200)}, expected ${JSON.stringify(expect)}`);
}

export function basicAuth(uuidKey) {
  return 'Basic ' + Buffer.from(uuidKey).toString('base64');
}

// PUT an action of the given kind; returns the Response.
export function putAction(base, auth, name, code, overwrite = false, kind = 'js:duktape') {
  return fetch(`${base}/api/v1/namespaces/_/actions/${name}${overwrite ? '?overwrite=true' : ''}`, {
    method: 'PUT',
    headers: { authorization: basicAuth(auth), 'content-type': 'application/json' },
    body: JSON.stringify({ exec: { kind, code } }),
  });
}

// Blocking invoke returning the result; returns the Response.
export function invokeAction(base, auth, name, params) {
  return fetch(`${base}/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`, {
    method: 'POST',
    headers: { authorization: basicAuth(auth), 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
}

// Memory of a process and all its descendants, in KiB: rss (VmRSS, counts
// shared pages once per process), pss (proportional set size: shared pages
// split between the processes that map them, so N enclaves sharing one
// executable are not charged N times) and the number of processes.
// The process and all its descendants (pids), read from /proc.
export function treePids(rootPid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try { stat = readFileSync(`/proc/${entry}/stat`, 'utf8'); } catch { continue; }
    // The command name may hold spaces or ')': the ppid is the 2nd field after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(entry));
  }
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++) pids.push(...(children.get(pids[i]) || []));
  return pids;
}

// CPU time (user + system) of each thread of a process and its descendants,
// in microseconds, summed by thread name ("MHD-single", "tfaas-enclave",
// ...): the split of treeCpuUs by thread, at the same 10 ms resolution.
export function treeThreadCpuUs(rootPid) {
  const byName = {};
  for (const pid of treePids(rootPid)) {
    let tids = [];
    try { tids = readdirSync(`/proc/${pid}/task`); } catch { continue; }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        byName[name] = (byName[name] || 0) + (Number(f[11]) + Number(f[12])) * 10_000;
      } catch { /* exited meanwhile */ }
    }
  }
  return byName;
}

// CPU time (user + system, all threads) of a process and its descendants, in
// microseconds, at clock-tick resolution (10 ms). The difference over a load
// run divided by its requests is the server's CPU per request: unlike
// requests/s it barely moves when other work shares the machine.
export function treeCpuUs(rootPid) {
  let ticks = 0;
  for (const pid of treePids(rootPid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
    } catch { /* exited meanwhile */ }
  }
  return ticks * 10_000; // USER_HZ is 100 on Linux
}

export function treeMemory(rootPid) {
  const pids = treePids(rootPid);
  let rss = 0; let pss = 0; let procs = 0;
  for (const pid of pids) {
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] || 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] || 0);
      procs++;
    } catch { /* exited meanwhile */ }
  }
  return { rss_kb: rss, pss_kb: pss, procs };
}

// One wrk load run with bench/wrk/post.lua (delayMs: pause before each
// request on a connection, 0 = none); returns the numbers of its
// "BENCH k=v ..." line plus errors (the sum of every error kind).
// runWrk blocks the caller; runWrkAsync lets other work go on meanwhile.
// script: a file of bench/wrk/ (post.lua by default); env: more variables for it.
function wrkCommand({ url, body = '', auth = '', conns, seconds, cpu, timeout = '5s', delayMs = 0, script = 'post.lua', env = {} }) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return {
    argv: ['-c', String(cpu), 'wrk', '-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', timeout, '--latency',
      '-s', path.join(here, 'wrk', script), url],
    options: { env: { ...process.env, BENCH_BODY: body, BENCH_AUTH: auth, BENCH_DELAY_MS: String(delayMs), ...env } },
  };
}

function wrkResult(url, status, stdout, stderr) {
  const line = (stdout || '').split('\n').find((l) => l.startsWith('BENCH '));
  if (status !== 0 || !line) fail(`wrk against ${url} failed: ${(stderr || stdout || '').slice(0, 300)}`);
  const r = {};
  for (const kv of line.slice(6).trim().split(/\s+/)) {
    const [k, v] = kv.split('=');
    r[k] = Number(v);
  }
  r.errors = r.err_connect + r.err_read + r.err_write + r.err_status + r.err_timeout;
  return r;
}

export function runWrk(opts) {
  const { argv, options } = wrkCommand(opts);
  const out = spawnSync('taskset', argv, { ...options, encoding: 'utf8' });
  return wrkResult(opts.url, out.status, out.stdout, out.stderr);
}

export function runWrkAsync(opts) {
  const { argv, options } = wrkCommand(opts);
  return new Promise((resolve) => {
    const child = spawn('taskset', argv, options);
    let stdout = ''; let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('close', (status) => resolve(wrkResult(opts.url, status, stdout, stderr)));
  });
}

// Polls until fn() resolves (connection refused while a server starts).
export async function untilUp(child, fn, what, limitMs = 10_000) {
  const start = Date.now();
  for (;;) {
    if (child.exitCode !== null) fail(`${what} exited during start-up (status ${child.exitCode})`);
    if (Date.now() - start > limitMs) fail(`${what} did not answer within ${limitMs / 1000} s`);
    try {
      return await fn();
    } catch (e) {
      if (e?.cause?.code !== 'ECONNREFUSED' && e?.cause?.code !== 'ECONNRESET') throw e;
      await sleep(1);
    }
  }
}

// First invocation after create: for `count` fresh actions, PUT the hello
// function (each with a distinct trailing comment, so no two actions share
// code), then time the first blocking invoke. One keep-alive connection,
// sequential. Returns {count, unit, create, invoke, total} summaries in ms.
// The two clients of a create → first-invoke measurement, each with
// put(name, code, kind) and invoke(name, params) resolving to {status, body}.
// fetch: Node's fetch (undici), as every other bench script talks to the
// server. keepAlive: HTTP/1.1 written by hand on one keep-alive socket, its
// answers read by their content-length (tfaas always sends one): on a VM
// whose wake-ups are dear, fetch's own work between a create's answer and the
// invoke's request, and inside each request, took 1-1.2 ms per request
// (docs/benchmarks.md, "the spare made after a quiet moment"), more than
// the server's part of a first invoke.
export function fetchClient(base, auth) {
  const done = async (res) => ({ status: res.status, body: await res.text() });
  return {
    ready: fetch(`${base}/api/v1`).then((r) => r.arrayBuffer()),
    put: async (name, code, kind) => done(await putAction(base, auth, name, code, false, kind)),
    invoke: async (name, params) => done(await invokeAction(base, auth, name, params)),
    close: () => {},
  };
}

export function keepAliveClient(base, auth) {
  const u = new URL(base);
  const sock = net.connect(Number(u.port), u.hostname);
  sock.setNoDelay(true);
  const authz = basicAuth(auth);
  let buf = Buffer.alloc(0);
  let waiter = null;
  const settle = () => {
    const end = buf.indexOf('\r\n\r\n');
    if (!waiter || end < 0) return;
    const head = buf.subarray(0, end).toString();
    const len = Number((/content-length:\s*(\d+)/i.exec(head) || [0, 0])[1]);
    if (buf.length < end + 4 + len) return;
    const body = buf.subarray(end + 4, end + 4 + len).toString();
    buf = buf.subarray(end + 4 + len);
    const w = waiter;
    waiter = null;
    w.resolve({ status: Number(head.split(' ')[1]), body });
  };
  sock.on('data', (d) => { buf = Buffer.concat([buf, d]); settle(); });
  const broken = (e) => { if (waiter) { const w = waiter; waiter = null; w.reject(e); } };
  sock.on('error', broken);
  sock.on('close', () => broken(new Error('connection closed')));
  const request = (method, path, body) => new Promise((resolve, reject) => {
    waiter = { resolve, reject };
    sock.write(`${method} ${path} HTTP/1.1\r\nhost: ${u.host}\r\nauthorization: ${authz}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  });
  return {
    ready: new Promise((resolve, reject) => { sock.once('connect', resolve); sock.once('error', reject); }),
    put: (name, code, kind) => request('PUT', `/api/v1/namespaces/_/actions/${name}`, JSON.stringify({ exec: { kind, code } })),
    invoke: (name, params) => request('POST', `/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`, JSON.stringify(params)),
    close: () => sock.end(),
  };
}

// COUNT fresh actions, each created then invoked once (blocking), timed by
// the client. client: 'fetch' or 'keepalive' (above); warmup: pairs made
// first and not measured (the client's own code warm, as a long-running
// client's would be). Returns the create, invoke and create+invoke times.
export async function firstInvokes(base, auth, count,
  { kind = 'js:duktape', prefix = 'bench-fresh', limitMs = 60_000, client = 'fetch', warmup = 0 } = {}) {
  const c = client === 'keepalive' ? keepAliveClient(base, auth) : fetchClient(base, auth);
  // Open the keep-alive connection first, so no measured request pays for it.
  await c.ready.catch((e) => fail(`${base} unreachable: ${e.message}`));
  const create = []; const invoke = []; const total = [];
  const deadline = performance.now() + limitMs;
  try {
    for (let i = -warmup; i < count; i++) {
      if (performance.now() > deadline) fail(`first invocations: gave up after ${limitMs / 1000} s`);
      const name = i < 0 ? `${prefix}-warm${-i}` : `${prefix}-${i}`;
      const t0 = performance.now();
      const put = await c.put(name, `${HELLO_CODE}\n// fresh action ${i}\n`, kind);
      const t1 = performance.now();
      if (put.status !== 200) fail(`create ${name}: HTTP ${put.status} ${put.body.slice(0, 200)}`);
      const res = await c.invoke(name, { name: 'Ada' });
      const t2 = performance.now();
      if (res.status !== 200) fail(`first invoke of ${name}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
      if (!isResult(res.body, HELLO_RESULT)) fail(`first invoke of ${name}: unexpected result ${res.body.slice(0, 200)}`);
      if (i >= 0) { create.push(t1 - t0); invoke.push(t2 - t1); total.push(t2 - t0); }
    }
  } finally {
    c.close();
  }
  return { count, warmup, client, unit: 'ms', create: summarize(create), invoke: summarize(invoke), total: summarize(total) };
}

// Starts `tfaas serve` on a free port with a fresh state directory under tmp,
// pinned to cpu, with a new guest credential; resolves once it answers.
// Up to a thousand enclaves hold a socket each, so the descriptor limit is
// lifted first. Returns {child, base, auth, authB64, state}.
// prepareState(dir), when given, runs on the fresh state directory before
// the server starts (e.g. to copy another node's sim platform key in).
export async function startServe({ bin, tmp, cpu, extraArgs = [], prepareState }) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const auth = `${crypto.randomUUID()}:${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')}`;
  mkdirSync(tmp, { recursive: true });
  const state = mkdtempSync(path.join(tmp, 'serve-'));
  if (prepareState) prepareState(state);
  const child = spawnGroup(['bash', '-c', `ulimit -n 65536 2>/dev/null; exec taskset -c ${cpu} "$0" "$@"`,
    path.join(bin, 'tfaas'), 'serve', '--listen', `127.0.0.1:${port}`, '--state', state, '--guest-auth', auth, ...extraArgs]);
  await untilUp(child, async () => (await fetch(`${base}/api/v1`)).arrayBuffer(), 'tfaas serve');
  return { child, base, auth, authB64: Buffer.from(auth).toString('base64'), state };
}
