// Server CPU per operation, by thread, of what a first invoke after create
// adds to a warm one (docs/benchmarks.md, "First invoke after create"): on a
// fresh `tfaas serve` (pinned to --server-cpu), COUNT creates, COUNT warm
// invokes of one action, then the first and the second invoke of each
// created action. CPU time from /proc, so it means something on a busy
// machine where latency does not; latency medians are printed too.
// usage: node first-invoke-stages.mjs --bin DIR --tmp DIR [--count 300] [--server-cpu 0]
//                                     [-- extra tfaas serve arguments]
import { performance } from 'node:perf_hooks';
import { HELLO_CODE, fail, invokeAction, parseArgs, putAction, sleep, startServe, stopGroup, summarize,
  treeThreadCpuUs } from './lib.mjs';

const dash = process.argv.indexOf('--');
const args = parseArgs(process.argv.slice(2, dash < 0 ? undefined : dash));
if (!args.bin || !args.tmp) fail('first-invoke-stages.mjs: --bin and --tmp are required');
const count = Number(args.count || 300);
const srv = await startServe({ bin: args.bin, tmp: args.tmp, cpu: args['server-cpu'] || '0',
  extraArgs: dash < 0 ? [] : process.argv.slice(dash + 1) });
const ok = async (res, what) => { const t = await res.text(); if (res.status !== 200) fail(`${what}: HTTP ${res.status} ${t}`); };
try {
  await ok(await putAction(srv.base, srv.auth, 'warm', HELLO_CODE), 'create warm');
  await ok(await invokeAction(srv.base, srv.auth, 'warm', { name: 'Ada' }), 'invoke warm');
  const phase = async (label, op) => {
    const before = treeThreadCpuUs(srv.child.pid);
    const ms = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      await op(i);
      ms.push(performance.now() - t);
    }
    await sleep(100); // what the last operation left running (a record, a spare heap) is counted too
    const after = treeThreadCpuUs(srv.child.pid);
    const split = {};
    let total = 0;
    for (const [name, us] of Object.entries(after)) {
      const per = Math.round((us - (before[name] || 0)) / count);
      if (per) split[name] = per;
      total += per;
    }
    console.log(`${label.padEnd(7)} server CPU ${String(total).padStart(5)} us/op, latency p50 ` +
      `${summarize(ms).p50.toFixed(2)} ms, by thread ${JSON.stringify(split)}`);
  };
  await phase('create', async (i) => ok(await putAction(srv.base, srv.auth, `f${i}`, `${HELLO_CODE}\n// ${i}\n`), 'create'));
  await phase('warm', async () => ok(await invokeAction(srv.base, srv.auth, 'warm', { name: 'Ada' }), 'warm invoke'));
  await phase('first', async (i) => ok(await invokeAction(srv.base, srv.auth, `f${i}`, { name: 'Ada' }), 'first invoke'));
  await phase('second', async (i) => ok(await invokeAction(srv.base, srv.auth, `f${i}`, { name: 'Ada' }), 'second invoke'));
} finally {
  await stopGroup(srv.child);
}
