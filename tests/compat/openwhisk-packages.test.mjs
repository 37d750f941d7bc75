// openwhisk-packages.test.mjs - packages, bindings, whisk.system and
// namespaces.get driven only by the official `openwhisk` npm client, the
// calls (and the answers it expects) of its packages and namespaces suites.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import openwhisk from 'openwhisk';
import { startServer } from '../lib/server.mjs';
import { createNamespace } from '../lib/e2e.mjs';
import { rejectsWith } from '../lib/expect.mjs';

const ECHO = 'function main(params) { return params; }';

let server, ow, other;

before(async () => {
  server = await startServer();
  ow = openwhisk({ apihost: server.url, api_key: server.auth });
  const o = await createNamespace(server, 'other');
  other = openwhisk({ apihost: server.url, api_key: o.auth });
});

after(async () => { if (server) await server.stop(); });

describe('packages', () => {
  test('list with the default and an explicit namespace: every entry is the namespace\'s', async () => {
    await ow.packages.create({ packageName: 'listed' });
    for (const list of [await ow.packages.list(), await ow.packages.list({ namespace: 'guest' })]) {
      assert.ok(Array.isArray(list));
      assert.ok(list.some((p) => p.name === 'listed'));
      for (const p of list) assert.equal(p.namespace, 'guest');
    }
  });

  test('create, get and delete: name, namespace, empty annotations, version 0.0.1', async () => {
    const p = await ow.packages.create({ packageName: 'compat_pkg' });
    assert.equal(p.name, 'compat_pkg');
    assert.equal(p.namespace, 'guest');
    assert.deepEqual(p.annotations, []);
    assert.equal(p.version, '0.0.1');
    const g = await ow.packages.get({ packageName: 'compat_pkg' });
    assert.equal(g.name, 'compat_pkg');
    assert.equal(g.namespace, 'guest');
    await ow.packages.delete({ packageName: 'compat_pkg' });
    await rejectsWith(ow.packages.get({ packageName: 'compat_pkg' }), 404);
  });

  test('update bumps the version to 0.0.2', async () => {
    await ow.packages.create({ packageName: 'compat_upd' });
    const u = await ow.packages.update({ packageName: 'compat_upd' });
    assert.equal(u.version, '0.0.2');
    await ow.packages.delete({ packageName: 'compat_upd' });
  });

  test('actions in a package: create, list by ns/pkg, invoke with package parameters', async () => {
    await ow.packages.create({ packageName: 'tools', package: { parameters: [{ key: 'greeting', value: 'hi' }] } });
    const a = await ow.actions.create({ name: 'tools/echo', action: ECHO, kind: 'js:duktape' });
    assert.equal(a.namespace, 'guest/tools');
    assert.equal(a.name, 'echo');
    const listed = await ow.actions.list({ namespace: 'guest/tools' });
    assert.deepEqual(listed.map((x) => x.name), ['echo']);
    const all = await ow.actions.list();
    assert.ok(all.some((x) => x.namespace === 'guest/tools' && x.name === 'echo'));
    const r = await ow.actions.invoke({ name: 'tools/echo', params: { who: 'me' }, blocking: true, result: true });
    assert.deepEqual(r, { greeting: 'hi', who: 'me' });
    const full = await ow.actions.invoke({ name: '/guest/tools/echo', blocking: true });
    assert.equal(full.annotations.find((x) => x.key === 'path').value, 'guest/tools/echo');
    await rejectsWith(ow.packages.delete({ packageName: 'tools' }), 409);
  });

  test('publish and bind from another namespace; a private package is refused with 403', async () => {
    await ow.packages.create({ packageName: 'shared', package: { publish: true, parameters: [{ key: 'a', value: 1 }] } });
    await ow.actions.create({ name: 'shared/echo', action: ECHO, kind: 'js:duktape' });
    await ow.packages.create({ packageName: 'private' });
    await other.packages.create({ packageName: 'mine', package: { binding: { namespace: 'guest', name: 'shared' },
      parameters: [{ key: 'b', value: 2 }] } });
    const r = await other.actions.invoke({ name: 'mine/echo', params: { c: 3 }, blocking: true, result: true });
    assert.deepEqual(r, { a: 1, b: 2, c: 3 });
    const direct = await other.actions.invoke({ name: '/guest/shared/echo', blocking: true, result: true });
    assert.deepEqual(direct, { a: 1 });
    const e = await rejectsWith(other.packages.create({ packageName: 'nope',
      package: { binding: { namespace: 'guest', name: 'private' } } }), 403);
    assert.equal(e.error.error, "The supplied authentication is not authorized to access 'guest/private'.");
    await rejectsWith(other.packages.get({ name: '/guest/private' }), 403);
  });

  test('whisk.system/utils and whisk.system/alarms', async () => {
    const alarms = await other.packages.get({ name: '/whisk.system/alarms' });
    assert.equal(alarms.namespace, 'whisk.system');
    const utils = await other.packages.get({ name: '/whisk.system/utils' });
    assert.ok(utils.actions.some((x) => x.name === 'echo'));
    const r = await other.actions.invoke({ name: '/whisk.system/utils/split', params: { payload: 'a b', separator: ' ' },
      blocking: true, result: true });
    assert.deepEqual(r.lines, ['a', 'b']);
    await rejectsWith(other.actions.update({ name: '/whisk.system/utils/echo', action: ECHO, kind: 'js:duktape' }), 403);
  });
});

describe('namespaces', () => {
  test('list, then get of each: actions, packages, triggers and rules are lists', async () => {
    const names = await ow.namespaces.list();
    assert.deepEqual(names, ['guest']);
    for (const ns of names) {
      const got = await ow.namespaces.get({ namespace: ns });
      for (const k of ['actions', 'packages', 'triggers', 'rules']) assert.ok(Array.isArray(got[k]), k);
      assert.ok(got.packages.some((p) => p.name === 'shared'));
    }
  });
});
