// openwhisk-client.test.mjs - tfaas driven only by the official `openwhisk`
// npm client, as an OpenWhisk user would drive it: actions, invocations,
// activations and the errors the client turns into rejections.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import openwhisk from 'openwhisk';
import { startServer } from '../lib/server.mjs';
import { poll, createNamespace, rejectsWith } from '../lib/e2e.mjs';

const HELLO = "function main(params) { return { greeting: 'Hello, ' + (params.name || 'world') + '!' }; }";
const ECHO = 'function main(params) { return params; }';
const LOGGER = "function main(params) { console.log('first line'); console.log('n=' + params.n); return { n: params.n }; }";
const THROWER = "function main(params) { throw new Error('compat boom'); }";

let server;
let ow;

before(async () => {
  server = await startServer();
  // An http:// apihost is used as given (only a scheme-less host becomes
  // https); without a namespace option the client addresses `_`, the
  // namespace of the credentials.
  ow = openwhisk({ apihost: server.url, api_key: server.auth });
});

after(async () => { if (server) await server.stop(); });

describe('actions', () => {
  test('create returns the action in namespace guest at version 0.0.1', async () => {
    const a = await ow.actions.create({ name: 'hello', action: HELLO, kind: 'js:duktape' });
    assert.equal(a.name, 'hello');
    assert.equal(a.namespace, 'guest');
    assert.equal(a.version, '0.0.1');
    assert.equal(a.exec.kind, 'js:duktape');
  });

  test('get returns the code, the kind and the default limits', async () => {
    const a = await ow.actions.get({ name: 'hello' });
    assert.equal(a.name, 'hello');
    assert.equal(a.exec.code, HELLO);
    assert.equal(a.exec.kind, 'js:duktape');
    assert.equal(typeof a.limits.timeout, 'number');
    assert.equal(typeof a.limits.memory, 'number');
    assert.ok(a.limits.timeout > 0 && a.limits.memory > 0, JSON.stringify(a.limits));
  });

  test('create of an existing name rejects with 409', async () => {
    const err = await rejectsWith(ow.actions.create({ name: 'hello', action: ECHO, kind: 'js:duktape' }), 409);
    assert.equal(typeof err.error.error, 'string');
    // the action is unchanged
    const a = await ow.actions.get({ name: 'hello' });
    assert.equal(a.exec.code, HELLO);
    assert.equal(a.version, '0.0.1');
  });

  test('update replaces the code and bumps the version', async () => {
    await ow.actions.create({ name: 'evolving', action: ECHO, kind: 'js:duktape' });
    const u1 = await ow.actions.update({ name: 'evolving', action: HELLO, kind: 'js:duktape' });
    assert.equal(u1.version, '0.0.2');
    const u2 = await ow.actions.update({ name: 'evolving', action: ECHO, kind: 'js:duktape' });
    assert.equal(u2.version, '0.0.3');
    const a = await ow.actions.get({ name: 'evolving' });
    assert.equal(a.exec.code, ECHO);
    assert.equal(a.version, '0.0.3');
    // and the new code is what runs
    const r = await ow.actions.invoke({ name: 'evolving', params: { x: 1 }, blocking: true, result: true });
    assert.deepEqual(r, { x: 1 });
  });

  test('update after an invocation runs the new code (no stale warm heap)', async () => {
    await ow.actions.create({ name: 'warm-then-update', action: HELLO, kind: 'js:duktape' });
    assert.deepEqual(await ow.actions.invoke({ name: 'warm-then-update', blocking: true, result: true }),
      { greeting: 'Hello, world!' });
    await ow.actions.update({ name: 'warm-then-update', action: ECHO, kind: 'js:duktape' });
    assert.deepEqual(await ow.actions.invoke({ name: 'warm-then-update', params: { v: 2 }, blocking: true, result: true }),
      { v: 2 });
  });

  test('list contains the created actions with their namespace', async () => {
    const list = await ow.actions.list();
    assert.ok(Array.isArray(list), JSON.stringify(list));
    const names = list.map((a) => a.name);
    for (const n of ['hello', 'evolving']) assert.ok(names.includes(n), `${n} missing from ${names}`);
    for (const a of list) assert.equal(a.namespace, 'guest');
  });

  test('list honours limit and skip', async () => {
    const all = await ow.actions.list();
    assert.ok(all.length >= 3, `need 3 actions, have ${all.length}`);
    const first = await ow.actions.list({ limit: 1 });
    assert.equal(first.length, 1);
    const second = await ow.actions.list({ limit: 1, skip: 1 });
    assert.equal(second.length, 1);
    assert.notEqual(first[0].name, second[0].name);
    assert.equal(first[0].name, all[0].name);
    assert.equal(second[0].name, all[1].name);
  });

  test('delete removes the action; a second delete and a get reject with 404', async () => {
    await ow.actions.create({ name: 'doomed', action: ECHO, kind: 'js:duktape' });
    const d = await ow.actions.delete({ name: 'doomed' });
    assert.equal(d.name, 'doomed');
    await rejectsWith(ow.actions.get({ name: 'doomed' }), 404);
    await rejectsWith(ow.actions.delete({ name: 'doomed' }), 404);
    const names = (await ow.actions.list()).map((a) => a.name);
    assert.ok(!names.includes('doomed'));
    await rejectsWith(ow.actions.invoke({ name: 'doomed', blocking: true }), 404);
  });

  test("kind 'nodejs:20' is accepted and runs", async () => {
    const a = await ow.actions.create({ name: 'node20', action: HELLO, kind: 'nodejs:20' });
    assert.equal(a.name, 'node20');
    const r = await ow.actions.invoke({ name: 'node20', params: { name: 'Node' }, blocking: true, result: true });
    assert.deepEqual(r, { greeting: 'Hello, Node!' });
  });

  test("the client's default kind ('nodejs:default') is accepted and runs", async () => {
    await ow.actions.create({ name: 'nokind', action: HELLO });
    const r = await ow.actions.invoke({ name: 'nokind', blocking: true, result: true });
    assert.deepEqual(r, { greeting: 'Hello, world!' });
  });

  test('limits given at create are stored', async () => {
    const a = await ow.actions.create({ name: 'limited', action: ECHO, kind: 'js:duktape', limits: { timeout: 3000, memory: 128 } });
    assert.equal(a.limits.timeout, 3000);
    assert.equal(a.limits.memory, 128);
    const g = await ow.actions.get({ name: 'limited' });
    assert.equal(g.limits.timeout, 3000);
    assert.equal(g.limits.memory, 128);
  });
});

describe('invoke', () => {
  test('blocking with result:true returns the result object', async () => {
    const r = await ow.actions.invoke({ name: 'hello', params: { name: 'Ada' }, blocking: true, result: true });
    assert.deepEqual(r, { greeting: 'Hello, Ada!' });
  });

  test('blocking without result returns the activation record', async () => {
    await ow.actions.create({ name: 'logger', action: LOGGER, kind: 'js:duktape' });
    const act = await ow.actions.invoke({ name: 'logger', params: { n: 7 }, blocking: true });
    assert.equal(typeof act.activationId, 'string');
    assert.ok(act.activationId.length > 0);
    assert.equal(act.name, 'logger');
    assert.equal(act.namespace, 'guest');
    assert.deepEqual(act.response.result, { n: 7 });
    assert.equal(act.response.success, true);
    assert.equal(act.response.status, 'success');
    assert.ok(Array.isArray(act.logs), JSON.stringify(act.logs));
    assert.equal(act.logs.length, 2, JSON.stringify(act.logs));
    assert.match(act.logs[0], /first line/);
    assert.match(act.logs[1], /n=7/);
    assert.equal(typeof act.start, 'number');
    assert.equal(typeof act.end, 'number');
    assert.ok(act.end >= act.start);
    assert.equal(typeof act.duration, 'number');
    assert.ok(Array.isArray(act.annotations));
  });

  test('parameters are merged over the action defaults', async () => {
    await ow.actions.create({ name: 'echo', action: ECHO, kind: 'js:duktape', params: { a: 1, b: 'default', nested: { k: true } } });
    const r = await ow.actions.invoke({ name: 'echo', params: { b: 'given', c: [1, 2] }, blocking: true, result: true });
    assert.deepEqual(r, { a: 1, b: 'given', c: [1, 2], nested: { k: true } });
    const g = await ow.actions.get({ name: 'echo' });
    const defaults = Object.fromEntries(g.parameters.map((p) => [p.key, p.value]));
    assert.deepEqual(defaults, { a: 1, b: 'default', nested: { k: true } });
    // without invocation params the defaults alone arrive
    assert.deepEqual(await ow.actions.invoke({ name: 'echo', blocking: true, result: true }),
      { a: 1, b: 'default', nested: { k: true } });
  });

  test('unicode and nested JSON survive the round trip', async () => {
    const params = { s: 'héllo ✓ 日本 \u0000 "q" \\ \n', arr: [null, true, 1.5, -3, { x: [] }], big: 9007199254740991 };
    const r = await ow.actions.invoke({ name: 'echo', params, blocking: true, result: true });
    assert.deepEqual(r, { a: 1, b: 'default', nested: { k: true }, ...params });
  });

  test('a function that throws: blocking invoke rejects with 502 and the error result', async () => {
    await ow.actions.create({ name: 'thrower', action: THROWER, kind: 'js:duktape' });
    const err = await rejectsWith(ow.actions.invoke({ name: 'thrower', blocking: true, result: true }), 502);
    // the body is the failed activation; the client puts its error in the message
    const act = err.error;
    assert.equal(act.response.success, false);
    assert.match(act.response.result.error, /compat boom/);
    assert.match(err.message, /compat boom/);
    assert.equal(typeof act.activationId, 'string');
  });

  test('non-blocking invoke returns an activation id; activations get/list/result/logs find it', async () => {
    const { activationId, ...rest } = await ow.actions.invoke({ name: 'logger', params: { n: 42 } });
    assert.equal(typeof activationId, 'string');
    assert.ok(activationId.length > 0);
    assert.equal(rest.response, undefined, 'a non-blocking invoke does not wait for the result');

    const act = await poll(async () => ow.activations.get({ activationId }), { timeoutMs: 15000, intervalMs: 100 });
    assert.ok(act, 'activation never appeared');
    assert.equal(act.activationId, activationId);
    assert.equal(act.name, 'logger');
    assert.deepEqual(act.response.result, { n: 42 });
    assert.equal(act.response.success, true);

    const res = await ow.activations.result({ activationId });
    assert.deepEqual(res.result, { n: 42 });
    assert.equal(res.success, true);
    assert.equal(res.status, 'success');

    const logs = await ow.activations.logs({ activationId });
    assert.ok(Array.isArray(logs.logs), JSON.stringify(logs));
    assert.equal(logs.logs.length, 2);
    assert.match(logs.logs[1], /n=42/);

    const list = await poll(async () => {
      const l = await ow.activations.list({ limit: 50 });
      return l.some((a) => a.activationId === activationId) && l;
    }, { timeoutMs: 15000, intervalMs: 100 });
    assert.ok(list, 'activation missing from activations.list');
    const mine = list.find((a) => a.activationId === activationId);
    assert.equal(mine.name, 'logger');
    assert.equal(mine.namespace, 'guest');
  });

  test('activations.list filters by name and is newest first', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await ow.actions.invoke({ name: 'hello', blocking: true })).activationId);
    // activation records may be written in batches: wait until the newest is listed
    const list = await poll(async () => {
      const l = await ow.activations.list({ name: 'hello', limit: 3 });
      return l.length === 3 && l[0].activationId === ids[2] && l;
    }, { timeoutMs: 15000, intervalMs: 100 }) || await ow.activations.list({ name: 'hello', limit: 3 });
    assert.equal(list.length, 3, JSON.stringify(list));
    for (const a of list) assert.equal(a.name, 'hello');
    assert.deepEqual(list.map((a) => a.activationId), ids.slice().reverse());
  });

  test('activations.get of an unknown id rejects with 404', async () => {
    await rejectsWith(ow.activations.get({ activationId: '0123456789abcdef0123456789abcdef' }), 404);
  });
});

describe('errors', () => {
  test('get of an unknown action rejects with 404 and the error message', async () => {
    const err = await rejectsWith(ow.actions.get({ name: 'no-such-action' }), 404);
    assert.equal(typeof err.error.error, 'string');
    assert.ok(err.error.error.length > 0);
    assert.ok(err.message.includes(err.error.error), err.message);
    assert.match(err.error.error, /not exist|not found/i);
    assert.ok('code' in err.error, `error body has no code: ${JSON.stringify(err.error)}`);
  });

  test('invoke of an unknown action rejects with 404', async () => {
    await rejectsWith(ow.actions.invoke({ name: 'no-such-action', blocking: true, result: true }), 404);
  });

  test('a bad api_key rejects with 401', async () => {
    const [uuid] = server.auth.split(':');
    const bad = openwhisk({ apihost: server.url, api_key: `${uuid}:${'0'.repeat(64)}` });
    const err = await rejectsWith(bad.actions.list(), 401);
    assert.equal(typeof err.error.error, 'string');
    await rejectsWith(bad.actions.invoke({ name: 'hello', blocking: true, result: true }), 401);
    const stranger = openwhisk({ apihost: server.url, api_key: '11111111-2222-3333-4444-555555555555:nope' });
    await rejectsWith(stranger.actions.get({ name: 'hello' }), 401);
  });

  test('an unsupported kind rejects with 400 and creates nothing', async () => {
    const err = await rejectsWith(ow.actions.create({ name: 'pyfn', action: 'def main(a):\n  return a', kind: 'python:3' }), 400);
    assert.equal(typeof err.error.error, 'string');
    await rejectsWith(ow.actions.get({ name: 'pyfn' }), 404);
  });

  test("another tenant's namespace is forbidden (403)", async () => {
    const other = await createNamespace(server, 'someone-else');
    const owOther = openwhisk({ apihost: server.url, api_key: other.auth });
    await owOther.actions.create({ name: 'hello', action: HELLO, kind: 'js:duktape' });
    assert.deepEqual(await owOther.actions.invoke({ name: 'hello', blocking: true, result: true }),
      { greeting: 'Hello, world!' });
    await rejectsWith(ow.actions.list({ namespace: 'someone-else' }), 403);
    await rejectsWith(ow.actions.get({ name: '/someone-else/hello' }), 403);
    await rejectsWith(ow.actions.invoke({ name: '/someone-else/hello', blocking: true, result: true }), 403);
    await rejectsWith(ow.actions.delete({ name: '/someone-else/hello' }), 403);
    await rejectsWith(owOther.actions.get({ name: '/guest/hello' }), 403);
    // and each sees only its own actions under `_`
    const theirs = (await owOther.actions.list()).map((a) => a.name);
    assert.deepEqual(theirs, ['hello']);
  });

  test('the own namespace can also be named explicitly', async () => {
    const a = await ow.actions.get({ name: '/guest/hello' });
    assert.equal(a.name, 'hello');
    const r = await ow.actions.invoke({ name: '/guest/hello', params: { name: 'G' }, blocking: true, result: true });
    assert.deepEqual(r, { greeting: 'Hello, G!' });
  });
});
