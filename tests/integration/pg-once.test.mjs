// pg-once.test.mjs - what must happen once across three `tfaas serve` nodes
// on one PostgreSQL store (issue 16). The attacks: the same write sent to
// every node at once (two versions 0.0.N, two creators of one name told
// 200, an action stored in a package deleted meanwhile, an active rule
// stored for a trigger deleted meanwhile, one route past STORE_ROUTES_MAX,
// one trigger past STORE_ENTITIES_MAX), every node's alarm thread waking
// for the same due schedule (a tick fired twice, a rule run twice), and a
// change through one node that another keeps serving from its cache (a
// deleted action, a replaced credential). Runs only under
// scripts/pg-test.sh (make test-pg).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { api, startServer } from '../lib/server.mjs';
import { createNamespace, putAction, invoke, poll } from '../lib/e2e.mjs';
import { assertError } from '../lib/expect.mjs';
import { startNodes, storeSql } from '../lib/nodes.mjs';
import { randomUUID, randomBytes } from 'node:crypto';

const PG = !!process.env.TFAAS_TEST_PG;
const NS = '/api/v1/namespaces/_';
const M = '/api/v1/web/whisk.system/apimgmt';
const FEED = '/api/v1/namespaces/whisk.system/actions/alarms';
const ECHO = 'function main(p) { return { got: p }; }';
const ROUTES_MAX = 1000; // STORE_ROUTES_MAX (store.h)
const ENTITIES_MAX = 1000; // STORE_ENTITIES_MAX (store_entities.h)
// What a write through one node may take to reach another's read cache:
// STORE_CACHE_CHECK_MS (50 ms) plus NOTIFY's delivery. 5 s leaves room for
// a loaded machine; a cache that is not invalidated never gets there.
const BOUND_MS = 5000;
// Requests per node in each race: each node serialises its own writes, so
// the nodes race each other PER_NODE times.
const PER_NODE = 8;

const kv = (o) => Object.entries(o).map(([key, value]) => ({ key, value }));
const onAll = (nodes, fn) => Promise.all(nodes.flatMap((n, i) => Array.from({ length: PER_NODE }, (_, k) => fn(n, i, k))));
async function activationsOf(s, name) {
  const r = await api(s, 'GET', `${NS}/activations?name=${name}&docs=true&limit=200`);
  assert.equal(r.status, 200, r.text);
  return r.body;
}

describe('three servers on one PostgreSQL store', { skip: PG ? false : 'needs TFAAS_TEST_PG (make test-pg)' }, () => {
  let cluster, nodes;
  before(async () => {
    cluster = await startNodes(3);
    nodes = cluster.nodes;
  });
  after(async () => { await cluster?.stop(); });

  test('an action, a package and a trigger updated through every node at once get a new version per write', async () => {
    for (const [kind, body] of [
      ['actions', { exec: { kind: 'js:duktape', code: ECHO } }],
      ['packages', { parameters: kv({ a: 1 }) }],
      ['triggers', { parameters: kv({ a: 1 }) }],
    ]) {
      const path = `${NS}/${kind}/bumped`;
      assert.equal((await api(nodes[0], 'PUT', path, { body })).status, 200);
      const rs = await onAll(nodes, (n) => api(n, 'PUT', `${path}?overwrite=true`, { body }));
      for (const r of rs) assert.equal(r.status, 200, r.text);
      const versions = rs.map((r) => r.body.version);
      assert.equal(new Set(versions).size, versions.length, `${kind}: one version written twice: ${versions.sort()}`);
      const got = await api(nodes[1], 'GET', path);
      assert.equal(got.body.version, `0.0.${1 + versions.length}`, `${kind}: a bump was lost`);
    }
  });

  test('a name created without overwrite through every node at once is created once: one 200, the others 409', async () => {
    for (let i = 0; i < PER_NODE; i++) {
      const rs = await Promise.all(nodes.map((n, k) => api(n, 'PUT', `${NS}/actions/once-${i}`,
        { body: { exec: { kind: 'js:duktape', code: `function main() { return { by: ${k} }; }` } } })));
      const won = rs.flatMap((r, k) => (r.status === 200 ? [k] : []));
      assert.equal(won.length, 1, `creators told 200: nodes ${won} (${rs.map((r) => r.status)})`);
      for (const r of rs) if (r.status !== 200) assertError(r, 409);
      const ran = await invoke(nodes[(won[0] + 1) % nodes.length], `once-${i}`);
      assert.equal(ran.body.response.result.by, won[0], 'the stored code is the one whose creator was told 200');
    }
  });

  test('a package deleted on one node while another stores an action in it: never an action without its package', async () => {
    for (let i = 0; i < PER_NODE; i++) {
      const pkg = `box-${i}`;
      assert.equal((await api(nodes[0], 'PUT', `${NS}/packages/${pkg}`, { body: {} })).status, 200);
      const [del, put] = await Promise.all([
        api(nodes[0], 'DELETE', `${NS}/packages/${pkg}`),
        api(nodes[1], 'PUT', `${NS}/actions/${pkg}/f`, { body: { exec: { kind: 'js:duktape', code: ECHO } } }),
      ]);
      const pkgNow = await api(nodes[2], 'GET', `${NS}/packages/${pkg}`);
      const actNow = await api(nodes[2], 'GET', `${NS}/actions/${pkg}/f`);
      if (put.status === 200) {
        assertError(del, 409); // it holds the action now
        assert.equal(pkgNow.status, 200);
        assert.equal(actNow.status, 200);
      } else {
        assert.equal(del.status, 200, del.text);
        assertError(put, 404);
        assert.equal(pkgNow.status, 404);
        assert.equal(actNow.status, 404, `an action outlived its package: ${actNow.text}`);
      }
    }
  });

  test('a trigger deleted on one node while another stores a rule for it: never an active rule without its trigger', async () => {
    await putAction(nodes[0], 'ruled', ECHO);
    for (let i = 0; i < PER_NODE; i++) {
      const trig = `doomed-${i}`;
      assert.equal((await api(nodes[0], 'PUT', `${NS}/triggers/${trig}`, { body: {} })).status, 200);
      const [del, put] = await Promise.all([
        api(nodes[0], 'DELETE', `${NS}/triggers/${trig}`),
        api(nodes[1], 'PUT', `${NS}/rules/rule-${i}`, { body: { trigger: trig, action: 'ruled' } }),
      ]);
      assert.equal(del.status, 200, del.text);
      if (put.status !== 200) assertError(put, 400, `trigger /guest/${trig} does not exist`);
      const rule = await api(nodes[2], 'GET', `${NS}/rules/rule-${i}`);
      if (rule.status === 200) assert.equal(rule.body.status, 'inactive', `an active rule outlived its trigger: ${rule.text}`);
    }
  });

  test(`the last route below STORE_ROUTES_MAX asked for through every node at once is given once`, async () => {
    const owner = await createNamespace(nodes[0], 'bound');
    const tenants = nodes.map((n) => ({ ...owner, url: n.url }));
    const web = kv({ 'web-export': true });
    assert.equal((await api(tenants[0], 'PUT', `${NS}/actions/book`, { body: { exec: { kind: 'js:duktape', code: ECHO }, annotations: web } })).status, 200);
    // Up to one below the bound in the database itself: 999 API calls would
    // only slow the test down, the race is about the last one.
    storeSql(cluster.store, `INSERT INTO api_routes(namespace, basepath, relpath, verb, doc) SELECT 'bound', '/fill', `
      + `'/r' || g, 'GET', '{}' FROM generate_series(1, ${ROUTES_MAX - 1}) g`);
    const def = (rel) => ({ apidoc: { namespace: '_', gatewayBasePath: '/race', gatewayPath: rel, gatewayMethod: 'GET', action: { name: 'book', namespace: '_' } } });
    // Rounds: every node asks for the last route at once, then it goes again.
    for (let round = 0; round < PER_NODE; round++) {
      const rs = await Promise.all(tenants.map((t, i) => api(t, 'POST', `${M}/createApi.http`, { body: def(`/n${i}`) })));
      const given = rs.filter((r) => r.status === 200).length;
      for (const r of rs) if (r.status !== 200) assertError(r, 409, `A namespace has at most ${ROUTES_MAX} routes`);
      assert.equal(given, 1, `round ${round}: routes given past ${ROUTES_MAX - 1}: ${given}`);
      assert.equal(storeSql(cluster.store, "SELECT count(*) FROM api_routes WHERE namespace = 'bound'"), `${ROUTES_MAX}`);
      storeSql(cluster.store, "DELETE FROM api_routes WHERE namespace = 'bound' AND basepath = '/race'");
    }
  });

  test('the last trigger below the namespace bound asked for through every node at once is given once', async () => {
    const owner = await createNamespace(nodes[0], 'ents');
    const tenants = nodes.map((n) => ({ ...owner, url: n.url }));
    // Up to one below STORE_ENTITIES_MAX in the database itself (kind 0: triggers).
    storeSql(cluster.store, `INSERT INTO entities(namespace, kind, name, version, updated, ref, doc) SELECT 'ents', 0, `
      + `'f' || g, '0.0.1', 0, NULL, '{}' FROM generate_series(1, ${ENTITIES_MAX - 1}) g`);
    for (let round = 0; round < PER_NODE; round++) {
      const rs = await Promise.all(tenants.map((t, i) => api(t, 'PUT', `${NS}/triggers/n${i}`, { body: {} })));
      const given = rs.filter((r) => r.status === 200).length;
      for (const r of rs) if (r.status !== 200) assertError(r, 403, `The namespace has ${ENTITIES_MAX} triggers, the most it may have`);
      assert.equal(given, 1, `round ${round}: triggers given past ${ENTITIES_MAX - 1}: ${given}`);
      storeSql(cluster.store, "DELETE FROM entities WHERE namespace = 'ents' AND name LIKE 'n%'");
    }
  });

  test('alarm schedules fire each tick once across the nodes, and each firing runs its rule once', async () => {
    const triggers = ['tick-a', 'tick-b', 'tick-c'];
    await putAction(nodes[0], 'ticked', ECHO);
    for (const t of triggers) {
      assert.equal((await api(nodes[0], 'PUT', `${NS}/triggers/${t}`, { body: {} })).status, 200);
      assert.equal((await api(nodes[1], 'PUT', `${NS}/rules/${t}-rule`, { body: { trigger: t, action: 'ticked' } })).status, 200);
      const r = await api(nodes[2], 'POST', `${FEED}/alarm?blocking=true`,
        { body: { lifecycleEvent: 'CREATE', triggerName: `/_/${t}`, cron: '* * * * * *', trigger_payload: { t } } });
      assert.equal(r.status, 200, r.text);
    }
    // Every node's thread wakes at the same due time: 3 schedules x 3 nodes
    // race each second. Four seconds of them, then the schedules go.
    const enough = await poll(async () => (await activationsOf(nodes[0], 'ticked')).length >= 4 * triggers.length,
      { timeoutMs: 30000, intervalMs: 200 });
    assert.ok(enough, 'the alarms fired');
    for (const t of triggers) {
      const r = await api(nodes[0], 'POST', `${FEED}/alarm?blocking=true`, { body: { lifecycleEvent: 'DELETE', triggerName: `/_/${t}` } });
      assert.equal(r.status, 200, r.text);
    }
    // Records land asynchronously (group commit): wait until every firing's
    // rule activation is readable, then compare.
    let fired, ran;
    await poll(async () => {
      fired = (await Promise.all(triggers.map((t) => activationsOf(nodes[1], t)))).flat();
      ran = await activationsOf(nodes[1], 'ticked');
      return ran.length === fired.length;
    }, { timeoutMs: 10000, intervalMs: 200 });
    for (const t of triggers) {
      const times = fired.filter((a) => a.name === t).map((a) => a.annotations.find((x) => x.key === 'alarm')?.value);
      assert.ok(times.every((x) => Number.isInteger(x)), `${t}: every firing says its tick`);
      assert.equal(new Set(times).size, times.length, `${t}: a tick fired twice: ${times.sort()}`);
    }
    const causes = ran.map((a) => a.cause);
    assert.equal(new Set(causes).size, causes.length, 'a firing ran its rule twice');
    const firedIds = new Set(fired.map((a) => a.activationId));
    assert.ok(causes.every((c) => firedIds.has(c)), 'every rule activation comes from a recorded firing');
    assert.equal(ran.length, fired.length, 'every firing ran its rule once');
  });

  describe('cache coherence on the invoke path', () => {
    test('an action deleted through one node is refused by the others within the bound', async () => {
      await putAction(nodes[0], 'gone', ECHO);
      for (const n of nodes) assert.equal((await invoke(n, 'gone')).status, 200); // cached everywhere
      assert.equal((await api(nodes[0], 'DELETE', `${NS}/actions/gone`)).status, 200);
      for (const [i, n] of nodes.entries()) {
        const refused = await poll(async () => (await invoke(n, 'gone')).status === 404, { timeoutMs: BOUND_MS, intervalMs: 20 });
        assert.ok(refused, `node ${i} still ran the deleted action`);
      }
    });

    test('a guest key replaced by a node that starts with a new one is refused by the others within the bound', async () => {
      await putAction(nodes[0], 'keyed', ECHO);
      for (const n of nodes) assert.equal((await invoke(n, 'keyed')).status, 200); // credential cached everywhere
      const fresh = `${randomUUID()}:${randomBytes(32).toString('hex')}`;
      const d = await startServer({ extraArgs: [...cluster.store, '--guest-auth', fresh] });
      try {
        for (const [i, n] of nodes.entries()) {
          const refused = await poll(async () => (await invoke(n, 'keyed')).status === 401, { timeoutMs: BOUND_MS, intervalMs: 20 });
          assert.ok(refused, `node ${i} still accepted the replaced key`);
          assert.equal((await invoke({ ...n, auth: fresh }, 'keyed')).status, 200, `node ${i} refused the new key`);
        }
      } finally {
        await d.stop();
      }
    });
  });
});
