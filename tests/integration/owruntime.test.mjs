// owruntime.test.mjs - `tfaas runtime` against the expectations of
// OpenWhisk's action-runtime protocol (apache/openwhisk docs/actions-new.md
// and its canonical runtime tests): init once, run many, the __OW_*
// activation context, entry points other than main, Unicode, payloads over
// 1 MB, the logs and their end-of-activation sentinels, error answers,
// deadlines and concurrency as advertised; then hostile input (bad JSON,
// huge bodies, init twice, run before init). Real runtime, real enclaves.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, api } from '../lib/server.mjs';
import { rawHttp } from '../lib/e2e.mjs';
import { SENTINEL, startRuntime, post, initBody } from '../lib/runtime.mjs';
import { makeZip, zipOf } from '../lib/zip.mjs';

const MiB = 1 << 20;
const HAS_V8 = existsSync(join(BIN, 'tfaas-enclave-v8'));
const KINDS = ['js:duktape', ...(HAS_V8 ? ['nodejs:20'] : [])];
const MODULES = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules');

// The protocol's error shape: a JSON object whose one member is "error".
function assertProtoError(r, status, message) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.deepEqual(Object.keys(r.body ?? {}), ['error'], r.text);
  if (message instanceof RegExp) assert.match(String(r.body.error), message);
  else if (message !== undefined) assert.equal(r.body.error, message);
}

// The text written on a stream between the n-th sentinel line and the next
// (as OpenWhisk's log reader takes it: whole lines equal to the sentinel).
function activationLog(text, n) {
  const groups = [[]];
  for (const line of text.split('\n').slice(0, -1)) {
    if (line === SENTINEL) groups.push([]);
    else groups[groups.length - 1].push(`${line}\n`);
  }
  return groups[n].join('');
}

for (const kind of KINDS) {
  describe(`protocol (${kind})`, () => {
    let rt;
    before(async () => { rt = await startRuntime({ kind, env: { __OW_API_HOST: 'https://whisk.example' } }); });
    after(async () => { await rt?.stop(); });

    test('/run before /init is refused, and runs nothing', async () => {
      assertProtoError(await post(rt, '/run', { value: {} }), 409, /not initialized/);
      assert.deepEqual(rt.sentinels(), { stdout: 0, stderr: 0 });
    });

    test('/init once: 200, the top-level code ran once (its logs open the first activation)', async () => {
      const code = `
        console.log('loading');
        var count = 0;
        function main(params) {
          count++;
          console.log('run ' + count + ' ' + params.delimiter + ' \u2603 ' + params.delimiter);
          console.error('to stderr ' + count);
          return { count: count, winter: params.delimiter + ' \u2603 ' + params.delimiter,
                   env: process.env };
        }`;
      const r = await post(rt, '/init', initBody(code, { env: { SOME_CONFIG: 'on', NUMBER: 7 } }));
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { OK: true });
    });

    test('a second /init is refused (403) and changes nothing', async () => {
      assertProtoError(await post(rt, '/init', initBody('function main() { return { replaced: true }; }')), 403,
        'Cannot initialize the action more than once.');
      assertProtoError(await post(rt, '/init', 'garbage', { raw: true }), 403);
    });

    test('run many: the same warm function, Unicode intact, logs framed by sentinels on stdout and stderr', async () => {
      for (let i = 1; i <= 3; i++) {
        const r = await post(rt, '/run', { value: { delimiter: '\u2744' }, activation_id: `a${i}` });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.count, i, 'globals persist: one heap, initialised once');
        assert.equal(r.body.winter, '\u2744 \u2603 \u2744');
        await rt.waitSentinels(i);
        assert.equal(activationLog(rt.stdout(), i - 1), `${i === 1 ? 'loading\n' : ''}run ${i} \u2744 \u2603 \u2744\n`);
        assert.equal(activationLog(rt.stderr(), i - 1).split('\n').filter((l) => l.startsWith('to stderr')).join(),
          `to stderr ${i}`);
      }
      assert.deepEqual(rt.sentinels(), { stdout: 3, stderr: 3 });
    });

    test('the activation context: __OW_* from the run, __OW_API_HOST, the init env; reset for each run', async () => {
      const deadline = Date.now() + 60000;
      const r = await post(rt, '/run', {
        value: { delimiter: '-' }, namespace: 'guest', action_name: '/guest/pkg/hello',
        activation_id: '0123456789abcdef0123456789abcdef', deadline, api_key: 'uuid:key', transaction_id: 'tx1',
      });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.env, {
        __OW_API_HOST: 'https://whisk.example', SOME_CONFIG: 'on', NUMBER: '7',
        __OW_NAMESPACE: 'guest', __OW_ACTION_NAME: '/guest/pkg/hello',
        __OW_ACTIVATION_ID: '0123456789abcdef0123456789abcdef', __OW_DEADLINE: String(deadline),
        __OW_API_KEY: 'uuid:key', __OW_TRANSACTION_ID: 'tx1',
      });
      const next = await post(rt, '/run', { value: { delimiter: '-' }, namespace: 'other' });
      assert.equal(next.status, 200, next.text);
      assert.deepEqual(next.body.env, { __OW_API_HOST: 'https://whisk.example', SOME_CONFIG: 'on', NUMBER: '7',
        __OW_NAMESPACE: 'other' }, 'nothing of the previous activation (its api key) is left');
    });

    test('payloads over 1 MB go in and come back whole', async () => {
      const big = 'x'.repeat(MiB + 4096);
      const r = await post(rt, '/run', { value: { delimiter: big } });
      assert.equal(r.status, 200, `status ${r.status}`);
      assert.equal(r.body.winter, `${big} \u2603 ${big}`);
    });

    test('malformed /run bodies are 400 with the protocol error shape; the runtime goes on', async () => {
      assertProtoError(await post(rt, '/run', '{"value": ', { raw: true }), 400, /malformed/);
      assertProtoError(await post(rt, '/run', '[1, 2]', { raw: true }), 400, /JSON object/);
      assertProtoError(await post(rt, '/run', { value: [1] }), 400, /'value' must be a JSON object/);
      assertProtoError(await post(rt, '/run', { value: 'text' }), 400, /'value' must be a JSON object/);
      assertProtoError(await post(rt, '/run', { value: {}, deadline: 'soon' }), 400, /deadline/);
      assertProtoError(await post(rt, '/run', `{"value": {"a": ${'['.repeat(5000)}${']'.repeat(5000)}}}`, { raw: true }),
        400, /nested deeper/);
      const r = await post(rt, '/run', { value: { delimiter: 'ok' } });
      assert.equal(r.status, 200, r.text);
    });
  });

  describe(`entry points and errors (${kind})`, () => {
    // One runtime per /init: OpenWhisk gives each initialisation a fresh container.
    const runtimes = [];
    const fresh = async (opts) => { const rt = await startRuntime({ kind, ...opts }); runtimes.push(rt); return rt; };
    after(async () => { for (const rt of runtimes) await rt.stop(); });

    test('an entry point other than main', async () => {
      const rt = await fresh();
      assert.equal((await post(rt, '/init', initBody('function niam(p) { return { got: p.a }; }', { main: 'niam' }))).status, 200);
      const r = await post(rt, '/run', { value: { a: 1 } });
      assert.deepEqual(r.body, { got: 1 });
    });

    test('exports.main and module.exports = function', async () => {
      const a = await fresh();
      assert.equal((await post(a, '/init', initBody('exports.main = function (p) { return { via: "exports" }; };'))).status, 200);
      assert.deepEqual((await post(a, '/run', { value: {} })).body, { via: 'exports' });
      const b = await fresh();
      assert.equal((await post(b, '/init', initBody('module.exports = function (p) { return { via: "module" }; };'))).status, 200);
      assert.deepEqual((await post(b, '/run', { value: {} })).body, { via: 'module' });
    });

    test('code that does not load fails /init with 502; the runtime stays failed', async () => {
      const rt = await fresh();
      const r = await post(rt, '/init', initBody('function main( { return {}; }'));
      assertProtoError(r, 502, /Initialization has failed/);
      await rt.waitSentinels(1); // a failed init ends its logs, as OpenWhisk's runtimes do
      assertProtoError(await post(rt, '/run', { value: {} }), 409, /failed to initialize/);
      assertProtoError(await post(rt, '/init', initBody('function main() { return {}; }')), 403);
    });

    test('an entry point that is not a function fails /init with 502', async () => {
      const rt = await fresh();
      assertProtoError(await post(rt, '/init', initBody('var main = 42;')), 502,
        /Action entrypoint 'main' is not a function/);
    });

    test('/init without code is 400 and may be retried', async () => {
      const rt = await fresh();
      assertProtoError(await post(rt, '/init', { value: { main: 'main' } }), 400, /no code/);
      assertProtoError(await post(rt, '/init', {}), 400, /'value' must be a JSON object/);
      assertProtoError(await post(rt, '/init', '{"value": {"code": ', { raw: true }), 400, /malformed/);
      assertProtoError(await post(rt, '/init', initBody('x', { main: "a']); throw 1; //" })), 400, /value\.main/);
      // a zip whose archive cannot be read (or a zip on js:duktape) is refused the same way
      assertProtoError(await post(rt, '/init', { value: { code: 'UEsDBA==', binary: true, main: 'main' } }), 400,
        /zip archive of the action is refused|runs on the V8 kinds/);
      assert.equal((await post(rt, '/init', initBody('function main() { return { ok: 1 }; }'))).status, 200);
      assert.deepEqual((await post(rt, '/run', { value: {} })).body, { ok: 1 });
    });

    test('a throw is 502 {error}; an {error} result is 200 with it; each run still ends with sentinels', async () => {
      const rt = await fresh();
      const code = `function main(p) {
        if (p.mode === 'throw') throw new Error('boom');
        if (p.mode === 'number') return 42;
        return { error: 'application says no' };
      }`;
      assert.equal((await post(rt, '/init', initBody(code))).status, 200);
      assertProtoError(await post(rt, '/run', { value: { mode: 'throw' } }), 502, /boom/);
      const app = await post(rt, '/run', { value: {} });
      assert.equal(app.status, 200);
      assert.deepEqual(app.body, { error: 'application says no' });
      assertProtoError(await post(rt, '/run', { value: { mode: 'number' } }), 502);
      await rt.waitSentinels(3);
    });

    test('a function that logs the sentinel itself cannot end its activation\'s logs early', async () => {
      const rt = await fresh();
      assert.equal((await post(rt, '/init', initBody(
        `function main() { console.log('before'); console.log('${SENTINEL}'); console.error(' ${SENTINEL} ');`
        + ` console.log('after'); return {}; }`))).status, 200);
      assert.equal((await post(rt, '/run', { value: {} })).status, 200);
      await rt.waitSentinels(1);
      assert.deepEqual(rt.sentinels(), { stdout: 1, stderr: 1 });
      assert.equal(activationLog(rt.stdout(), 0), `before\n(written by the action) ${SENTINEL}\nafter\n`);
    });

    test('the deadline bounds the activation; one already past does not run', async () => {
      const rt = await fresh({ extraArgs: ['--timeout', '120000'] });
      assert.equal((await post(rt, '/init', initBody(
        'function main(p) { if (p.spin) { while (true) {} } console.log("ran"); return {}; }'))).status, 200);
      const t0 = Date.now();
      const r = await post(rt, '/run', { value: { spin: true }, deadline: Date.now() + 1000 });
      assertProtoError(r, 502);
      // Far below the 120 s --timeout: the deadline (plus the kill grace) ended it.
      assert.ok(Date.now() - t0 < 60000, `took ${Date.now() - t0} ms`);
      const past = await post(rt, '/run', { value: {}, deadline: Date.now() - 1 });
      assertProtoError(past, 502, /deadline had passed/);
      await rt.waitSentinels(2);
      assert.ok(!rt.stdout().includes('ran'), 'the function did not run');
    });
  });

  describe(`concurrency (${kind})`, () => {
    // Busy for 1.5 s of wall time, reporting when it ran.
    const slow = 'function main() { var t0 = Date.now(); while (Date.now() - t0 < 1500) {} return { t0: t0, t1: Date.now() }; }';
    let one;
    let many;
    before(async () => {
      one = await startRuntime({ kind });
      many = await startRuntime({ kind, env: { __OW_ALLOW_CONCURRENT: 'true' }, extraArgs: ['--concurrency', '2'] });
      for (const rt of [one, many]) assert.equal((await post(rt, '/init', initBody(slow))).status, 200);
    });
    after(async () => { await one?.stop(); await many?.stop(); });

    test('without __OW_ALLOW_CONCURRENT an overlapping /run is refused (503), the first completes', async () => {
      const [a, b] = await Promise.all([post(one, '/run', { value: {} }), post(one, '/run', { value: {} })]);
      const statuses = [a.status, b.status].sort();
      assert.deepEqual(statuses, [200, 503], `${a.text} / ${b.text}`);
      assertProtoError([a, b].find((r) => r.status === 503), 503, /__OW_ALLOW_CONCURRENT/);
      await one.waitSentinels(1); // the refused one never ran: no logs of its own
      assert.deepEqual(one.sentinels(), { stdout: 1, stderr: 1 });
    });

    test('with __OW_ALLOW_CONCURRENT=true and --concurrency 2, two activations run at the same time', async () => {
      const [a, b] = await Promise.all([post(many, '/run', { value: {} }), post(many, '/run', { value: {} })]);
      assert.equal(a.status, 200, a.text);
      assert.equal(b.status, 200, b.text);
      assert.ok(a.body.t0 < b.body.t1 && b.body.t0 < a.body.t1, `they overlapped: ${a.text} ${b.text}`);
      await many.waitSentinels(2);
    });
  });
}

describe('hostile HTTP', () => {
  let rt;
  before(async () => { rt = await startRuntime({ kind: 'js:duktape' }); });
  after(async () => { await rt?.stop(); });

  test('other methods and paths: 405 with Allow, 404', async () => {
    const get = await api(rt, 'GET', '/run', {});
    assertProtoError(get, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assertProtoError(await api(rt, 'POST', '/init/x', { body: {} }), 404);
    assertProtoError(await api(rt, 'POST', '/run?x=1/../init', { body: {} }), 409); // the query is not the path
    assertProtoError(await api(rt, 'POST', '/', { body: {} }), 404);
  });

  test('a /run body over 8 MiB is 413 before it is read', async () => {
    const t0 = Date.now();
    const r = await rawHttp(rt, 'POST /run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
      + 'Content-Length: 1099511627776\r\n\r\n{"value":', { timeoutMs: 5000 });
    assert.match(r.statusLine, /^HTTP\/1\.[01] 413/, r.data.slice(0, 300));
    assert.ok(Date.now() - t0 < 4000);
  });

  test('a 9 MiB /run body, written whole before reading, gets its 413', async () => {
    const body = JSON.stringify({ value: { a: 'x'.repeat(9 * MiB) } });
    const r = await rawHttp(rt, [`POST /run HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      body], { timeoutMs: 30000 });
    assert.match(r.statusLine, /^HTTP\/1\.[01] 413/, r.data.slice(0, 300));
  });

  test('a chunked /init body past 48 MiB is 413', async () => {
    const chunk = 'x'.repeat(MiB);
    const prefix = '{"value": {"code": "var a=\'';
    const writes = ['POST /init HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
      `${prefix.length.toString(16)}\r\n${prefix}\r\n`];
    for (let i = 0; i < 50; i++) writes.push(`${MiB.toString(16)}\r\n${chunk}\r\n`);
    writes.push('0\r\n\r\n');
    const r = await rawHttp(rt, writes, { timeoutMs: 30000, stopOnAnswer: true });
    assert.match(r.statusLine, /^HTTP\/1\.[01] 413/, r.data.slice(0, 300));
  });

  test('ambiguous framing is refused and the connection closed', async () => {
    const r = await rawHttp(rt, 'POST /init HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n'
      + '0\r\n\r\nPOST /init HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}', { timeoutMs: 5000 });
    assert.match(r.statusLine, /^HTTP\/1\.[01] 400/, r.data.slice(0, 300));
    assert.equal((r.data.match(/HTTP\/1\.1 /g) || []).length, 1, 'the smuggled second request was not served');
  });

  test('after all that the runtime still initialises and runs', async () => {
    assert.equal((await post(rt, '/init', initBody('function main(p) { return { echo: p }; }'))).status, 200);
    const r = await post(rt, '/run', { value: { a: [1, 'b'] } });
    assert.deepEqual(r.body, { echo: { a: [1, 'b'] } });
  });
});

// A zip (binary) action: /init {"binary": true, "code": base64 zip, "main"}.
const zipInit = (zip, { main = 'main', env } = {}) =>
  ({ value: { name: 'zipped', main, code: zip.toString('base64'), binary: true, ...(env ? { env } : {}) } });

describe('zip actions (nodejs:20)', { skip: !HAS_V8 && 'no V8 enclave' }, () => {
  // One runtime per test, as above.
  const runtimes = [];
  const fresh = async (opts) => { const rt = await startRuntime(opts); runtimes.push(rt); return rt; };
  after(async () => { for (const rt of runtimes) await rt.stop(); });

  test('a zip with node_modules: init once, run many, the __OW_* context in process.env', async () => {
    const rt = await fresh({ kind: 'nodejs:20', env: { __OW_API_HOST: 'https://whisk.example' } });
    const zip = zipOf({
      'package.json': JSON.stringify({ name: 'app', main: 'lib/handler.js' }),
      'lib/handler.js': `
        const _ = require('lodash');
        const tiny = require('tiny');
        let count = 0;
        exports.handle = (p) => {
          count++;
          console.log('run ' + count);
          return { count, chunked: _.chunk(p.xs, 2), tiny: tiny(), id: process.env.__OW_ACTIVATION_ID,
                   ns: process.env.__OW_NAMESPACE, host: process.env.__OW_API_HOST, flag: process.env.__OW_FLAG };
        };`,
      'node_modules/tiny/package.json': JSON.stringify({ name: 'tiny', main: './src/main' }),
      'node_modules/tiny/src/main.js': `module.exports = () => 'tiny:' + require('./util').x;`,
      'node_modules/tiny/src/util.js': 'exports.x = 42;',
    }, ['lodash'], MODULES);
    const init = await post(rt, '/init', zipInit(zip, { main: 'handle', env: { __OW_FLAG: 'on' } }));
    assert.equal(init.status, 200, init.text);
    assert.deepEqual(init.body, { OK: true });
    for (let n = 1; n <= 2; n++) {
      const r = await post(rt, '/run', { value: { xs: [1, 2, 3] }, activation_id: `act${n}`, namespace: 'ns1' });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, { count: n, chunked: [[1, 2], [3]], tiny: 'tiny:42', id: `act${n}`, ns: 'ns1',
                                 host: 'https://whisk.example', flag: 'on' });
      await rt.waitSentinels(n);
    }
    const out = rt.stdout();
    assert.ok(out.includes('run 1') && out.indexOf('run 1') < out.indexOf('run 2'), out);
    assertProtoError(await post(rt, '/init', zipInit(zip)), 403, /more than once/);
  });

  test('a zip whose main module throws fails its /run with 502 {error}', async () => {
    const rt = await fresh({ kind: 'nodejs:20' });
    const zip = makeZip([{ name: 'index.js', data: 'throw new Error("broken at load")' }]);
    assert.equal((await post(rt, '/init', zipInit(zip))).status, 200);
    assertProtoError(await post(rt, '/run', { value: {} }), 502, /broken at load/);
  });

  test('hostile archives are refused at /init with the gateway\'s words (400 {error}); nothing is installed', async () => {
    const rt = await fresh({ kind: 'nodejs:20' });
    const index = { name: 'index.js', data: 'exports.main = () => ({ ok: true })' };
    const refused = 'The zip archive of the action is refused: ';
    const PATH_WHY = "an entry's path is absolute, has an empty, '.' or '..' segment, a backslash or a NUL, or is "
      + 'longer than 1024 bytes';
    const cases = [
      // a zip bomb: 30 MiB of one byte, a few KB deflated
      [[index, { name: 'bomb.js', data: Buffer.alloc(30 << 20, 'a') }],
        `${refused}an entry unzips to more than 100 times its compressed size (a zip bomb) (entry 'bomb.js')`],
      [[index, { name: 'a/../../x.js', data: 'x' }], `${refused}${PATH_WHY} (entry 'a/../../x.js')`],
      [[index, { name: '/etc/x.js', data: 'x' }], /an entry's path is absolute/],
      [[index, { name: 'l.js', data: '/etc/passwd', mode: 0o120777 }], /symbolic link/],
      // too big: an entry that unzips to more than 32 MiB (stored, so no bomb ratio)
      [[index, { name: 'big.js', data: Buffer.alloc((32 << 20) + 1, 'b'), store: true }],
        `${refused}an entry unzips to more than 32 MiB (entry 'big.js')`],
    ];
    for (const [entries, why] of cases) {
      const r = await post(rt, '/init', zipInit(makeZip(entries)));
      assertProtoError(r, 400, why);
    }
    assertProtoError(await post(rt, '/init', { value: { code: 'not base64!', binary: true } }), 400,
      /base64/);
    // an init env the enclave would not pass on is refused, not dropped
    assertProtoError(await post(rt, '/init', zipInit(makeZip([index]), { env: { SOME_CONFIG: 'on' } })), 400,
      /__OW_/);
    assertProtoError(await post(rt, '/run', { value: {} }), 409, /not initialized/);
    // nothing was installed: a good zip may follow
    assert.equal((await post(rt, '/init', zipInit(makeZip([index])))).status, 200);
    assert.deepEqual((await post(rt, '/run', { value: {} })).body, { ok: true });
  });

  test('a zip on js:duktape is refused at /init (400): zip actions run on the V8 kinds', async () => {
    const rt = await fresh({ kind: 'js:duktape' });
    const zip = makeZip([{ name: 'index.js', data: 'exports.main = () => ({})' }]);
    assertProtoError(await post(rt, '/init', zipInit(zip)), 400, /runs on the V8 kinds/);
  });
});

describe('shutdown', () => {
  test('SIGTERM with an activation running: its caller gets an error answer, the runtime exits 0', async () => {
    const rt = await startRuntime({ kind: 'js:duktape', extraArgs: ['--timeout', '120000'] });
    assert.equal((await post(rt, '/init', initBody('function main() { while (true) {} }'))).status, 200);
    const running = post(rt, '/run', { value: {} });
    await new Promise((r) => setTimeout(r, 500)); // whether it has started by then or not, the answer is an error
    const t0 = Date.now();
    const stopped = rt.stop(); // asserts exit 0 and no sanitizer report
    const r = await running;
    assert.ok(r.status === 500 || r.status === 503, `${r.status} ${r.text}`);
    assert.deepEqual(Object.keys(r.body), ['error']);
    await stopped;
    // The drain gives running activations 10 s, then ends them.
    assert.ok(Date.now() - t0 < 30000, `took ${Date.now() - t0} ms`);
  });
});
