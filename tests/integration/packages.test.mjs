// packages.test.mjs - packages, bindings and the whisk.system catalog over
// real HTTP against the real server and enclaves: package CRUD, actions in
// packages (put, get, list, invoke, delete, the activation's path),
// parameter precedence, publish and bindings across namespaces, and each
// permission refusal with OpenWhisk's status and message.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../lib/server.mjs';
import { createNamespace, invoke } from '../lib/e2e.mjs';
import { runClient } from '../lib/run.mjs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NS = '/api/v1/namespaces';
const ECHO = 'function main(p) { return p; }';
const kv = (o) => Object.entries(o).map(([key, value]) => ({ key, value }));

let server, alice, bob;

function assertError(r, status, message) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.equal(typeof r.body?.error, 'string', r.text);
  assert.match(r.body.code, /^[0-9a-f]{32}$/, r.text);
  if (message instanceof RegExp) assert.match(r.body.error, message);
  else if (message !== undefined) assert.equal(r.body.error, message);
}

const putPkg = (who, name, body = {}, query = '') => api(who, 'PUT', `${NS}/_/packages/${name}${query}`, { body });
const putAct = (who, path, body) => api(who, 'PUT', `${NS}/_/actions/${path}?overwrite=true`,
  { body: { exec: { kind: 'js:duktape', code: ECHO }, ...body } });

before(async () => {
  server = await startServer();
  alice = await createNamespace(server, 'alice');
  bob = await createNamespace(server, 'bob');
});

after(async () => { if (server) await server.stop(); });

describe('packages', () => {
  test('create, update with overwrite, get, list and delete', async () => {
    let r = await putPkg(server, 'tools', { parameters: kv({ a: 1 }), annotations: kv({ note: 'x' }) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.namespace, 'guest');
    assert.equal(r.body.version, '0.0.1');
    assert.equal(r.body.publish, false);
    assert.deepEqual(r.body.binding, {});
    assertError(await putPkg(server, 'tools', {}), 409);
    r = await putPkg(server, 'tools', { publish: true }, '?overwrite=true');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.version, '0.0.2');
    assert.deepEqual(r.body.parameters, kv({ a: 1 }), 'an update keeps what it leaves out');
    r = await api(server, 'GET', `${NS}/_/packages/tools`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.actions, []);
    r = await api(server, 'GET', `${NS}/_/packages`);
    assert.ok(r.body.some((p) => p.name === 'tools'), r.text);
    r = await api(server, 'DELETE', `${NS}/_/packages/tools`);
    assert.equal(r.status, 200, r.text);
    assertError(await api(server, 'GET', `${NS}/_/packages/tools`), 404, 'The requested resource does not exist.');
  });

  test('hostile names and bodies are refused with 400', async () => {
    assertError(await putPkg(server, 'default'), 400, "Package name 'default' is reserved.");
    assertError(await putPkg(server, '-bad'), 400, /package name/);
    assertError(await putPkg(server, 'p', { parameters: { a: 1 } }), 400, /parameters must be an array/);
    assertError(await putPkg(server, 'p', { publish: 'yes' }), 400, /publish/);
    assertError(await putPkg(server, 'p', { binding: { namespace: 'whisk.system', name: 'a/b' } }), 400, /binding/);
    assertError(await putPkg(server, 'p', { binding: 'utils' }), 400, /binding/);
    assertError(await putPkg(server, 'p', [1, 2]), 400);
    // a NUL cannot cut a bound package's name short
    assertError(await putPkg(server, 'p', { binding: { namespace: 'whisk.system', name: 'utils\u0000x' } }), 400);
    assertError(await api(server, 'PUT', `${NS}/_/actions/nopkg/a`, { body: { exec: { kind: 'js:duktape', code: ECHO } } }), 404);
    // parameters nested past the JSON depth limit, and a body past 1 MiB
    let deep = 1;
    for (let i = 0; i < 1001; i++) deep = [deep];
    assertError(await putPkg(server, 'p', { parameters: [{ key: 'd', value: deep }] }), 400, /nested too deeply/);
    assertError(await putPkg(server, 'p', { parameters: [{ key: 'big', value: 'x'.repeat(1100000) }] }), 413);
    assertError(await api(server, 'GET', `${NS}/_/packages/p`), 404, 'The requested resource does not exist.');
    assertError(await api(server, 'GET', `${NS}/_/actions/a/b/c/d`), 404);
  });

  test('actions in a package: put, get, list, invoke with package parameters, path, delete', async () => {
    assert.equal((await putPkg(server, 'inpkg', { parameters: kv({ a: 'pkg', b: 'pkg', c: 'pkg' }) })).status, 200);
    let r = await putAct(server, 'inpkg/echo', { parameters: kv({ b: 'action', c: 'action' }) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.namespace, 'guest/inpkg');
    assert.equal(r.body.name, 'echo');
    r = await api(server, 'GET', `${NS}/_/actions/inpkg/echo`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.exec.code, ECHO);
    // OpenWhisk's precedence: package < action defaults < invocation
    r = await invoke(server, 'inpkg/echo', { c: 'invoke' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.response.result, { a: 'pkg', b: 'action', c: 'invoke' });
    assert.equal(r.body.namespace, 'guest');
    assert.equal(r.body.name, 'echo');
    assert.equal(r.body.annotations.find((a) => a.key === 'path').value, 'guest/inpkg/echo');
    // the namespace's list shows it as ns/pkg; the package's list has it only
    r = await api(server, 'GET', `${NS}/_/actions`);
    assert.ok(r.body.some((a) => a.namespace === 'guest/inpkg' && a.name === 'echo'), r.text);
    for (const path of [`${NS}/_/actions/inpkg/`, `${NS}/guest%2Finpkg/actions`]) {
      r = await api(server, 'GET', path);
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      assert.deepEqual(r.body.map((a) => a.name), ['echo'], path);
    }
    // a package that holds actions is not deleted (OpenWhisk's 409)
    assertError(await api(server, 'DELETE', `${NS}/_/packages/inpkg`), 409, 'Package not empty (contains 1 entity)');
    assert.equal((await api(server, 'GET', `${NS}/_/packages/inpkg`)).body.actions[0].name, 'echo');
    assert.equal((await api(server, 'DELETE', `${NS}/_/actions/inpkg/echo`)).status, 200);
    assert.equal((await api(server, 'DELETE', `${NS}/_/packages/inpkg`)).status, 200);
  });

  test('a confidential action cannot be put into a package', async () => {
    assert.equal((await putPkg(server, 'conf')).status, 200);
    const r = await putAct(server, 'conf/secret', { annotations: [{ key: 'confidential', value: {} }] });
    assertError(r, 400, /reserved/);
  });
});

describe('sharing between namespaces', () => {
  test('a private package of another namespace is invisible: 403 alike for what exists and what does not', async () => {
    assert.equal((await putPkg(alice, 'private', { parameters: kv({ secret: 's3cret' }) })).status, 200);
    assert.equal((await putAct(alice, 'private/echo', {})).status, 200);
    assert.equal((await putAct(alice, 'loose', {})).status, 200);
    const denied = (what) => `The supplied authentication is not authorized to access '${what}'.`;
    assertError(await api(bob, 'GET', `${NS}/alice/packages/private`), 403, denied('alice/private'));
    assertError(await api(bob, 'GET', `${NS}/alice/packages/nothere`), 403, denied('alice/nothere'));
    assertError(await api(bob, 'GET', `${NS}/alice/actions/private/echo`), 403, denied('alice/private/echo'));
    assertError(await api(bob, 'POST', `${NS}/alice/actions/private/echo?blocking=true`, { body: {} }), 403,
      denied('alice/private/echo'));
    assertError(await api(bob, 'POST', `${NS}/alice/actions/loose?blocking=true`, { body: {} }), 403, denied('alice/loose'));
    assertError(await api(bob, 'GET', `${NS}/alice/actions/private/`), 403);
    let r = await api(bob, 'GET', `${NS}/alice/packages`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, [], 'another namespace lists only published packages');
    // a binding to it is refused the same way
    assertError(await putPkg(bob, 'steal', { binding: { namespace: 'alice', name: 'private' } }), 403, denied('alice/private'));
    // and nobody writes into another namespace
    assertError(await api(bob, 'PUT', `${NS}/alice/packages/x`, { body: {} }), 403);
    assertError(await api(bob, 'PUT', `${NS}/alice/actions/private/x`, { body: { exec: { kind: 'js:duktape', code: ECHO } } }), 403);
    assertError(await api(bob, 'DELETE', `${NS}/alice/actions/private/echo`), 403);
  });

  test('a published package: read, invoke, bind with own parameters; unpublishing revokes the binding', async () => {
    assert.equal((await putPkg(alice, 'shared', { publish: true, parameters: kv({ a: 'pkg', b: 'pkg' }) })).status, 200);
    assert.equal((await putAct(alice, 'shared/echo', { parameters: kv({ c: 'action' }) })).status, 200);
    let r = await api(bob, 'GET', `${NS}/alice/packages`);
    assert.deepEqual(r.body.map((p) => p.name), ['shared']);
    r = await api(bob, 'GET', `${NS}/alice/actions/shared/echo`);
    assert.equal(r.status, 200, r.text);
    r = await invoke(bob, 'shared/echo', { d: 'invoke' }, { ns: 'alice' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.response.result, { a: 'pkg', b: 'pkg', c: 'action', d: 'invoke' });
    assert.equal(r.body.namespace, 'bob', 'the caller holds the activation');
    assert.equal(r.body.annotations.find((a) => a.key === 'path').value, 'alice/shared/echo');

    r = await putPkg(bob, 'mine', { binding: { namespace: 'alice', name: 'shared' }, parameters: kv({ b: 'binding' }) });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.binding, { namespace: 'alice', name: 'shared' });
    r = await api(bob, 'GET', `${NS}/_/packages/mine`);
    assert.deepEqual(r.body.actions.map((a) => a.name), ['echo']);
    r = await invoke(bob, 'mine/echo', { d: 'invoke' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.response.result, { a: 'pkg', b: 'binding', c: 'action', d: 'invoke' });
    assert.equal(r.body.annotations.find((a) => a.key === 'binding').value, 'bob/mine');
    // the binding's parameters do not leak to the package's owner or others
    r = await invoke(alice, 'shared/echo', {});
    assert.equal(r.body.response.result.b, 'pkg');
    // nothing is written through a binding, and a binding cannot become a package's target
    assertError(await putAct(bob, 'mine/x', {}), 400, 'Operation not permitted on package binding.');
    assertError(await putPkg(bob, 'chain', { binding: { namespace: 'bob', name: 'mine' } }), 400,
      'Cannot bind to another package binding.');
    assertError(await putPkg(bob, 'ghost', { binding: { namespace: '_', name: 'none' } }), 400,
      'Binding references a package that does not exist.');
    assertError(await putPkg(bob, 'mine', { binding: {} }, '?overwrite=true').then(async () =>
      putPkg(bob, 'plain')).then(() => putPkg(bob, 'plain', { binding: { namespace: 'alice', name: 'shared' } }, '?overwrite=true')),
    409, 'Resource is a package and cannot be converted into a binding.');

    // unpublished: the binding and the direct path stop working
    assert.equal((await putPkg(alice, 'shared', { publish: false }, '?overwrite=true')).status, 200);
    assertError(await invoke(bob, 'mine/echo', {}), 403, "The supplied authentication is not authorized to access 'alice/shared'.");
    assertError(await invoke(bob, 'shared/echo', {}, { ns: 'alice' }), 403);
    assertError(await api(bob, 'GET', `${NS}/alice/actions/shared/echo`), 403);
  });
});

describe('whisk.system', () => {
  test('utils is shared with every tenant and its actions behave as documented', async () => {
    let r = await api(bob, 'GET', `${NS}/whisk.system/packages`);
    assert.deepEqual(r.body.map((p) => p.name).sort(), ['alarms', 'utils']);
    r = await api(bob, 'GET', `${NS}/whisk.system/packages/alarms`);
    assert.equal(r.status, 200, r.text);
    r = await api(bob, 'GET', `${NS}/whisk.system/packages/utils`);
    assert.deepEqual(r.body.actions.map((a) => a.name).sort(), ['cat', 'date', 'echo', 'head', 'sort', 'split']);
    const run = async (name, params) => {
      const res = await api(bob, 'POST', `${NS}/whisk.system/actions/utils/${name}?blocking=true&result=true`, { body: params });
      assert.equal(res.status, 200, `${name}: ${res.text}`);
      return res.body;
    };
    assert.deepEqual(await run('echo', { x: 1 }), { x: 1 });
    assert.deepEqual(await run('cat', { lines: ['a', 'b'] }), { lines: ['a', 'b'], payload: 'a\nb' });
    assert.deepEqual(await run('sort', { lines: ['b', 'c', 'a'] }), { length: 3, lines: ['a', 'b', 'c'] });
    assert.deepEqual(await run('split', { payload: 'a,b', separator: ',' }), { lines: ['a', 'b'], payload: 'a,b' });
    assert.deepEqual(await run('head', { lines: ['a', 'b', 'c'], num: 2 }), { lines: ['a', 'b'], num: 2 });
    assert.ok(!Number.isNaN(Date.parse((await run('date', {})).date)));
    // a binding with its own parameters, as wsk package bind does
    r = await putPkg(bob, 'myutils', { binding: { namespace: 'whisk.system', name: 'utils' }, parameters: kv({ lines: ['z', 'y'] }) });
    assert.equal(r.status, 200, r.text);
    r = await invoke(bob, 'myutils/sort', {}, { result: true });
    assert.deepEqual(r.body, { length: 2, lines: ['y', 'z'] });
  });

  test('tenants cannot write to whisk.system', async () => {
    const denied = "The supplied authentication is not authorized to access 'whisk.system'.";
    assertError(await api(bob, 'PUT', `${NS}/whisk.system/packages/utils?overwrite=true`, { body: { publish: false } }), 403, denied);
    assertError(await api(bob, 'PUT', `${NS}/whisk.system/actions/utils/echo?overwrite=true`,
      { body: { exec: { kind: 'js:duktape', code: 'function main() { return { owned: true }; }' } } }), 403, denied);
    assertError(await api(bob, 'DELETE', `${NS}/whisk.system/actions/utils/echo`), 403, denied);
    assertError(await api(bob, 'DELETE', `${NS}/whisk.system/packages/alarms`), 403, denied);
    const r = await invoke(bob, 'utils/echo', { ok: 1 }, { ns: 'whisk.system', result: true });
    assert.deepEqual(r.body, { ok: 1 });
  });
});

describe('namespaces', () => {
  test('triggers and rules answer empty lists until they exist', async () => {
    for (const c of ['triggers', 'rules']) {
      const r = await api(server, 'GET', `${NS}/_/${c}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, []);
    }
  });
});

describe('CLI', () => {
  test('tfaas package create|update|get|list|bind|delete and action PKG/NAME', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfaas-pkg-cli-'));
    try {
      const run = (args) => runClient(args, { dir, server });
      writeFileSync(join(dir, 'echo.js'), ECHO);
      let r = await run(['package', 'create', 'clip', '-p', 'greeting', '"hi"', '--shared', 'no']);
      assert.equal(r.code, 0, r.stderr);
      r = await run(['package', 'update', 'clip', '--shared', 'yes']);
      assert.equal(r.code, 0, r.stderr);
      r = await run(['action', 'create', 'clip/echo', join(dir, 'echo.js')]);
      assert.equal(r.code, 0, r.stderr);
      r = await run(['action', 'invoke', 'clip/echo', '-p', 'x', '1', '--result']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { greeting: 'hi', x: 1 });
      r = await run(['package', 'get', 'clip', '--json']);
      assert.equal(JSON.parse(r.stdout).publish, true);
      r = await run(['package', 'list']);
      assert.match(r.stdout, /\/guest\/clip\s+shared/);
      r = await run(['package', 'list', '/whisk.system']);
      assert.match(r.stdout, /\/whisk.system\/utils/);
      r = await run(['package', 'bind', '/whisk.system/utils', 'cliutils', '-p', 'lines', '["b","a"]']);
      assert.equal(r.code, 0, r.stderr);
      r = await run(['action', 'invoke', 'cliutils/sort', '--result']);
      assert.deepEqual(JSON.parse(r.stdout).lines, ['a', 'b']);
      r = await run(['action', 'invoke', '/whisk.system/utils/echo', '-p', 'a', '1', '--result']);
      assert.deepEqual(JSON.parse(r.stdout), { a: 1 });
      r = await run(['package', 'delete', 'clip']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /Package not empty/);
      r = await run(['package', 'create', 'x', '--shared', 'maybe']);
      assert.equal(r.code, 2);
      assert.equal((await run(['action', 'delete', 'clip/echo'])).code, 0);
      assert.equal((await run(['package', 'delete', 'clip'])).code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
