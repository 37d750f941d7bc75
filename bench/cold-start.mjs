// Process cold start: time from spawning a server process (pinned to core 0)
// to the first correct hello response. workerd cannot deploy a function at
// run time, so for it this is the closest notion of "first invocation"; for
// tfaas the clock also covers creating the action (fresh state directory).
// usage: node cold-start.mjs --server workerd --bin WORKERD --config FILE --runs 5 --out F
//        node cold-start.mjs --server tfaas --bin TFAAS --tmp DIR --auth UUID:KEY --runs 5 --out F
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { HELLO_CODE, HELLO_RESULT, fail, freePort, invokeAction, isResult, parseArgs, putAction, spawnGroup, stopGroup, summarize, untilUp } from './lib.mjs';

const args = parseArgs(process.argv.slice(2));
const runs = Number(args.runs || 5);

async function check(res, what) {
  const body = await res.text();
  if (res.status !== 200) fail(`${args.server} ${what}: HTTP ${res.status} ${body.slice(0, 200)}`);
  return body;
}

async function once() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let argv;
  if (args.server === 'workerd') {
    argv = ['taskset', '-c', '0', args.bin, 'serve', args.config, '--socket-addr', `http=127.0.0.1:${port}`];
  } else if (args.server === 'tfaas') {
    const state = mkdtempSync(path.join(args.tmp, 'cold-'));
    argv = ['taskset', '-c', '0', args.bin, 'serve', '--listen', `127.0.0.1:${port}`, '--state', state, '--guest-auth', args.auth];
  } else {
    fail(`cold-start.mjs: unknown --server ${args.server}`);
  }
  const t0 = performance.now();
  const child = spawnGroup(argv);
  try {
    let body;
    if (args.server === 'workerd') {
      body = await untilUp(child, async () => check(await fetch(`${base}/hello`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ada' }),
      }), 'hello'), args.server);
    } else {
      await untilUp(child, async () => check(await putAction(base, args.auth, 'hello', HELLO_CODE), 'create hello'), args.server);
      body = await check(await invokeAction(base, args.auth, 'hello', { name: 'Ada' }), 'invoke hello');
    }
    const t1 = performance.now();
    if (!isResult(body, HELLO_RESULT)) fail(`${args.server}: unexpected hello result ${body.slice(0, 200)}`);
    return t1 - t0;
  } finally {
    await stopGroup(child);
  }
}

const times = [];
for (let i = 0; i < runs; i++) times.push(await once());
const result = { server: args.server, runs, unit: 'ms', start_to_first_response: summarize(times) };
writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
console.log(`${args.server} process cold start to first hello (${runs} runs): p50 ${result.start_to_first_response.p50.toFixed(1)} ms`);
