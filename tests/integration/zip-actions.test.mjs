// zip-actions.test.mjs - zip (multi-file) actions and the nodejs:* surface,
// end to end against the real server and V8 enclaves: archives built here
// from real, unmodified npm packages (dayjs, lodash, uuid from
// tests/node_modules) deployed through the official `openwhisk` client and
// the tfaas CLI; CommonJS require (relative files, JSON, node_modules with
// package.json main and exports, directories, a cycle, caching); every
// refusal of a hostile archive with its status and message, at create and
// (for a host that skipped the check) in the enclave; process.env's __OW_*
// values and the js:* form of them; the Node built-ins and Buffer.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import openwhisk from 'openwhisk';
import { BIN, startServer, api } from '../lib/server.mjs';
import { invoke, putAction } from '../lib/e2e.mjs';
import { assertError } from '../lib/expect.mjs';
import { runClient } from '../lib/run.mjs';
import { makeZip, zipOf } from '../lib/zip.mjs';
import { assertStateLacks } from '../lib/confidential.mjs';

const MODULES = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules');
const HAS_V8 = existsSync(join(BIN, 'tfaas-enclave-v8'));
const A = '/api/v1/namespaces/_/actions';

let server, ow, dir;

before(async () => {
  server = await startServer();
  ow = openwhisk({ apihost: server.url, api_key: server.auth });
  dir = mkdtempSync(join(tmpdir(), 'tfaas-zip-'));
});
after(async () => {
  if (server) await server.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// PUT of a zip action with exec.binary: the raw response.
function putZip(name, zip, { kind = 'nodejs:20', main, binary = true } = {}) {
  const exec = { kind, code: zip.toString('base64'), ...(binary === undefined ? {} : { binary }) };
  if (main) exec.main = main;
  return api(server, 'PUT', `${A}/${name}?overwrite=true`, { body: { exec } });
}

async function run(name, params = {}) {
  const r = await invoke(server, name, params);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.response.success, true, r.text);
  return r.body.response.result;
}

describe('zip actions from real npm packages', { skip: !HAS_V8 && 'no V8 enclave' }, () => {
  test('dayjs and lodash, unmodified, deployed with the openwhisk client (a Buffer: base64 detection)', async () => {
    const zip = zipOf({
      'package.json': JSON.stringify({ name: 'dates', main: 'lib/handler.js' }),
      'lib/handler.js': `
        const dayjs = require('dayjs');
        const utc = require('dayjs/plugin/utc');
        const _ = require('lodash');
        dayjs.extend(utc);
        exports.main = (p) => ({
          date: dayjs.utc(p.when).add(1, 'day').format('YYYY-MM-DD'),
          groups: _.groupBy(p.words, 'length'),
          chunked: _.chunk([1, 2, 3, 4, 5], 2),
        });`,
    }, ['dayjs', 'lodash'], MODULES);
    const created = await ow.actions.create({ name: 'dates', action: zip, kind: 'nodejs:default' });
    assert.equal(created.exec.binary, true);
    assert.equal(created.exec.kind, 'nodejs:20');
    const r = await ow.actions.invoke({ name: 'dates', blocking: true, result: true,
      params: { when: '2026-02-28T12:00:00Z', words: ['a', 'bb', 'cc', 'd'] } });
    assert.deepEqual(r, { date: '2026-03-01', groups: { 1: ['a', 'd'], 2: ['bb', 'cc'] }, chunked: [[1, 2], [3, 4], [5]] });
  });

  test('uuid (package.json "exports", require of the crypto hook) deployed with the tfaas CLI', async () => {
    // uuid's CommonJS build requires Node's crypto; the action installs the
    // documented hook itself (the Web-API side installs the real one).
    const zip = zipOf({
      'index.js': `
        const nodeCrypto = require('./fake-crypto');
        globalThis[Symbol.for('tfaas.node.crypto')] = nodeCrypto;
        const { v4, validate, version, parse, stringify, NIL } = require('uuid');
        exports.main = () => {
          const id = v4();
          return { valid: validate(id), version: version(id), nil: NIL,
                   roundTrip: stringify(parse('6ba7b810-9dad-11d1-80b4-00c04fd430c8')) };
        };`,
      'fake-crypto.js': `
        exports.randomFillSync = (b) => { for (let i = 0; i < b.length; i++) b[i] = (Math.random() * 256) | 0; return b; };
        exports.randomUUID = undefined;`,
    }, ['uuid'], MODULES);
    const file = join(dir, 'ids.zip');
    writeFileSync(file, zip);
    const c = await runClient(['action', 'create', 'ids', file, '--kind', 'nodejs:20'], { dir, server });
    assert.equal(c.code, 0, c.stderr);
    const i = await runClient(['action', 'invoke', 'ids', '--result'], { dir, server });
    assert.equal(i.code, 0, i.stderr);
    assert.deepEqual(JSON.parse(i.stdout), { valid: true, version: 4, nil: '00000000-0000-0000-0000-000000000000',
      roundTrip: '6ba7b810-9dad-11d1-80b4-00c04fd430c8' });
  });
});

describe('a confidential zip action', { skip: !HAS_V8 && 'no V8 enclave' }, () => {
  test('deployed and invoked with the CLI: unzipped in the enclave, the host stores no byte of its files', async () => {
    const CANARY = 'CANARY-in-a-zipped-module-7f3a91';
    // stored, not deflated: the canary's bytes would be in the archive as is
    const zip = makeZip([
      { name: 'index.js', data: "const m = require('./lib/m'); exports.main = (p) => ({ tag: m.tag, n: p.n, " +
        "hex: Buffer.from('ok').toString('hex'), named: process.env.__OW_ACTION_NAME });", store: true },
      { name: 'lib/m.js', data: `exports.tag = '${CANARY}';`, store: true },
    ]);
    assert.ok(zip.includes(CANARY));
    const file = join(dir, 'secret.zip');
    writeFileSync(file, zip);
    let r = await runClient(['attest', '--root', join(server.stateDir, 'sim-platform.pem')], { dir, server });
    assert.equal(r.code, 0, r.stderr);
    r = await runClient(['action', 'create', 'zipsecret', file, '--confidential', '--kind', 'nodejs:20'], { dir, server });
    assert.equal(r.code, 0, r.stderr);
    r = await runClient(['action', 'invoke', 'zipsecret', '--confidential', '-p', 'n', '5'], { dir, server });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { tag: CANARY, n: 5, hex: '6f6b', named: '/guest/zipsecret' });
    assertStateLacks(server.stateDir, [CANARY]);
  });
});

describe('CommonJS require inside a zip', { skip: !HAS_V8 && 'no V8 enclave' }, () => {
  test('relative files, JSON, directories, node_modules main, a cycle and the module cache', async () => {
    const zip = makeZip([
      { name: 'index.js', data: `
        const a = require('./a');
        const again = require('./a.js');
        const cfg = require('./config.json');
        const dir = require('./lib');
        const pkg = require('tiny');
        const deep = require('tiny/extra');
        let loads = require('./counter').loads;
        require('./counter');
        exports.main = (p) => ({ a: a.name, sameModule: a === again, seenB: a.seenB, bSawA: a.bSawA,
          cfg: cfg.greeting, dir, pkg: pkg(), deep, loads, filename: __filename, dirname: __dirname,
          resolved: require.resolve('tiny'), param: p.x });` },
      { name: 'a.js', data: `exports.name = 'a'; const b = require('./b'); exports.late = true;
        exports.seenB = b.name; exports.bSawA = b.sawA;` },
      // b requires a while a is loading: it gets a's exports as they are so far (Node's cycle rule)
      { name: 'b.js', data: `const a = require('./a'); exports.name = 'b';
        exports.sawA = { name: a.name, late: a.late === undefined ? 'not yet' : 'set' };` },
      { name: 'config.json', data: '{"greeting": "hi"}' },
      { name: 'lib/index.js', data: `module.exports = 'lib/index';` },
      { name: 'counter.js', data: `globalThis.__loads = (globalThis.__loads || 0) + 1; exports.loads = globalThis.__loads;` },
      { name: 'node_modules/tiny/package.json', data: JSON.stringify({ name: 'tiny', main: './src/main' }) },
      { name: 'node_modules/tiny/src/main.js', data: `module.exports = () => 'tiny:' + require('./util').x;` },
      { name: 'node_modules/tiny/src/util.js', data: `exports.x = 42;` },
      { name: 'node_modules/tiny/extra.js', data: `module.exports = 'extra';` },
    ]);
    assert.equal((await putZip('multi', zip, { kind: 'js:v8' })).status, 200);
    assert.deepEqual(await run('multi', { x: 1 }), {
      a: 'a', sameModule: true, seenB: 'b', bSawA: { name: 'a', late: 'not yet' }, cfg: 'hi', dir: 'lib/index',
      pkg: 'tiny:42', deep: 'extra', loads: 1, filename: '/action/index.js', dirname: '/action',
      resolved: '/action/node_modules/tiny/src/main.js', param: 1,
    });
  });

  test('package.json exports: conditions, subpaths and patterns; what it does not export is refused', async () => {
    const zip = makeZip([
      { name: 'index.js', data: `
        const attempt = (spec) => { try { return require(spec); } catch (e) { return e.code; } };
        exports.main = () => ({
          root: require('ex'), feature: require('ex/feature'), pattern: require('ex/lib/x'),
          hidden: attempt('ex/hidden.js'), escaping: attempt('ex/escape'), other: require('other'),
        });` },
      { name: 'node_modules/ex/package.json', data: JSON.stringify({ name: 'ex', main: './hidden.js', exports: {
        '.': { import: './esm.mjs', require: './cjs.js' },
        './feature': [{ node: './feature.js' }, './never.js'],
        './lib/*': './src/*.js',
        './escape': './../other/index.js',
      } }) },
      { name: 'node_modules/ex/cjs.js', data: "module.exports = 'cjs';" },
      { name: 'node_modules/ex/hidden.js', data: "module.exports = 'hidden';" },
      { name: 'node_modules/ex/feature.js', data: "module.exports = 'feature';" },
      { name: 'node_modules/ex/src/x.js', data: "module.exports = 'src/x';" },
      { name: 'node_modules/other/index.js', data: "module.exports = 'other';" },
    ]);
    assert.equal((await putZip('exported', zip)).status, 200);
    assert.deepEqual(await run('exported'), { root: 'cjs', feature: 'feature', pattern: 'src/x',
      hidden: 'ERR_PACKAGE_PATH_NOT_EXPORTED', escaping: 'ERR_PACKAGE_PATH_NOT_EXPORTED', other: 'other' });
  });

  test('exec.main names the export; module.exports may be the function itself', async () => {
    const zip = makeZip([{ name: 'index.js', data: 'exports.handler = (p) => ({ via: "handler", n: p.n });' }]);
    assert.equal((await putZip('named', zip, { main: 'handler' })).status, 200);
    assert.deepEqual(await run('named', { n: 2 }), { via: 'handler', n: 2 });
    const fnZip = makeZip([{ name: 'index.js', data: 'module.exports = (p) => ({ whole: true });' }]);
    assert.equal((await putZip('whole', fnZip)).status, 200);
    assert.deepEqual(await run('whole'), { whole: true });
  });

  test('what cannot be found or is not there fails the activation with a clear message', async () => {
    const cases = [
      [[{ name: 'lib/x.js', data: 'exports.main = () => ({})' }],
        'Initialization has failed due to: Error: The zip action has no main module: give package.json a "main" or add index.js at the top of the archive'],
      [[{ name: 'index.js', data: "require('./nope'); exports.main = () => ({})" }],
        "Initialization has failed due to: Error: Cannot find module './nope'\nRequire stack:\n- /action/index.js"],
      [[{ name: 'index.js', data: "require('../../etc/passwd'); exports.main = () => ({})" }],
        "Initialization has failed due to: Error: Cannot find module '../../etc/passwd'\nRequire stack:\n- /action/index.js"],
      [[{ name: 'index.js', data: "require('fs'); exports.main = () => ({})" }],
        "Initialization has failed due to: Error: The Node built-in module 'fs' is not available in tfaas: functions have no file system, processes or raw network access (docs/api.md)"],
      [[{ name: 'index.js', data: 'exports.other = () => ({})' }],
        "Initialization has failed due to: the action defines no function 'main'"],
    ];
    for (const [i, [entries, message]] of cases.entries()) {
      assert.equal((await putZip(`bad${i}`, makeZip(entries))).status, 200);
      const r = await invoke(server, `bad${i}`);
      assert.equal(r.status, 502, r.text);
      assert.ok(r.body.response.result.error.startsWith(message), `${r.body.response.result.error} vs ${message}`);
    }
  });
});

describe('hostile archives are refused', () => {
  const big = (n, ch = 'a') => Buffer.alloc(n, ch);
  const index = { name: 'index.js', data: 'exports.main = () => ({ ok: true })' };
  const refusals = [
    ['traversal', [index, { name: '../evil.js', data: 'x' }],
      "an entry's path is absolute, has an empty, '.' or '..' segment, a backslash or a NUL, or is longer than 1024 bytes (entry '../evil.js')"],
    ['absolute', [index, { name: '/etc/cron.d/x', data: 'x' }],
      "an entry's path is absolute, has an empty, '.' or '..' segment, a backslash or a NUL, or is longer than 1024 bytes (entry '/etc/cron.d/x')"],
    ['symlink', [index, { name: 'link.js', data: '/etc/passwd', mode: 0o120777 }],
      "an entry is a symbolic link (entry 'link.js')"],
    ['encrypted', [index, { name: 'secret.js', data: 'xxxxxxxxxxxx', flags: 1, store: true }],
      "an entry is encrypted (entry 'secret.js')"],
    ['bzip2', [index, { name: 'b.js', data: 'xxxx', method: 12, store: true }],
      "an entry is compressed with a method other than stored or deflated (entry 'b.js')"],
    ['bomb', [index, { name: 'bomb.js', data: big(20 << 20) }],
      "an entry unzips to more than 100 times its compressed size (a zip bomb) (entry 'bomb.js')"],
    ['lying size', [index, { name: 'liar.js', data: big(5000), declaredSize: 10 }],
      "an entry's data does not match its header (size or checksum) (entry 'liar.js')"],
    ['too many entries', [index, ...Array.from({ length: 10001 }, (_, i) => ({ name: `d${i}/` }))],
      'it has more than 10000 entries'],
    ['not a zip', null, 'it is not a zip archive that can be read'],
  ];
  for (const [what, entries, why] of refusals) {
    test(`${what}: 400 at create`, { skip: !HAS_V8 && 'no V8 enclave' }, async () => {
      const zip = entries ? makeZip(entries) : Buffer.from('PK\x03\x04 this is not a zip at all');
      assertError(await putZip(`h-${what.replace(/ /g, '-')}`, zip), 400, `The zip archive of the action is refused: ${why}`);
    });
  }

  test('a zip of a Duktape kind, and binary code that is not base64: 400', async () => {
    const zip = makeZip([{ name: 'index.js', data: 'exports.main = () => ({})' }]);
    assertError(await putZip('duk', zip, { kind: 'js:duktape' }), 400,
      "A zip action runs on the V8 kinds (nodejs:*, js:v8), not on 'js:duktape'");
    const r = await api(server, 'PUT', `${A}/nob64?overwrite=true`,
      { body: { exec: { kind: 'nodejs:20', code: 'function main() {}', binary: true } } });
    assertError(r, 400, 'exec.code of a binary action must be a zip archive in base64');
  });
});

describe('the activation environment', { skip: !HAS_V8 && 'no V8 enclave' }, () => {
  test('nodejs:* kinds: process.env holds __OW_ACTION_NAME, __OW_NAMESPACE, __OW_ACTIVATION_ID, __OW_DEADLINE', async () => {
    await putAction(server, 'envy', `
      const atLoad = process.env.__OW_ACTION_NAME;
      function main() {
        const e = process.env;
        return { atLoad, name: e.__OW_ACTION_NAME, ns: e.__OW_NAMESPACE, id: e.__OW_ACTIVATION_ID,
                 deadline: e.__OW_DEADLINE, version: e.__OW_ACTION_VERSION, key: e.__OW_API_KEY ?? null,
                 owKeys: Object.keys(e).filter((k) => k.startsWith('__OW_')).sort() };
      }`, { kind: 'nodejs:20', limits: { timeout: 30000 } });
    const t0 = Date.now();
    const r = await invoke(server, 'envy');
    assert.equal(r.status, 200, r.text);
    const res = r.body.response.result;
    assert.equal(res.atLoad, '/guest/envy');
    assert.equal(res.name, '/guest/envy');
    assert.equal(res.ns, 'guest');
    assert.equal(res.id, r.body.activationId);
    assert.equal(res.version, '0.0.1');
    assert.equal(res.key, null); // only with the provide-api-key annotation
    const deadline = Number(res.deadline);
    // the deadline is the activation's start plus its 30 s timeout
    assert.ok(deadline >= t0 + 30000 - 1000 && deadline <= Date.now() + 30000, `${deadline} vs ${t0}`);
    assert.deepEqual(res.owKeys, ['__OW_ACTION_NAME', '__OW_ACTION_VERSION', '__OW_ACTIVATION_ID', '__OW_DEADLINE',
      '__OW_NAMESPACE']);
    // a warm heap gets the next activation's values, not the first one's
    const again = await invoke(server, 'envy');
    assert.equal(again.body.response.result.id, again.body.activationId);
    assert.notEqual(again.body.activationId, r.body.activationId);
  });

  test('provide-api-key: __OW_API_KEY and __OW_API_HOST are the caller\'s, on a direct invoke only', async () => {
    const body = { exec: { kind: 'nodejs:20', code: `function main() {
        return { key: process.env.__OW_API_KEY ?? null, host: process.env.__OW_API_HOST ?? null }; }` },
      annotations: [{ key: 'provide-api-key', value: true }] };
    assert.equal((await api(server, 'PUT', `${A}/keyed?overwrite=true`, { body })).status, 200);
    assert.deepEqual(await run('keyed'), { key: server.auth, host: server.url });
    // without the annotation (or with it false) neither is given
    body.annotations[0].value = false;
    assert.equal((await api(server, 'PUT', `${A}/keyed?overwrite=true`, { body })).status, 200);
    assert.deepEqual(await run('keyed'), { key: null, host: null });
  });

  test('js:* kinds get the same values as main\'s second argument, and no process global', async () => {
    for (const kind of ['js:duktape', 'js:v8']) {
      await putAction(server, 'envjs', `function main(p, env) {
        return { name: env.__OW_ACTION_NAME, id: env.__OW_ACTIVATION_ID, process: typeof process,
                 require: typeof require, buffer: typeof Buffer, kind: '${kind}' };
      }`, { kind });
      const r = await invoke(server, 'envjs');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.response.result, { name: '/guest/envjs', id: r.body.activationId,
        // Duktape has its own (Node-like) Buffer built in; V8's js:v8 has none
        process: 'undefined', require: 'undefined', buffer: kind === 'js:duktape' ? 'function' : 'undefined', kind });
    }
  });
});

describe('the Node built-ins of nodejs:* kinds', { skip: !HAS_V8 && 'no V8 enclave' }, () => {
  test('util, events, buffer, url, querystring, string_decoder, path, assert and Buffer', async () => {
    await putAction(server, 'builtins', `
      const util = require('util'), EventEmitter = require('events'), { StringDecoder } = require('string_decoder');
      const path = require('node:path'), qs = require('querystring'), url = require('url'), assert = require('assert');
      function main() {
        const em = new EventEmitter(); let got; em.on('x', (v) => { got = v; }); em.emit('x', 7);
        const d = new StringDecoder('utf8');
        const euro = Buffer.from('€');
        let threw = null; try { assert.deepStrictEqual({ a: 1 }, { a: 2 }); } catch (e) { threw = e.code; }
        return {
          format: util.format('%s=%d', 'n', 5), inspect: util.inspect({ a: [1] }),
          got, b64: Buffer.from('hello').toString('base64'), hex: Buffer.from([1, 255]).toString('hex'),
          isBuffer: Buffer.isBuffer(require('buffer').Buffer.alloc(1)),
          decoded: d.write(euro.subarray(0, 1)) + d.write(euro.subarray(1)),
          join: path.join('/a/b', '../c'), qs: qs.stringify({ x: 1, y: 'a b' }), parsed: qs.parse('a=1&b=2'),
          host: url.parse('https://example.com:8080/p?q=1').port, threw,
          promisify: typeof util.promisify, sameUtil: require('util') === util,
        };
      }`, { kind: 'nodejs:20' });
    const res = await run('builtins');
    assert.deepEqual(res, {
      format: 'n=5', inspect: '{ a: [ 1 ] }', got: 7, b64: 'aGVsbG8=', hex: '01ff', isBuffer: true, decoded: '€',
      join: '/a/c', qs: 'x=1&y=a%20b', parsed: { a: '1', b: '2' }, host: '8080', threw: 'ERR_ASSERTION',
      promisify: 'function', sameUtil: true,
    });
  });

  test('what is not there throws a clear error; crypto waits for its hook', async () => {
    await putAction(server, 'absent', `function main() {
      const out = {};
      for (const m of ['fs', 'child_process', 'net', 'http', 'os', 'crypto']) {
        try { require(m); out[m] = 'loaded'; } catch (e) { out[m] = e.code + ': ' + e.message; }
      }
      return out;
    }`, { kind: 'nodejs:20' });
    const res = await run('absent');
    const gap = (m) => `ERR_TFAAS_NO_BUILTIN: The Node built-in module '${m}' is not available in tfaas: functions have no file system, processes or raw network access (docs/api.md)`;
    assert.equal(res.fs, gap('fs'));
    assert.equal(res.child_process, gap('child_process'));
    assert.equal(res.net, gap('net'));
    assert.equal(res.http, gap('http'));
    assert.equal(res.os, gap('os'));
    assert.ok(res.crypto === 'loaded' ||
      res.crypto === "ERR_TFAAS_NO_BUILTIN: The Node built-in module 'crypto' is not available in this tfaas build", res.crypto);
  });
});
