// openwhisk-triggers.test.mjs - triggers, rules and feeds driven only by the
// official `openwhisk` npm client, the calls its triggers, rules and feeds
// integration tests make: list, get (404), create, update (version bump),
// fire, rule create/update/enable/disable/delete with fully qualified names,
// and the whisk.system/alarms feed's create/get/delete (and an update of a
// deleted feed, refused).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import openwhisk from 'openwhisk';
import { startServer } from '../lib/server.mjs';
import { poll } from '../lib/e2e.mjs';
import { rejectsWith } from '../lib/expect.mjs';

const ECHO = 'function main(params) { return params; }';

let server;
let ow;
let NS;

before(async () => {
  server = await startServer();
  ow = openwhisk({ apihost: server.url, api_key: server.auth });
  NS = server.ns;
});
after(async () => { if (server) await server.stop(); });

test('triggers: list, get 404, create, update, delete', async () => {
  assert.deepEqual(await ow.triggers.list(), []);
  await rejectsWith(ow.triggers.get({ name: 'glorfindel' }), 404);
  const t = await ow.triggers.create({ triggerName: 'client_trigger' });
  assert.equal(t.name, 'client_trigger');
  assert.equal(t.namespace, NS);
  assert.deepEqual(t.annotations, []);
  assert.equal(t.version, '0.0.1');
  assert.deepEqual(t.limits, {});
  assert.equal((await ow.triggers.get({ triggerName: 'client_trigger' })).name, 'client_trigger');
  const listed = await ow.triggers.list({ namespace: NS });
  assert.ok(listed.every((x) => x.namespace === NS) && listed.length === 1);
  assert.equal((await ow.triggers.update({ triggerName: 'client_trigger' })).version, '0.0.2');
  await ow.triggers.delete({ triggerName: 'client_trigger' });
  await rejectsWith(ow.triggers.get({ name: 'client_trigger' }), 404);
});

test('rules: create with /NS/NAME and /_/NAME, get, disable, update, delete; fire', async () => {
  await ow.actions.create({ actionName: 'client_hello', action: ECHO });
  await ow.actions.create({ actionName: 'client_tests', action: ECHO });
  await ow.triggers.create({ triggerName: 'client_rule_trigger', trigger: { parameters: [{ key: 'p', value: 1 }] } });
  const rule = await ow.rules.create({
    ruleName: 'client_rule', action: `/${NS}/client_hello`, trigger: `/${NS}/client_rule_trigger`,
  });
  assert.equal(rule.name, 'client_rule');
  assert.equal(rule.namespace, NS);
  assert.deepEqual(rule.action, { path: NS, name: 'client_hello' });
  assert.deepEqual(rule.trigger, { path: NS, name: 'client_rule_trigger' });
  assert.equal((await ow.rules.get({ ruleName: 'client_rule' })).status, 'active');
  await rejectsWith(ow.rules.get({ name: 'glorfindel' }), 404);

  const fired = await ow.triggers.invoke({ triggerName: 'client_rule_trigger', params: { q: 2 } });
  assert.ok(Object.hasOwn(fired, 'activationId'));
  const rec = await poll(() => ow.activations.get({ activationId: fired.activationId }));
  assert.ok(rec, 'the trigger activation is readable through the client');
  const line = JSON.parse(rec.logs[0]);
  const act = await poll(() => ow.activations.get({ activationId: line.activationId }));
  assert.deepEqual(act.response.result, { p: 1, q: 2 });

  await ow.rules.disable({ ruleName: 'client_rule' });
  assert.equal((await ow.rules.get({ ruleName: 'client_rule' })).status, 'inactive');
  // the client names them without a namespace: /_/NAME
  const updated = await ow.rules.update({ ruleName: 'client_rule', action: 'client_tests', trigger: 'client_rule_trigger' });
  assert.deepEqual(updated.action, { path: NS, name: 'client_tests' });
  assert.equal(updated.status, 'inactive', 'an update keeps the status');
  await ow.rules.enable({ ruleName: 'client_rule' });
  assert.equal((await ow.rules.list()).length, 1);
  await ow.rules.delete({ ruleName: 'client_rule' });
  await ow.triggers.delete({ triggerName: 'client_rule_trigger' });
  await ow.actions.delete({ actionName: 'client_hello' });
  await ow.actions.delete({ actionName: 'client_tests' });
});

test('a rule to the shared /whisk.system/utils/echo, as the client suite fires one', async () => {
  await ow.triggers.create({ triggerName: 'sys_trigger' });
  await ow.rules.create({ ruleName: 'sys_rule', action: '/whisk.system/utils/echo', trigger: 'sys_trigger' });
  const fired = await ow.triggers.invoke({ triggerName: 'sys_trigger', params: { hello: 'world' } });
  const rec = await poll(() => ow.activations.get({ activationId: fired.activationId }));
  const line = JSON.parse(rec.logs[0]);
  assert.equal(line.success, true, rec.logs[0]);
  const act = await poll(() => ow.activations.get({ activationId: line.activationId }));
  assert.deepEqual(act.response.result, { hello: 'world' });
  await ow.rules.delete({ ruleName: 'sys_rule' });
  await ow.triggers.delete({ triggerName: 'sys_trigger' });
});

test('feeds: create, get and delete an alarm, then an update of the deleted feed is refused', async () => {
  await ow.triggers.create({ triggerName: 'client_feed_trigger' });
  const params = {
    feedName: '/whisk.system/alarms/alarm',
    trigger: `/${NS}/client_feed_trigger`,
    params: { cron: '*/8 * * * * *', trigger_payload: { name: 'test', place: 'hello' } },
  };
  const created = await ow.feeds.create(params);
  assert.equal(created.response.success, true);
  const got = await ow.feeds.get(params);
  assert.equal(got.response.success, true);
  assert.deepEqual(got.response.result.config.payload, { name: 'test', place: 'hello' });
  const deleted = await ow.feeds.delete(params);
  assert.equal(deleted.response.success, true);
  const err = await rejectsWith(ow.feeds.update(params), 502);
  assert.match(err.message, /has no alarm/);
  await ow.triggers.delete({ triggerName: 'client_feed_trigger' });
});
