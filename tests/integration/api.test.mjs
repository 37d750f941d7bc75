// api.test.mjs - the OpenWhisk-compatible REST API of `tfaas serve`, over
// real HTTP against the real server and enclaves: actions CRUD, invocation
// (blocking, non-blocking, result only), activations, default parameters,
// and every error with its status code and {"error", "code"} body.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { BIN, SANITIZER, startServer, api, sleep } from '../lib/server.mjs';
import { createNamespace, poll, ENGINE_KINDS } from '../lib/e2e.mjs';
import { assertError } from '../lib/expect.mjs';

const A = '/api/v1/namespaces/_/actions';
const ACT = '/api/v1/namespaces/_/activations';
const HELLO = "function main(p) { console.log('hi ' + p.name); return { greeting: 'Hello, ' + p.name + '!' }; }";
const SLOW = 'function main(p) { var t = Date.now(); while (Date.now() - t < p.ms) {} return { slept: p.ms }; }';

let server;


async function put(name, body, query = '') {
  return api(server, 'PUT', `${A}/${encodeURIComponent(name)}${query}`, { body });
}

const js = (code, extra = {}) => ({ exec: { kind: 'js:duktape', code }, ...extra });

before(async () => { server = await startServer(); });
after(async () => { if (server) await server.stop(); });

describe('info and namespaces', () => {
  test('GET /api/v1 describes paths, runtimes and limits without auth', async () => {
    const r = await api(server, 'GET', '/api/v1', { auth: null });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.api_paths, ['/api/v1']);
    const kinds = Object.values(r.body.runtimes).flat().map((x) => x.kind);
    assert.ok(kinds.includes('js:duktape'), JSON.stringify(r.body.runtimes));
    assert.ok(kinds.includes('js:v8'), JSON.stringify(r.body.runtimes));
    assert.equal(r.body.limits.max_action_duration, 300000);
  });

  test('GET /api/v1/namespaces lists only the caller\'s namespace', async () => {
    const r = await api(server, 'GET', '/api/v1/namespaces');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, ['guest']);
  });
});

describe('authentication', () => {
  test('missing credentials: 401', async () => {
    assertError(await api(server, 'GET', A, { auth: null }), 401,
      'The resource requires authentication, which was not supplied with the request');
  });
  test('wrong key: 401', async () => {
    const [uuid] = server.auth.split(':');
    assertError(await api(server, 'GET', A, { auth: `${uuid}:${'x'.repeat(64)}` }), 401,
      'The supplied authentication is invalid');
  });
  test('malformed header: 401', async () => {
    for (const h of ['Basic !!!', 'Bearer abc', 'Basic ' + Buffer.from('nocolon').toString('base64'),
      'Basic ' + 'A'.repeat(5000)]) {
      assertError(await api(server, 'GET', A, { auth: null, headers: { authorization: h } }), 401,
        'The supplied authentication is invalid');
    }
  });
  test('another namespace in the path: 403', async () => {
    assertError(await api(server, 'GET', '/api/v1/namespaces/someone/actions'), 403,
      "The supplied authentication is not authorized to access 'someone'.");
  });
  test('the explicit own namespace works like _', async () => {
    const r = await api(server, 'GET', '/api/v1/namespaces/guest/actions');
    assert.equal(r.status, 200, r.text);
  });
});

describe('actions', () => {
  test('create, conflict, get, update, list, delete', async () => {
    let r = await put('crud', js(HELLO));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.name, 'crud');
    assert.equal(r.body.namespace, 'guest');
    assert.equal(r.body.version, '0.0.1');
    assert.equal(r.body.exec.kind, 'js:duktape');
    assert.deepEqual(r.body.limits, { timeout: 60000, memory: 256, logs: 10, concurrency: 1 });
    assert.ok(r.body.annotations.some((a) => a.key === 'exec' && a.value === 'js:duktape'), JSON.stringify(r.body));

    assertError(await put('crud', js(HELLO)), 409, 'resource already exists');

    r = await api(server, 'GET', `${A}/crud`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.exec.code, HELLO);
    r = await api(server, 'GET', `${A}/crud?code=false`);
    assert.equal(r.body.exec.code, undefined);

    r = await put('crud', js('function main() { return {v: 2}; }', { limits: { timeout: 5000 } }), '?overwrite=true');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.version, '0.0.2');
    assert.equal(r.body.limits.timeout, 5000);

    // an update without exec keeps the code, as OpenWhisk does
    r = await put('crud', { parameters: [{ key: 'x', value: 1 }] }, '?overwrite=true');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.version, '0.0.3');
    assert.equal(r.body.exec.code, 'function main() { return {v: 2}; }');
    assert.equal(r.body.limits.timeout, 5000);

    r = await api(server, 'GET', A);
    assert.equal(r.status, 200, r.text);
    const entry = r.body.find((a) => a.name === 'crud');
    assert.ok(entry, r.text);
    assert.equal(entry.exec.code, undefined, 'lists leave out the code');

    r = await api(server, 'DELETE', `${A}/crud`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.name, 'crud');
    assertError(await api(server, 'GET', `${A}/crud`), 404, 'The requested resource does not exist.');
    assertError(await api(server, 'DELETE', `${A}/crud`), 404, 'The requested resource does not exist.');
  });

  test('nodejs kinds are accepted and annotated with their kind (OpenWhisk writes the kind, not the family)', async () => {
    const r = await put('nodekind', { exec: { kind: 'nodejs:20', code: HELLO } });
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.annotations.some((a) => a.key === 'exec' && a.value === 'nodejs:20'), r.text);
  });

  test('list honours limit and skip', async () => {
    for (const n of ['l1', 'l2', 'l3']) assert.equal((await put(n, js(HELLO))).status, 200);
    const all = (await api(server, 'GET', `${A}?limit=200`)).body.map((a) => a.name);
    const r = await api(server, 'GET', `${A}?limit=2&skip=1`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.map((a) => a.name), all.slice(1, 3));
    const c = await api(server, 'GET', `${A}?count=true`);
    assert.deepEqual(c.body, { actions: all.length }, c.text);
    assertError(await api(server, 'GET', `${A}?limit=201`), 400, /limit/);
    assertError(await api(server, 'GET', `${A}?skip=-1`), 400, /skip/);
    assertError(await api(server, 'GET', `${A}?limit=abc`), 400, /limit/);
  });

  test('validation errors are 400s that name the problem', async () => {
    assertError(await put('bad', { exec: { kind: 'python:3', code: 'x' } }), 400, /python:3/);
    assertError(await put('bad', { exec: { kind: 'sequence', components: [] } }), 400, /sequence/);
    assertError(await put('bad', { exec: { kind: 'js:duktape', code: 'x', binary: 'yes' } }), 400, /binary/);
    assertError(await put('bad', { exec: { kind: 'js:duktape' } }), 400, /exec\.code/);
    assertError(await put('bad', {}), 400, /exec/);
    for (const [limit, value] of [['timeout', 99], ['timeout', 300001], ['memory', 127], ['memory', 513],
      ['logs', 11], ['concurrency', 0], ['concurrency', 501], ['timeout', 'soon']]) {
      assertError(await put('bad', js(HELLO, { limits: { [limit]: value } })), 400, new RegExp(limit));
    }
    assertError(await put('-bad', js(HELLO)), 400, /name/);
    assertError(await put('x'.repeat(257), js(HELLO)), 400, /name/);
    // into a package that does not exist (packages.test.mjs has the rest)
    assertError(await api(server, 'PUT', `${A}/pkg/inner`, { body: js(HELLO) }), 404);
    assertError(await api(server, 'PUT', `${A}/-pkg/inner`, { body: js(HELLO) }), 400, /package name/);
    // %00 must not truncate the name to "a"; invalid UTF-8 is quoted safely
    assertError(await api(server, 'PUT', `${A}/a%00b`, { body: js(HELLO) }), 400, /name/);
    assertError(await api(server, 'PUT', `${A}/%ff%fe`, { body: js(HELLO) }), 400, /name/);
    assert.equal((await api(server, 'GET', `${A}/a`)).status, 404, 'no truncated name was stored');
    assertError(await api(server, 'PUT', `${A}/bad`, { raw: '{"exec": ', headers: { 'content-type': 'application/json' } }),
      400, /^The request content was malformed: /);
    assertError(await api(server, 'PUT', `${A}/bad`, { raw: '' }), 400, /^The request content was malformed/);
    assert.equal((await api(server, 'GET', `${A}/bad`)).status, 404, 'nothing was stored');
  });

  test('unknown routes are 404, wrong methods 405', async () => {
    assertError(await api(server, 'GET', '/api/v1/namespaces/_/nothing'), 404);
    assertError(await api(server, 'GET', '/nothing/here'), 404);
    const r = await api(server, 'PATCH', `${A}/x`);
    assertError(r, 405);
    assert.match(r.headers.get('allow'), /PUT/);
    assertError(await api(server, 'DELETE', ACT), 405);
    assertError(await api(server, 'POST', '/api/v1'), 405);
  });

  test('oversized bodies are refused with 413', async () => {
    const big = { exec: { kind: 'js:duktape', code: '//' + 'x'.repeat(48 * 1024 * 1024) } };
    assertError(await put('huge', big), 413);
    assertError(await api(server, 'POST', `${A}/huge`, { body: { pad: 'x'.repeat(1024 * 1024) } }), 413);
    // a 2 MiB action is fine: actions may be up to 48 MiB
    const r = await put('biggish', js(HELLO + '\n//' + 'x'.repeat(2 * 1024 * 1024)));
    assert.equal(r.status, 200, r.text.slice(0, 300));
  });
});

describe('invocation and activations', () => {
  before(async () => {
    let r = await put('hello', js(HELLO, { parameters: [{ key: 'name', value: 'default' }, { key: 'keep', value: 1 }] }));
    assert.equal(r.status, 200, r.text);
    r = await put('echo', js('function main(p) { return p; }', { parameters: [{ key: 'a', value: 1 }, { key: 'b', value: 2 }] }));
    assert.equal(r.status, 200, r.text);
  });

  test('blocking invoke returns the whole activation record', async () => {
    const r = await api(server, 'POST', `${A}/hello?blocking=true`, { body: { name: 'Ada' } });
    assert.equal(r.status, 200, r.text);
    const a = r.body;
    assert.match(a.activationId, /^[0-9a-f]{32}$/);
    assert.equal(r.headers.get('x-openwhisk-activation-id'), a.activationId);
    assert.equal(a.namespace, 'guest');
    assert.equal(a.subject, 'guest');
    assert.equal(a.name, 'hello');
    assert.equal(a.version, '0.0.1');
    assert.equal(a.publish, false);
    assert.ok(a.start <= a.end && a.duration >= 0, r.text);
    assert.deepEqual(a.response, { status: 'success', statusCode: 0, success: true, result: { greeting: 'Hello, Ada!' } });
    assert.equal(a.statusCode, 0);
    assert.equal(a.logs.length, 1, r.text);
    assert.match(a.logs[0], /hi Ada/);
    const ann = Object.fromEntries(a.annotations.map((x) => [x.key, x.value]));
    assert.equal(ann.path, 'guest/hello');
    assert.equal(ann.kind, 'js:duktape');
    assert.deepEqual(ann.limits, { timeout: 60000, memory: 256, logs: 10, concurrency: 1 });
    assert.equal(typeof ann.waitTime, 'number');
    assert.equal(ann.timeout, false);
  });

  test('result=true returns only the result', async () => {
    const r = await api(server, 'POST', `${A}/hello?blocking=true&result=true`, { body: { name: 'Bo' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { greeting: 'Hello, Bo!' });
    assert.match(r.headers.get('x-openwhisk-activation-id'), /^[0-9a-f]{32}$/);
  });

  test('default parameters are merged under the request\'s', async () => {
    const r = await api(server, 'POST', `${A}/echo?blocking=true&result=true`, { body: { b: 'mine', c: 3 } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { a: 1, b: 'mine', c: 3 });
    const d = await api(server, 'POST', `${A}/hello?blocking=true&result=true`);
    assert.deepEqual(d.body, { greeting: 'Hello, default!' }, 'an empty body uses the defaults');
  });

  test('parameters written oddly reach the function as parsed, with or without defaults', async () => {
    // Without package or action parameters the body goes to the enclave as
    // sent (invoke.c); with them it is merged and written again. Both must
    // give the function what the gateway parsed.
    const code = 'function main(p) { return { p: p, nul: p.s.charCodeAt(1) }; }';
    assert.equal((await put('rawparams', js(code))).status, 200);
    assert.equal((await put('rawparams-d', js(code, { parameters: [{ key: 'z', value: 0 }] }))).status, 200);
    // As sent: escapes, a raw UTF-8 emoji, a duplicate key, odd numbers and
    // spacing. Escaped surrogates take the merged path even without
    // defaults (Duktape reads them as lone surrogates): the second body.
    const raw = ' {\n "n" : 1e2 , "s":"a\\u0000\\u00e9\u{1F600}", "arr":[1, 2.50, -0, true,null],' +
      ' "d":{"k":1}, "d":{"k":2}, "deep":{"x":{"y":[{}]}} } ';
    const want = { n: 100, s: 'a\u0000\u00e9\u{1F600}', arr: [1, 2.5, 0, true, null], d: { k: 2 }, deep: { x: { y: [{}] } } };
    const escaped = '{"s":"a\\u0000\\u00e9\\ud83d\\ude00\\\\ud800"}';
    for (const [body, expect] of [[raw, want], [escaped, { s: 'a\u0000\u00e9\u{1F600}\\ud800' }]]) {
      for (const [name, extra] of [['rawparams', {}], ['rawparams-d', { z: 0 }]]) {
        const r = await api(server, 'POST', `${A}/${name}?blocking=true&result=true`,
          { raw: body, headers: { 'content-type': 'application/json' } });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.body, { p: { ...expect, ...extra }, nul: 0 }, `${name} ${body}`);
      }
    }
    // Not an object, or not JSON: refused before any enclave sees it.
    for (const bad of ['[1]', '{"a":1} x', '{"s":"\\ud800"}']) {
      const r = await api(server, 'POST', `${A}/rawparams?blocking=true`,
        { raw: bad, headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 400, `${bad}: ${r.text}`);
    }
  });

  test('numbers are written as ECMAScript writes them: String(x), "" + x, JSON.stringify, echoed parameters', async () => {
    // Duktape writes the short ones without its bignums (src/trusted/duktape/
    // numbers.c); V8 in Node is the reference here. The values are literals
    // and exact IEEE operations, the same doubles in both engines.
    const values = 'var xs = [0.618, -0.618, 123.456, 0.1, 0.5, 1e-6, 1.5e-6, 1e-7, -1.25e-7, 1e20, 1e21, 1.5e21,' +
      ' 4294967297.5, 999999999999999, 0.1 + 0.2, 1 / 3, 2 / 3, 1e300, 5e-324, 1.7976931348623157e308, -0, 0,' +
      ' NaN, Infinity, -Infinity, 1843, 4217.25, 1 / 1048576, 1e36, 1e37, 123456789012345e6];' +
      ' for (var i = 1; i <= 300; i++) xs.push(i * 0.01, i / 7, i * 1.1e-7, i * 3.3e19, -i / 64);';
    const code = `function main(p) { ${values} return { json: JSON.stringify(xs), str: xs.map(String).join(' '),` +
      ` concat: '' + xs[0] + xs[7] + xs[10], echo: JSON.stringify(p.xs) }; }`;
    assert.equal((await put('numbers', js(code))).status, 200);
    const xs = new Function(`${values} return xs;`)();
    const sent = '{"xs":[0.618,-0.5,123.456,1e-7,0.000001,1e21,1e20,0.1,4217,1815.5,-0,1.7976931348623157e308,5e-324,' +
      '0.30000000000000004,0.12345678901234567,99999999999999.9]}';
    const r = await api(server, 'POST', `${A}/numbers?blocking=true&result=true`,
      { raw: sent, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.json, JSON.stringify(xs));
    assert.equal(r.body.str, xs.map(String).join(' '));
    assert.equal(r.body.concat, '0.6181e-71e+21');
    assert.equal(r.body.echo, JSON.stringify(JSON.parse(sent).xs));
  });

  test('JSON.stringify of every shape of value matches ECMAScript (Duktape takes its fast path where it can)', async () => {
    // Duktape's JSON.stringify fast path (scripts/duk-config.sh) walks
    // property tables directly and falls back to the standard algorithm for
    // a whole value when it meets what it cannot do (toJSON, getters,
    // inherited array elements, deep nesting, cycles), so each shape is
    // also written alone; V8 in Node is the reference.
    const shapes = 'var proto = {inherited: 1}; var withProto = Object.create(proto); withProto.own = 2;' +
      ' var getter = {}; Object.defineProperty(getter, "g", {get: function () { return "got"; }, enumerable: true});' +
      ' var hidden = {}; Object.defineProperty(hidden, "h", {value: 1, enumerable: false}); hidden.v = 2;' +
      ' var deep = [], cur = deep; for (var i = 0; i < 100; i++) { var n = {d: []}; cur.push(n); cur = n.d; }' +
      ' var shared = {s: 1};' +
      ' var shapes = {plain: {a: 1, b: "two", c: true, d: null, e: [1, "x", false, null]},' +
      ' undef: {u: undefined, f: function () {}, k: 1}, arr: [undefined, function () {}, 1], holes: [1, , 3],' +
      ' nums: [0.618, -0, 1e21, NaN, Infinity, 1 / 3, 4217, 2147483648.5],' +
      ' strs: ["quote \\" backslash \\\\ newline \\n tab \\t ctl \\u0001 \\u001f del \\u007f \\u00e9"],' +
      ' boxed: [new Number(1.5), new String("s"), new Boolean(false)],' +
      ' toJSON: {toJSON: function (k) { return {replaced: k}; }}, date: new Date(0), withProto: withProto,' +
      ' getter: getter, hidden: hidden, deep: deep, twice: [shared, shared], nested: {x: {y: {z: [{}, []]}}}};' +
      ' Array.prototype[1] = "inherited"; var inheritedHole = JSON.stringify([1, , 3]); delete Array.prototype[1];' +
      ' var cyc = {}; cyc.self = cyc; var cyclic; try { JSON.stringify(cyc); cyclic = "no error"; } catch (e) { cyclic = e.name; }' +
      ' var out = {json: JSON.stringify(shapes), each: Object.keys(shapes).map(function (k) { return JSON.stringify(shapes[k]); }),' +
      ' indented: JSON.stringify(shapes.plain, null, 2),' +
      ' listed: JSON.stringify(shapes.plain, ["a", "c"]), replaced: JSON.stringify(shapes.plain, function (k, v) {' +
      ' return typeof v === "number" ? v * 2 : v; }), inheritedHole: inheritedHole, cyclic: cyclic,' +
      ' top: [JSON.stringify(0.618), JSON.stringify("s"), JSON.stringify(undefined), JSON.stringify(null)].join("|")};';
    assert.equal((await put('shapes', js(`function main() { ${shapes} return out; }`))).status, 200);
    const want = new Function(`${shapes} return out;`)();
    const r = await api(server, 'POST', `${A}/shapes?blocking=true&result=true`, { body: {} });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, want);
    assert.equal(want.cyclic, 'TypeError');
    assert.equal(want.inheritedHole, '[1,"inherited",3]');
  });

  test('non-blocking invoke: 202, then the activation, its result and logs', async () => {
    const r = await api(server, 'POST', `${A}/hello`, { body: { name: 'Cy' } });
    assert.equal(r.status, 202, r.text);
    const id = r.body.activationId;
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.deepEqual(Object.keys(r.body), ['activationId']);
    const got = await poll(async () => {
      const g = await api(server, 'GET', `${ACT}/${id}`);
      return g.status === 200 ? g : undefined;
    });
    assert.ok(got, 'the activation record appears');
    assert.equal(got.body.activationId, id);
    assert.equal(got.body.response.result.greeting, 'Hello, Cy!');

    const res = await api(server, 'GET', `${ACT}/${id}/result`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, 'success');
    assert.equal(res.body.success, true);
    assert.deepEqual(res.body.result, { greeting: 'Hello, Cy!' });

    const logs = await api(server, 'GET', `${ACT}/${id}/logs`);
    assert.equal(logs.status, 200, logs.text);
    assert.equal(logs.body.logs.length, 1);
    assert.match(logs.body.logs[0], /hi Cy/);

    const list = await api(server, 'GET', `${ACT}?name=hello&limit=200`);
    assert.equal(list.status, 200, list.text);
    assert.ok(list.body.some((a) => a.activationId === id), list.text.slice(0, 500));
    assert.ok(list.body.every((a) => a.name === 'hello'));
    const docs = await api(server, 'GET', `${ACT}?name=hello&docs=true&limit=200`);
    assert.ok(docs.body.find((a) => a.activationId === id).response, 'docs=true includes the response');
    const cnt = await api(server, 'GET', `${ACT}?name=hello&count=true`);
    assert.equal(cnt.body.activations, list.body.length, cnt.text);
    const none = await api(server, 'GET', `${ACT}?since=${Date.now() + 3600000}`);
    assert.deepEqual(none.body, []);
    assertError(await api(server, 'GET', `${ACT}?limit=-1`), 400, /limit/);
    assertError(await api(server, 'GET', `${ACT}?docs=maybe`), 400, /docs/);
  });

  test('failed activations: 502 with the record (application and developer errors)', async () => {
    await put('apperr', js("function main() { return { error: 'nope' }; }"));
    let r = await api(server, 'POST', `${A}/apperr?blocking=true`);
    assert.equal(r.status, 502, r.text);
    assert.equal(r.body.response.status, 'application error');
    assert.equal(r.body.response.success, false);
    assert.deepEqual(r.body.response.result, { error: 'nope' });
    r = await api(server, 'POST', `${A}/apperr?blocking=true&result=true`);
    assert.equal(r.status, 502, r.text);
    assert.deepEqual(r.body, { error: 'nope' });

    await put('throws', js("function main() { throw new Error('boom'); }"));
    r = await api(server, 'POST', `${A}/throws?blocking=true`);
    assert.equal(r.status, 502, r.text);
    assert.equal(r.body.response.status, 'action developer error');
    assert.equal(r.body.response.statusCode, 2);
  });

  test('invocation errors', async () => {
    assertError(await api(server, 'POST', `${A}/missing?blocking=true`), 404, 'The requested resource does not exist.');
    assertError(await api(server, 'POST', `${A}/hello`, { body: [1, 2] }), 400, /JSON object/);
    assertError(await api(server, 'POST', `${A}/hello`, { body: 'text' }), 400, /JSON object/);
    assertError(await api(server, 'POST', `${A}/hello`, { raw: '{"a":', headers: { 'content-type': 'application/json' } }),
      400, /^The request content was malformed: /);
    assertError(await api(server, 'POST', `${A}/hello?blocking=yes`), 400, /blocking/);
  });

  test('unknown activations are 404, other tenants\' too', async () => {
    assertError(await api(server, 'GET', `${ACT}/${'0'.repeat(32)}`), 404, 'The requested resource does not exist.');
    assertError(await api(server, 'GET', `${ACT}/not-an-id/result`), 404);
    const mine = await api(server, 'POST', `${A}/hello?blocking=true`, { body: { name: 'Di' } });
    assert.equal(mine.status, 200, mine.text);
    const other = await createNamespace(server, 'tenant-x');
    for (const suffix of ['', '/result', '/logs']) {
      assertError(await api(other, 'GET', `${ACT}/${mine.body.activationId}${suffix}`), 404);
    }
    assertError(await api(other, 'GET', `${A}/hello`), 404);
    assertError(await api(other, 'GET', '/api/v1/namespaces/guest/actions/hello'), 403);
  });

  // ES2022 and async: only V8 parses this; Duktape fails it at initialization.
  const MODERN = "class G { #p = 'Hello, '; say(n) { return this.#p + (n ?? 'nobody'); } }\n" +
    'exports.main = async (p) => ({ greeting: new G().say(p.name), eng: await Promise.resolve(typeof WeakRef) });';
  test('the kind picks the engine: js:v8 and nodejs:* run on V8, js:duktape on Duktape', { skip: !ENGINE_KINDS.includes('js:v8') && 'built without V8' }, async () => {
    for (const kind of ['js:v8', 'nodejs:20', 'nodejs:18']) {
      assert.equal((await put(`modern-${kind.replace(':', '-')}`, { exec: { kind, code: MODERN } })).status, 200);
      const r = await api(server, 'POST', `${A}/modern-${kind.replace(':', '-')}?blocking=true&result=true`, { body: { name: 'V8' } });
      assert.equal(r.status, 200, `${kind}: ${r.text}`);
      assert.deepEqual(r.body, { greeting: 'Hello, V8', eng: 'function' });
    }
    assert.equal((await put('modern-duk', js(MODERN))).status, 200);
    const d = await api(server, 'POST', `${A}/modern-duk?blocking=true`, { body: { name: 'Duk' } });
    assert.equal(d.status, 502, d.text);
    assert.match(d.body.response.result.error, /^Initialization has failed due to: SyntaxError/);
    // switching an action's kind moves it to the other engine
    assert.equal((await put('modern-duk', { exec: { kind: 'js:v8', code: MODERN } }, '?overwrite=true')).status, 200);
    const v = await api(server, 'POST', `${A}/modern-duk?blocking=true&result=true`, { body: { name: 'now V8' } });
    assert.equal(v.status, 200, v.text);
    assert.deepEqual(v.body, { greeting: 'Hello, now V8', eng: 'function' });
  });

  test('an updated action runs its new code', async () => {
    await put('rev', js('function main() { return { v: 1 }; }'));
    let r = await api(server, 'POST', `${A}/rev?blocking=true&result=true`);
    assert.deepEqual(r.body, { v: 1 }, r.text);
    await put('rev', js('function main() { return { v: 2 }; }'), '?overwrite=true');
    r = await api(server, 'POST', `${A}/rev?blocking=true&result=true`);
    assert.deepEqual(r.body, { v: 2 }, r.text);
  });
});

describe('server options', () => {
  test('a blocking invoke that outlasts --max-blocking-wait answers 202', async () => {
    const s = await startServer({ extraArgs: ['--max-blocking-wait', '200'] });
    try {
      let r = await api(s, 'PUT', `${A}/slow`, { body: js(SLOW) });
      assert.equal(r.status, 200, r.text);
      r = await api(s, 'POST', `${A}/slow?blocking=true`, { body: { ms: 1200 } });
      assert.equal(r.status, 202, r.text);
      const id = r.body.activationId;
      assert.match(id, /^[0-9a-f]{32}$/);
      assert.equal(r.headers.get('x-openwhisk-activation-id'), id);
      const done = await poll(async () => {
        const g = await api(s, 'GET', `${ACT}/${id}`);
        return g.status === 200 ? g : undefined;
      });
      assert.ok(done, 'the late activation is recorded');
      assert.deepEqual(done.body.response.result, { slept: 1200 });
    } finally { await s.stop(); }
  });

  test('the sweeper, asleep for one wait budget, still answers 202 at the deadline of a request parked meanwhile', async () => {
    // park.c: a sweeper with nothing parked sleeps one budget (here 1.5 s)
    // and is not woken by a request whose deadline comes after that; the
    // two slow invokes park while it sleeps, the second after the first.
    const s = await startServer({ extraArgs: ['--max-blocking-wait', '1500'] });
    try {
      let r = await api(s, 'PUT', `${A}/slow`, { body: js(SLOW, { limits: { concurrency: 2 } }) });
      assert.equal(r.status, 200, r.text);
      const first = api(s, 'POST', `${A}/slow?blocking=true`, { body: { ms: 8000 } });
      await sleep(300);
      const second = api(s, 'POST', `${A}/slow?blocking=true`, { body: { ms: 8000 } });
      for (const p of [await first, await second]) assert.equal(p.status, 202, p.text);
    } finally { await s.stop(); }
  });

  test('parked blocking invokes hold no thread: 60 wait while the API keeps answering', async () => {
    // 64 enclave workers so all 60 run at once (they sleep by the wall clock);
    // two event threads, so parking works across a thread pool too
    const s = await startServer({ extraArgs: ['--workers', '64', '--http-threads', '2'] });
    try {
      const body = js(SLOW, { limits: { concurrency: 60 } });
      assert.equal((await api(s, 'PUT', `${A}/slow`, { body })).status, 200);
      // Under ThreadSanitizer 60 spinning activations leave the server less
      // CPU: they spin longer there, which leaves the bound below as it is.
      const ms = SANITIZER === 'tsan' ? 3000 : 700;
      const waits = [];
      let firstDone = Infinity; // when the first parked invoke was answered
      for (let i = 0; i < 60; i++) {
        waits.push(api(s, 'POST', `${A}/slow?blocking=true&result=true`, { body: { ms } })
          .then((r) => { firstDone = Math.min(firstDone, Date.now()); return r; }));
      }
      await sleep(150);
      const t0 = Date.now();
      const info = await api(s, 'GET', '/api/v1');
      const answered = Date.now();
      assert.equal(info.status, 200, info.text);
      // Had the invokes held the two event threads, the API would answer
      // only once one of them finished (each spins for ms): it must answer
      // before any does, however slow the build. Release and ASan answer
      // within 500 ms as well (TSan is slower at everything around it).
      assert.ok(answered < firstDone, `the API answered ${answered - firstDone} ms after the first parked invoke ended`);
      if (SANITIZER !== 'tsan') assert.ok(answered - t0 < 500, `the API waited ${answered - t0} ms behind parked invokes`);
      for (const r of await Promise.all(waits)) {
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.body, { slept: ms });
      }
    } finally { await s.stop(); }
  });

  test('a full queue answers 429', async () => {
    const s = await startServer({ extraArgs: ['--max-queue', '1'] });
    try {
      assert.equal((await api(s, 'PUT', `${A}/slow`, { body: js(SLOW, { limits: { concurrency: 1 } }) })).status, 200);
      const codes = [];
      for (let i = 0; i < 6; i++) codes.push((await api(s, 'POST', `${A}/slow`, { body: { ms: 1500 } })).status);
      assert.equal(codes[0], 202, codes.join());
      const r429 = await api(s, 'POST', `${A}/slow`, { body: { ms: 10 } });
      assertError(r429, 429, 'Too many requests in flight for this action');
    } finally { await s.stop(); }
  });

  test('SIGTERM during a blocking invoke: the request completes, exit 0', async () => {
    const s = await startServer();
    await api(s, 'PUT', `${A}/slow`, { body: js(SLOW) });
    // warm: the enclave is up and the code loaded, so the invoke below is
    // running (not queued, which SIGTERM fails at once) when the signal comes
    const warm = await api(s, 'POST', `${A}/slow?blocking=true&result=true`, { body: { ms: 0 } });
    assert.equal(warm.status, 200, warm.text);
    const pending = api(s, 'POST', `${A}/slow?blocking=true&result=true`, { body: { ms: 800 } });
    await sleep(200);
    const exited = new Promise((resolve) => s.proc.once('exit', (code) => resolve(code)));
    s.proc.kill('SIGTERM');
    const r = await pending;
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { slept: 800 });
    assert.equal(await exited, 0, s.logs());
    await s.stop();
  });

  test('--help lists the options', async () => {
    const out = await new Promise((resolve, reject) => execFile(join(BIN, 'tfaas'), ['serve', '--help'],
      (err, stdout) => (err ? reject(err) : resolve(stdout))));
    for (const opt of ['--listen', '--state', '--workers', '--guest-auth', '--enclave', '--idle-ttl', '--max-queue',
      '--max-blocking-wait', '--max-connections', '--http-threads', '--max-connections-per-client', '--http-timeout',
      '--tenant-max-activations', '--tenant-max-memory', '--activation-ttl', '--activation-max-count', '--tenant-storage',
      '--metrics-access', '--metrics-token-file'])
      assert.ok(out.includes(opt), opt);
  });

  test('bad options exit 2 with a message', async () => {
    const code = await new Promise((resolve) => execFile(join(BIN, 'tfaas'), ['serve', '--listen', 'nowhere'],
      (err) => resolve(err ? err.code : 0)));
    assert.equal(code, 2);
  });
});
