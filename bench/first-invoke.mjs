// First invocation after create, against a running tfaas serve: COUNT fresh
// actions, each created then invoked once (see firstInvokes in lib.mjs).
// usage: node first-invoke.mjs --url http://127.0.0.1:PORT --auth UUID:KEY
//                              --count 50 --out FILE.json [--kind js:duktape] [--prefix bench-fresh]
//                              [--client keepalive|fetch] [--warmup N]
//   --client: keepalive (default) writes HTTP/1.1 on one socket, so the
//   client's own time stays small; fetch is Node's fetch, as before 2026-12-08.
import { writeFileSync } from 'node:fs';
import { fail, firstInvokes, parseArgs } from './lib.mjs';

const args = parseArgs(process.argv.slice(2));
if (!args.url || !args.auth || !args.out) fail('first-invoke.mjs: --url, --auth and --out are required');
const client = args.client || 'keepalive';
if (client !== 'keepalive' && client !== 'fetch') fail(`first-invoke.mjs: --client must be keepalive or fetch, not ${client}`);
const result = await firstInvokes(args.url, args.auth, Number(args.count || 50),
  { kind: args.kind || 'js:duktape', prefix: args.prefix || 'bench-fresh', client, warmup: Number(args.warmup || 0) });
writeFileSync(args.out, JSON.stringify(result, null, 2) + '\n');
console.log(`first invocation after create (${result.count} actions, ${client} client): invoke p50 ${result.invoke.p50.toFixed(3)} ms, ` +
  `p99 ${result.invoke.p99.toFixed(3)} ms; create+invoke p50 ${result.total.p50.toFixed(3)} ms`);
