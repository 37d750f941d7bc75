// Soak (issue 5): holds 80% of tfaas's peak warm-hello throughput for a fixed
// time and reports errors (target 0), p99 drift and memory growth of the
// server with its enclaves (target < 5%).
//
// The peak comes from a short wrk run at 64 connections. The held rate is a
// closed loop with a pause before each request (bench/wrk/post.lua,
// BENCH_DELAY_MS) over enough connections that the pause is tens of ms (wrk
// takes whole milliseconds); the pause is re-tuned after every window from the
// rate the last window achieved. Each window is one wrk run; the first one is
// warm-up for the memory baseline.
// usage: node soak.mjs --bin DIR --tmp DIR --out FILE.json --md FILE.md
//        [--seconds 300] [--window 10] [--fraction 0.8] [--server-cpu 0] [--client-cpu 1]
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import {
  HELLO_CODE, fail, invokeAction, parseArgs, putAction, runWrk, startServe, stopGroup, treeMemory,
} from './lib.mjs';

const args = parseArgs(process.argv.slice(2));
if (!args.bin || !args.tmp || !args.out || !args.md) fail('soak.mjs: --bin, --tmp, --out and --md are required');
const seconds = Number(args.seconds || 300);
const windowS = Number(args.window || 10);
const fraction = Number(args.fraction || 0.8);
const serverCpu = args['server-cpu'] || '0';
const clientCpu = args['client-cpu'] || '1';
const log = (m) => console.error(`soak: ${m}`);
if (!(seconds >= 2 * windowS)) fail('soak.mjs: --seconds must be at least two windows');

// Up to 900 connections come from this one address: lift the per-client
// limit, which is meant for many clients, not for one load generator.
const srv = await startServe({ bin: args.bin, tmp: args.tmp, cpu: serverCpu,
  extraArgs: ['--max-connections-per-client', '0'] });
const { child, base, auth, authB64 } = srv;
const url = `${base}/api/v1/namespaces/_/actions/hello?blocking=true&result=true`;
const body = JSON.stringify({ name: 'Ada' });
try {
  const put = await putAction(base, auth, 'hello', HELLO_CODE);
  if (put.status !== 200) fail(`create hello: HTTP ${put.status}`);
  const first = await invokeAction(base, auth, 'hello', { name: 'Ada' });
  if (first.status !== 200) fail(`invoke hello: HTTP ${first.status}`);

  runWrk({ url, body, auth: authB64, conns: 64, seconds: 2, cpu: clientCpu });
  const peak = runWrk({ url, body, auth: authB64, conns: 64, seconds: 5, cpu: clientCpu });
  const target = peak.rps * fraction;
  // Enough connections that each waits ~25 ms between requests.
  const conns = Math.min(900, Math.max(8, Math.ceil(target * 0.025)));
  let delay = Math.max(1, Math.round((conns * 1000) / target - peak.p50_us / 1000));
  log(`peak ${Math.round(peak.rps)} req/s; holding ${Math.round(target)} req/s (${fraction * 100}%) ` +
      `for ${seconds} s over ${conns} connections, ${windowS} s windows`);

  const windows = [];
  const t0 = Date.now();
  while (windows.length * windowS < seconds) {
    const r = runWrk({ url, body, auth: authB64, conns, seconds: windowS, cpu: clientCpu, timeout: '5s', delayMs: delay });
    const mem = treeMemory(child.pid);
    windows.push({ t_s: Math.round((Date.now() - t0) / 1000), delay_ms: delay, rps: r.rps, p50_ms: r.p50_us / 1000,
      p99_ms: r.p99_us / 1000, errors: r.errors, rss_kb: mem.rss_kb, pss_kb: mem.pss_kb, procs: mem.procs });
    log(`t=${String(windows.at(-1).t_s).padStart(4)} s  ${Math.round(r.rps)} req/s  p99 ${(r.p99_us / 1000).toFixed(2)} ms  ` +
        `errors ${r.errors}  RSS ${Math.round(mem.rss_kb / 1024)} MiB (delay ${delay} ms)`);
    // Re-tune the pause from the cycle time the window achieved.
    delay = Math.max(0, Math.round(delay + (conns * 1000) / target - (conns * 1000) / Math.max(1, r.rps)));
  }

  // Drift and growth: the first window is warm-up and the pause still
  // settles, so compare the medians of the first and the last third of the
  // held windows (one window's p99 swings with a single slow request); the
  // memory end point is the last window, so growth at the end is not hidden.
  const held = windows.slice(1);
  const third = Math.max(1, Math.floor(held.length / 3));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const p99Start = median(held.slice(0, third).map((w) => w.p99_ms));
  const p99End = median(held.slice(-third).map((w) => w.p99_ms));
  const rssStart = median(held.slice(0, third).map((w) => w.rss_kb));
  const rssEnd = held.at(-1).rss_kb;
  const summary = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    commit: (() => { try { return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { return 'unknown'; } })(),
    seconds, window_s: windowS, fraction, peak_rps: peak.rps, target_rps: target, conns,
    mean_rps: held.reduce((a, w) => a + w.rps, 0) / held.length,
    errors: windows.reduce((a, w) => a + w.errors, 0),
    p99_start_ms: p99Start, p99_end_ms: p99End, p99_drift: (p99End - p99Start) / p99Start,
    rss_start_kb: rssStart, rss_end_kb: rssEnd, rss_growth: (rssEnd - rssStart) / rssStart,
    windows,
  };
  writeFileSync(args.out, JSON.stringify(summary, null, 2) + '\n');
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  const verdict = (ok) => (ok ? 'met' : 'NOT met');
  const md = [
    `# tfaas soak (${summary.date}, commit ${summary.commit})`, '',
    `Produced by \`make soak SOAK_SECONDS=${seconds}\` (bench/soak.mjs): warm hello, ${Math.round(fraction * 100)}% of a ` +
      `peak of ${Math.round(peak.rps)} req/s held for ${seconds} s over ${conns} connections in ${windowS} s windows.`, '',
    `- mean rate held: ${Math.round(summary.mean_rps)} req/s (target ${Math.round(target)})`,
    `- errors: ${summary.errors} (target 0: ${verdict(summary.errors === 0)})`,
    `- p99: ${p99Start.toFixed(2)} ms (median of the first third of the held windows), ${p99End.toFixed(2)} ms (last third); drift ${pct(summary.p99_drift)}`,
    `- RSS of server + enclaves: ${(rssStart / 1024).toFixed(1)} → ${(rssEnd / 1024).toFixed(1)} MiB, growth ${pct(summary.rss_growth)} ` +
      `(target < 5%: ${verdict(summary.rss_growth < 0.05)})`, '',
    '| t (s) | req/s | p50 (ms) | p99 (ms) | errors | RSS (MiB) |', '|---:|---:|---:|---:|---:|---:|',
    ...windows.map((w) => `| ${w.t_s} | ${Math.round(w.rps)} | ${w.p50_ms.toFixed(2)} | ${w.p99_ms.toFixed(2)} | ${w.errors} | ${(w.rss_kb / 1024).toFixed(1)} |`),
    '',
  ].join('\n');
  writeFileSync(args.md, md);
  process.stdout.write(md.split('\n').slice(0, 9).join('\n') + '\n');
  if (summary.errors !== 0) process.exitCode = 1;
} finally {
  await stopGroup(child);
}
