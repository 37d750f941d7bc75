// openwhisk-web.test.mjs - web actions, sequences, API routes, the
// nodejs:default kind and zip actions driven by the official `openwhisk`
// npm client, as its own integration suite uses them (our own tests, in
// its spirit): what the client sends and what it expects back.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import openwhisk from 'openwhisk';
import { startServer } from '../lib/server.mjs';
import { rejectsWith } from '../lib/expect.mjs';
import { makeZip } from '../lib/zip.mjs';

const HELLO = "function main(params) { return { greeting: 'Hello, ' + (params.name || 'world') + '!' }; }";
const UPPER = 'function main(params) { return { greeting: params.greeting.toUpperCase() }; }';

let server;
let ow;

before(async () => {
  server = await startServer();
  ow = openwhisk({ apihost: server.url, api_key: server.auth });
});
after(async () => { if (server) await server.stop(); });

describe('kinds', () => {
  test("the client's default kind is stored, listed and recorded as nodejs:20", async () => {
    const a = await ow.actions.create({ name: 'defkind', action: HELLO });
    assert.equal(a.exec.kind, 'nodejs:20');
    assert.ok(a.annotations.some((x) => x.key === 'exec' && x.value === 'nodejs:20'), JSON.stringify(a.annotations));
    const listed = (await ow.actions.list()).find((x) => x.name === 'defkind');
    assert.ok(listed.annotations.some((x) => x.key === 'exec' && x.value === 'nodejs:20'));
    const rec = await ow.actions.invoke({ name: 'defkind', blocking: true });
    assert.equal(rec.annotations.find((x) => x.key === 'kind').value, 'nodejs:20');
  });

  test('a zip sent as a Buffer is stored as binary and runs; one that does not unzip is refused at create', async () => {
    const zip = makeZip([{ name: 'index.js', data: "exports.main = (p) => ({ zipped: p.n + 1 })" }]);
    const a = await ow.actions.create({ name: 'zipped', action: zip });
    assert.equal(a.exec.binary, true);
    assert.deepEqual(await ow.actions.invoke({ name: 'zipped', blocking: true, result: true, params: { n: 1 } }),
      { zipped: 2 });
    const err = await rejectsWith(ow.actions.create({ name: 'broken', action: Buffer.from('504b0304140000000800', 'hex') }), 400);
    assert.match(err.message, /The zip archive of the action is refused: it is not a zip archive that can be read/);
  });
});

describe('web actions', () => {
  test('an action created with the web-export annotation answers on its web URL', async () => {
    await ow.actions.create({ name: 'webhello', action: HELLO, annotations: { 'web-export': true } });
    const res = await fetch(`${server.url}/api/v1/web/guest/default/webhello.json?name=Web`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { greeting: 'Hello, Web!' });
  });
});

describe('sequences', () => {
  test('actions.create({sequence}) makes a sequence; invoking chains the results', async () => {
    await ow.actions.create({ name: 'upper', action: UPPER });
    await ow.actions.create({ name: 'hello', action: HELLO });
    const s = await ow.actions.create({ name: 'helloUpper', sequence: ['/_/hello', '/_/upper'] });
    assert.deepEqual(s.exec.components, ['/guest/hello', '/guest/upper']);
    const r = await ow.actions.invoke({ name: 'helloUpper', params: { name: 'seq' }, blocking: true, result: true });
    assert.deepEqual(r, { greeting: 'HELLO, SEQ!' });
    const rec = await ow.actions.invoke({ name: 'helloUpper', blocking: true });
    assert.equal(rec.logs.length, 2);
    const comp = await ow.activations.get({ name: rec.logs[1] });
    assert.equal(comp.cause, rec.activationId);
  });

  test('a sequence naming a missing action is refused', async () => {
    const err = await rejectsWith(ow.actions.create({ name: 'broken', sequence: ['/_/nothere'] }), 400);
    assert.match(err.message, /Sequence component does not exist/);
  });
});

describe('routes', () => {
  test('create, list and delete a route, as the client suite does', async () => {
    await ow.actions.create({ name: 'routeAction', action: HELLO, annotations: { 'web-export': true } });
    await ow.routes.create({ action: 'routeAction', basepath: '/testing', relpath: '/foo/bar', operation: 'POST' });
    const results = await ow.routes.list({ basepath: '/testing' });
    assert.equal(results.apis.length, 1);
    const apidoc = results.apis[0].value.apidoc;
    assert.equal(apidoc.basePath, '/testing');
    assert.ok(Object.hasOwn(apidoc.paths, '/foo/bar'));
    assert.equal(apidoc.paths['/foo/bar'].post['x-openwhisk'].action, 'routeAction');
    const res = await fetch(`${results.apis[0].value.gwApiUrl}/testing/foo/bar`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'route' }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { greeting: 'Hello, route!' });
    await ow.routes.delete({ basepath: '/testing' });
    assert.equal((await ow.routes.list({ basepath: '/testing' })).apis.length, 0);
  });

  test('a route to an action that is not a web action is refused', async () => {
    await ow.actions.create({ name: 'plain', action: HELLO });
    const err = await rejectsWith(ow.routes.create({ action: 'plain', basepath: '/p', relpath: '/x', operation: 'GET' }), 400);
    assert.match(err.message, /not a web action/);
  });
});
