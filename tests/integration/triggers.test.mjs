// triggers.test.mjs - triggers, rules and the whisk.system/alarms feed over
// real HTTP against the real server and enclaves: firing with a payload over
// the trigger's parameters, rule enable/disable, the rule's action visible in
// activations with the trigger activation naming it, each permission refusal
// with OpenWhisk's status and message, and alarm schedules across a kill -9 of
// the server (no firing twice, a missed one fired once on restart).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api, sleep } from '../lib/server.mjs';
import { createNamespace, poll, putAction } from '../lib/e2e.mjs';
import { assertError } from '../lib/expect.mjs';
import { runClient } from '../lib/run.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const NS = '/api/v1/namespaces/_';
const ECHO = 'function main(p) { return { got: p }; }';
const FEED = '/api/v1/namespaces/whisk.system/actions/alarms';

let server;

const kv = (o) => Object.entries(o).map(([key, value]) => ({ key, value }));
const putTrigger = (s, name, body = {}, q = '') => api(s, 'PUT', `${NS}/triggers/${name}${q}`, { body });
const putRule = (s, name, trigger, action, q = '') => api(s, 'PUT', `${NS}/rules/${name}${q}`, { body: { trigger, action } });
const fire = (s, name, body) => api(s, 'POST', `${NS}/triggers/${name}`, { body });
const feed = (s, kind, params) => api(s, 'POST', `${FEED}/${kind}?blocking=true`, { body: params });
const activation = (s, id) => api(s, 'GET', `${NS}/activations/${id}`);
async function activationsOf(s, name) {
  const r = await api(s, 'GET', `${NS}/activations?name=${name}&docs=true&limit=200`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

before(async () => { server = await startServer(); });
after(async () => { if (server) await server.stop(); });

describe('triggers', () => {
  test('create, get, update (overwrite), list, count and delete', async () => {
    let r = await putTrigger(server, 'crud', { parameters: kv({ a: 1 }), annotations: kv({ note: 'x' }) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.name, 'crud');
    assert.equal(r.body.namespace, 'guest');
    assert.equal(r.body.version, '0.0.1');
    assert.deepEqual(r.body.limits, {});
    assert.deepEqual(r.body.parameters, kv({ a: 1 }));
    assertError(await putTrigger(server, 'crud'), 409, 'resource already exists');
    r = await putTrigger(server, 'crud', {}, '?overwrite=true');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.version, '0.0.2');
    assert.deepEqual(r.body.parameters, kv({ a: 1 }), 'an update keeps what it does not give');
    r = await api(server, 'GET', `${NS}/triggers/crud`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.annotations, kv({ note: 'x' }));
    r = await api(server, 'GET', `${NS}/triggers`);
    assert.ok(r.body.some((t) => t.name === 'crud'));
    r = await api(server, 'GET', `${NS}/triggers?count=true`);
    assert.ok(r.body.triggers >= 1, r.text);
    r = await api(server, 'DELETE', `${NS}/triggers/crud`);
    assert.equal(r.status, 200);
    assertError(await api(server, 'GET', `${NS}/triggers/crud`), 404);
    assertError(await api(server, 'DELETE', `${NS}/triggers/crud`), 404);
  });

  test('bad bodies get 400 with the reason', async () => {
    assertError(await putTrigger(server, 'bad', { parameters: { a: 1 } }), 400, /parameters must be an array/);
    assertError(await putTrigger(server, 'bad', { annotations: kv({ feed: 'not//valid' }) }), 400, 'Feed name is not valid');
    assertError(await api(server, 'PUT', `${NS}/triggers/bad`, { raw: '[1', headers: { 'content-type': 'application/json' } }), 400);
    assertError(await putTrigger(server, '-bad'), 400, /not valid/);
    await putTrigger(server, 'payload');
    assertError(await fire(server, 'payload', [1, 2]), 400, /payload must be a JSON object/);
    assertError(await fire(server, 'nothere', {}), 404);
  });

  test('a trigger without an active rule answers 204 and records nothing', async () => {
    await putTrigger(server, 'lonely');
    const r = await fire(server, 'lonely', { x: 1 });
    assert.equal(r.status, 204, r.text);
    assert.equal((await activationsOf(server, 'lonely')).length, 0);
  });
});

describe('rules and firing', () => {
  test('a fired trigger runs the rule\'s action with its parameters under the payload', async () => {
    await putAction(server, 'echo', ECHO, { parameters: { fromAction: true, b: 'action' } });
    await putTrigger(server, 'fired', { parameters: kv({ a: 1, b: 'trigger' }) });
    let r = await putRule(server, 'fired-echo', '/_/fired', 'echo');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.trigger, { path: 'guest', name: 'fired' });
    assert.deepEqual(r.body.action, { path: 'guest', name: 'echo' });
    assert.equal(r.body.status, 'active');

    r = await fire(server, 'fired', { b: 'payload', c: 3 });
    assert.equal(r.status, 202, r.text);
    const tid = r.body.activationId;
    assert.match(tid, /^[0-9a-f]{32}$/);
    assert.equal(r.headers.get('x-openwhisk-activation-id'), tid);

    const trig = await poll(async () => { const a = await activation(server, tid); return a.status === 200 && a.body; });
    assert.ok(trig, 'the trigger activation is readable');
    assert.equal(trig.name, 'fired');
    assert.deepEqual(trig.response.result, { b: 'payload', c: 3 });
    assert.equal(trig.logs.length, 1);
    const line = JSON.parse(trig.logs[0]);
    assert.equal(line.success, true);
    assert.equal(line.statusCode, 0);
    assert.equal(line.rule, 'guest/fired-echo');
    assert.equal(line.action, 'guest/echo');

    const act = await poll(async () => { const a = await activation(server, line.activationId); return a.status === 200 && a.body; });
    assert.ok(act, 'the action activation is readable');
    assert.equal(act.name, 'echo');
    assert.equal(act.cause, tid);
    assert.deepEqual(act.response.result.got, { fromAction: true, a: 1, b: 'payload', c: 3 });
  });

  test('a rule may run an action in a package, or a shared one (whisk.system/utils/echo)', async () => {
    let r = await api(server, 'PUT', `${NS}/packages/tools`, { body: { parameters: [{ key: 'fromPackage', value: 1 }] } });
    assert.equal(r.status, 200, r.text);
    await putAction(server, 'tools/echo', ECHO);
    await putTrigger(server, 'pkgfired');
    assert.equal((await putRule(server, 'pkg-rule', 'pkgfired', 'tools/echo')).status, 200);
    assert.equal((await putRule(server, 'shared-rule', 'pkgfired', '/whisk.system/utils/echo')).status, 200);
    assert.deepEqual((await api(server, 'GET', `${NS}/rules/pkg-rule`)).body.action, { path: 'guest/tools', name: 'echo' });
    r = await fire(server, 'pkgfired', { p: 'x' });
    assert.equal(r.status, 202, r.text);
    const trig = await poll(async () => { const a = await activation(server, r.body.activationId); return a.status === 200 && a.body; });
    const lines = trig.logs.map((l) => JSON.parse(l)).sort((x, y) => x.rule.localeCompare(y.rule));
    assert.deepEqual(lines.map((l) => [l.rule, l.success]), [['guest/pkg-rule', true], ['guest/shared-rule', true]]);
    const own = await poll(async () => { const a = await activation(server, lines[0].activationId); return a.status === 200 && a.body; });
    assert.deepEqual(own.response.result.got, { fromPackage: 1, p: 'x' });
    const shared = await poll(async () => { const a = await activation(server, lines[1].activationId); return a.status === 200 && a.body; });
    assert.equal(shared.name, 'echo');
    assert.equal(shared.cause, r.body.activationId);
    assert.deepEqual(shared.response.result, { p: 'x' });
  });

  test('disable, enable: a disabled rule runs nothing, and the trigger record says so', async () => {
    await putAction(server, 'echo2', ECHO);
    await putTrigger(server, 'toggled');
    await putRule(server, 'toggle-a', 'toggled', 'echo2');
    await putRule(server, 'toggle-b', 'toggled', 'echo2');
    let r = await api(server, 'POST', `${NS}/rules/toggle-b`, { body: { status: 'inactive' } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await api(server, 'GET', `${NS}/rules/toggle-b`)).body.status, 'inactive');
    r = await fire(server, 'toggled', {});
    assert.equal(r.status, 202);
    const trig = await poll(async () => { const a = await activation(server, r.body.activationId); return a.status === 200 && a.body; });
    const lines = trig.logs.map((l) => JSON.parse(l)).sort((x, y) => x.rule.localeCompare(y.rule));
    assert.equal(lines.length, 2);
    assert.equal(lines[0].success, true);
    assert.equal(lines[1].success, false);
    assert.equal(lines[1].error, "Rule 'guest/toggle-b' is inactive, action 'guest/echo2' was not activated.");

    await api(server, 'POST', `${NS}/rules/toggle-a`, { body: { status: 'inactive' } });
    assert.equal((await fire(server, 'toggled', {})).status, 204, 'no active rule left');
    r = await api(server, 'POST', `${NS}/rules/toggle-a`, { body: { status: 'active' } });
    assert.equal(r.status, 200);
    assert.equal((await fire(server, 'toggled', {})).status, 202);
    assertError(await api(server, 'POST', `${NS}/rules/toggle-a`, { body: { status: 'on' } }), 400, /status must be/);
  });

  test('update, delete; a deleted trigger leaves its rules inactive', async () => {
    await putAction(server, 'one', ECHO);
    await putAction(server, 'two', ECHO);
    await putTrigger(server, 'upd');
    await putRule(server, 'upd-rule', 'upd', 'one');
    let r = await api(server, 'PUT', `${NS}/rules/upd-rule?overwrite=true`, { body: { action: 'two' } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.action, { path: 'guest', name: 'two' });
    assert.deepEqual(r.body.trigger, { path: 'guest', name: 'upd' });
    assert.equal(r.body.version, '0.0.2');
    await api(server, 'DELETE', `${NS}/triggers/upd`);
    assert.equal((await api(server, 'GET', `${NS}/rules/upd-rule`)).body.status, 'inactive');
    assertError(await api(server, 'POST', `${NS}/rules/upd-rule`, { body: { status: 'active' } }), 404,
      'Only rules with existing triggers can be activated');
    await putTrigger(server, 'upd');
    assert.equal((await fire(server, 'upd', {})).status, 204, 'a new trigger of the name does not run the old links');
    r = await api(server, 'DELETE', `${NS}/rules/upd-rule`);
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'inactive');
    assertError(await api(server, 'GET', `${NS}/rules/upd-rule`), 404);
  });
});

describe('permission refusals', () => {
  let other;
  before(async () => {
    other = await createNamespace(server, 'other-tenant');
    await putAction(other, 'theirs', ECHO);
    await putTrigger(other, 'their-trigger');
    await putAction(server, 'mine', ECHO);
    await putTrigger(server, 'my-trigger');
  });

  test('a rule may not name another namespace\'s trigger: 403', async () => {
    assertError(await putRule(server, 'steal-t', '/other-tenant/their-trigger', 'mine'), 403,
      "The supplied authentication is not authorized to access 'other-tenant'.");
  });

  test('a rule may not name an action the namespace may not invoke: 403', async () => {
    assertError(await putRule(server, 'steal-a', 'my-trigger', '/other-tenant/theirs'), 403,
      "The supplied authentication is not authorized to access 'other-tenant/theirs'.");
    assertError(await api(server, 'GET', `${NS}/rules/steal-a`), 404, undefined);
  });

  test('a rule naming what does not exist: 400 with OpenWhisk\'s message', async () => {
    assertError(await putRule(server, 'ghost-t', 'nope', 'mine'), 400, 'trigger /guest/nope does not exist');
    assertError(await putRule(server, 'ghost-a', 'my-trigger', '/_/nope'), 400, 'action /guest/nope does not exist');
    assertError(await api(server, 'PUT', `${NS}/rules/half`, { body: { trigger: 'my-trigger' } }), 400,
      'rule requires a valid trigger and a valid action');
    assertError(await putRule(server, 'pkg', 'my-trigger', 'pkg/act'), 400, 'action /guest/pkg/act does not exist');
  });

  test('another namespace\'s trigger cannot be fired, read or fed', async () => {
    assertError(await api(server, 'POST', '/api/v1/namespaces/other-tenant/triggers/their-trigger', { body: {} }), 403,
      "The supplied authentication is not authorized to access 'other-tenant'.");
    assertError(await api(server, 'GET', '/api/v1/namespaces/other-tenant/rules', {}), 403);
    const r = await feed(server, 'once', { lifecycleEvent: 'CREATE', triggerName: '/other-tenant/their-trigger', date: Date.now() + 60000 });
    assert.equal(r.status, 502, r.text);
    assert.equal(r.body.response.success, false);
    assert.equal(r.body.response.result.error, "The supplied authentication is not authorized to access 'other-tenant'.");
  });
});

describe('alarms feed', () => {
  test('lifecycle: CREATE, READ, UPDATE, PAUSE, UNPAUSE, DELETE, and bad parameters', async () => {
    await putTrigger(server, 'sched');
    const date = Date.now() + 3600_000;
    let r = await feed(server, 'once', { lifecycleEvent: 'CREATE', triggerName: '/_/sched', date });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.response.success, true);
    r = await feed(server, 'once', { lifecycleEvent: 'CREATE', triggerName: '/_/sched', date });
    assert.equal(r.status, 502);
    assert.equal(r.body.response.result.error, 'trigger /guest/sched has an alarm already');
    r = await feed(server, 'once', { lifecycleEvent: 'READ', triggerName: '/_/sched' });
    assert.equal(r.body.response.result.status.nextFire, date);
    r = await feed(server, 'once', { lifecycleEvent: 'UPDATE', triggerName: '/_/sched', date: date + 1000 });
    assert.equal(r.status, 200, r.text);
    r = await feed(server, 'once', { lifecycleEvent: 'PAUSE', triggerName: '/_/sched' });
    assert.equal(r.status, 200, r.text);
    r = await feed(server, 'once', { lifecycleEvent: 'READ', triggerName: '/_/sched' });
    assert.equal(r.body.response.result.status.active, false);
    r = await feed(server, 'once', { lifecycleEvent: 'UNPAUSE', triggerName: '/_/sched' });
    r = await feed(server, 'once', { lifecycleEvent: 'READ', triggerName: '/_/sched' });
    assert.equal(r.body.response.result.status.nextFire, date + 1000);
    r = await feed(server, 'once', { lifecycleEvent: 'DELETE', triggerName: '/_/sched' });
    assert.equal(r.status, 200);
    r = await feed(server, 'once', { lifecycleEvent: 'DELETE', triggerName: '/_/sched' });
    assert.equal(r.status, 502);

    const bad = [
      ['alarm', { cron: '61 * * * *' }, /cron pattern '61 \* \* \* \*' is not valid/],
      ['alarm', {}, /require a cron parameter/],
      ['once', { date: Date.now() - 1000 }, /must be in the future/],
      ['once', { date: '2030-13-01T00:00:00Z' }, /require a date parameter/],
      ['interval', { minutes: 0 }, /minutes parameter/],
      ['interval', { minutes: 5, startDate: 10, stopDate: 5 }, /stopDate must be after startDate/],
      ['alarm', { cron: '* * * * *', trigger_payload: 7 }, /trigger_payload must be an object/],
      ['interval', { minutes: 1, startDate: Number.MAX_SAFE_INTEGER }, /from 1970 to 9999/],
      ['once', { date: -5 }, /require a date parameter/],
    ];
    for (const [kind, params, msg] of bad) {
      r = await feed(server, kind, { lifecycleEvent: 'CREATE', triggerName: '/_/sched', ...params });
      assert.equal(r.status, 502, `${kind} ${JSON.stringify(params)}: ${r.text}`);
      assert.match(r.body.response.result.error, msg);
    }
    // dates near 2^63 would overflow a date plus a period (signed: UB)
    for (const raw of ['{"lifecycleEvent":"CREATE","triggerName":"/_/sched","minutes":1,"startDate":9223372036854775807}',
      '{"lifecycleEvent":"CREATE","triggerName":"/_/sched","date":9223372036854775807}']) {
      r = await api(server, 'POST', `${FEED}/${raw.includes('minutes') ? 'interval' : 'once'}?blocking=true`,
        { raw, headers: { 'content-type': 'application/json' } });
      assert.equal(r.status, 502, r.text);
      assert.match(r.body.response.result.error, /9999/);
    }
    r = await feed(server, 'once', { lifecycleEvent: 'CREATE', triggerName: '/_/none', date });
    assert.equal(r.body.response.result.error, 'trigger /guest/none does not exist');
    r = await feed(server, 'once', { lifecycleEvent: 'EXPLODE', triggerName: '/_/sched' });
    assert.match(r.body.response.result.error, /lifecycleEvent must be one of/);
    assertError(await api(server, 'GET', `${FEED}/once`), 403);
  });

  test('a cron alarm fires the trigger, its rule runs the action with trigger_payload', async () => {
    await putAction(server, 'tick', ECHO);
    await putTrigger(server, 'every-second');
    await putRule(server, 'tick-rule', 'every-second', 'tick');
    const r = await feed(server, 'alarm', {
      lifecycleEvent: 'CREATE', triggerName: '/_/every-second', cron: '* * * * * *', trigger_payload: { n: 'tick' },
    });
    assert.equal(r.status, 200, r.text);
    const acts = await poll(async () => { const a = await activationsOf(server, 'tick'); return a.length >= 2 && a; });
    assert.ok(acts, 'the action ran twice within the poll');
    assert.equal(acts[0].response.result.got.n, 'tick');
    await feed(server, 'alarm', { lifecycleEvent: 'DELETE', triggerName: '/_/every-second' });
  });
});

// A trigger with many rules turns one POST into many activations: each goes
// through the invoke path's admission, so the namespace's budget bounds
// them, and the trigger activation says which rules were refused and why.
describe('a trigger with more rules than the namespace may run at once', () => {
  let s;
  before(async () => { s = await startServer({ extraArgs: ['--tenant-max-activations', '5'] }); });
  after(async () => { if (s) await s.stop(); });

  test('runs as many as the budget admits and records the rest as refused', async () => {
    await putAction(s, 'slow', 'function main(p) { var t = Date.now(); while (Date.now() - t < 1500) {} return {}; }');
    await putTrigger(s, 'many');
    for (let i = 0; i < 8; i++) assert.equal((await putRule(s, `many-${i}`, 'many', 'slow')).status, 200);
    const r = await fire(s, 'many', {});
    assert.equal(r.status, 202, r.text);
    const trig = await poll(async () => { const a = await activation(s, r.body.activationId); return a.status === 200 && a.body; });
    const lines = trig.logs.map((l) => JSON.parse(l));
    assert.equal(lines.length, 8);
    assert.equal(lines.filter((l) => l.success).length, 5);
    const refused = lines.filter((l) => !l.success);
    assert.equal(refused.length, 3);
    for (const l of refused) {
      assert.equal(l.error, 'Too many concurrent requests in flight (count: 5, allowed: 5).');
      assert.equal(l.statusCode, 1);
    }
  });
});

describe('CLI: tfaas trigger and tfaas rule', () => {
  let dir;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'tfaas-cli-triggers-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const tfaas = (args) => runClient(args, { dir, server });
  async function ok(args) {
    const r = await tfaas(args);
    assert.equal(r.code, 0, `tfaas ${args.join(' ')} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  test('create, fire, disable, enable, list, delete; --feed creates and deletes the schedule', async () => {
    await putAction(server, 'cli-echo', ECHO);
    assert.match(await ok(['trigger', 'create', 'cli-t', '-p', 'a', '1']), /ok: created trigger cli-t/);
    assert.match(await ok(['rule', 'create', 'cli-r', 'cli-t', 'cli-echo']), /ok: created rule cli-r/);
    const fired = await ok(['trigger', 'fire', 'cli-t', '-p', 'b', '2']);
    const id = /with id ([0-9a-f]{32})/.exec(fired)?.[1];
    assert.ok(id, fired);
    const trig = await poll(async () => { const a = await activation(server, id); return a.status === 200 && a.body; });
    const act = await poll(async () => { const a = await activation(server, JSON.parse(trig.logs[0]).activationId); return a.status === 200 && a.body; });
    assert.deepEqual(act.response.result.got, { a: 1, b: 2 });
    assert.match(await ok(['rule', 'disable', 'cli-r']), /ok: disabled rule cli-r/);
    assert.match(await ok(['trigger', 'fire', 'cli-t']), /no active rule/);
    assert.match(await ok(['rule', 'enable', 'cli-r']), /ok: enabled rule cli-r/);
    assert.match(await ok(['rule', 'list']), /cli-r\s+active\s+cli-t -> cli-echo/);
    assert.match(await ok(['trigger', 'list']), /cli-t/);
    assert.match(await ok(['trigger', 'get', 'cli-t']), /"cli-echo"/);
    assert.match(await ok(['trigger', 'update', 'cli-t', '-p', 'a', '3']), /ok: updated trigger cli-t/);
    assert.match(await ok(['rule', 'update', 'cli-r', 'cli-t', '/_/cli-echo']), /ok: updated rule cli-r/);
    const refused = await tfaas(['rule', 'create', 'cli-x', 'cli-t', '/other-ns/act']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not authorized to access 'other-ns\/act'/);
    assert.match(await ok(['rule', 'delete', 'cli-r']), /ok: deleted rule cli-r/);
    assert.match(await ok(['trigger', 'delete', 'cli-t']), /ok: deleted trigger cli-t/);

    const date = new Date(Date.now() + 3600_000).toISOString();
    assert.match(await ok(['trigger', 'create', 'cli-alarm', '--feed', '/whisk.system/alarms/once', '-p', 'date', date]),
      /ok: created trigger cli-alarm/);
    const got = await api(server, 'GET', `${NS}/triggers/cli-alarm`);
    assert.deepEqual(got.body.annotations, kv({ feed: '/whisk.system/alarms/once' }));
    assert.deepEqual(got.body.parameters, [], 'the parameters went to the feed');
    let r = await feed(server, 'once', { lifecycleEvent: 'READ', triggerName: '/_/cli-alarm' });
    assert.equal(r.body.response.result.status.nextFire, Date.parse(date));
    await ok(['trigger', 'delete', 'cli-alarm']);
    r = await feed(server, 'once', { lifecycleEvent: 'READ', triggerName: '/_/cli-alarm' });
    assert.equal(r.status, 502, 'the schedule went with the trigger');

    const bad = await tfaas(['trigger', 'create', 'cli-bad', '--feed', '/whisk.system/alarms/alarm', '-p', 'cron', 'nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /feed \/whisk.system\/alarms\/alarm refused CREATE: cron pattern 'nope' is not valid/);
    assertError(await api(server, 'GET', `${NS}/triggers/cli-bad`), 404, undefined);
  });
});

// A scheduled firing is claimed in the store before it fires (alarms.h):
// kill -9 at any moment must neither fire one time twice nor, within the
// catch-up window, lose a time that passed while the server was down.
describe('alarms across a kill -9 of the server', () => {
  let s;
  before(async () => { s = await startServer({ keepState: true }); });
  after(async () => { if (s) await s.stop(); });

  async function restart() {
    await s.stop('SIGKILL');
    s = await startServer({ stateDir: s.stateDir, keepState: true });
  }
  const firedFor = (recs) => recs.map((a) => a.annotations.find((x) => x.key === 'alarm')?.value);

  test('a once that passed while the server was down fires once on restart', async () => {
    await putAction(s, 'late', ECHO);
    await putTrigger(s, 'late-t');
    await putRule(s, 'late-r', 'late-t', 'late');
    const date = Date.now() + 1500;
    const r = await feed(s, 'once', { lifecycleEvent: 'CREATE', triggerName: '/_/late-t', date });
    assert.equal(r.status, 200, r.text);
    await s.stop('SIGKILL');
    while (Date.now() < date + 500) await sleep(100);
    s = await startServer({ stateDir: s.stateDir, keepState: true });
    const recs = await poll(async () => { const a = await activationsOf(s, 'late-t'); return a.length >= 1 && a; });
    assert.ok(recs, 'the missed firing happened after the restart');
    assert.deepEqual(firedFor(recs), [date]);
    assert.ok(await poll(async () => (await activationsOf(s, 'late')).length === 1), 'its rule ran the action');
    await restart();
    await sleep(1500);
    assert.equal((await activationsOf(s, 'late-t')).length, 1, 'fired once, not again after another restart');
  });

  test('a cron alarm killed mid-schedule never fires one time twice', async () => {
    await putAction(s, 'beat', ECHO);
    await putTrigger(s, 'beat-t');
    await putRule(s, 'beat-r', 'beat-t', 'beat');
    const r = await feed(s, 'alarm', { lifecycleEvent: 'CREATE', triggerName: '/_/beat-t', cron: '* * * * * *' });
    assert.equal(r.status, 200, r.text);
    for (let i = 0; i < 3; i++) {
      // kill right after a firing's record is readable, the moment a
      // firing claimed after it was fired would be lost or repeated
      const n = (await activationsOf(s, 'beat-t')).length;
      assert.ok(await poll(async () => (await activationsOf(s, 'beat-t')).length > n, { timeoutMs: 15000 }));
      await restart();
    }
    await sleep(2500);
    await feed(s, 'alarm', { lifecycleEvent: 'DELETE', triggerName: '/_/beat-t' });
    const times = firedFor(await activationsOf(s, 'beat-t'));
    assert.ok(times.length >= 4, `fired ${times.length} times`);
    assert.equal(new Set(times).size, times.length, `a time fired twice: ${times.sort()}`);
    for (const t of times) assert.equal(t % 1000, 0, 'every firing is for a whole second the cron names');
  });
});
