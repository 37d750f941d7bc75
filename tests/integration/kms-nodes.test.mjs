// kms-nodes.test.mjs - the key service on several nodes (issue 16,
// docs/protocol.md §5.6): a node started with --kms-peer gets the keys and
// state of a running node's KMS over a channel its own host relays but can
// neither read nor alter, so a confidential function deployed through node A
// runs on node B. The attacks: a package replayed through B after A accepted
// a newer one (refused: B holds A's deploy versions); a KMS of another
// measurement asking for the keys (refused by the peer); a relaying host that
// alters the hello or the answer (detected, no keys move). Both nodes share
// one PostgreSQL store and, in the sim TEE, one platform key (the "vendor"
// root every machine's evidence chains to). Runs under scripts/pg-test.sh.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { BIN, startServer, api, storeArgs } from '../lib/server.mjs';
import { startHostProxy } from '../lib/host-proxy.mjs';
import { runClient } from '../lib/run.mjs';
import { deployBody } from '../lib/confidential.mjs';

const PG = !!process.env.TFAAS_TEST_PG;

describe('the key service on several nodes', { skip: PG ? false : 'needs TFAAS_TEST_PG (make test-pg)' }, () => {
  let a, dir, attestation;
  const nodes = [];
  const dirs = [];

  // A node on A's store, with A's guest credential and sim platform key,
  // whose KMS joins the one at peerUrl; kms names another tfaas-kms.
  async function joinNode(peerUrl, { kms } = {}) {
    const state = mkdtempSync(join(tmpdir(), 'tfaas-kmsnode-'));
    dirs.push(state);
    for (const f of ['sim-platform.key', 'sim-platform.pem']) copyFileSync(join(a.stateDir, f), join(state, f));
    const n = await startServer({
      stateDir: state,
      extraArgs: [...storeArgs(a.stateDir), '--guest-auth', a.auth, '--kms-peer', peerUrl, ...(kms ? ['--kms', kms] : [])],
    });
    n.auth = a.auth;
    nodes.push(n);
    return n;
  }
  const down = async (n) => {
    const r = await api(n, 'GET', '/tfaas/v1/attestation');
    assert.equal(r.status, 503, r.text);
    assert.ok(!existsSync(join(n.stateDir, 'kms-keys.sealed')), 'the refused node stored KMS keys');
  };
  const tfaas = (args, server) => runClient(args, { dir, server });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tfaas-kmsnodes-'));
    a = await startServer();
    attestation = (await api(a, 'GET', '/tfaas/v1/attestation')).body;
  });
  after(async () => {
    for (const n of nodes) await n.stop();
    await a?.stop();
    for (const d of [dir, ...dirs]) if (d) rmSync(d, { recursive: true, force: true });
  });

  test('a node that joins after A accepted version 2 has A\'s keys and refuses version 1 replayed through it', async () => {
    const v1 = await deployBody(attestation, 'roll', 'function main() { return { v: 1 }; }', { version: 1 });
    const v2 = await deployBody(attestation, 'roll', 'function main() { return { v: 2 }; }', { version: 2 });
    const put = (n, body) => api(n, 'PUT', '/tfaas/v1/namespaces/_/actions/roll?overwrite=true', { body });
    assert.equal((await put(a, v1)).status, 200);
    assert.equal((await put(a, v2)).status, 200);
    const b = await joinNode(a.url);
    const doc = (await api(b, 'GET', '/tfaas/v1/attestation')).body;
    assert.deepEqual(doc.kms, attestation.kms, 'B presents the same KMS keys as A');
    for (const [body, v] of [[v1, 1], [v2, 2]]) {
      const r = await put(b, body);
      assert.equal(r.status, 409, r.text);
      assert.match(r.body.error, new RegExp(`the deploy package's version ${v} is not above 2, .*rollback refused`));
    }
  });

  test('deployed through A, invoked through B with the CLI (receipt verified), and the reverse', async () => {
    const b = nodes[0];
    const viaB = { url: b.url, auth: a.auth };
    writeFileSync(join(dir, 'f.js'), 'function main(p) { return { got: p.secret, key: p.apikey }; }');
    let r = await tfaas(['attest', '--root', join(a.stateDir, 'sim-platform.pem')], a);
    assert.equal(r.code, 0, r.stderr);
    r = await tfaas(['action', 'create', 'sec', join(dir, 'f.js'), '--confidential', '-p', 'apikey', 'k'], a);
    assert.equal(r.code, 0, r.stderr);
    r = await tfaas(['action', 'invoke', 'sec', '--confidential', '-p', 'secret', 'x'], viaB);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { got: 'x', key: 'k' });
    assert.match(r.stderr, /receipt verified: guest\/sec version 1, activation [0-9a-f]{32}/);
    // a record sealed by B's KMS opens on A's
    r = await tfaas(['action', 'create', 'sec2', join(dir, 'f.js'), '--confidential', '-p', 'apikey', 'k2'], viaB);
    assert.equal(r.code, 0, r.stderr);
    r = await tfaas(['action', 'invoke', 'sec2', '--confidential', '-p', 'secret', 'y'], a);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { got: 'y', key: 'k2' });
  });

  test('versions deployed after B joined are known on both nodes (shared state): older packages refused either way', async () => {
    const b = nodes[0];
    const put = (n, body) => api(n, 'PUT', '/tfaas/v1/namespaces/_/actions/late?overwrite=true', { body });
    const v = await Promise.all([1, 2, 3].map((version) =>
      deployBody(attestation, 'late', `function main() { return { v: ${version} }; }`, { version })));
    assert.equal((await put(a, v[0])).status, 200);
    assert.equal((await put(a, v[1])).status, 200);
    let r = await put(b, v[0]);
    assert.equal(r.status, 409, r.text);
    assert.match(r.body.error, /version 1 is not above 2, .*rollback refused/);
    assert.equal((await put(b, v[2])).status, 200, 'B accepts the next version');
    r = await put(a, v[1]);
    assert.equal(r.status, 409, r.text);
    assert.match(r.body.error, /version 2 is not above 3, .*rollback refused/);
  });

  test('a host that rolls the shared state back in the store is refused by the key service', async () => {
    const url = storeArgs(a.stateDir)[1];
    const psql = (sql) => execFileSync('psql', ['-qXAt', '-v', 'ON_ERROR_STOP=1', url, '-c', sql]).toString().trim();
    const row = () => psql("SELECT generation || ' ' || encode(blob, 'hex') FROM kms_state").split(' ');
    const put = (body) => api(a, 'PUT', '/tfaas/v1/namespaces/_/actions/rb?overwrite=true', { body });
    const [g0, old] = row();
    assert.equal((await put(await deployBody(attestation, 'rb', 'function main() {}', { version: 1 }))).status, 200);
    const [g1, newer] = row();
    assert.ok(Number(g1) > Number(g0), `the generation moved on (${g0} -> ${g1})`);
    // the host puts the older blob back (under the newer generation, so its own swap goes on)
    psql(`UPDATE kms_state SET blob = decode('${old}', 'hex')`);
    const r = await put(await deployBody(attestation, 'rb', 'function main() {}', { version: 2 }));
    assert.equal(r.status, 503, r.text);
    assert.match(a.logs(), /the shared key service state is generation \d+, older than generation \d+ this KMS already took \(rolled back: refused\)/);
    psql(`UPDATE kms_state SET blob = decode('${newer}', 'hex')`);
    assert.equal((await put(await deployBody(attestation, 'rb', 'function main() {}', { version: 2 }))).status, 200,
      'with the latest state back the deploy goes through');
  });

  test('malformed or forged hellos get 400 or 403, never keys', async () => {
    const post = (body) => api(a, 'POST', '/tfaas/v1/kms/transfer', { body, auth: null });
    const key = Buffer.alloc(32, 7).toString('base64url');
    for (const body of [{}, { evidence: 'x' }, { evidence: 'x', transfer_key: 'AAAA' }, { evidence: '', transfer_key: key }, []]) {
      const r = await post(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    }
    // evidence that is not evidence, and A's own attestation evidence (a KMS's, but over its keys, not this key)
    for (const evidence of ['not evidence', attestation.evidence]) {
      const r = await post({ evidence, transfer_key: key });
      assert.equal(r.status, 403, r.text);
      assert.match(r.body.error, /the joining key service's evidence is refused/);
      assert.equal(r.body.wrapped, undefined);
    }
    assert.equal((await api(a, 'GET', '/tfaas/v1/kms/transfer')).status, 405);
  });

  test('a KMS of another measurement is refused the keys by the peer', async () => {
    // The same tfaas-kms with one byte appended: it runs, and measures differently.
    const kmsDir = mkdtempSync(join(tmpdir(), 'tfaas-otherkms-'));
    dirs.push(kmsDir);
    copyFileSync(join(BIN, 'tfaas-kms'), join(kmsDir, 'tfaas-kms'));
    appendFileSync(join(kmsDir, 'tfaas-kms'), Buffer.from([0]));
    symlinkSync(join(BIN, 'tfaas-qe'), join(kmsDir, 'tfaas-qe'));
    const c = await joinNode(a.url, { kms: join(kmsDir, 'tfaas-kms') });
    await down(c);
    assert.match(c.logs(), /refused the transfer \(HTTP 403\): the joining key service's evidence is refused: evidence is of an enclave with another measurement/);
  });

  test('a relaying host that alters the hello or the answer is detected, and no keys move', async () => {
    const flip = (b64) => {
      const bytes = Buffer.from(b64, 'base64url');
      bytes[bytes.length - 1] ^= 1;
      return bytes.toString('base64url');
    };
    const attacks = [
      // the hello's transfer key swapped: A's KMS refuses it (its evidence binds the key)
      ['hello key', async (r) => {
        const j = JSON.parse(r.body);
        j.transfer_key = flip(j.transfer_key);
        r.body = Buffer.from(JSON.stringify(j));
      }, /HTTP 403\): the joining key service's evidence is refused: evidence binds other report data/],
      // the wrapped keys altered on the way back: the joining KMS refuses the answer
      ['wrapped keys', async (r) => {
        const up = await fetch(`${a.url}${r.path}`, { method: 'POST', headers: r.headers, body: r.body });
        const j = await up.json();
        j.wrapped = flip(j.wrapped);
        r.reply = { status: up.status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(j) };
      }, /the giving key service's evidence is refused: evidence binds other report data/],
    ];
    for (const [what, rewrite, expected] of attacks) {
      const proxy = await startHostProxy(a, rewrite);
      try {
        const d = await joinNode(proxy.url);
        await down(d);
        assert.match(d.logs(), expected, what);
        assert.ok(proxy.seen.some((q) => q.path === '/tfaas/v1/kms/transfer'), `${what}: the transfer went through the proxy`);
      } finally {
        await proxy.stop();
      }
    }
  });
});
