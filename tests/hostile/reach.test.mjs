// reach.test.mjs - what a function can reach, on every engine the server
// runs: every global it sees is on an allow-list (standard ECMAScript, the
// OpenWhisk contract's console/exports/module, and a few named pure extras
// per engine), nothing that reaches the host or the engine's internals
// exists, and the wall clock is coarsened to ENGINE_CLOCK_QUANTUM_MS
// (src/trusted/engine.h) with no finer clock beside it.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../lib/server.mjs';
import { invoke, ENGINE_KINDS } from '../lib/e2e.mjs';

const CLOCK_QUANTUM_MS = 10;

// ECMAScript's global object (ES5 through ES2022) plus what every tfaas
// function gets by contract.
const STANDARD = new Set([
  'AggregateError', 'Array', 'ArrayBuffer', 'Atomics', 'BigInt', 'BigInt64Array', 'BigUint64Array', 'Boolean',
  'DataView', 'Date', 'Error', 'EvalError', 'FinalizationRegistry', 'Float32Array', 'Float64Array', 'Function',
  'Infinity', 'Int16Array', 'Int32Array', 'Int8Array', 'JSON', 'Map', 'Math', 'NaN', 'Number', 'Object', 'Promise',
  'Proxy', 'RangeError', 'ReferenceError', 'Reflect', 'RegExp', 'Set', 'SharedArrayBuffer', 'String', 'Symbol',
  'SyntaxError', 'TypeError', 'URIError', 'Uint16Array', 'Uint32Array', 'Uint8Array', 'Uint8ClampedArray', 'WeakMap',
  'WeakRef', 'WeakSet', 'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'eval',
  'globalThis', 'isFinite', 'isNaN', 'parseFloat', 'parseInt', 'undefined', 'unescape',
  'console', 'exports', 'module',
  'main', // the probe's own function
]);
const V8_WEB = ['Intl', 'TextEncoder', 'TextDecoder', 'atob', 'btoa', 'structuredClone', 'crypto', 'Crypto', 'CryptoKey',
  'SubtleCrypto', 'DOMException', 'URL', 'URLSearchParams'];
// Pure, engine-provided extras that touch nothing outside the heap, and
// tfaas's fetch() with what goes with it: the network, but only through the
// namespace's egress policy (docs/api.md, Outbound fetch; integration/fetch).
const FETCH = {
  'js:duktape': ['fetch'],
  'js:v8': ['fetch', 'Headers', 'Request', 'Response', 'AbortController', 'AbortSignal', 'setTimeout', 'setInterval',
    'clearTimeout', 'clearInterval', 'queueMicrotask'],
};
const EXTRAS = {
  'js:duktape': ['Buffer', 'CBOR', 'TextDecoder', 'TextEncoder', ...FETCH['js:duktape']],
  // V8: the Web APIs of src/trusted/v8/webapi/ (docs/api.md, "Globals
  // per kind"), JavaScript over OpenSSL inside the enclave.
  'js:v8': [...V8_WEB, ...FETCH['js:v8']],
  // the Node surface (src/trusted/v8/loader.js): require reads only the
  // action's own archive and the bundled built-ins; process holds env only
  'nodejs:20': [...V8_WEB, ...FETCH['js:v8'], 'Buffer', 'process', 'require'],
};
// nodejs:* runs on the V8 enclave: probed when that is built.
const KINDS = ENGINE_KINDS.includes('js:v8') ? [...ENGINE_KINDS, 'nodejs:20'] : ENGINE_KINDS;
const probeName = (kind) => `probe-${kind.replace(/\W/g, '-')}`;
// Names that would mean a way out of the sandbox, into the engine's
// internals, or a fine clock; none may exist on any engine.
const FORBIDDEN = ['require', 'process', 'Deno', 'Bun', 'Duktape', 'performance', 'print', 'alert',
  'XMLHttpRequest', 'WebSocket', 'importScripts', 'Worker',
  'WebAssembly', 'gc', 'load', 'read', 'readline', 'quit', 'os', 'Realm', 'd8', 'nodeRequire', '__dirname', 'module_require'];

const PROBE = `function main() {
  var names = Object.getOwnPropertyNames(globalThis).sort();
  var clock = [];
  var t = Date.now();
  while (clock.length < 20) {
    var n = Date.now();
    if (n !== t) { clock.push(n); t = n; }
  }
  var forbidden = ${JSON.stringify(FORBIDDEN)}.filter(function (k) {
    try { return typeof globalThis[k] !== 'undefined' || typeof eval('typeof ' + k + ' === "undefined" ? undefined : ' + k) !== 'undefined'; }
    catch (e) { return false; }
  });
  return { names: names, clock: clock, date: new Date().getTime(), forbidden: forbidden };
}`;

let server;
const engines = [];

before(async () => {
  server = await startServer();
  // Every engine built (ENGINE_KINDS: js:duktape always, js:v8 when its
  // enclave binary exists); the server accepts every kind at PUT, so that
  // is no test of what can run.
  for (const kind of KINDS) {
    const r = await api(server, 'PUT', `/api/v1/namespaces/_/actions/${probeName(kind)}`,
      { body: { exec: { kind, code: PROBE } } });
    assert.equal(r.status, 200, `PUT ${kind}: ${r.status} ${r.text}`);
    engines.push(kind);
  }
});

after(async () => { if (server) await server.stop(); });

describe('what a function can reach', () => {
  test('every engine is probed (js:duktape at least)', () => {
    assert.ok(engines.includes('js:duktape'));
  });

  for (const kind of KINDS) {
    test(`${kind}: globals are on the allow-list, nothing forbidden exists, the clock is coarse`, async () => {
      const r = await invoke(server, probeName(kind), {}, { result: true });
      assert.equal(r.status, 200, r.text);
      const allowed = new Set([...STANDARD, ...EXTRAS[kind]]);
      const unexpected = r.body.names.filter((n) => !allowed.has(n));
      assert.deepEqual(unexpected, [], `globals not on the ${kind} allow-list`);
      // a kind's own extras are not forbidden to it (nodejs:*'s require, process)
      assert.deepEqual(r.body.forbidden.filter((n) => !EXTRAS[kind].includes(n)), [], `${kind} exposes forbidden names`);
      for (const v of [...r.body.clock, r.body.date]) {
        assert.equal(v % CLOCK_QUANTUM_MS, 0, `${kind}: time ${v} is finer than ${CLOCK_QUANTUM_MS} ms`);
      }
      // The coarse clock still moves: successive distinct readings are a
      // whole number of quanta apart and close to real time.
      const steps = r.body.clock.slice(1).map((v, i) => v - r.body.clock[i]);
      assert.ok(steps.every((s) => s >= CLOCK_QUANTUM_MS), `${kind}: clock steps ${steps}`);
      assert.ok(Math.abs(r.body.date - Date.now()) < 60_000, `${kind}: Date far from real time`);
    });
  }
});
