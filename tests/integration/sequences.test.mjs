// sequences.test.mjs - sequences (exec kind "sequence") over real HTTP
// against the real server and enclaves: create-time checks (names,
// existence, cycles, length, confidential components), the chain of
// results, the first error stopping it, the records (logs list the
// component activations, topmost/causedBy/cause), blocking and
// non-blocking, nesting, and zip actions as components.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api } from '../lib/server.mjs';
import { poll, ENGINE_KINDS } from '../lib/e2e.mjs';
import { assertError } from '../lib/expect.mjs';
import { deployBody } from '../lib/confidential.mjs';
import { makeZip } from '../lib/zip.mjs';

const A = '/api/v1/namespaces/_/actions';
const ACT = '/api/v1/namespaces/_/activations';
const INC = "function main(p) { console.log('at ' + p.n); return { n: (p.n || 0) + 1, seen: p.extra || null }; }";
const FAIL = "function main(p) { return { error: 'stopped at ' + p.n }; }";

let server;

const js = (code) => ({ exec: { kind: 'js:duktape', code } });
const seq = (components, extra = {}) => ({ exec: { kind: 'sequence', components }, ...extra });
const put = (name, body, q = '') => api(server, 'PUT', `${A}/${name}${q}`, { body });
const ann = (rec, key) => rec.annotations.find((a) => a.key === key)?.value;


before(async () => {
  server = await startServer();
  assert.equal((await put('inc', js(INC))).status, 200);
  assert.equal((await put('fail', js(FAIL))).status, 200);
});
after(async () => { if (server) await server.stop(); });

describe('create', () => {
  test('components are stored fully qualified', async () => {
    const r = await put('s1', seq(['inc', '/_/inc', '/guest/inc']));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.exec, { kind: 'sequence', components: ['/guest/inc', '/guest/inc', '/guest/inc'] });
    assert.equal(ann(r.body, 'exec'), 'sequence');
  });

  test("OpenWhisk's checks: missing component, cycle, too long, bad names, other namespaces", async () => {
    assertError(await put('bad', seq(['nothere'])), 400, 'Sequence component does not exist.');
    assertError(await put('bad', seq(['bad'])), 400, 'Sequence may not refer to itself.');
    assertError(await put('bad', seq(Array(51).fill('inc'))), 400, /1 to 50/);
    assertError(await put('bad', seq([])), 400, /1 to 50/);
    assertError(await put('bad', seq([5])), 400, /components\[0\]/);
    assertError(await put('bad', seq(['/other/inc'])), 403,
      "The supplied authentication is not authorized to access '/other/inc'.");
    assertError(await put('bad', seq(['a/b/c'])), 400, /not a valid action name/);
    assertError(await put('bad', seq(['//inc'])), 400, /not a valid action name/);
    assertError(await put('bad', seq(['/guest/x/y/z'])), 400, /not a valid action name/);
    // a cycle through another sequence, made by updating the first
    assert.equal((await put('c1', seq(['inc']))).status, 200);
    assert.equal((await put('c2', seq(['c1']))).status, 200);
    assertError(await put('c1', seq(['c2']), '?overwrite=true'), 400, 'Sequence may not refer to itself.');
    // 50 actions flattened through nesting
    assert.equal((await put('n30', seq(Array(30).fill('inc')))).status, 200);
    assertError(await put('n60', seq(['n30', 'n30'])), 400, 'Too many actions in the sequence.');
    assertError(await api(server, 'GET', `${A}/bad`), 404);
  });
});

describe('invoke', () => {
  test('each result is the next one\'s parameters; logs list the components', async () => {
    assert.equal((await put('chain', seq(['inc', 'inc', 'inc'], { parameters: [{ key: 'extra', value: 'default' }] }))).status, 200);
    const r = await api(server, 'POST', `${A}/chain?blocking=true`, { body: { n: 10 } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.response.result, { n: 13, seen: null });
    assert.equal(r.body.logs.length, 3);
    assert.equal(ann(r.body, 'kind'), 'sequence');
    assert.equal(ann(r.body, 'topmost'), true);
    for (const id of r.body.logs) {
      const c = await api(server, 'GET', `${ACT}/${id}`);
      assert.equal(c.status, 200, c.text);
      assert.equal(c.body.name, 'inc');
      assert.equal(c.body.cause, r.body.activationId);
      assert.equal(ann(c.body, 'causedBy'), 'sequence');
    }
    const first = await api(server, 'GET', `${ACT}/${r.body.logs[0]}`);
    assert.equal(first.body.response.result.seen, 'default', 'the sequence\'s parameters reach the first component');
  });

  test('components in a package and in a shared package (/whisk.system/utils)', async () => {
    let r = await api(server, 'PUT', '/api/v1/namespaces/_/packages/seqpkg', {
      body: { parameters: [{ key: 'extra', value: 'from the package' }] },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal((await put('seqpkg/inc', js(INC))).status, 200);
    r = await put('mixed', seq(['seqpkg/inc', '/whisk.system/utils/echo', 'inc']));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.exec.components, ['/guest/seqpkg/inc', '/whisk.system/utils/echo', '/guest/inc']);
    r = await api(server, 'POST', `${A}/mixed?blocking=true`, { body: { n: 1 } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.response.result, { n: 3, seen: null });
    const first = await api(server, 'GET', `${ACT}/${r.body.logs[0]}`);
    assert.equal(first.body.response.result.seen, 'from the package');
    assert.equal(ann(first.body, 'path'), 'guest/seqpkg/inc');
    const second = await api(server, 'GET', `${ACT}/${r.body.logs[1]}`);
    assert.equal(ann(second.body, 'path'), 'whisk.system/utils/echo');
  });

  test('the first error stops the sequence and becomes its result', async () => {
    assert.equal((await put('stops', seq(['inc', 'fail', 'inc']))).status, 200);
    const r = await api(server, 'POST', `${A}/stops?blocking=true`, { body: { n: 1 } });
    assert.equal(r.status, 502, r.text);
    assert.deepEqual(r.body.response.result, { error: 'stopped at 2' });
    assert.equal(r.body.response.statusCode, 1);
    assert.equal(r.body.logs.length, 2, 'the third component never ran');
  });

  test('non-blocking: 202, then the record', async () => {
    const r = await api(server, 'POST', `${A}/chain`, { body: { n: 0 } });
    assert.equal(r.status, 202, r.text);
    const rec = await poll(async () => {
      const g = await api(server, 'GET', `${ACT}/${r.body.activationId}`);
      return g.status === 200 ? g.body : null;
    });
    assert.equal(rec.response.result.n, 3);
  });

  test('a nested sequence runs as its own activation, caused by the outer one', async () => {
    assert.equal((await put('outer', seq(['chain', 'inc']))).status, 200);
    const r = await api(server, 'POST', `${A}/outer?blocking=true`, { body: { n: 0 } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.response.result.n, 4);
    const inner = await api(server, 'GET', `${ACT}/${r.body.logs[0]}`);
    assert.equal(inner.body.name, 'chain');
    assert.equal(ann(inner.body, 'topmost'), false);
    assert.equal(ann(inner.body, 'causedBy'), 'sequence');
    assert.equal(inner.body.cause, r.body.activationId);
    assert.equal(inner.body.logs.length, 3);
  });

  test('a component deleted after create fails the sequence clearly', async () => {
    assert.equal((await put('gone', js(INC))).status, 200);
    assert.equal((await put('usesgone', seq(['inc', 'gone']))).status, 200);
    assert.equal((await api(server, 'DELETE', `${A}/gone`)).status, 200);
    const r = await api(server, 'POST', `${A}/usesgone?blocking=true&result=true`, { body: {} });
    assert.equal(r.status, 502, r.text);
    assert.deepEqual(r.body, { error: 'Sequence component does not exist.' });
  });

  test('a sequence is a web action like any other', async () => {
    assert.equal((await put('webseq', seq(['inc', 'inc'], { annotations: [{ key: 'web-export', value: true }] }))).status, 200);
    const r = await api(server, 'GET', '/api/v1/web/guest/default/webseq.json/n?n=5', { auth: null });
    // query values are strings: '5' + 1 is '51', + 1 again '511'
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body, '511');
  });
});

describe('confidential actions', () => {
  // Passed from one component to the next, a confidential action's
  // parameters and result would cross the host in the clear.
  test('cannot be a sequence component, at create or when one becomes confidential later', async () => {
    const attestation = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
    const conf = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/secret', {
      body: await deployBody(attestation, 'secret', 'function main(p) { return { s: 1 }; }'),
    });
    assert.equal(conf.status, 200, conf.text);
    assertError(await put('withsecret', seq(['inc', 'secret'])), 400, /confidential action cannot be a sequence component/);
    // a component replaced by a confidential deploy after the sequence was made
    assert.equal((await put('later', js(INC))).status, 200);
    assert.equal((await put('useslater', seq(['inc', 'later']))).status, 200);
    const re = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/later?overwrite=true', {
      body: await deployBody(attestation, 'later', 'function main(p) { return { s: 2 }; }'),
    });
    assert.equal(re.status, 200, re.text);
    const r = await api(server, 'POST', `${A}/useslater?blocking=true&result=true`, { body: {} });
    assert.equal(r.status, 502, r.text);
    assert.match(r.body.error, /is confidential: invoke it with an OHTTP request/);
  });

  test('a confidential action is not served as a web action', async () => {
    // its deploy takes no annotations of the client's: there is no web-export to set
    assertError(await api(server, 'GET', '/api/v1/web/guest/default/secret', { auth: null }), 404);
  });
});

describe('zip actions', () => {
  test('base64 code without exec.binary is stored as a zip and runs, in a sequence too', { skip: !ENGINE_KINDS.includes('js:v8') && 'no V8 enclave' }, async () => {
    const zip = makeZip([{ name: 'index.js', data: 'exports.main = (p) => ({ n: (p.n || 0) * 10 })' }]);
    const r = await put('zipped', { exec: { kind: 'nodejs:default', code: zip.toString('base64') } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.exec.binary, true);
    assert.equal(r.body.exec.kind, 'nodejs:20');
    assert.equal((await put('zipseq', seq(['inc', 'zipped']))).status, 200);
    const s = await api(server, 'POST', `${A}/zipseq?blocking=true&result=true`, { body: { n: 1 } });
    assert.equal(s.status, 200, s.text);
    assert.deepEqual(s.body, { n: 20 });
    // base64 that is no zip is refused when created, not at each invocation
    assertError(await put('notzip', { exec: { kind: 'nodejs:default', code: Buffer.from('PK\x03\x04 not really').toString('base64') } }),
      400, 'The zip archive of the action is refused: it is not a zip archive that can be read');
  });

  test('JavaScript that is not base64 stays JavaScript', async () => {
    const r = await put('textcode', js(INC));
    assert.equal(r.body.exec.binary, false);
  });
});
