// zip-archives.test.mjs - the enclave's own checks of a zip action's
// archive, for a host that skipped its create-time check (the host is not
// trusted; for a confidential zip it cannot even look). The hostile archives
// are written straight into the state database of a stopped server, as a
// malicious operator would, and each invocation must fail in the enclave
// with the same refusal the gateway gives at create, never unzip a path
// outside the archive, follow a link, or inflate a bomb.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startServer, api } from '../lib/server.mjs';
import { invoke } from '../lib/e2e.mjs';
import { makeZip } from '../lib/zip.mjs';

const HAS_V8 = existsSync(join(BIN, 'tfaas-enclave-v8'));
const index = { name: 'index.js', data: 'exports.main = () => ({ ok: true })' };
const PATH_WHY = "an entry's path is absolute, has an empty, '.' or '..' segment, a backslash or a NUL, or is longer than 1024 bytes";
const CASES = {
  traversal: [[index, { name: 'a/../../x.js', data: 'x' }], `${PATH_WHY} (entry 'a/../../x.js')`],
  absolute: [[index, { name: '/x.js', data: 'x' }], `${PATH_WHY} (entry '/x.js')`],
  symlink: [[index, { name: 'l.js', data: '/etc/passwd', mode: 0o120777 }], "an entry is a symbolic link (entry 'l.js')"],
  encrypted: [[index, { name: 's.js', data: 'xxxxxxxxxxxx', flags: 1, store: true }], "an entry is encrypted (entry 's.js')"],
  bomb: [[index, { name: 'bomb.js', data: Buffer.alloc(30 << 20, 'a') }],
    "an entry unzips to more than 100 times its compressed size (a zip bomb) (entry 'bomb.js')"],
  liar: [[index, { name: 'liar.js', data: Buffer.alloc(5000, 'a'), declaredSize: 10 }],
    "an entry's data does not match its header (size or checksum) (entry 'liar.js')"],
  many: [[index, ...Array.from({ length: 10001 }, (_, i) => ({ name: `d${i}/` }))], 'it has more than 10000 entries'],
};

let dir, server;
before(() => { dir = mkdtempSync(join(tmpdir(), 'tfaas-zipstate-')); });
after(async () => {
  if (server) await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('each hostile archive the host let through is refused by the enclave', { skip: !HAS_V8 && 'no V8 enclave' }, async () => {
  server = await startServer({ stateDir: dir });
  const good = makeZip([index]).toString('base64');
  for (const name of Object.keys(CASES)) {
    const r = await api(server, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`,
      { body: { exec: { kind: 'nodejs:20', code: good, binary: true } } });
    assert.equal(r.status, 200, r.text);
  }
  await server.stop();
  server = null;
  // the operator swaps each stored archive for a hostile one
  const sql = Object.entries(CASES).map(([name, [entries]]) =>
    `UPDATE actions SET doc = json_set(doc, '$.exec.code', '${makeZip(entries).toString('base64')}') WHERE name = '${name}';`);
  execFileSync('sqlite3', [join(dir, 'tfaas.db')], { input: sql.join('\n'), timeout: 60000 });
  server = await startServer({ stateDir: dir });
  for (const [name, [, why]] of Object.entries(CASES)) {
    const r = await invoke(server, name);
    assert.equal(r.status, 502, `${name}: ${r.text}`);
    assert.deepEqual(r.body.response.result,
      { error: `Initialization has failed due to: The zip archive of the action is refused: ${why}` }, name);
  }
  // the enclave is still there and serves the good archive
  const ok = await api(server, 'PUT', '/api/v1/namespaces/_/actions/fine?overwrite=true',
    { body: { exec: { kind: 'nodejs:20', code: good, binary: true } } });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual((await invoke(server, 'fine')).body.response.result, { ok: true });
});
