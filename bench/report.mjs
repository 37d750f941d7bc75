// Turns the raw measurements of bench/run.sh into one side-by-side table
// (tfaas | workerd | ratio), printed to stdout and written as Markdown.
// usage: node report.mjs RAW_DIR OUT.md [PLOT.png]
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const [rawDir, outFile] = process.argv.slice(2);
if (!rawDir || !outFile) {
  console.error('usage: node report.mjs RAW_DIR OUT.md');
  process.exit(2);
}

const meta = {};
for (const line of readFileSync(path.join(rawDir, 'meta.env'), 'utf8').split('\n')) {
  const eq = line.indexOf('=');
  if (eq > 0) meta[line.slice(0, eq)] = line.slice(eq + 1);
}
const connections = (meta.connections || '16 64').split(/\s+/).filter(Boolean);

function readJson(name) {
  const file = path.join(rawDir, name);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : null;
}

function readWrk(label, c) {
  const file = path.join(rawDir, `${label}-c${c}.bench`);
  if (!existsSync(file)) return null;
  const out = {};
  for (const kv of readFileSync(file, 'utf8').trim().split(/\s+/)) {
    const [k, v] = kv.split('=');
    out[k] = Number(v);
  }
  out.errors = out.err_connect + out.err_read + out.err_write + out.err_status + out.err_timeout;
  return out;
}

const fmt = {
  rps: (v) => Math.round(v).toLocaleString('en-US'),
  ms: (v) => (v < 10 ? v.toFixed(2) : v.toFixed(1)),
  mib: (kb) => (kb / 1024).toFixed(1),
};

// rows: [metric, tfaas, workerd, ratio]
const rows = [];
function add(metric, t, w, format, { ratio = true, tNote = '', wNote = '' } = {}) {
  const cell = (v, note) => (v === null || v === undefined || Number.isNaN(v) ? (note || '—') : format(v) + (note ? ` ${note}` : ''));
  const r = ratio && t != null && w != null && w > 0 && !Number.isNaN(t) && !Number.isNaN(w) ? `${(t / w).toFixed(2)}×` : '';
  rows.push([metric, cell(t, tNote), cell(w, wNote), r]);
}

let totalErrors = { tfaas: null, workerd: null };
for (const fn of ['hello', 'echo']) {
  for (const c of connections) {
    const t = readWrk(`tfaas-${fn}`, c);
    const w = readWrk(`workerd-${fn}`, c);
    add(`${fn}, ${c} conns: requests/s`, t?.rps, w?.rps, fmt.rps);
    add(`${fn}, ${c} conns: p50 latency (ms)`, t && t.p50_us / 1000, w && w.p50_us / 1000, fmt.ms);
    add(`${fn}, ${c} conns: p99 latency (ms)`, t && t.p99_us / 1000, w && w.p99_us / 1000, fmt.ms);
    for (const [k, v] of [['tfaas', t], ['workerd', w]]) {
      if (v) totalErrors[k] = (totalErrors[k] || 0) + v.errors;
    }
  }
}
add('errors and non-2xx responses (all load runs)', totalErrors.tfaas, totalErrors.workerd, String, { ratio: false });

const first = readJson('tfaas-first-invoke.json');
const firstFetch = readJson('tfaas-first-invoke-fetch.json');
const noDeploy = 'n/a (no run-time deploy)';
// Runs before 2026-12-08 had only Node's fetch as the client, and no client field.
const clientName = (r) => (r?.client === 'keepalive' ? 'keep-alive client' : "Node's fetch as client");
add(`first invoke after create, js:duktape: p50 (ms)${first ? `, ${first.count} actions, ${clientName(first)}` : ''}`, first?.invoke.p50, null, fmt.ms, { wNote: noDeploy });
add('first invoke after create, js:duktape: p99 (ms)', first?.invoke.p99, null, fmt.ms, { wNote: noDeploy });
if (firstFetch) {
  add(`first invoke after create, js:duktape: p50 (ms), ${firstFetch.count} actions, ${clientName(firstFetch)}`, firstFetch.invoke.p50, null, fmt.ms, { wNote: noDeploy });
  add(`create + first invoke, ${clientName(firstFetch)}: p50 (ms)`, firstFetch.total.p50, null, fmt.ms, { wNote: noDeploy });
}
const firstV8 = readJson('tfaas-first-invoke-v8.json');
if (firstV8) {
  add(`first invoke after create, js:v8: p50 (ms), ${firstV8.count} actions, ${clientName(firstV8)}`, firstV8.invoke.p50, null, fmt.ms, { wNote: noDeploy });
  add('first invoke after create, js:v8: p99 (ms)', firstV8.invoke.p99, null, fmt.ms, { wNote: noDeploy });
}
add(`create + first invoke${first ? `, ${clientName(first)}` : ''}: p50 (ms)`, first?.total.p50, null, fmt.ms, { wNote: noDeploy });
add('create + first invoke: p99 (ms)', first?.total.p99, null, fmt.ms, { wNote: noDeploy });

const tCold = readJson('tfaas-cold.json');
const wCold = readJson('workerd-cold.json');
add(`process start to first hello: p50 (ms)${tCold || wCold ? `, ${(tCold || wCold).runs} runs` : ''}`,
  tCold?.start_to_first_response.p50, wCold?.start_to_first_response.p50, fmt.ms,
  { tNote: tCold ? '(incl. create)' : '' });

const num = (k) => (meta[k] ? Number(meta[k]) : null);
const procs = (k) => (meta[k] ? `(${meta[k]} ${meta[k] === '1' ? 'process' : 'processes'})` : '');
add('RSS after the load runs (MiB)', num('tfaas_rss_kb'), num('workerd_rss_kb'), fmt.mib,
  { tNote: procs('tfaas_procs'), wNote: procs('workerd_procs') });
add('  of which anonymous (RssAnon, MiB)', num('tfaas_anon_kb'), num('workerd_anon_kb'), fmt.mib);
if (meta.tfaas_rss_after_fresh_kb) {
  add(`RSS with ${(first?.count ?? 0) + (first?.warmup ?? 0) + 2} actions deployed (MiB)`, num('tfaas_rss_after_fresh_kb'), null, fmt.mib,
    { ratio: false, tNote: procs('tfaas_procs_after_fresh'), wNote: 'n/a' });
}

// Targets from the issue.
const targets = [];
const wh = readWrk('workerd-hello', 64);
const conf = readJson('confidential.json');
function target(text, ok, detail) {
  targets.push(`${ok === null ? 'not measured' : ok ? 'met' : 'NOT met'}: ${text}${detail ? ` (${detail})` : ''}`);
}
for (const fn of ['hello', 'echo']) {
  const t64 = readWrk(`tfaas-${fn}`, 64), w64 = readWrk(`workerd-${fn}`, 64);
  target(`${fn} at 64 conns ≥ 2× workerd requests/s`, t64 && w64 ? t64.rps >= 2 * w64.rps : null,
    t64 && w64 ? `${(t64.rps / w64.rps).toFixed(2)}×` : '');
  target(`${fn} at 64 conns p99 ≤ 2 ms`, t64 ? t64.p99_us <= 2000 : null, t64 ? `${fmt.ms(t64.p99_us / 1000)} ms` : '');
  const t16 = readWrk(`tfaas-${fn}`, 16), w16 = readWrk(`workerd-${fn}`, 16);
  target(`${fn} at 16 conns p50 ≤ workerd's`, t16 && w16 ? t16.p50_us <= w16.p50_us : null,
    t16 && w16 ? `${fmt.ms(t16.p50_us / 1000)} against ${fmt.ms(w16.p50_us / 1000)} ms` : '');
}
target('confidential hello (OHTTP, receipts) ≥ 0.5× workerd plaintext hello requests/s (issue 11)',
  conf && wh ? conf.confidential.rps >= 0.5 * wh.rps : null,
  conf && wh ? `${(conf.confidential.rps / wh.rps).toFixed(2)}×` : '');
target(`first invocation after create ≤ 1 ms median (js:duktape, enclave-per-tenant${first ? `, ${clientName(first)}` : ''})`, first ? first.invoke.p50 <= 1 : null,
  first ? `${fmt.ms(first.invoke.p50)} ms` : '');
target('first invocation after create ≤ 5 ms median (js:v8, enclave-per-tenant)', firstV8 ? firstV8.invoke.p50 <= 5 : null,
  firstV8 ? `${fmt.ms(firstV8.invoke.p50)} ms` : 'no js:v8 run');

const tcb = meta.tcb_lines
  ? `worker enclave ${meta.tcb_lines} lines (${meta.tcb_code_lines} non-blank) in ${meta.tcb_files} files of src/trusted + src/common, engines excluded` +
    (meta.kms_tcb_lines ? `; key service (tfaas-kms, no engine) ${meta.kms_tcb_lines} lines (${meta.kms_tcb_code_lines} non-blank) in ${meta.kms_tcb_files} files` : '')
  : 'not counted';

const setup = [
  `date: ${meta.date}, commit ${meta.commit}`,
  `machine: ${meta.cpu}, ${meta.ncpu} CPUs, Linux ${meta.kernel}; server on CPU ${meta.server_cpu}, client on CPU ${meta.client_cpu}`,
  `load: wrk ${meta.wrk}, 1 thread, ${meta.warmup} s warm-up then ${meta.duration} s per run; node ${meta.node}`,
  `tfaas: ${meta.tfaas_version || 'js:duktape, enclave-per-tenant, sim TEE'}; workerd: ${meta.workerd_version || '—'}`,
];

if (conf) {
  add(`confidential hello over OHTTP + receipt, ${conf.conns} conns: requests/s (vs workerd plaintext hello)`,
    conf.confidential.rps, wh?.rps, fmt.rps);
  add('  confidential hello p99 latency (ms)', conf.confidential.p99_ms, wh && wh.p99_us / 1000, fmt.ms);
  add('  plaintext hello in the same server (requests/s)', conf.plaintext.rps, null, fmt.rps, { ratio: false, wNote: '' });
  add('  server time confidentiality adds per request (µs, one core)', conf.added_us_per_request, null,
    (v) => v.toFixed(0), { ratio: false, wNote: 'n/a' });
}

// One outbound fetch inside a function (fetch-rtt.mjs): fetcher's median
// minus hello's, sequential requests, the same local HTTPS origin.
const fr = readJson('fetch-rtt.json');
if (fr) {
  for (const [kind, v] of Object.entries(fr.tfaas || {}))
    add(`fetch round trip inside a function, ${kind} (ms, median over hello; local HTTPS origin)`, v.fetch_rtt_ms,
      fr.workerd?.fetch_rtt_ms, fmt.ms);
}

const nb = readJson('neighbours.json');
if (nb) {
  add(`hello beside a tenant running hostile functions: requests/s (${nb.noisy_clients} hostile clients)`,
    nb.with_noise.rps, null, fmt.rps, { ratio: false, tNote: `(${(nb.kept * 100).toFixed(0)}% of ${fmt.rps(nb.alone.rps)} alone)`, wNote: 'n/a' });
  add('  p99 latency beside the hostile tenant (ms)', nb.with_noise.p99_ms, null, fmt.ms,
    { ratio: false, tNote: `(${fmt.ms(nb.alone.p99_ms)} alone)`, wNote: 'n/a' });
  add('  hostile activations failed with their own message', nb.hostile.failed_as_expected, null, String,
    { ratio: false, tNote: `of ${nb.hostile.total}`, wNote: 'n/a' });
  const off = nb.without_yield;
  if (off) {
    add('  the same with --cpu-background-after 0 (long activations keep their priority)', off.with_noise.rps, null,
      fmt.rps, { ratio: false, tNote: `(${(off.kept * 100).toFixed(0)}% of ${fmt.rps(off.alone.rps)} alone)`, wNote: 'n/a' });
    add('  p99 latency then (ms)', off.with_noise.p99_ms, null, fmt.ms,
      { ratio: false, tNote: `(${fmt.ms(off.alone.p99_ms)} alone)`, wNote: 'n/a' });
  }
  const bursts = nb.beside_bursts;
  if (bursts) {
    add('  hello beside a tenant running 40 ms CPU bursts (too short to yield)', bursts.with_noise.rps, null,
      fmt.rps, { ratio: false, tNote: `(${(bursts.kept * 100).toFixed(0)}% of ${fmt.rps(bursts.alone.rps)} alone)`, wNote: 'n/a' });
  }
}

// ---- engine × isolation-mode matrix (bench/matrix.mjs), issue 4
const matrix = readJson('matrix.json');
const mHeader = ['server', 'engine', 'isolation', 'hello req/s', 'hello p99', 'echo req/s', 'echo p99',
  'fib(25) req/s', 'fib p99', 'cold p50', 'cold p99', 'KiB/fn N=1', 'N=100', 'N=1000', 'fns in 24 GiB'];
const mRows = [];
const GIB24_KB = 24 * 1024 * 1024;
function perFn(r, n) {
  const st = r.density?.steps.find((x) => x.n === n);
  if (!st) return null;
  return st.skipped ? NaN : st.per_fn_kb;
}
function lastPerFn(r) {
  const st = (r.density?.steps || []).filter((x) => !x.skipped);
  return st.length ? st[st.length - 1].per_fn_kb : null;
}
function capacity(r) {
  const per = lastPerFn(r);
  if (!per) return null;
  return Math.floor((GIB24_KB - r.density.base_pss_kb) / per);
}
const short = (mode) => mode.replace('enclave-per-', 'per-').replace('-enclave', '');
const dash = (v, f) => (v === null || v === undefined ? '—' : Number.isNaN(v) ? 'skipped' : f(v));
if (matrix) {
  for (const r of matrix.results) {
    const l = r.load || {};
    mRows.push([r.server, r.engine, r.mode,
      dash(l.hello?.rps, fmt.rps), dash(l.hello?.p99_ms, fmt.ms), dash(l.echo?.rps, fmt.rps), dash(l.echo?.p99_ms, fmt.ms),
      dash(l.fib?.rps, fmt.rps), dash(l.fib?.p99_ms, fmt.ms),
      r.cold ? fmt.ms(r.cold.invoke.p50) : 'n/a', r.cold ? fmt.ms(r.cold.invoke.p99) : 'n/a',
      dash(perFn(r, 1), (v) => Math.round(v).toLocaleString('en-US')),
      dash(perFn(r, 100), (v) => Math.round(v).toLocaleString('en-US')),
      dash(perFn(r, 1000), (v) => Math.round(v).toLocaleString('en-US')),
      dash(capacity(r), (v) => v.toLocaleString('en-US'))]);
  }
  const wd = matrix.results.find((r) => r.server === 'workerd');
  const v8 = matrix.results.filter((r) => r.server === 'tfaas' && r.engine === 'v8');
  const duk = matrix.results.filter((r) => r.server === 'tfaas' && r.engine === 'duktape');
  // One line per target, met only if every mode meets it, with each mode's figure.
  function perMode(text, rs, value, ok, show) {
    const vals = rs.map((r) => [r, value(r)]).filter(([, v]) => v != null && !Number.isNaN(v));
    if (!vals.length) { target(text, null, 'not measured'); return; }
    target(`${text}, every isolation mode`, vals.every(([, v]) => ok(v)),
      vals.map(([r, v]) => `${short(r.mode)} ${show(v)}`).join(', '));
  }
  if (wd?.load?.fib && v8.length) {
    perMode('fib(25) with V8 ≥ 1× workerd requests/s', v8, (r) => r.load?.fib && r.load.fib.rps / wd.load.fib.rps,
      (v) => v >= 1, (v) => `${v.toFixed(2)}×`);
  } else target('fib(25) with V8 ≥ 1× workerd requests/s', null, 'no V8 engine built');
  perMode('≤ 200 KiB per additional warm Duktape function', duk, lastPerFn, (v) => v <= 200, (v) => `${Math.round(v)} KiB`);
  const wdPer = wd ? lastPerFn(wd) : null;
  if (wdPer && v8.length) {
    perMode(`per additional warm V8 function ≤ workerd's per worker (${Math.round(wdPer)} KiB)`, v8, lastPerFn,
      (v) => v <= wdPer, (v) => `${Math.round(v)} KiB`);
  }
}

// ---- plot: memory per function against warm hello throughput (gnuplot)
const plotFile = process.argv[4];
if (matrix && plotFile) {
  const pts = matrix.results.filter((r) => lastPerFn(r) && r.load?.hello);
  // One data block per series (Duktape, V8, workerd), labelled by mode.
  const series = [['Duktape', (r) => r.server === 'tfaas' && r.engine === 'duktape'],
    ['V8', (r) => r.server === 'tfaas' && r.engine === 'v8'], ['workerd', (r) => r.server === 'workerd']];
  const blocks = series.map(([, pick]) => pts.filter(pick)
    .map((r) => `${lastPerFn(r).toFixed(1)} ${r.load.hello.rps.toFixed(0)} "${r.server === 'workerd' ? 'workerd' : short(r.mode)}"`)
    .join('\n') || '1 0 ""');
  const datFile = `${plotFile}.dat`;
  writeFileSync(datFile, blocks.join('\n\n\n') + '\n');
  const gp = [
    `set terminal pngcairo size 900,560 font ",10"`, `set output "${plotFile}"`,
    'set title "tfaas engines × isolation modes against workerd: warm hello throughput and memory per function"',
    'set xlabel "memory per additional warm function (KiB of PSS, log scale; lower is better)"',
    'set ylabel "warm hello requests/s (higher is better)"',
    'set logscale x', 'set yrange [0:*]', 'set grid', 'set key bottom left', 'set offsets graph 0.05, graph 0.3, graph 0.15, 0',
    'plot ' + series.map(([name], i) => `"${datFile}" index ${i} using 1:2 with points pt 7 ps 1.6 title "${name}", ` +
      `"" index ${i} using 1:2:3 with labels left offset 1,0.6 notitle`).join(', '),
  ].join('\n');
  const r = spawnSync('gnuplot', [], { input: gp, encoding: 'utf8' });
  if (r.status === 0) console.log(`bench: plot written to ${plotFile}`);
  else console.error(`bench: no plot (gnuplot: ${r.error ? r.error.message : (r.stderr || '').trim()})`);
}

// ---- text table
const header = ['', 'tfaas', 'workerd', 'tfaas/workerd'];
// Header, rule and rows in columns; the first `left` columns are text
// (left-aligned), the others numbers (right-aligned).
function table(h, rs, left) {
  const w = h.map((x, i) => Math.max(x.length, ...rs.map((r) => r[i].length)));
  const ln = (r) => r.map((c, i) => (i < left ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [ln(h), w.map((x) => '-'.repeat(x)).join('  '), ...rs.map(ln)];
}
const text = [
  '',
  ...table(header, rows, 1),
  '',
  ...(mRows.length ? ['', 'engine × isolation mode (warm load: wrk, ms; cold = create → first result; memory = PSS per additional warm function)', '',
    ...table(mHeader, mRows, 3), ''] : []),
  ...targets.map((t) => `target ${t}`),
  `enclave TCB: ${tcb}`,
  ...setup,
  meta.elapsed_s ? `bench run took ${meta.elapsed_s} s` : '',
  '',
].join('\n');
process.stdout.write(text);

// ---- Markdown
const md = [
  `# tfaas benchmark results (${meta.date})`,
  '',
  'Produced by `make bench` (bench/run.sh). Latencies in ms; ratio = tfaas / workerd.',
  '',
  `| ${header.map((h) => h || 'metric').join(' | ')} |`,
  `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
  '',
  ...(mRows.length ? ['## Engines × isolation modes', '',
    'Warm load with wrk (hello and echo at ' + matrix.conns + ' connections, fib(25) at ' + matrix.fib_conns + '), ' +
    'cold = create a fresh action → its first result, memory = PSS of the server and all its enclaves per additional warm function.', '',
    `| ${mHeader.join(' | ')} |`, `|${mHeader.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`,
    ...mRows.map((r) => `| ${r.join(' | ')} |`), ''] : []),
  'Targets (issue 14, and issue 11 for the confidential hello; memory from issues 2-4):',
  '',
  ...targets.map((t) => `- ${t}`),
  '',
  `Enclave TCB: ${tcb}.`,
  '',
  ...setup.map((s) => `- ${s}`),
  '',
].join('\n');
writeFileSync(outFile, md);
console.log(`bench: results written to ${path.relative(process.cwd(), outFile) || outFile}`);
