// fetch.test.mjs (hostile) - functions that use fetch() against the platform
// and servers that attack the function's fetch: connection floods, a
// slowloris origin (answers a byte at a time, or never), endless headers,
// huge bodies. Each stays within the activation's limits (time, connections,
// bytes) and leaves other tenants and the enclave undisturbed.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, api } from '../lib/server.mjs';
import { createNamespace, invoke, ENGINE_KINDS } from '../lib/e2e.mjs';
import { makeTestCa, startOrigin } from '../lib/tls-server.mjs';

let server, origin, raw, ca, dir, attacker, bystander;
const rawSockets = new Set();

// An origin that completes TLS and then does what `mode` (the first path
// segment) says: drip one header byte every 100 ms, send nothing, or send
// header lines forever.
function rawOrigin(tls) {
  const s = createTlsServer({ key: tls.keyPem, cert: tls.certPem }, (sock) => {
    rawSockets.add(sock);
    sock.on('close', () => rawSockets.delete(sock));
    sock.on('error', () => {});
    let head = '';
    sock.on('data', (d) => {
      if (head.includes('\r\n\r\n')) return;
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const mode = head.split(' ')[1].split('/')[1];
      if (mode === 'drip') {
        const text = 'HTTP/1.1 200 OK\r\nX-Slow: ' + 'a'.repeat(10000);
        let i = 0;
        const t = setInterval(() => { if (sock.destroyed || i >= text.length) return clearInterval(t); sock.write(text[i++]); }, 100);
      } else if (mode === 'headers') {
        sock.write('HTTP/1.1 200 OK\r\n');
        const t = setInterval(() => {
          if (sock.destroyed) return clearInterval(t);
          sock.write(`X-Header: ${'b'.repeat(1000)}\r\n`.repeat(16));
        }, 5);
      } else if (mode === 'endless') {
        sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n');
        const chunk = Buffer.alloc(1 << 16, 120);
        const pump = () => { while (!sock.destroyed && sock.write(chunk)); };
        sock.on('drain', pump);
        pump();
      } // 'silent': nothing at all
    });
  });
  return new Promise((r) => s.listen(0, '127.0.0.1', () => r(s)));
}

before(async () => {
  ca = makeTestCa();
  origin = await startOrigin(ca, (req, res) => res.end(req.url === '/big' ? Buffer.alloc(20e6, 99) : '{"ok":true}'));
  raw = await rawOrigin(ca);
  dir = mkdtempSync(join(tmpdir(), 'tfaas-egress-'));
  const allow = [`127.0.0.1:${origin.port}`, `127.0.0.1:${raw.address().port}`];
  const file = join(dir, 'egress.json');
  writeFileSync(file, JSON.stringify({
    attacker: { allow, ca: ca.caPem },
    bigbytes: { allow, ca: ca.caPem, maxBytes: 1 << 30 },
  }));
  server = await startServer({ extraArgs: ['--egress', file] });
  attacker = await createNamespace(server, 'attacker');
  bystander = await createNamespace(server, 'bystander');
});
after(async () => {
  if (server) await server.stop();
  for (const s of rawSockets) s.destroy();
  if (raw) await new Promise((r) => raw.close(r));
  if (origin) await origin.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function put(handle, name, code, { kind = 'js:duktape', limits } = {}) {
  const body = { exec: { kind, code } };
  if (limits) body.limits = limits;
  const r = await api(handle, 'PUT', `/api/v1/namespaces/_/actions/${name}?overwrite=true`, { body });
  assert.equal(r.status, 200, r.text);
}

const TRY = {
  'js:duktape': `function main(p) { try { var r = fetch(p.url); return { status: r.status, len: r.arrayBuffer().byteLength }; }
                  catch (e) { return { message: e.message }; } }`,
  'js:v8': `async function main(p) { try { const r = await fetch(p.url); return { status: r.status, len: (await r.arrayBuffer()).byteLength }; }
             catch (e) { return { message: e.message }; } }`,
};

for (const kind of ENGINE_KINDS) {
  describe(`hostile fetch on ${kind}`, () => {
    test('a connection flood ends at the activation\'s connection limit (16 by default), quickly', async () => {
      const code = kind === 'js:v8'
        ? `async function main(p) { let ok = 0, refused = 0, msg;
             await Promise.all(Array.from({ length: 200 }, () => fetch(p.url).then(() => ok++, (e) => { refused++; msg = e.message; })));
             return { ok, refused, msg }; }`
        : `function main(p) { var ok = 0, refused = 0, msg; for (var i = 0; i < 200; i++) { try { fetch(p.url); ok++; } catch (e) { refused++; msg = e.message; } }
             return { ok: ok, refused: refused, msg: msg }; }`;
      await put(attacker, 'flood', code, { kind });
      const before = origin.connections;
      const r = await invoke(attacker, 'flood', { url: `https://127.0.0.1:${origin.port}/` });
      const res = r.body.response.result;
      assert.equal(res.ok, 16, JSON.stringify(r.body));
      assert.equal(res.refused, 184);
      assert.match(res.msg, /the activation's limit of 16 connections was reached/);
      assert.equal(origin.connections - before, 16, 'the origin saw no more than the limit');
    });

    for (const [mode, limit] of [['drip', 'slowloris'], ['silent', 'silent']]) {
      test(`a ${limit} origin holds the function to its time limit, not beyond; another tenant is served meanwhile`, async () => {
        await put(attacker, `slow-${mode}`, TRY[kind], { kind, limits: { timeout: 2000 } });
        await put(bystander, 'hello', 'function main() { return { hi: 1 }; }');
        const t0 = Date.now();
        const slow = invoke(attacker, `slow-${mode}`, { url: `https://127.0.0.1:${raw.address().port}/${mode}` });
        await new Promise((r) => setTimeout(r, 200));
        const other = await invoke(bystander, 'hello', {});
        const otherDone = Date.now();
        const r = await slow;
        assert.deepEqual(other.body.response.result, { hi: 1 });
        assert.ok(otherDone < t0 + 2000, 'the bystander was answered while the slow fetch still ran');
        const res = r.body.response.result;
        assert.match(res.message || res.error, /time limit/, JSON.stringify(r.body));
        // the enclave is still usable for the attacker
        await put(attacker, 'after', 'function main() { return { alive: true }; }', { kind });
        const again = await invoke(attacker, 'after', {});
        assert.deepEqual(again.body.response.result, { alive: true });
      });
    }

    test('endless response headers stop at 64 KiB', async () => {
      await put(attacker, 'hdrs', TRY[kind], { kind, limits: { timeout: 10000 } });
      const r = await invoke(attacker, 'hdrs', { url: `https://127.0.0.1:${raw.address().port}/headers` });
      assert.match(r.body.response.result.message, /header section is longer than 65536 bytes or 128 headers/, JSON.stringify(r.body));
    });

    test('an endless body stops at the activation\'s byte limit (16 MiB by default)', async () => {
      await put(attacker, 'huge', TRY[kind], { kind, limits: { timeout: 20000 } });
      const r = await invoke(attacker, 'huge', { url: `https://127.0.0.1:${raw.address().port}/endless` });
      assert.match(r.body.response.result.message, /egress limit of 16777216 bytes/, JSON.stringify(r.body));
    });
  });
}

describe('bodies bigger than the function\'s memory', () => {
  test('kept bodies end at the heap\'s memory limit with the memory message; the enclave lives on', async () => {
    const big = await createNamespace(server, 'bigbytes');
    for (const kind of ENGINE_KINDS) {
      // 20 MB bodies kept alive: the 128 MB heap refuses before the tenth
      await put(big, 'hoard', kind === 'js:v8'
        ? `async function main(p) { const keep = []; for (let i = 0; i < 10; i++) keep.push(await (await fetch(p.url)).arrayBuffer()); return { n: keep.length }; }`
        : `function main(p) { var keep = []; for (var i = 0; i < 10; i++) keep.push(fetch(p.url).arrayBuffer()); return { n: keep.length }; }`,
      { kind, limits: { memory: 128, timeout: 60000 } });
      const r = await invoke(big, 'hoard', { url: `https://127.0.0.1:${origin.port}/big` });
      assert.equal(r.body.response.result.error, 'The action exhausted its memory and was aborted.', `${kind}: ${r.text}`);
      await put(big, 'after', 'function main() { return { alive: true }; }', { kind });
      assert.deepEqual((await invoke(big, 'after', {})).body.response.result, { alive: true });
    }
  });
});
