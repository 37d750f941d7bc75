// routes.test.mjs - API routes over real HTTP against the real server: the
// management calls (credentials, namespaces, hostile definitions), serving
// at /apigw/{ns}{basepath}{relpath} with path parameters, verbs, response
// types and the route action's own access rules.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../lib/server.mjs';
import { createNamespace } from '../lib/e2e.mjs';
import { assertError } from '../lib/expect.mjs';

const A = '/api/v1/namespaces/_/actions';
const M = '/api/v1/web/whisk.system/apimgmt';
let server;

const create = (doc, { qs = '', auth } = {}) =>
  api(server, 'POST', `${M}/createApi.http${qs}`, { body: { apidoc: doc }, ...(auth !== undefined ? { auth } : {}) });
const def = (base, rel, verb, action, ns = '_') =>
  ({ namespace: '_', gatewayBasePath: base, gatewayPath: rel, gatewayMethod: verb, action: { name: action, namespace: ns } });
const gw = (method, path, opts = {}) => api(server, method, `/apigw/guest${path}`, { auth: null, ...opts });

before(async () => {
  server = await startServer();
  const web = [{ key: 'web-export', value: true }];
  const code = 'function main(p) { return { id: p.id || null, q: p.q || null, m: p.__ow_method }; }';
  assert.equal((await api(server, 'PUT', `${A}/book`, { body: { exec: { kind: 'js:duktape', code }, annotations: web } })).status, 200);
  assert.equal((await api(server, 'PUT', `${A}/locked`, {
    body: { exec: { kind: 'js:duktape', code }, annotations: [...web, { key: 'require-whisk-auth', value: 'k3y' }] },
  })).status, 200);
});
after(async () => { if (server) await server.stop(); });

test('a route serves its web action with path parameters, for its verb only', async () => {
  assert.equal((await create(def('/shop', '/books/{id}', 'get', 'book'))).status, 200);
  let r = await gw('GET', '/shop/books/42?q=x');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body, { id: '42', q: 'x', m: 'get' });
  assertError(await gw('POST', '/shop/books/42'), 404);
  assertError(await gw('GET', '/shop/books'), 404);
  assertError(await gw('GET', '/shop/books/42/more'), 404);
  assertError(await gw('GET', '/other/books/42'), 404);
  // OPTIONS finds the route: the CORS preflight
  r = await gw('OPTIONS', '/shop/books/42');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  // the body wins over a path parameter, as over a query parameter
  assert.equal((await create(def('/shop', '/books/{id}', 'post', 'book'))).status, 200);
  r = await gw('POST', '/shop/books/42', { raw: '{"id":"body"}', headers: { 'content-type': 'application/json' } });
  assert.equal(r.body.id, 'body');
});

test('the response type is the extension the route answers with', async () => {
  assert.equal((await create(def('/t', '/x', 'GET', 'book'), { qs: '?responsetype=http' })).status, 200);
  const r = await gw('GET', '/t/x');
  // .http: the result has no statusCode/body, so an empty 204
  assert.equal(r.status, 204, r.text);
  assertError(await create(def('/t', '/y', 'GET', 'book'), { qs: '?responsetype=xml' }), 400, /response type/);
});

test("the route action's require-whisk-auth still applies", async () => {
  assert.equal((await create(def('/lock', '/x', 'GET', 'locked'))).status, 200);
  assertError(await gw('GET', '/lock/x'), 401);
  assert.equal((await gw('GET', '/lock/x', { headers: { 'x-require-whisk-auth': 'k3y' } })).status, 200);
});

test('management needs credentials; other namespaces are not reachable', async () => {
  assertError(await create(def('/n', '/x', 'GET', 'book'), { auth: null }), 401);
  assertError(await api(server, 'GET', `${M}/getApi.http`, { auth: null }), 401);
  assertError(await create(def('/n', '/x', 'GET', 'book', 'someoneelse')), 403);
  assertError(await api(server, 'GET', `${M}/createApi.http`), 405);
  assertError(await api(server, 'GET', `${M}/nosuchop.http`), 404);
  // another tenant lists none of guest's routes and cannot delete them
  const other = await createNamespace(server, 'routesother');
  const list = await api(other, 'GET', `${M}/getApi.http`);
  assert.deepEqual(list.body, { apis: [] });
  assertError(await api(other, 'DELETE', `${M}/deleteApi.http?basepath=/shop`), 404);
  assert.equal((await gw('GET', '/shop/books/1')).status, 200);
});

test('hostile definitions are 400s and store nothing', async () => {
  for (const [doc, msg] of [
    [def('shop', '/x', 'GET', 'book'), /base path/],
    [def('/a/../b', '/x', 'GET', 'book'), /base path/],
    [def('/a', '/x/{id', 'GET', 'book'), /relative path/],
    [def('/a', '/{id}/{id}', 'GET', 'book'), /relative path/],
    [def('/a', '/x\r\nSet-Cookie: a', 'GET', 'book'), /relative path/],
    [def('/a', '/' + 'x'.repeat(600), 'GET', 'book'), /relative path/],
    [def('/a', '/x', 'TRACE', 'book'), /operation/],
    [def('/a', '/x', 'GET', 'nothere'), /does not exist/],
    [def('/a', '/x', 'GET', '../book'), /name of an action/],
    [{ swagger: '{}' }, /Swagger/],
  ]) {
    assertError(await create(doc), 400, msg);
  }
  assertError(await api(server, 'POST', `${M}/createApi.http`, { body: [1] }), 400, /malformed/);
  assertError(await api(server, 'POST', `${M}/createApi.http`, { raw: '{"apidoc":', headers: { 'content-type': 'application/json' } }),
    400, /malformed/);
  const list = await api(server, 'GET', `${M}/getApi.http?basepath=/a`);
  assert.deepEqual(list.body, { apis: [] });
  assertError(await api(server, 'DELETE', `${M}/deleteApi.http`), 400, /basepath/);
});

test('a route whose action is gone, or no longer web-exported, answers 404', async () => {
  const code = 'function main() { return {}; }';
  const web = [{ key: 'web-export', value: true }];
  assert.equal((await api(server, 'PUT', `${A}/brief`, { body: { exec: { kind: 'js:duktape', code }, annotations: web } })).status, 200);
  assert.equal((await create(def('/brief', '/x', 'GET', 'brief'))).status, 200);
  assert.equal((await gw('GET', '/brief/x')).status, 200);
  assert.equal((await api(server, 'PUT', `${A}/brief?overwrite=true`, { body: { exec: { kind: 'js:duktape', code }, annotations: [] } })).status, 200);
  assertError(await gw('GET', '/brief/x'), 404);
  assert.equal((await api(server, 'DELETE', `${A}/brief`)).status, 200);
  assertError(await gw('GET', '/brief/x'), 404);
  assertError(await api(server, 'GET', '/apigw/nobody/brief/x', { auth: null }), 404);
  assertError(await api(server, 'GET', '/apigw/', { auth: null }), 404);
});
