// builtins.test.mjs - functions whose time goes into built-ins rather than
// bytecode: indexOf over a large array in a loop, a join building strings,
// one join over a huge sparse array, catastrophic regexp backtracking. The
// engine must stop each at its own timeout (not the host's kill of the whole
// enclave after the grace period), so neighbours sharing the enclave never
// notice. Runs on
// every engine of ENGINE_KINDS; a case may name the engines it applies to
// (V8 skips the holes of a sparse array, so that join is not slow there).
// And a long join takes time linear in its length on every engine.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { ENGINE_KINDS, putAction, invoke } from '../lib/e2e.mjs';

const TIMEOUT_MS = 500;
const HELLO = "function main(params) { return { greeting: 'Hello, ' + (params.name || 'world') + '!' }; }";

const CASES = {
  'indexOf over 200000 elements, forever':
    'function main() { var a = []; for (var i = 0; i < 200000; i++) a.push(1); while (true) a.indexOf(2); }',
  'joins of 4096 elements, forever':
    'function main() { var a = []; while (true) a.push(new Array(4096).join("x") + a.length); }',
  // A sparse array may be 2^32-1 long: joining it makes nothing but takes
  // billions of steps inside one call (V8 skips the holes, so it is quick).
  'one join over a 2^32-1 long sparse array': {
    code: 'function main() { var a = []; a.length = 4294967295; return { n: a.join("").length }; }', kinds: ['js:duktape'] },
  'catastrophic regexp backtracking':
    'function main() { return { m: /(a+)+b/.test(new Array(40).join("a")) }; }',
};

let server;

before(async () => {
  server = await startServer();
  for (const kind of ENGINE_KINDS) await putAction(server, `hello-${kind.replace(':', '-')}`, HELLO, { kind });
});

after(async () => { if (server) await server.stop(); });

for (const kind of ENGINE_KINDS) describe(`${kind}: time spent in built-ins counts against the timeout`, () => {
  const hello = `hello-${kind.replace(':', '-')}`;
  for (const [label, c] of Object.entries(CASES)) {
    const { code, kinds } = typeof c === 'string' ? { code: c } : c;
    if (kinds && !kinds.includes(kind)) continue;
    test(label, async () => {
      const name = `slow-${kind.replace(':', '-')}-${label.replace(/[^a-z0-9]+/gi, '-')}`;
      await putAction(server, name, code, { kind, limits: { timeout: TIMEOUT_MS, memory: 256 } });
      // A neighbour in the same enclave is in flight the whole time.
      const neighbour = invoke(server, hello, { name: 'neighbour' }, { result: true });
      const r = await invoke(server, name, {});
      assert.equal(r.status, 502, r.text.slice(0, 300));
      assert.equal(r.body.response.result.error, `The action exceeded its time limits of ${TIMEOUT_MS} milliseconds.`);
      const n = await neighbour;
      assert.equal(n.status, 200, n.text);
      // Stopped by the engine: the host never had to kill the enclave.
      assert.doesNotMatch(server.logs(), /overran activation/, 'the enclave was killed instead');
      const after = await invoke(server, hello, { name: 'after' }, { result: true });
      assert.deepEqual(after.body, { greeting: 'Hello, after!' });
    });
  }
});

// Duktape's own join copied the whole result so far every 4096 elements, so
// 8M elements took over a minute; scripts/duk-patches/array-join.c makes it
// linear (about a second on Duktape, milliseconds on V8).
for (const kind of ENGINE_KINDS) test(`${kind}: a join of 8M elements finishes inside a generous limit`, async () => {
  const name = `bigjoin-${kind.replace(':', '-')}`;
  await putAction(server, name, 'function main() { return { n: new Array(8 * 1024 * 1024 + 1).join("y").length }; }',
    { kind, limits: { timeout: 60000, memory: 256 } });
  const r = await invoke(server, name, {}, { result: true });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.deepEqual(r.body, { n: 8 * 1024 * 1024 });
});

// Long strings that differ only past their first 4 KiB: Duktape's own string
// hash sampled such strings, so equally long ones could all fall into one
// bucket, and each new one was compared in full with every earlier one
// (1500 of 128 KiB: about a minute). The hash now reads every byte
// (scripts/duk-source.sh), so this takes well under a second.
for (const kind of ENGINE_KINDS) test(`${kind}: 1500 long strings with one prefix are made in linear time`, async () => {
  const name = `prefix-${kind.replace(':', '-')}`;
  await putAction(server, name, [
    'function main() {',
    '  var chunk = "p"; while (chunk.length < 131072) chunk += chunk;',
    '  var kept = [];',
    '  for (var i = 0; i < 1500; i++) kept.push(chunk + ("000" + i).slice(-4));',
    '  return { n: kept.length, last: kept[1499].slice(-5) };',
    '}'].join('\n'), { kind, limits: { timeout: 20000, memory: 512 } });
  const r = await invoke(server, name, {}, { result: true });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.deepEqual(r.body, { n: 1500, last: 'p1499' });
});
