// isolation.test.mjs - the three isolation modes of `tfaas serve --isolation`
// against the real server and real enclave processes. For each mode, with
// four functions in two namespaces (guest/a, guest/b, other/a, other/b):
//   (d) the number of enclave processes is 4 / 2 / 1 and follows the mode's
//       grouping (a new process exactly when a new unit is first used);
//   (a) no state leaks: a function that sets a global, pollutes prototypes,
//       patches built-ins and fills a global cache sees its own state again
//       (warm heap), while the other function of its namespace, the function
//       of the SAME NAME in the other namespace and the rest see none of it;
//       a new revision of the polluter starts clean too;
//   (b) kill -9 of guest/a's enclave fails exactly the activations in flight
//       in that unit (guest/a; + guest/b per tenant; everything when shared),
//       other units keep answering without one failed activation, and all
//       recover;
//   (c) timeout, memory and result-size limits fail only the offending
//       activation: no enclave is killed, neighbours keep answering.
// Then the annotation policy (stricter only, 400 otherwise), the info route,
// and --max-enclaves (LRU stop of idle enclaves, 503 when all are busy; the
// per-namespace share is tests/hostile/enclave-share.test.mjs).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api, sleep, workTimeout } from '../lib/server.mjs';
import { createNamespace, putAction, invoke, poll } from '../lib/e2e.mjs';
import { enclavePids, runTfaas } from '../lib/faults.mjs';

// One code for every function; `who` is an action parameter. What the heap
// looks like is measured before this call pollutes anything.
const PROBE = [
  'var cache = {};',
  'function main(p) {',
  '  if (p.busyMs) { var t = Date.now(); while (Date.now() - t < p.busyMs) {} }',
  '  var seen = {',
  '    leak: typeof leaked,',
  '    proto: ({}).polluted || "no",',
  '    array: [].extra || "no",',
  '    random: Math.random() < 1 ? "ok" : "patched",',
  '    stringify: JSON.stringify({ a: 1 }) === \'{"a":1}\' ? "ok" : "patched",',
  '    cache: cache.secret || "none"',
  '  };',
  '  if (p.pollute) {',
  '    leaked = p.pollute;',
  '    Object.prototype.polluted = p.pollute;',
  '    Array.prototype.extra = p.pollute;',
  '    Math.random = function () { return 4; };',
  '    JSON.stringify = function () { return "owned"; };',
  '    cache.secret = p.pollute;',
  '  }',
  '  return { who: p.who, seen: seen };',
  '}'].join('\n');
const CLEAN = { leak: 'undefined', proto: 'no', array: 'no', random: 'ok', stringify: 'ok', cache: 'none' };

const FNS = [['guest', 'a'], ['guest', 'b'], ['other', 'a'], ['other', 'b']];
// Per mode: how many processes, and whether each of FNS, first invoked in
// this order, starts a new one.
const MODES = {
  'enclave-per-function': { count: 4, fresh: [true, true, true, true] },
  'enclave-per-tenant': { count: 2, fresh: [true, false, true, false] },
  'shared-enclave': { count: 1, fresh: [true, false, false, false] },
};

const sorted = (a) => [...a].sort((x, y) => x - y);

for (const [mode, want] of Object.entries(MODES)) {
  describe(`--isolation ${mode}`, () => {
    let server;
    const tenants = {};
    const unitPid = {}; // 'guest/a' -> pid of the enclave it runs in

    before(async () => {
      // 4 workers: three activations busy at once all run (none waits
      // pending) even when one enclave holds every function
      server = await startServer({ extraArgs: ['--isolation', mode, '--workers', '4'] });
      tenants.guest = server;
      tenants.other = await createNamespace(server, 'other');
      for (const [ns, name] of FNS)
        await putAction(tenants[ns], name, PROBE, { parameters: { who: `${ns}/${name}` }, limits: { timeout: 20000 } });
    });

    after(async () => { if (server) await server.stop(); });

    const call = (ns, name, params = {}) => invoke(tenants[ns], name, params, { result: true });

    test('(d) the enclave processes follow the mode', async () => {
      assert.match(server.logs(), new RegExp(`isolation ${mode}`));
      const info = await api(server, 'GET', '/api/v1', { auth: null });
      assert.deepEqual(info.body.isolation, { mode, annotation: 'tfaas-isolation' });
      // Long activations yield the CPU (--cpu-background-after, 50 ms by
      // default) except where that cannot separate tenants (one process for
      // all) or the machine has no autogroups, which the server then says.
      const yields = info.body.cpu.background_after_ms;
      if (mode === 'shared-enclave') assert.equal(yields, 0);
      else if (yields === 0) assert.match(server.logs(), /long activations keep their CPU priority: \S/);
      else assert.equal(yields, 50);
      assert.deepEqual(enclavePids(server.proc.pid), [], 'an enclave before the first invoke');
      let last = null;
      for (let i = 0; i < FNS.length; i++) {
        const [ns, name] = FNS[i];
        const before = enclavePids(server.proc.pid);
        const r = await call(ns, name);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.body, { who: `${ns}/${name}`, seen: CLEAN });
        const fresh = enclavePids(server.proc.pid).filter((p) => !before.includes(p));
        assert.equal(fresh.length, want.fresh[i] ? 1 : 0, `${ns}/${name}: new enclaves ${fresh}`);
        if (fresh.length) last = fresh[0];
        unitPid[`${ns}/${name}`] = last;
      }
      assert.equal(enclavePids(server.proc.pid).length, want.count);
      assert.equal(new Set(Object.values(unitPid)).size, want.count);
    });

    test('(a) globals, prototypes, built-ins and caches do not leak between functions', async () => {
      const polluted = { leak: 'string', proto: 'guest-secret', array: 'guest-secret', random: 'patched',
        stringify: 'patched', cache: 'guest-secret' };
      let r = await call('guest', 'a', { pollute: 'guest-secret' });
      assert.deepEqual(r.body, { who: 'guest/a', seen: CLEAN });
      // the state is real: the same warm heap sees it (its JSON.stringify is
      // patched, but the result travels as the engine's own encoding)
      r = await call('guest', 'a');
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.seen, polluted);
      for (const [ns, name] of [['guest', 'b'], ['other', 'a'], ['other', 'b']]) {
        r = await call(ns, name);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.body, { who: `${ns}/${name}`, seen: CLEAN }, `${ns}/${name} saw guest/a's state`);
      }
      // the other namespace's function of the same name pollutes its own heap
      assert.deepEqual((await call('other', 'a', { pollute: 'other-secret' })).body.seen, CLEAN);
      assert.equal((await call('other', 'a')).body.seen.cache, 'other-secret');
      assert.equal((await call('guest', 'a')).body.seen.cache, 'guest-secret');
      // a new revision of guest/a starts from a fresh heap
      await putAction(server, 'a', PROBE, { parameters: { who: 'guest/a' }, limits: { timeout: 20000 } });
      assert.deepEqual((await call('guest', 'a')).body, { who: 'guest/a', seen: CLEAN });
      await putAction(tenants.other, 'a', PROBE, { parameters: { who: 'other/a' }, limits: { timeout: 20000 } });
    });

    test('(b) kill -9 of one enclave fails only the activations that share it', async () => {
      const victim = unitPid['guest/a'];
      assert.ok(victim > 0 && enclavePids(server.proc.pid).includes(victim), `guest/a's enclave ${victim} is gone`);
      const sharesVictim = (key) => unitPid[key] === victim;
      // three long activations in flight, each in its function's unit
      const busy = [['guest', 'a'], ['guest', 'b'], ['other', 'a']].map(([ns, name]) =>
        ({ key: `${ns}/${name}`, p: invoke(tenants[ns], name, { busyMs: 1500 }) }));
      // and a stream of quick ones in other/b while the kill happens
      let streaming = true;
      const stream = (async () => {
        const out = [];
        while (streaming) out.push(await invoke(tenants.other, 'b', {}));
        return out;
      })();
      await sleep(600); // all three running (warm enclaves take them at once)
      process.kill(victim, 'SIGKILL');
      for (const { key, p } of busy) {
        const r = await p;
        if (sharesVictim(key)) {
          assert.equal(r.status, 502, `${key}: ${r.text}`);
          assert.match(r.body.response.result.error, /exited unexpectedly/, key);
        } else {
          assert.equal(r.status, 200, `${key} runs in another enclave but failed: ${r.text}`);
          assert.equal(r.body.response.success, true);
        }
      }
      await sleep(300);
      streaming = false;
      const streamed = await stream;
      assert.ok(streamed.length > 3, `only ${streamed.length} quick activations during the kill`);
      if (!sharesVictim('other/b')) {
        const failed = streamed.filter((r) => r.status !== 200);
        assert.deepEqual(failed.map((r) => r.text), [], 'other/b runs in another enclave but an activation failed');
      }
      // everything recovers, on a new enclave for the victim's unit only
      for (const [ns, name] of FNS) {
        const r = await call(ns, name);
        assert.equal(r.status, 200, `${ns}/${name} after the kill: ${r.text}`);
        assert.equal(r.body.who, `${ns}/${name}`);
      }
      // the killed process is reaped by the server's watchdog within a tick
      await poll(() => enclavePids(server.proc.pid).length === want.count);
      const now = enclavePids(server.proc.pid);
      assert.equal(now.length, want.count, `enclaves after recovery: ${now}`);
      for (const [key, pid] of Object.entries(unitPid)) {
        if (pid !== victim) assert.ok(now.includes(pid), `${key}'s enclave ${pid} did not survive`);
      }
      const reborn = now.filter((p) => !Object.values(unitPid).includes(p));
      assert.equal(reborn.length, 1, `new enclaves: ${reborn}`);
      for (const key of Object.keys(unitPid)) if (unitPid[key] === victim) unitPid[key] = reborn[0];
      assert.equal(server.proc.exitCode, null);
    });

    test('(c) timeout, memory and result limits fail only the activation, no enclave is killed', async () => {
      await putAction(server, 'loop', 'function main() { for (;;) {} }', { limits: { timeout: 500 } });
      await putAction(server, 'membomb', [
        'function main() {',
        '  var chunk = "x"; while (chunk.length < 131072) chunk += chunk;',
        '  var hoard = [];',
        '  for (var i = 0; ; i++) hoard.push(chunk + i);',
        '}'].join('\n'), { limits: { memory: 128, timeout: workTimeout(20000) } });
      await putAction(server, 'bigresult', 'function main() { return { blob: new Array(2 * 1024 * 1024 + 1).join("R") }; }');
      const alive = enclavePids(server.proc.pid);
      const failures = [
        ['loop', /exceeded its time limits? of 500 milliseconds/],
        ['membomb', /^The action exhausted its memory and was aborted\.$/],
        ['bigresult', /exceeded the allowed length/],
      ];
      for (const [name, message] of failures) {
        const r = await invoke(server, name, {});
        assert.equal(r.status, 502, `${name}: ${r.text.slice(0, 300)}`);
        assert.equal(r.body.response.success, false);
        assert.match(r.body.response.result.error, message, name);
        for (const [ns, fn] of FNS) {
          const ok = await call(ns, fn);
          assert.equal(ok.status, 200, `${ns}/${fn} after ${name}: ${ok.text}`);
        }
      }
      const now = enclavePids(server.proc.pid);
      for (const pid of alive) assert.ok(now.includes(pid), `enclave ${pid} was killed by a limit`);
      // the limited functions run in their own units only when per function
      assert.equal(now.length, want.count + (mode === 'enclave-per-function' ? 3 : 0));
    });
  });
}

test('tfaas serve refuses an unknown --isolation or a bad --cpu-background-after', async () => {
  const r = await runTfaas(['serve', '--isolation', 'per-tenant', '--listen', '127.0.0.1:0']);
  assert.equal(r.code, 2, r.out);
  assert.match(r.out, /invalid value 'per-tenant' for --isolation \(use enclave-per-function, enclave-per-tenant or shared-enclave\)/);
  const help = await runTfaas(['serve', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /--isolation MODE/);
  assert.match(help.out, /--max-enclaves N/);
  assert.match(help.out, /--cpu-background-after MS/);
  for (const bad of ['-1', 'soon', '300001']) {
    const b = await runTfaas(['serve', '--cpu-background-after', bad, '--listen', '127.0.0.1:0']);
    assert.equal(b.code, 2, b.out);
    assert.match(b.out, new RegExp(`invalid value '${bad}' for --cpu-background-after`));
  }
});

describe('the tfaas-isolation annotation', () => {
  let server;
  before(async () => { server = await startServer({ extraArgs: ['--isolation', 'enclave-per-tenant'] }); });
  after(async () => { if (server) await server.stop(); });

  const put = (name, value) => api(server, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`, {
    body: { exec: { kind: 'js:duktape', code: PROBE }, annotations: [{ key: 'tfaas-isolation', value }] } });

  test('a weaker or unknown mode is refused with 400, a stricter one gets its own enclave', async () => {
    let r = await put('weak', 'shared-enclave');
    assert.equal(r.status, 400, r.text);
    assert.match(r.body.error, /shared-enclave, which is weaker than this server's enclave-per-tenant/);
    for (const bad of ['per-function', 'ENCLAVE-PER-TENANT', '', 3, null, ['shared-enclave']]) {
      r = await put('bad', bad);
      assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.text}`);
      assert.match(r.body.error, /tfaas-isolation must be one of enclave-per-function, enclave-per-tenant or shared-enclave/);
    }
    assert.equal((await api(server, 'GET', '/api/v1/namespaces/_/actions/weak')).status, 404);

    assert.equal((await put('same', 'enclave-per-tenant')).status, 200);
    r = await put('own', 'enclave-per-function');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.annotations.find((a) => a.key === 'tfaas-isolation'),
      { key: 'tfaas-isolation', value: 'enclave-per-function' });
    await putAction(server, 'plain', PROBE);
    assert.equal((await invoke(server, 'plain', {}, { result: true })).status, 200);
    const tenantPids = enclavePids(server.proc.pid);
    assert.equal((await invoke(server, 'same', {}, { result: true })).status, 200);
    assert.deepEqual(sorted(enclavePids(server.proc.pid)), sorted(tenantPids), '"same" left the tenant enclave');
    assert.equal((await invoke(server, 'own', {}, { result: true })).status, 200);
    const after = enclavePids(server.proc.pid);
    assert.equal(after.length, tenantPids.length + 1, '"own" got no enclave of its own');
    // an update that leaves the annotations out keeps the request
    assert.equal((await putAction(server, 'own', PROBE)).annotations.find((a) => a.key === 'tfaas-isolation').value,
      'enclave-per-function');
  });
});

describe('--max-enclaves', () => {
  let server;
  const tenants = {};
  before(async () => {
    server = await startServer({ extraArgs: ['--isolation', 'enclave-per-function', '--max-enclaves', '2', '--workers', '2'] });
    tenants.guest = server;
    tenants.other = await createNamespace(server, 'other');
    tenants.third = await createNamespace(server, 'third');
    for (const [ns, name] of [['guest', 'a'], ['guest', 'b'], ['other', 'c'], ['third', 'd']])
      await putAction(tenants[ns], name, PROBE, { parameters: { who: name }, limits: { timeout: 20000 } });
  });
  after(async () => { if (server) await server.stop(); });

  // Each namespace's share of the 2 enclaves is 1 (2 / (H + 1), at least 1),
  // so the limit itself decides once two namespaces hold one each.
  test('a new unit stops the least recently used idle enclave; all busy answers 503', async () => {
    assert.match(server.logs(), /isolation enclave-per-function, at most 2 enclaves/);
    for (const [ns, name] of [['guest', 'a'], ['other', 'c'], ['guest', 'b'], ['other', 'c'], ['guest', 'b']]) {
      const r = await invoke(tenants[ns], name, {}, { result: true });
      assert.equal(r.status, 200, `${name}: ${r.text}`);
    }
    assert.ok(await poll(() => enclavePids(server.proc.pid).length === 2), `enclaves: ${enclavePids(server.proc.pid)}`);
    // b and c busy: d needs a third enclave and there is no idle one to stop
    const busy = [['guest', 'b'], ['other', 'c']].map(([ns, name]) => invoke(tenants[ns], name, { busyMs: 1500 }));
    await sleep(300);
    const refused = await invoke(tenants.third, 'd', {});
    assert.equal(refused.status, 503, refused.text);
    assert.match(refused.body.error, /Every enclave is busy.*--max-enclaves/);
    for (const p of busy) assert.equal((await p).status, 200);
    assert.equal((await invoke(tenants.third, 'd', {}, { result: true })).status, 200);
  });
});
