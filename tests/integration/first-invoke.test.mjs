// first-invoke.test.mjs - a new action's first invocation in a namespace
// whose enclave is already running, against the real server and enclave:
//   - it starts no process (the namespace's enclave takes it), and each new
//     function starts on a clean heap although the enclave hands it the
//     blank spare heap it made after the previous one (trusted/spare_heap.c):
//     whatever the previous new function left in its globals, prototypes or
//     built-ins is not there;
//   - the spare, made with the memory limit of the last new heap, never
//     gives a function another limit than its own: a 128 MB function made
//     after 256 MB ones cannot allocate 180 MB, a 256 MB one after 128 MB
//     ones can;
//   - updating one action serves its new code at once while the others keep
//     answering (the store forgets only the written action's document);
//   - the spare is made by a thread of the enclave's own at SCHED_IDLE, and
//     an enclave-per-function enclave keeps none (--no-spare-heap).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { startServer } from '../lib/server.mjs';
import { putAction, invoke } from '../lib/e2e.mjs';
import { enclavePids } from '../lib/faults.mjs';

// The scheduling policy (stat field 41; SCHED_IDLE is 5) of each thread of
// pid named name.
function threadPolicies(pid, name) {
  const out = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat = '';
    try { stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'); } catch { continue; }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    if (comm === name) out.push(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]));
  }
  return out;
}
const SCHED_IDLE = 5;

// Reports what it finds of earlier functions' state, then leaves its own.
const POLLUTER = [
  'function main(p) {',
  '  var seen = { leak: typeof leaked, proto: ({}).polluted || "no", array: [].extra || "no",',
  '    random: Math.random() < 1 ? "ok" : "patched", stringify: JSON.stringify({a: 1}) === \'{"a":1}\' ? "ok" : "patched" };',
  '  leaked = p.who;',
  '  Object.prototype.polluted = p.who;',
  '  Array.prototype.extra = p.who;',
  '  Math.random = function () { return 4; };',
  '  JSON.stringify = function () { return "owned"; };',
  '  return { who: p.who, seen: seen };',
  '}'].join('\n');
const CLEAN = { leak: 'undefined', proto: 'no', array: 'no', random: 'ok', stringify: 'ok' };

// Holds p.mb strings of 1 MiB at once.
const HOG = [
  'function main(p) {',
  '  var s = "x"; while (s.length < 1048576) s += s;',
  '  var keep = []; for (var i = 0; i < p.mb; i++) keep.push(s + i);',
  '  return { held: keep.length };',
  '}'].join('\n');

describe('first invocation in a warm namespace', () => {
  let server;
  let pids;

  before(async () => {
    server = await startServer();
    await putAction(server, 'warm', 'function main() { return {ok: true}; }');
    const r = await invoke(server, 'warm', {}, { result: true });
    assert.equal(r.status, 200, r.text);
    pids = enclavePids(server.proc.pid);
    assert.equal(pids.length, 1, 'the namespace has one enclave');
  });

  after(async () => { if (server) await server.stop(); });

  test('new functions start no process and each starts clean', async () => {
    for (let i = 0; i < 6; i++) {
      const name = `fresh-${i}`;
      await putAction(server, name, POLLUTER);
      const r = await invoke(server, name, { who: name }, { result: true });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.who, name);
      assert.deepEqual(r.body.seen, CLEAN, `${name} saw an earlier function's state`);
      assert.deepEqual(enclavePids(server.proc.pid), pids, `${name} started a process`);
    }
    // a warm heap still holds its own function's state
    const again = await invoke(server, 'fresh-5', { who: 'fresh-5' }, { result: true });
    assert.equal(again.body.seen.leak, 'string');
  });

  test("a new heap has its own function's memory limit, whatever the spare was made with", async () => {
    const hog = async (name, memory, mb) => {
      await putAction(server, name, HOG, { limits: { memory } });
      return invoke(server, name, { mb }, { result: true });
    };
    // The last new heaps were 256 MB (the default): a spare of 256 MB waits.
    let r = await hog('hog-small-1', 128, 180);
    assert.equal(r.status, 502, r.text);
    assert.match(r.body.error, /exhausted its memory/);
    r = await hog('hog-small-2', 128, 180); // the spare now made for 128 MB
    assert.equal(r.status, 502, r.text);
    assert.match(r.body.error, /exhausted its memory/);
    r = await hog('hog-big', 256, 180); // after a spare of 128 MB
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { held: 180 });
    r = await hog('hog-small-3', 128, 180); // after a spare of 256 MB again
    assert.equal(r.status, 502, r.text);
    assert.deepEqual(enclavePids(server.proc.pid), pids, 'a memory failure kills no enclave');
  });

  test('the spare heap is made by one thread of the enclave at idle priority', () => {
    assert.deepEqual(threadPolicies(pids[0], 'spare-heap'), [SCHED_IDLE]);
  });

  test('an update serves the new code at once; the other actions keep answering', async () => {
    await putAction(server, 'ver', 'function main() { return {v: 1}; }');
    assert.deepEqual((await invoke(server, 'ver', {}, { result: true })).body, { v: 1 });
    for (let v = 2; v <= 4; v++) {
      await putAction(server, 'ver', `function main() { return {v: ${v}}; }`);
      assert.deepEqual((await invoke(server, 'ver', {}, { result: true })).body, { v });
      assert.deepEqual((await invoke(server, 'warm', {}, { result: true })).body, { ok: true });
    }
  });
});

describe('enclave-per-function', () => {
  let server;
  after(async () => { if (server) await server.stop(); });

  test('an enclave of one function keeps no spare heap', async () => {
    server = await startServer({ extraArgs: ['--isolation', 'enclave-per-function'] });
    await putAction(server, 'solo', 'function main() { return {ok: true}; }');
    const r = await invoke(server, 'solo', {}, { result: true });
    assert.equal(r.status, 200, r.text);
    const pids = enclavePids(server.proc.pid);
    assert.equal(pids.length, 1);
    assert.deepEqual(threadPolicies(pids[0], 'spare-heap'), []);
    assert.match(readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8'), /--no-spare-heap/);
  });
});
