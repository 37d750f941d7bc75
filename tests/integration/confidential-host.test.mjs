// confidential-host.test.mjs - the malicious host of issue 11, played by a
// proxy (tests/lib/host-proxy.mjs) between the real tfaas CLI and a real
// server with its KMS and worker enclaves: it swaps a tenant's credentials
// for another tenant's to redirect a confidential call, replays a deploy
// package into another namespace, rolls a function back by replaying an
// older package (also after KMS and server restarts), and serves an older
// certificate (also after `action update --confidential` moved the pin).
// Each attack must be refused, by the KMS or by the client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, api, sleep } from '../lib/server.mjs';
import { runClient } from '../lib/run.mjs';
import { createNamespace } from '../lib/e2e.mjs';
import { enclavePids, kmsPid, tamperFile } from '../lib/faults.mjs';
import { confidentialOf, deployBody, jwsClaims, kmsSigningKey } from '../lib/confidential.mjs';
import { basic, startHostProxy } from '../lib/host-proxy.mjs';

let server;
let bob;
let dir;
let attestation;

// The tfaas CLI of tenant "guest", talking to `via` (the server or a proxy).
const tfaas = (args, via = server) => runClient(args, { dir, server: via });
const code = (tag) => `function main(p) { return { who: "${tag}", got: p.secret }; }`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tfaas-host-'));
  server = await startServer({ keepState: true }); // restarted on the same state below
  bob = await createNamespace(server, 'bob');
  attestation = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
  const r = await tfaas(['attest', '--root', join(server.stateDir, 'sim-platform.pem')]);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await server?.stop();
  if (server) rmSync(server.stateDir, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

// Deploys `name` as guest with the CLI through `via`; returns the CLI result.
async function deploy(name, tag, via = server) {
  writeFileSync(join(dir, `${name}.js`), code(tag));
  const r = await tfaas(['action', 'create', name, join(dir, `${name}.js`), '--confidential'], via);
  assert.equal(r.code, 0, r.stderr);
  return r;
}

test('a host that swaps in another tenant\'s credentials to redirect a call is refused by the client', async () => {
  await deploy('cfn', 'guest');
  // bob has a confidential function of the same name, certified by the same KMS
  const r = await api(bob, 'PUT', '/tfaas/v1/namespaces/_/actions/cfn',
    { body: await deployBody(attestation, 'cfn', code('bob'), { ns: 'bob' }) });
  assert.equal(r.status, 200, r.text);
  const proxy = await startHostProxy(server, (q) => {
    if (/\/actions\/cfn\/(certificate|ohttp)$/.test(q.path)) q.headers.authorization = basic(bob.auth);
  });
  try {
    const inv = await tfaas(['action', 'invoke', 'cfn', '--confidential', '-p', 'secret', 's3cret'], proxy);
    assert.equal(inv.code, 1, inv.stdout);
    assert.match(inv.stderr, /refusing to send anything: the certificate is for function bob\/cfn, not guest\/cfn \(foreign certificate\)/);
    assert.ok(!/receipt verified/.test(inv.stderr));
    assert.ok(!proxy.seen.some((q) => q.path.endsWith('/ohttp')), 'no request was sent to the other function');
  } finally {
    await proxy.stop();
  }
  // without the host's meddling the call reaches the tenant's own function
  const ok = await tfaas(['action', 'invoke', 'cfn', '--confidential', '-p', 'secret', 's3cret']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), { who: 'guest', got: 's3cret' });
});

test('a deploy package replayed into another namespace is refused by the KMS', async () => {
  const proxy = await startHostProxy(server);
  try {
    await deploy('pkg', 'guest', proxy);
  } finally {
    await proxy.stop();
  }
  const put = proxy.seen.find((q) => q.method === 'PUT' && q.path.endsWith('/actions/pkg'));
  const r = await api(bob, 'PUT', '/tfaas/v1/namespaces/_/actions/pkg', { body: JSON.parse(put.body) });
  assert.equal(r.status, 400);
  assert.match(r.body.error, /^The key service refused the deploy: the deploy package was sealed for guest\/pkg, not for this function \(a package replayed to another namespace or name\)$/);
  assert.equal((await api(bob, 'GET', '/api/v1/namespaces/_/actions/pkg')).status, 404, 'nothing was stored');
  // nor under another name in the same namespace
  const r2 = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/pkg2', { body: JSON.parse(put.body) });
  assert.equal(r2.status, 400);
  assert.match(r2.body.error, /sealed for guest\/pkg, not for this function/);
});

test('rollback: an older package replayed with overwrite is refused, across KMS and server restarts', async () => {
  const proxy = await startHostProxy(server);
  try {
    await deploy('roll', 'v1', proxy);
    let r = await tfaas(['action', 'delete', 'roll']);
    assert.equal(r.code, 0, r.stderr);
    r = await deploy('roll', 'v2', proxy);
    assert.match(r.stdout, /guest\/roll version 2/);
  } finally {
    await proxy.stop();
  }
  const [v1, v2] = proxy.seen.filter((q) => q.method === 'PUT' && q.path.endsWith('/actions/roll'));
  const v1cert = confidentialOf(JSON.parse(v1.answer)).certificate;
  assert.equal((await jwsClaims(v1cert, await kmsSigningKey(attestation))).claims.version, 1);
  const replay = () => api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/roll?overwrite=true', { body: JSON.parse(v1.body) });
  const refused = (r) => {
    assert.equal(r.status, 409, r.text);
    assert.match(r.body.error, /^The key service refused the deploy: the deploy package's version 1 is not above 2, the latest version of this function the key service accepted \(a replayed or older package: rollback refused\)$/);
  };
  refused(await replay());
  // the same package again is no better than an older one
  const again = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/roll?overwrite=true', { body: JSON.parse(v2.body) });
  assert.equal(again.status, 409);
  assert.match(again.body.error, /version 2 is not above 2/);

  // the KMS remembers across its own restart (sealed state the host hands back) ...
  const pid = kmsPid(server.proc.pid);
  assert.ok(pid, 'a KMS enclave runs');
  process.kill(pid, 'SIGKILL');
  await sleep(100);
  refused(await replay());
  assert.notEqual(kmsPid(server.proc.pid), pid, 'a new KMS enclave answered');
  // ... and across a server restart
  await server.stop();
  server = await startServer({ stateDir: server.stateDir, keepState: true });
  refused(await replay());

  // the function still runs its latest deploy
  const inv = await tfaas(['action', 'invoke', 'roll', '--confidential', '-p', 'secret', 'x']);
  assert.equal(inv.code, 0, inv.stderr);
  assert.deepEqual(JSON.parse(inv.stdout), { who: 'v2', got: 'x' });

  // a host that serves the older certificate (its own storage rolled back)
  // is refused by the client, which pinned version 2
  const stale = await startHostProxy(server, (q) => {
    if (q.path.endsWith('/actions/roll/certificate')) q.reply = { status: 200, headers: { 'content-type': 'application/jwt' }, body: v1cert };
  });
  try {
    const r = await tfaas(['action', 'invoke', 'roll', '--confidential', '-p', 'secret', 'x'], stale);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /refusing to send anything: the certificate names other code/);
    // an invoker told to expect version 2 of the v1 code hash refuses it for its version
    const v1hash = (await jwsClaims(v1cert, await kmsSigningKey(attestation))).claims.code_hash;
    const r2 = await tfaas(['action', 'invoke', 'roll', '--confidential', '--expect-namespace', 'guest',
      '--expect-code-hash', v1hash, '--expect-version', '2'], stale);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /the certificate is for deploy version 1, expected 2 \(a rollback to an older deploy\)/);
    assert.ok(!stale.seen.some((q) => q.path.endsWith('/ohttp')), 'nothing was sent to the stale function');
  } finally {
    await stale.stop();
  }
});

test('action update --confidential: a new version (code and/or secrets), the pin moves, older certificates are refused', async () => {
  const src = (tag) => `function main(p) { return { who: "${tag}", key: p.apikey, got: p.secret }; }`;
  writeFileSync(join(dir, 'upd1.js'), src('v1'));
  writeFileSync(join(dir, 'upd2.js'), src('v2'));
  writeFileSync(join(dir, 'upd-secrets.json'), JSON.stringify({ apikey: 'k2' }));
  const proxy = await startHostProxy(server);
  try {
    let r = await tfaas(['action', 'create', 'upd', join(dir, 'upd1.js'), '--confidential', '-p', 'apikey', 'k1'], proxy);
    assert.equal(r.code, 0, r.stderr);
    r = await tfaas(['action', 'update', 'upd', join(dir, 'upd2.js'), '--confidential', '-P', join(dir, 'upd-secrets.json')], proxy);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: updated confidential action guest\/upd version 2 \(certificate verified/);
  } finally {
    await proxy.stop();
  }
  let r = await tfaas(['action', 'invoke', 'upd', '--confidential', '-p', 'secret', 'x']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { who: 'v2', key: 'k2', got: 'x' });
  // the secrets alone change: same code, version 3
  r = await tfaas(['action', 'update', 'upd', join(dir, 'upd2.js'), '--confidential', '-p', 'apikey', 'k3']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /guest\/upd version 3/);
  r = await tfaas(['action', 'invoke', 'upd', '--confidential', '-p', 'secret', 'y']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { who: 'v2', key: 'k3', got: 'y' });

  // a host serving the certificate of version 2 (same code, the old secrets)
  // or of version 1 is refused by the client, which pinned version 3
  const puts = proxy.seen.filter((q) => q.method === 'PUT' && q.path.includes('/actions/upd'));
  assert.deepEqual(puts.map((q) => q.path), ['/tfaas/v1/namespaces/_/actions/upd',
    '/tfaas/v1/namespaces/_/actions/upd?overwrite=true']);
  const [v1cert, v2cert] = puts.map((q) => confidentialOf(JSON.parse(q.answer)).certificate);
  for (const [cert, why] of [[v2cert, /the certificate is for deploy version 2, expected 3 \(a rollback to an older deploy\)/],
    [v1cert, /the certificate names other code/]]) {
    const stale = await startHostProxy(server, (q) => {
      if (q.path.endsWith('/actions/upd/certificate')) q.reply = { status: 200, headers: { 'content-type': 'application/jwt' }, body: cert };
    });
    try {
      const inv = await tfaas(['action', 'invoke', 'upd', '--confidential', '-p', 'secret', 'z'], stale);
      assert.equal(inv.code, 1, inv.stdout);
      assert.match(inv.stderr, why);
      assert.ok(!stale.seen.some((q) => q.path.endsWith('/ohttp')), 'nothing was sent to the old deploy');
    } finally {
      await stale.stop();
    }
  }
  // the code is sealed and the client keeps no copy: an update needs it
  r = await tfaas(['action', 'update', 'upd', '--confidential', '-p', 'apikey', 'k4']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /action update --confidential needs the code FILE/);
});

test('a tampered KMS state leaves the key service down: deploy, invoke and attestation get §5.4\'s 503', async () => {
  const state = server.stateDir;
  await server.stop();
  const path = join(state, 'kms-state.sealed');
  const { good, bad } = tamperFile(path);
  server = await startServer({ stateDir: state, keepState: true });
  try {
    const down = (r) => {
      assert.equal(r.status, 503, r.text);
      assert.equal(r.body.error, 'The key service is not available.');
    };
    down(await api(server, 'GET', '/tfaas/v1/attestation', { auth: null }));
    down(await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/later', { body: await deployBody(attestation, 'later', code('x'), { version: 5 }) }));
    // a worker started on this server has no keys and the KMS cannot release them
    const proxy = await startHostProxy(server);
    try {
      const inv = await tfaas(['action', 'invoke', 'cfn', '--confidential', '-p', 'secret', 'x'], proxy);
      assert.equal(inv.code, 1);
      const post = proxy.seen.find((q) => q.path.endsWith('/actions/cfn/ohttp'));
      assert.equal(post.status, 503);
      assert.equal(JSON.parse(post.answer).error, 'The key service is not available.');
    } finally {
      await proxy.stop();
    }
    assert.match(server.logs(), /the stored KMS state does not unseal in this enclave/);
    assert.deepEqual(readFileSync(path), bad, 'the host never replaces a state it could not open');
  } finally {
    await server.stop();
    writeFileSync(path, good);
    server = await startServer({ stateDir: state, keepState: true });
  }
  // the worker of the restarted server may have to wait out the lease of
  // the previous server's worker (at most REPLAY_LEASE_S = 10 s past its
  // release); the refusal says how long
  let ok = await tfaas(['action', 'invoke', 'cfn', '--confidential', '-p', 'secret', 'x']);
  const wait = /replay protection\); try again in (-?\d+) s/.exec(ok.stderr);
  if (wait) {
    await sleep((Math.max(0, Number(wait[1])) + 1) * 1000);
    ok = await tfaas(['action', 'invoke', 'cfn', '--confidential', '-p', 'secret', 'x']);
  }
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), { who: 'guest', got: 'x' });
});

test('after its worker is killed, the CLI is told when the new worker serves, and is served then', async () => {
  await deploy('lease', 'lease');
  let r = await tfaas(['action', 'invoke', 'lease', '--confidential', '-p', 'secret', '1']);
  assert.equal(r.code, 0, r.stderr);
  for (const pid of enclavePids(server.proc.pid)) process.kill(pid, 'SIGKILL');
  r = await tfaas(['action', 'invoke', 'lease', '--confidential', '-p', 'secret', '2']);
  assert.equal(r.code, 1, r.stdout);
  const m = /belong to an earlier worker enclave of this function \(replay protection\); try again in (-?\d+) s/.exec(r.stderr);
  assert.ok(m, r.stderr);
  assert.ok(Number(m[1]) <= 11, 'at most REPLAY_LEASE_S (10 s) past the dead worker\'s release');
  await sleep((Math.max(0, Number(m[1])) + 1) * 1000);
  r = await tfaas(['action', 'invoke', 'lease', '--confidential', '-p', 'secret', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { who: 'lease', got: 2 }); // -p values are JSON when they parse
});
