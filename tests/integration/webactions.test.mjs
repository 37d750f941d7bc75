// webactions.test.mjs - web actions (/api/v1/web/...) over real HTTP
// against the real server and enclaves: what a request becomes (query and
// body merged, __ow_* context, raw-http, final), what a result becomes
// (.http with status, headers and base64 bodies, the projections), CORS,
// require-whisk-auth, OpenWhisk's errors, and the attacks on each.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startServer, api } from '../lib/server.mjs';
import { createNamespace } from '../lib/e2e.mjs';
import { assertError } from '../lib/expect.mjs';

const A = '/api/v1/namespaces/_/actions';
const W = '/api/v1/web/guest/default';
const ECHO = 'function main(p) { return { body: p }; }';
const JSON_ECHO = 'function main(p) { return p; }';

let server;


async function webAction(name, code, annotations = {}, extra = {}) {
  const anns = Object.entries({ 'web-export': true, ...annotations }).map(([key, value]) => ({ key, value }));
  const r = await api(server, 'PUT', `${A}/${name}?overwrite=true`, {
    body: { exec: { kind: 'js:duktape', code }, annotations: anns, ...extra },
  });
  assert.equal(r.status, 200, r.text);
}

// A web request: no credentials unless given.
async function web(method, path, { body, headers = {}, auth = null } = {}) {
  return api(server, method, `${W}/${path}`, { raw: body, headers, auth });
}

before(async () => { server = await startServer(); });
after(async () => { if (server) await server.stop(); });

describe('web actions in packages', () => {
  test('/api/v1/web/NS/PKG/NAME serves a packaged action with its package\'s parameters, final included', async () => {
    let r = await api(server, 'PUT', '/api/v1/namespaces/_/packages/webpkg', {
      body: { parameters: [{ key: 'fromPackage', value: 'p' }] },
    });
    assert.equal(r.status, 200, r.text);
    await webAction('webpkg/hi', JSON_ECHO, { final: true });
    r = await api(server, 'GET', '/api/v1/web/guest/webpkg/hi.json?q=1');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.fromPackage, 'p');
    assert.equal(r.body.q, '1');
    // a package parameter is final too: a request cannot override it
    r = await api(server, 'GET', '/api/v1/web/guest/webpkg/hi.json?fromPackage=x');
    assert.equal(r.status, 400, r.text);
    // the same name outside the package, and a package that does not exist: one 404
    assertError(await api(server, 'GET', '/api/v1/web/guest/default/hi.json'), 404);
    assertError(await api(server, 'GET', '/api/v1/web/guest/nopkg/hi.json'), 404);
  });
});

describe('requests become parameters', () => {
  test('query and JSON body are merged (body wins) with the __ow_ context', async () => {
    await webAction('echo', ECHO);
    const r = await web('POST', 'echo?a=1&b=q', {
      body: JSON.stringify({ b: 'body', n: 2 }), headers: { 'content-type': 'application/json', 'X-Custom': 'v' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.a, '1');
    assert.equal(r.body.b, 'body');
    assert.equal(r.body.n, 2);
    assert.equal(r.body.__ow_method, 'post');
    assert.equal(r.body.__ow_path, '');
    assert.equal(r.body.__ow_headers['x-custom'], 'v');
    assert.equal(r.body.__ow_user, undefined, 'no credentials, no user');
    assert.match(r.headers.get('x-openwhisk-activation-id'), /^[0-9a-f]{32}$/);
  });

  test('form bodies are merged, text as __ow_body, binary as base64', async () => {
    let r = await web('PUT', 'echo', { body: 'x=a+b&y=%C3%A9', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.x, 'a b');
    assert.equal(r.body.y, 'é');
    r = await web('POST', 'echo', { body: 'plain words', headers: { 'content-type': 'text/plain' } });
    assert.equal(r.body.__ow_body, 'plain words');
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    r = await web('POST', 'echo', { body: bytes, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.body.__ow_body, bytes.toString('base64'));
  });

  test('raw-http passes the query and body unparsed', async () => {
    await webAction('raw', ECHO, { 'raw-http': true });
    const r = await web('POST', 'raw/some/path?a=1&b=%20x', {
      body: JSON.stringify({ k: 1 }), headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.__ow_body, '{"k":1}');
    assert.equal(r.body.__ow_query, 'a=1&b=%20x');
    assert.equal(r.body.__ow_path, '/some/path');
    assert.equal(r.body.k, undefined);
    assert.equal(r.body.a, undefined);
  });

  test('final parameters cannot be overridden; __ow_ names are reserved', async () => {
    await webAction('fin', ECHO, { final: true }, { parameters: [{ key: 'who', value: 'owner' }] });
    let r = await web('GET', 'fin?other=1');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.who, 'owner');
    assertError(await web('GET', 'fin?who=attacker'), 400, /not allowed/);
    assertError(await web('POST', 'fin', { body: '{"who":"x"}', headers: { 'content-type': 'application/json' } }), 400,
      /not allowed/);
    assertError(await web('GET', 'echo?__ow_user=admin'), 400, /not allowed/);
    assertError(await web('POST', 'echo', { body: '{"__ow_method":"get"}', headers: { 'content-type': 'application/json' } }),
      400, /not allowed/);
  });

  test('malformed bodies: 400, never a crash', async () => {
    assertError(await web('POST', 'echo', { body: '{"a":', headers: { 'content-type': 'application/json' } }), 400, /malformed/);
    assertError(await web('POST', 'echo', { body: 'a=%zz', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      400, /malformed/);
    assertError(await web('POST', 'echo', { body: 'a=%ff', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      400, /malformed/);
    // nested past the gateway's JSON limit (1000) but within jansson's (2048)
    const deep = '{"a":' + '['.repeat(1500) + ']'.repeat(1500) + '}';
    assertError(await web('POST', 'echo', { body: deep, headers: { 'content-type': 'application/json' } }), 400,
      /nested too deeply/);
    // exactly 1000 levels reach the function (whose answer is not that deep)
    await webAction('depth', 'function main(p) { var d = 0, v = p; while (typeof v === "object" && v !== null) { v = v.a || v[0]; d++; } return { body: "depth " + d }; }');
    const ok = '{"a":' + '['.repeat(999) + ']'.repeat(999) + '}';
    const r = await web('POST', 'depth', { body: ok, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'depth 1000');
    // the server still answers
    assert.equal((await web('GET', 'echo')).status, 200);
  });
});

describe('results become answers', () => {
  test('.http: statusCode, headers and a base64 body for a binary type', async () => {
    await webAction('png', "function main() { return { statusCode: 201, headers: { 'content-type': 'image/png', 'x-k': 5 }, body: 'iVBORw0KGgo=' }; }");
    const res = await fetch(`${server.url}${W}/png`);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('x-k'), '5');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), Buffer.from('iVBORw0KGgo=', 'base64'));
  });

  test('.http: an empty body is 204; a JSON body is application/json', async () => {
    await webAction('empty', 'function main() { return {}; }');
    assert.equal((await web('GET', 'empty')).status, 204);
    const r = await web('GET', 'echo?q=1');
    assert.match(r.headers.get('content-type'), /application\/json/);
  });

  test('.json, .html, .text, .svg project as OpenWhisk does', async () => {
    await webAction('proj', "function main() { return { html: '<p>hi</p>', text: 'plain', svg: '<svg/>', deep: { x: [1, { y: 'z' }] } }; }");
    let r = await web('GET', 'proj.json');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.deep, { x: [1, { y: 'z' }] });
    r = await web('GET', 'proj.json/deep/x/1/y');
    assert.equal(r.body, 'z');
    r = await web('GET', 'proj.html');
    assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.equal(r.text, '<p>hi</p>');
    r = await web('GET', 'proj.text');
    assert.match(r.headers.get('content-type'), /^text\/plain/);
    assert.equal(r.text, 'plain');
    r = await web('GET', 'proj.svg');
    assert.equal(r.headers.get('content-type'), 'image/svg+xml');
    assertError(await web('GET', 'proj.json/nothere'), 400, 'Response does not include requested property.');
    assertError(await web('GET', 'proj.html/deep'), 400, /did not match/);
  });

  test('a bad .http result is a 400, never a smuggled header', async () => {
    for (const [name, code] of [
      ['crlf', "function main() { return { headers: { 'x-a': 'v\\r\\nSet-Cookie: evil=1' }, body: 'x' }; }"],
      ['badname', "function main() { return { headers: { 'bad name': 'v' }, body: 'x' }; }"],
      ['status', 'function main() { return { statusCode: 99, body: "x" }; }'],
      ['status2', 'function main() { return { statusCode: "abc", body: "x" }; }'],
      ['notb64', "function main() { return { headers: { 'content-type': 'application/octet-stream' }, body: '***' }; }"],
      ['notobj', 'function main() { return { headers: [1, 2], body: "x" }; }'],
    ]) {
      await webAction(name, code);
      const r = await web('GET', name);
      assertError(r, 400);
      assert.equal(r.headers.get('set-cookie'), null);
    }
    // Content-Length from the action is the server's to set
    await webAction('cl', "function main() { return { headers: { 'content-length': '1000' }, body: 'short' }; }");
    const r = await web('GET', 'cl');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'short');
  });

  test('an application error answers its error property; a developer error says only that it failed', async () => {
    await webAction('apperr', 'function main() { return { error: { statusCode: 418, body: "teapot" } }; }');
    let r = await web('GET', 'apperr');
    assert.equal(r.status, 418);
    assert.equal(r.text, 'teapot');
    await webAction('throws', "function main() { throw new Error('secret internals at line 1'); }");
    r = await web('GET', 'throws');
    assertError(r, 400, 'There was an error processing your request.');
    assert.doesNotMatch(r.text, /secret internals/);
  });
});

describe('access', () => {
  test('OPTIONS answers the CORS preflight; every answer carries CORS headers', async () => {
    let r = await web('OPTIONS', 'echo');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.match(r.headers.get('access-control-allow-methods'), /POST/);
    r = await web('GET', 'echo');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
  });

  test('web-custom-options: OPTIONS runs the action, and no CORS headers are added', async () => {
    await webAction('custom', "function main(p) { return { headers: { 'x-m': p.__ow_method }, statusCode: 200, body: 'ok' }; }",
      { 'web-custom-options': true });
    const r = await web('OPTIONS', 'custom');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-m'), 'options');
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  });

  test('not found and not web-exported answer the same 404', async () => {
    const r1 = await web('GET', 'nothere');
    assertError(r1, 404, 'The requested resource does not exist.');
    const p = await api(server, 'PUT', `${A}/private`, { body: { exec: { kind: 'js:duktape', code: JSON_ECHO } } });
    assert.equal(p.status, 200);
    assertError(await web('GET', 'private'), 404, 'The requested resource does not exist.');
    assertError(await api(server, 'GET', '/api/v1/web/nobody/default/echo', { auth: null }), 404);
    assertError(await api(server, 'GET', '/api/v1/web/guest/somepkg/echo', { auth: null }), 404);
    for (const bad of ['/api/v1/web/', '/api/v1/web/guest', '/api/v1/web/guest/default', '/api/v1/web/guest/default/.json',
      '/api/v1/web/gu%00est/default/echo', '/api/v1/web/guest/default/' + 'a'.repeat(300), '/api/v1/web/-x/default/echo']) {
      assertError(await api(server, 'GET', bad, { auth: null }), 404);
    }
  });

  test('require-whisk-auth true: the namespace\'s own credentials, and __ow_user', async () => {
    await webAction('authed', ECHO, { 'require-whisk-auth': true });
    assertError(await web('GET', 'authed'), 401);
    let r = await web('GET', 'authed', { auth: server.auth });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.__ow_user, 'guest');
    assert.equal(r.body.__ow_headers.authorization, undefined, 'credentials are not passed to the function');
    // another namespace's valid credentials do not open it
    const other = await createNamespace(server, 'webother');
    assertError(await web('GET', 'authed', { auth: other.auth }), 401);
  });

  test('require-whisk-auth string: the X-Require-Whisk-Auth header must equal it', async () => {
    await webAction('secret', ECHO, { 'require-whisk-auth': 's3cr3t' });
    assertError(await web('GET', 'secret'), 401);
    assertError(await web('GET', 'secret', { headers: { 'x-require-whisk-auth': 's3cr3' } }), 401);
    assertError(await web('GET', 'secret', { headers: { 'x-require-whisk-auth': 's3cr3tX' } }), 401);
    const r = await web('GET', 'secret', { headers: { 'x-require-whisk-auth': 's3cr3t' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.__ow_headers['x-require-whisk-auth'], undefined);
  });

  test('the activation is recorded in the action\'s namespace', async () => {
    const r = await web('GET', 'echo?rec=1');
    const id = r.headers.get('x-openwhisk-activation-id');
    const rec = await api(server, 'GET', `/api/v1/namespaces/_/activations/${id}`);
    assert.equal(rec.status, 200, rec.text);
    assert.equal(rec.body.name, 'echo');
  });
});

// One request on its own connection, written and read as raw HTTP/1.1 (so
// that a closed connection without an answer shows as such, and request
// headers can be any size): { status, headers (lower-case), body } or
// { closed: true }. The server closes after its answer (Connection: close).
function rawRequest(method, path, headers = {}, body = '') {
  const u = new URL(server.url);
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return new Promise((resolve, reject) => {
    const chunks = [];
    const s = connect(+u.port, u.hostname, () => s.end(head + '\r\n' + body));
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(text);
      if (end < 0 || !m) return resolve({ closed: true, text });
      const hs = {};
      for (const line of text.slice(0, end).split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        hs[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: +m[1], headers: hs, body: text.slice(end + 4), head: end });
    });
  });
}

// Headers x-0, x-1... of `each` bytes, `total` bytes of values in all.
const HDRS = "function main(p) { var h = {}, t = +p.total, e = +p.each, i = 0; while (t > 0) { var k = t > e ? e : t; h['x-' + i++] = new Array(k + 1).join('v'); t -= k; } return { headers: h, body: 'ok' }; }";

describe('response headers that do not fit', () => {
  const LIMIT = 16384; // WEB_MAX_HEADER_BYTES, web_response.h
  before(async () => { await webAction('hdrs', HDRS); });

  test('over the limit: a 502 with an error, not a closed connection (two 8,500-byte headers, one huge, many small)', async () => {
    for (const [total, each] of [[17000, 8500], [40000, 40000], [6000, 1]]) {
      const r = await rawRequest('GET', `${W}/hdrs?total=${total}&each=${each}`);
      assert.equal(r.closed, undefined, `total ${total} each ${each}: the connection closed without an answer`);
      assert.equal(r.status, 502, `total ${total} each ${each}`);
      const err = JSON.parse(r.body);
      assert.match(err.error, /headers take more than 16384 bytes/);
      assert.match(r.headers['x-openwhisk-activation-id'], /^[0-9a-f]{32}$/);
      assert.equal(r.headers['x-0'], undefined);
    }
    // within the limit (its 10 headers "x-N: " + 1,500 bytes + CRLF): all of them arrive
    const r = await rawRequest('GET', `${W}/hdrs?total=15000&each=1500`);
    assert.equal(r.status, 200, r.text);
    for (let i = 0; i < 10; i++) assert.equal(r.headers[`x-${i}`].length, 1500);
    assert.equal(r.body, 'ok');
  });

  test('beside large request headers (cookies): the answer when it fits, else a 502 that does, never silence', async () => {
    // MHD keeps a second copy of the Cookie header: 8 KiB of cookies take
    // 16 KiB of the connection's 32 KiB, so two 8,000-byte headers cannot
    // follow; 4 KiB of cookies leave room for them
    const cookie = (n) => ({ Cookie: Array.from({ length: Math.ceil(n / 1000) }, (_, i) => `c${i}=${'k'.repeat(994)}`).join('; ').slice(0, n) });
    let r = await rawRequest('GET', `${W}/hdrs?total=16000&each=8000`, cookie(4096));
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-1'].length, 8000);
    r = await rawRequest('GET', `${W}/hdrs?total=16000&each=8000`, cookie(8192));
    assert.equal(r.status, 502, JSON.stringify(r).slice(0, 300));
    assert.match(JSON.parse(r.body).error, /do not fit beside this request's headers/);
    assert.match(r.headers['x-openwhisk-activation-id'], /^[0-9a-f]{32}$/);
    // every mix of request and response header sizes, GET and POST with a
    // body, gets an answer: the action's whole, or the 502 (or MHD's own
    // 431 for cookies it has no room to parse, before the action runs)
    for (const method of ['GET', 'POST']) {
      for (const req of [0, 2048, 6144, 10240, 13312, 15360]) {
        for (const total of [1000, 6000, 12000, LIMIT - 200]) {
          const body = method === 'POST' ? JSON.stringify({ pad: 'p'.repeat(4000) }) : '';
          const hs = { ...cookie(req), ...(method === 'POST' ? { 'Content-Type': 'application/json' } : {}) };
          r = await rawRequest(method, `${W}/hdrs?total=${total}&each=1000`, hs, body);
          const what = `${method} cookies ${req} headers ${total}`;
          assert.equal(r.closed, undefined, `${what}: the connection closed without an answer`);
          assert.ok([200, 431, 502].includes(r.status), `${what}: ${r.status}`);
          if (r.status === 200) assert.equal(r.headers[`x-${Math.ceil(total / 1000) - 1}`]?.length, total % 1000 || 1000, what);
          else if (r.status === 502) assert.match(JSON.parse(r.body).error, /do not fit beside/, what);
        }
      }
    }
    // the same with many request headers rather than one long one
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-req-${i}`, 'r'.repeat(30)]));
    r = await rawRequest('GET', `${W}/hdrs?total=${LIMIT - 200}&each=100`, many);
    assert.equal(r.closed, undefined, 'many request headers: the connection closed without an answer');
    assert.ok(r.status === 200 || r.status === 502, `${r.status}`);
    // and the server still serves
    assert.equal((await web('GET', 'echo')).status, 200);
  });

  test('header names and values with CR, LF or NUL are refused (400), never sent', async () => {
    for (const [name, code] of [
      ['lfname', "function main() { var h = {}; h['x-a\\nSet-Cookie'] = 'v'; return { headers: h, body: 'x' }; }"],
      ['crvalue', "function main() { return { headers: { 'x-a': 'v\\rSet-Cookie: evil=1' }, body: 'x' }; }"],
      ['nulvalue', "function main() { return { headers: { 'x-a': 'v\\u0000w' }, body: 'x' }; }"],
      ['lfarray', "function main() { return { headers: { 'x-a': ['ok', 'v\\nSet-Cookie: evil=1'] }, body: 'x' }; }"],
    ]) {
      await webAction(name, code);
      const r = await rawRequest('GET', `${W}/${name}`);
      assert.equal(r.status, 400, name);
      assert.equal(r.headers['set-cookie'], undefined, name);
      assert.match(JSON.parse(r.body).error, /invalid headers/, name);
    }
  });
});
