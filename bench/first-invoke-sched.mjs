// Where a first invoke's wall time goes, from the scheduler's view: COUNT
// create → first-invoke pairs against a fresh `tfaas serve` on CPU 0 (one
// warm function in the namespace, so its enclave runs), the client on CPU 1,
// under `perf sched record`; then, from `perf sched timehist`, for each
// request the server's span (the client's wake-up of the HTTP thread to the
// HTTP thread's wake-up of the client), the CPU 0 time inside it by thread
// (other processes apart), and how long host threads stood runnable while
// the enclave's spare-heap maker ran. Needs perf and root.
//
// usage: node first-invoke-sched.mjs --bin BIN_DIR --tmp DIR [--count 50]
//          [--client fetch|raw] [--kind js:duktape]
//   --client fetch: the requests of bench/first-invoke.mjs (fetch, as
//     firstInvokes in lib.mjs); raw: lib.mjs's keepAliveClient, HTTP/1.1
//     written on one keep-alive socket, the client's own time small.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import {
  HELLO_CODE, fail, fetchClient, invokeAction, keepAliveClient, parseArgs, percentile, putAction, sleep, spawnGroup, startServe,
  stopGroup, treePids,
} from './lib.mjs';

const args = parseArgs(process.argv.slice(2));
if (!args.bin || !args.tmp) fail('first-invoke-sched.mjs: --bin and --tmp are required');
const count = Number(args.count || 50);
const kind = args.kind || 'js:duktape';
const client = args.client || 'fetch';

// The pairs, timed by the client as firstInvokes times them.
async function pairs(c, prefix) {
  const invoke = [];
  for (let i = 0; i < count; i++) {
    const put = await c.put(`${prefix}-${i}`, `${HELLO_CODE}\n// fresh action ${i}\n`, kind);
    if (put.status !== 200) fail(`create: HTTP ${put.status} ${put.body.slice(0, 200)}`);
    const t1 = performance.now();
    const res = await c.invoke(`${prefix}-${i}`, { name: 'Ada' });
    invoke.push(performance.now() - t1);
    if (res.status !== 200) fail(`first invoke: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  }
  return invoke;
}

// perf sched timehist -w lines: "TIME [CPU] TASK[TID/PID] ..." with either
// "awakened: TASK[..]" or WAIT SCH-DELAY RUN (ms) STATE.
function parseTimehist(text) {
  const wakes = [], runs = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    const t = Number(f[0]);
    if (f.length < 5 || !Number.isFinite(t)) continue;
    const tid = (s) => { const m = /\[(\d+)(?:\/(\d+))?\]$/.exec(s || ''); return m ? { tid: Number(m[1]), pid: Number(m[2] || m[1]) } : null; };
    if (f[3] === 'awakened:') { wakes.push({ t, from: tid(f[2]), to: tid(f[4]), toName: f[4] }); continue; }
    const run = Number(f[5]), delay = Number(f[4]);
    if (f[1] === '[0000]' && Number.isFinite(run)) runs.push({ start: t - run / 1000, end: t, delay: delay / 1000, who: tid(f[2]), name: f[2].replace(/\[.*$/, '') });
  }
  return { wakes, runs };
}

const srv = await startServe({ bin: args.bin, tmp: args.tmp, cpu: 0 });
let report;
try {
  const pid = srv.child.pid; // bash exec'd into tfaas: the server's pid
  if ((await putAction(srv.base, srv.auth, 'warm', HELLO_CODE, true, kind)).status !== 200) fail('create warm: failed');
  await (await invokeAction(srv.base, srv.auth, 'warm', { name: 'Ada' })).text();
  const c = client === 'raw' ? keepAliveClient(srv.base, srv.auth) : fetchClient(srv.base, srv.auth);
  await c.ready;
  await pairs(c, 'unmeasured'); // the client's code and the server's caches warm
  const data = `${args.tmp}/first-invoke-sched-${process.pid}.data`;
  const rec = spawnGroup(['perf', 'sched', 'record', '-C', '0,1', '-o', data], { stdio: 'ignore' });
  await sleep(1000);
  const invoke = await pairs(c, 'measured');
  await stopGroup(rec, 10_000);
  c.close();
  const enclaves = treePids(pid).filter((p) => p !== pid);
  const th = spawnSync('perf', ['sched', 'timehist', '-i', data, '-w', '--state'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  spawnSync('rm', ['-f', data]);
  const { wakes, runs } = parseTimehist(th.stdout);
  const mine = (w) => w && (w.pid === pid || enclaves.includes(w.pid));
  const label = (r) => {
    if (!mine(r.who)) return 'other processes';
    if (r.who.pid === pid) return r.name === 'MHD-single' ? 'HTTP thread' : r.name;
    if (r.name === 'spare-heap') return 'spare-heap maker';
    return r.who.tid === r.who.pid ? 'enclave main thread' : 'enclave workers';
  };
  // Spans: a server thread waking a client thread ends the request a client
  // thread's wake-up of the HTTP thread began; an INVOKE sent to an enclave
  // in between makes it an invoke.
  const spans = [];
  let open = null;
  for (const w of wakes) {
    const fromClient = w.from && !mine(w.from) && w.toName.startsWith('MHD-single') && w.to.pid === pid;
    const toEnclave = w.from && w.from.pid === pid && w.to && enclaves.includes(w.to.pid);
    const toClient = w.from && w.from.pid === pid && w.toName.startsWith('node');
    if (fromClient && !open) open = { start: w.t, invoke: false };
    else if (toEnclave && open) open.invoke = true;
    else if (toClient && open) { spans.push({ ...open, end: w.t }); open = null; }
  }
  const table = {};
  for (const kindOf of ['create', 'invoke']) {
    const list = spans.filter((s) => s.invoke === (kindOf === 'invoke'));
    const cpu = {};
    for (const s of list)
      for (const r of runs)
        if (r.end > s.start && r.start < s.end)
          cpu[label(r)] = (cpu[label(r)] || 0) + (Math.min(r.end, s.end) - Math.max(r.start, s.start)) * 1e6;
    for (const k of Object.keys(cpu)) cpu[k] = Math.round(cpu[k] / Math.max(1, list.length));
    const wall = list.map((s) => (s.end - s.start) * 1e3);
    table[kindOf] = { n: list.length, span_p50_ms: percentile(wall, 50), cpu0_us_per_op: cpu };
  }
  // Host threads runnable (woken, not yet running) while the maker ran.
  const maker = runs.filter((r) => mine(r.who) && r.name === 'spare-heap');
  const behind = {};
  for (const r of runs) {
    if (!mine(r.who) || r.who.pid !== pid || r.delay <= 0) continue;
    const a = r.start - r.delay, b = r.start;
    const ov = maker.reduce((sum, m) => sum + Math.max(0, Math.min(b, m.end) - Math.max(a, m.start)), 0);
    if (ov > 0) behind[label(r)] = (behind[label(r)] || 0) + ov * 1e3;
  }
  for (const k of Object.keys(behind)) behind[k] = Number(behind[k].toFixed(2));
  report = { client, kind, count, client_invoke_p50_ms: percentile(invoke, 50), ...table, host_ms_behind_spare_maker: behind };
} finally {
  await stopGroup(srv.child);
}
console.log(JSON.stringify(report, null, 2));
