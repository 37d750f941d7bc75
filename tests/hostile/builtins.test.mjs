// builtins.test.mjs - functions whose time goes into built-ins rather than
// bytecode: indexOf over a large array in a loop, a join building strings,
// one join over a huge sparse array, catastrophic regexp backtracking. The
// engine must stop each at its own timeout (not the host's kill of the whole
// enclave after the grace period), so neighbours sharing the enclave never
// notice. Runs on every engine of ENGINE_KINDS; a case may name the engines
// it applies to (V8 skips the holes of a sparse array, so that join is not
// slow there). A long join takes time linear in its length on every engine.
// What V8 cannot stop inside one built-in call, the host's kill ends, and
// V8 never shares an enclave between tenants, so that kill takes no other
// tenant's activation with it.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, workTimeout } from '../lib/server.mjs';
import { ENGINE_KINDS, createNamespace, putAction, invoke } from '../lib/e2e.mjs';

const TIMEOUT_MS = 500;
// Built inside main, within the call's own timeout: the host's deadline
// covers load and call together.
const S64 = 'var s = "a"; while (s.length < 64 * 1024 * 1024) s += s; ';
const NEEDLE = 'var s = "a"; while (s.length < 8 * 1024 * 1024) s += s; var q = s.slice(0, 65536) + "b"; ';
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
  // Issue 10, item 5: one call is a long scan of a large string, and 256 of
  // them (the instructions between two interrupts) outlasted the host's
  // grace. The strings are built first, inside a larger timeout.
  'indexOf on a 64 MB string, forever': { timeout: 3000, code: 'function main() { ' + S64 + 'while (true) s.indexOf("b"); }' },
  // V8 cannot be stopped inside one comparison of two 64 MB strings, nor
  // inside the Duktape cases below (docs/reliability.md lists what is left).
  '64 MB string comparisons, forever': { timeout: 3000, kinds: ['js:duktape'],
    code: 'function main() { ' + S64 + 'var t = s.slice(1) + "a", n = 0; while (true) if (s < t) n++; }' },
  // A needle that almost matches everywhere: Duktape compares it at every
  // position, n * m byte comparisons inside one call.
  'indexOf of a 64 KiB needle in 8 MB': { timeout: 3000, kinds: ['js:duktape'],
    code: 'function main() { ' + NEEDLE + 'return { i: s.indexOf(q) }; }' },
  'split by a 64 KiB needle in 8 MB': { timeout: 3000, kinds: ['js:duktape'],
    code: 'function main() { ' + NEEDLE + 'return { n: s.split(q).length }; }' },
  'forEach over a 2^32-1 long sparse array': { kinds: ['js:duktape'],
    code: 'function main() { var a = []; a.length = 4294967295; a.forEach(function () {}); return {}; }' },
  // Not a built-in, but the same overrun: the host counts the time limit
  // from the INVOKE, so load and call share it; each used to get all of it.
  'top-level code that uses most of the time limit, then an endless main': { timeout: 3000,
    code: 'var t0 = Date.now(); while (Date.now() - t0 < 2500) {}\nfunction main() { while (true) {} }' },
  // One call visiting a billion properties (a million references to an
  // object of 1000 undefined ones) while writing only "{}" for each object,
  // so the allocator's look at the clock seldom comes: Duktape's
  // JSON.stringify fast path counts its values (scripts/duk-source.sh).
  'one JSON.stringify over a billion undefined properties': { kinds: ['js:duktape'],
    code: 'function main() { var o = {}, c = [], d = []; for (var i = 0; i < 1000; i++) o["k" + i] = undefined;' +
      ' for (i = 0; i < 1000; i++) c.push(o); for (i = 0; i < 1000; i++) d.push(c); return { n: JSON.stringify(d).length }; }' },
  'default sort of a million strings, forever': { timeout: 3000, kinds: ['js:duktape'],
    code: 'function main() { var a = []; for (var i = 0; i < 1000000; i++) a.push("k" + (i * 7919 % 1000003));' +
      ' while (true) a.slice().sort(); }' },
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
    const { code, kinds, timeout = TIMEOUT_MS } = typeof c === 'string' ? { code: c } : c;
    if (kinds && !kinds.includes(kind)) continue;
    test(label, async () => {
      const name = `slow-${kind.replace(':', '-')}-${label.replace(/[^a-z0-9]+/gi, '-')}`;
      await putAction(server, name, code, { kind, limits: { timeout, memory: 256 } });
      // A neighbour in the same enclave is in flight the whole time.
      const logged = server.logs().length;
      const neighbour = invoke(server, hello, { name: 'neighbour' }, { result: true });
      const r = await invoke(server, name, {});
      assert.equal(r.status, 502, r.text.slice(0, 300));
      assert.equal(r.body.response.result.error, `The action exceeded its time limits of ${timeout} milliseconds.`);
      const n = await neighbour;
      assert.equal(n.status, 200, n.text);
      // Stopped by the engine: the host never had to kill the enclave.
      assert.doesNotMatch(server.logs().slice(logged), /overran activation/, 'the enclave was killed instead');
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
    '}'].join('\n'), { kind, limits: { timeout: workTimeout(20000), memory: 512 } });
  const r = await invoke(server, name, {}, { result: true });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  assert.deepEqual(r.body, { n: 1500, last: 'p1499' });
});

// In shared-enclave mode one process runs every tenant: had the host to kill
// it for a hostile tenant's overrun, a neighbour's legitimate activation in
// flight would fail with it ("exited unexpectedly"). The engine stops the
// hostile one itself and the neighbour's 3 s of work succeeds.
for (const kind of ENGINE_KINDS) describe(`${kind}, shared-enclave: a stopped built-in takes no neighbour with it`, () => {
  let shared, other;
  before(async () => {
    shared = await startServer({ extraArgs: ['--isolation', 'shared-enclave'] });
    other = await createNamespace(shared, 'neighbour');
  });
  after(async () => { if (shared) await shared.stop(); });

  test('a neighbour busy for 3 s succeeds while indexOf over 64 MB loops in the same enclave', async () => {
    await putAction(other, 'busy', 'function main() { var t0 = Date.now(), n = 0; while (Date.now() - t0 < 3000) n++; return { n: n }; }',
      { kind, limits: { timeout: 60000 } });
    await putAction(shared, 'hostile', 'function main() { ' + S64 + 'while (true) s.indexOf("b"); }',
      { kind, limits: { timeout: 1500, memory: 256 } });
    const busy = invoke(other, 'busy', {}, { result: true });
    const r = await invoke(shared, 'hostile', {});
    assert.equal(r.status, 502, r.text.slice(0, 300));
    assert.equal(r.body.response.result.error, 'The action exceeded its time limits of 1500 milliseconds.');
    const b = await busy;
    assert.equal(b.status, 200, b.text.slice(0, 300));
    assert.ok(b.body.n > 0, b.text);
    assert.doesNotMatch(shared.logs(), /overran activation/, 'the shared enclave was killed');
  });
});

// V8 checks for termination only between calls, so one indexOf over a sparse
// array of length 2^32-1 runs for minutes and only the host's kill of the
// enclave ends it. Under shared-enclave V8's isolation unit is still the
// tenant (scheduler.c, ENGINE_MIN_ISOLATION): the kill takes no other
// tenant's activation with it.
describe('js:v8, shared-enclave: a built-in V8 cannot stop is killed alone', { skip: !ENGINE_KINDS.includes('js:v8') && 'built without V8' }, () => {
  let shared, other;
  before(async () => {
    shared = await startServer({ extraArgs: ['--isolation', 'shared-enclave'] });
    other = await createNamespace(shared, 'neighbour');
  });
  after(async () => { if (shared) await shared.stop(); });

  test('another tenant\'s 4 s V8 activation succeeds while a sparse indexOf is killed', async () => {
    const kind = 'js:v8';
    await putAction(other, 'busy', 'function main() { var t0 = Date.now(), n = 0; while (Date.now() - t0 < 4000) n++; return { n: n }; }',
      { kind, limits: { timeout: 60000 } });
    await putAction(shared, 'sparse', 'function main() { var a = []; a.length = 4294967295; return { i: a.indexOf(1) }; }',
      { kind, limits: { timeout: 1000 } });
    const warm = await invoke(other, 'busy', {}, { result: true }); // the neighbour's enclave is up
    assert.equal(warm.status, 200, warm.text.slice(0, 300));
    const busy = invoke(other, 'busy', {}, { result: true });
    const r = await invoke(shared, 'sparse', {});
    assert.equal(r.status, 502, r.text.slice(0, 300));
    assert.equal(r.body.response.success, false);
    const b = await busy;
    assert.equal(b.status, 200, `the neighbour's activation: ${b.status} ${b.text.slice(0, 300)}`);
    assert.ok(b.body.n > 0, b.text);
  });
});
