// Noisy neighbours (issue 5): warm hello throughput of one tenant, alone and
// while another tenant keeps running hostile functions (an endless loop
// stopped by its timeout, a memory bomb, unbounded recursion) as fast as
// tfaas lets it. Every hostile activation must fail with its message; the
// report shows how much of its throughput the well-behaved tenant keeps,
// with the server's defaults and with --cpu-background-after 0, and beside a
// tenant running 40 ms CPU bursts (heavy, not hostile).
// usage: node neighbours.mjs --bin DIR --tmp DIR --out FILE.json
//        [--seconds 5] [--conns 64] [--noisy 4] [--server-cpu 0] [--client-cpu 1]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { HELLO_CODE, basicAuth, fail, parseArgs, putAction, runWrk, runWrkAsync, startServe, stopGroup } from './lib.mjs';

const args = parseArgs(process.argv.slice(2));
if (!args.bin || !args.tmp || !args.out) fail('neighbours.mjs: --bin, --tmp and --out are required');
const seconds = Number(args.seconds || 5);
const conns = Number(args.conns || 64);
const noisy = Number(args.noisy || 4);
const serverCpu = args['server-cpu'] || '0';
const clientCpu = args['client-cpu'] || '1';
const log = (m) => console.error(`bench: ${m}`);

const HOSTILE = [
  { name: 'loop', code: 'function main(){ while (true) {} }', limits: { timeout: 200 }, message: /time limit/ },
  { name: 'bomb', code: 'function main(){ var a = [], s = "x"; while (true) { s += s; a.push(s); } }',
    limits: { memory: 128, timeout: 5000 }, message: /memory/ },
  { name: 'recurse', code: 'function f(n){ return f(n + 1) + 1; } function main(){ return { n: f(0) }; }',
    limits: { timeout: 5000 }, message: /RangeError|stack|recursion/i },
];
// Not hostile, only heavy: 40 ms of CPU per activation, under the 50 ms after
// which a long activation yields, so all that protects the neighbour is the
// kernel's equal share per enclave. It ends with {error} so that every
// activation is checked like the hostile ones.
const BURSTS = [
  { name: 'burst', code: 'function main(){ var t = Date.now(); while (Date.now() - t < 40) {} return { error: "burst done" }; }',
    limits: { timeout: 1000 }, message: /burst done/ },
];

// One server, measured alone and beside the hostile tenant.
async function measure(label, extraArgs, HOSTILE) {
  const srv = await startServe({ bin: args.bin, tmp: args.tmp, cpu: serverCpu, extraArgs });
  try {
    const out = execFileSync(path.join(args.bin, 'tfaas'), ['admin', 'namespace', 'create', 'noisy', '--state', srv.state],
      { encoding: 'utf8' });
    const noisyAuth = /[0-9a-f-]{36}:[A-Za-z0-9]+/.exec(out)?.[0];
    if (!noisyAuth) fail(`no credential in: ${out}`);
    const put = await putAction(srv.base, srv.auth, 'hello', HELLO_CODE);
    if (put.status !== 200) fail(`create hello: HTTP ${put.status}`);
    for (const h of HOSTILE) {
      const r = await fetch(`${srv.base}/api/v1/namespaces/noisy/actions/${h.name}`, {
        method: 'PUT', headers: { authorization: basicAuth(noisyAuth), 'content-type': 'application/json' },
        body: JSON.stringify({ exec: { kind: 'js:duktape', code: h.code }, limits: h.limits }),
      });
      if (r.status !== 200) fail(`create noisy/${h.name}: HTTP ${r.status} ${await r.text()}`);
    }
    const url = `${srv.base}/api/v1/namespaces/_/actions/hello?blocking=true&result=true`;
    const body = JSON.stringify({ name: 'Ada' });
    runWrk({ url, body, auth: srv.authB64, conns, seconds: 1, cpu: clientCpu });
    const alone = runWrk({ url, body, auth: srv.authB64, conns, seconds, cpu: clientCpu });
    log(`neighbours (${label}): hello alone ${Math.round(alone.rps)} req/s, p99 ${(alone.p99_us / 1000).toFixed(2)} ms`);

    // The noisy tenant: `noisy` clients, each invoking the hostile functions
    // in turn, blocking, until told to stop.
    let stop = false;
    const tally = { total: 0, failed_as_expected: 0, unexpected: [] };
    const client = async (i) => {
      for (let k = i; !stop; k++) {
        const h = HOSTILE[k % HOSTILE.length];
        try {
          const r = await fetch(`${srv.base}/api/v1/namespaces/noisy/actions/${h.name}?blocking=true`, {
            method: 'POST', headers: { authorization: basicAuth(noisyAuth), 'content-type': 'application/json' }, body: '{}',
          });
          const act = await r.json().catch(() => null);
          tally.total++;
          const err = act?.response?.result?.error;
          if (act?.response?.success === false && typeof err === 'string' && h.message.test(err)) tally.failed_as_expected++;
          else if (r.status !== 429 && tally.unexpected.length < 5) tally.unexpected.push(`${h.name}: ${r.status} ${JSON.stringify(act).slice(0, 200)}`);
          if (r.status === 429) await new Promise((res) => setTimeout(res, 20));
        } catch (e) {
          if (tally.unexpected.length < 5) tally.unexpected.push(`${h.name}: ${e.message}`);
        }
      }
    };
    const clients = Array.from({ length: noisy }, (_, i) => client(i));
    await new Promise((r) => setTimeout(r, 500));
    const withNoise = await runWrkAsync({ url, body, auth: srv.authB64, conns, seconds, cpu: clientCpu });
    stop = true;
    await Promise.all(clients);
    log(`neighbours (${label}): hello beside ${noisy} hostile clients ${Math.round(withNoise.rps)} req/s, ` +
        `p99 ${(withNoise.p99_us / 1000).toFixed(2)} ms; hostile activations ${tally.total}, ` +
        `${tally.failed_as_expected} failed with their message`);
    if (tally.unexpected.length) log(`neighbours: unexpected hostile outcomes: ${tally.unexpected.join(' | ')}`);
    return {
      alone: { rps: alone.rps, p99_ms: alone.p99_us / 1000, errors: alone.errors },
      with_noise: { rps: withNoise.rps, p99_ms: withNoise.p99_us / 1000, errors: withNoise.errors },
      kept: withNoise.rps / alone.rps, hostile: tally,
    };
  } finally {
    await stopGroup(srv.child);
  }
}

// The server's defaults (long activations yield the CPU after 50 ms), then
// the same with yielding off, to show what it buys, then the defaults beside
// a tenant whose activations are each too short to yield.
const result = { seconds, conns, noisy_clients: noisy, ...(await measure('default', [], HOSTILE)) };
result.without_yield = await measure('--cpu-background-after 0', ['--cpu-background-after', '0'], HOSTILE);
result.beside_bursts = await measure('beside 40 ms bursts', [], BURSTS);
writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
