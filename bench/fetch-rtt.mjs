// fetch-rtt.mjs - the cost of one outbound fetch round trip inside a
// function, tfaas against workerd, for the same function: each server runs
// `hello` and `fetcher` (fetches a small JSON document from a local HTTPS
// origin whose test CA each is told to trust, and returns it); the cost is
// fetcher's median latency minus hello's, from sequential requests (one at
// a time, so it is a round trip, not throughput; hello and fetcher
// alternate).
// usage: node fetch-rtt.mjs --bin DIR [--workerd PATH] [--count 300] --out FILE.json
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { fail, parseArgs } from './lib.mjs';
import { makeTestCa, startOrigin } from '../tests/lib/tls-server.mjs';

const args = parseArgs(process.argv.slice(2));
if (!args.bin || !args.out) fail('fetch-rtt.mjs: --bin and --out are required');
const COUNT = Number(args.count || 300);
const dir = mkdtempSync(join(tmpdir(), 'tfaas-fetch-rtt-'));
const ca = makeTestCa('tfaas bench CA');
const origin = await startOrigin(ca, (req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end('{"price":42}');
});
const ORIGIN = `https://127.0.0.1:${origin.port}/quote`;
const HELLO = 'function main(p) { return { greeting: "Hello, " + (p.name || "world") + "!" }; }';
const FETCHER = 'async function main(p) { const r = await fetch(p.url); return await r.json(); }';

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const p99 = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]; };

// One POST; its latency in ms.
async function once(url, headers, body, expect) {
  const t0 = process.hrtime.bigint();
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await r.text();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 200 || JSON.parse(text)[expect[0]] !== expect[1]) fail(`${url}: ${r.status} ${text}`);
  return ms;
}

// hello and fetcher requests alternately (so drift in the machine's load
// falls on both alike), sequential, after `warm` unmeasured pairs.
async function measurePair(helloUrl, fetcherUrl, headers, warm = 20) {
  const h = [], f = [];
  for (let i = 0; i < COUNT + warm; i++) {
    const a = await once(helloUrl, headers, '{"name":"bench"}', ['greeting', 'Hello, bench!']);
    const b = await once(fetcherUrl, headers, JSON.stringify({ url: ORIGIN }), ['price', 42]);
    if (i >= warm) { h.push(a); f.push(b); }
  }
  const hello = { p50: median(h), p99: p99(h) }, fetcher = { p50: median(f), p99: p99(f) };
  return { hello, fetcher, fetch_rtt_ms: fetcher.p50 - hello.p50 };
}

function waitFor(proc, re, what) {
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 15000);
    const on = (d) => { out += d; const m = re.exec(out); if (m) { clearTimeout(t); resolve(m); } };
    proc.stdout.on('data', on);
    proc.stderr.on('data', on);
    proc.on('exit', (c) => { clearTimeout(t); reject(new Error(`${what} exited ${c}:\n${out}`)); });
  });
}

const result = { count: COUNT, origin: 'local HTTPS (Node.js), test CA' };
const procs = [];
try {
  // ---- tfaas: its egress policy names the origin and the test CA
  const egress = join(dir, 'egress.json');
  writeFileSync(egress, JSON.stringify({ '*': { allow: [`127.0.0.1:${origin.port}`], ca: ca.caPem } }));
  const auth = `${randomUUID()}:${randomBytes(32).toString('hex')}`;
  const tf = spawn(join(args.bin, 'tfaas'), ['serve', '--listen', '127.0.0.1:0', '--state', join(dir, 'state'),
    '--guest-auth', auth, '--egress', egress], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(tf);
  const base = (await waitFor(tf, /listening on (http:\/\/[^\s]+)/, 'tfaas serve'))[1].replace(/\/$/, '');
  const basic = { authorization: 'Basic ' + Buffer.from(auth).toString('base64') };
  result.tfaas = {};
  for (const kind of ['js:v8', 'js:duktape']) {
    const fetcherCode = kind === 'js:v8' ? FETCHER : 'function main(p) { return fetch(p.url).json(); }';
    for (const [name, code] of [['hello', HELLO], ['fetcher', fetcherCode]]) {
      const r = await fetch(`${base}/api/v1/namespaces/_/actions/${name}-${kind.slice(3)}?overwrite=true`, {
        method: 'PUT', headers: { 'content-type': 'application/json', ...basic }, body: JSON.stringify({ exec: { kind, code } }),
      });
      if (r.status !== 200) fail(`PUT ${name}: ${r.status} ${await r.text()}`);
    }
    const url = (n) => `${base}/api/v1/namespaces/_/actions/${n}-${kind.slice(3)}?blocking=true&result=true`;
    result.tfaas[kind] = await measurePair(url('hello'), url('fetcher'), basic);
  }
  tf.kill('SIGTERM');

  // ---- workerd: the same two functions; its network service trusts the test CA
  if (args.workerd) {
    const wdir = join(dir, 'workerd');
    rmSync(wdir, { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(wdir);
    writeFileSync(join(wdir, 'ca.pem'), ca.caPem);
    writeFileSync(join(wdir, 'worker.js'), `
      function hello(p) { return { greeting: 'Hello, ' + (p.name || 'world') + '!' }; }
      async function fetcher(p) { const r = await fetch(p.url); return await r.json(); }
      const actions = { hello, fetcher };
      export default { async fetch(request) {
        const main = actions[new URL(request.url).pathname.slice(1)];
        return Response.json(await main(await request.json()));
      } };`);
    writeFileSync(join(wdir, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w),
               (name = "internet", network = (allow = ["public", "private", "local"],
                                              tlsOptions = (trustedCertificates = [ embed "ca.pem" ]))) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "2024-09-23",
  globalOutbound = "internet",
);
`);
    const port = 4100 + Math.floor(Math.random() * 100);
    const wd = spawn(args.workerd, ['serve', join(wdir, 'config.capnp'), '--socket-addr', `http=127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(wd);
    const wurl = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      try { await fetch(`${wurl}/hello`, { method: 'POST', body: '{}' }); break; } catch (e) {
        if (i > 100) fail(`workerd did not answer: ${e.message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    result.workerd = await measurePair(`${wurl}/hello`, `${wurl}/fetcher`, {});
  }
} finally {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
}
writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
const line = (k, v) => `${k}: fetch round trip ${v.fetch_rtt_ms.toFixed(2)} ms (fetcher p50 ${v.fetcher.p50.toFixed(2)}, hello p50 ${v.hello.p50.toFixed(2)})`;
for (const [k, v] of Object.entries(result.tfaas || {})) console.log(line(`tfaas ${k}`, v));
if (result.workerd) console.log(line('workerd', result.workerd));
