// First invocation after create, against a running tfaas serve.
// For COUNT fresh actions: PUT the hello function (each with a distinct
// trailing comment, so no two actions share code), then time the first
// blocking invoke. One keep-alive connection (Node's fetch), sequential.
// usage: node first-invoke.mjs --url http://127.0.0.1:PORT --auth UUID:KEY
//                              --count 50 --out FILE.json
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { HELLO_CODE, fail, invokeAction, parseArgs, putAction, summarize } from './lib.mjs';

const args = parseArgs(process.argv.slice(2));
const base = args.url;
const auth = args.auth;
const count = Number(args.count || 50);
if (!base || !auth || !args.out) fail('first-invoke.mjs: --url, --auth and --out are required');

const expected = JSON.stringify({ greeting: 'Hello, Ada!' });
const create = [];
const invoke = [];
const total = [];
const deadline = performance.now() + 60_000;

// Open the keep-alive connection first, so no measured request pays for it.
await fetch(`${base}/api/v1`).then((r) => r.arrayBuffer()).catch((e) => fail(`${base} unreachable: ${e.message}`));

for (let i = 0; i < count; i++) {
  if (performance.now() > deadline) fail('first-invoke.mjs: gave up after 60 s');
  const name = `bench-fresh-${i}`;
  const code = `${HELLO_CODE}\n// fresh action ${i}\n`;

  const t0 = performance.now();
  const put = await putAction(base, auth, name, code);
  const putBody = await put.text();
  const t1 = performance.now();
  if (put.status !== 200) fail(`create ${name}: HTTP ${put.status} ${putBody.slice(0, 200)}`);

  const res = await invokeAction(base, auth, name, { name: 'Ada' });
  const body = await res.text();
  const t2 = performance.now();
  if (res.status !== 200) fail(`first invoke of ${name}: HTTP ${res.status} ${body.slice(0, 200)}`);
  let got;
  try { got = JSON.stringify(JSON.parse(body)); } catch { got = body; }
  if (got !== expected) fail(`first invoke of ${name}: unexpected result ${body.slice(0, 200)}`);

  create.push(t1 - t0);
  invoke.push(t2 - t1);
  total.push(t2 - t0);
}

const result = { count, unit: 'ms', create: summarize(create), invoke: summarize(invoke), total: summarize(total) };
writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
console.log(`first invocation after create (${count} actions): invoke p50 ${result.invoke.p50.toFixed(3)} ms, ` +
  `p99 ${result.invoke.p99.toFixed(3)} ms; create+invoke p50 ${result.total.p50.toFixed(3)} ms`);
