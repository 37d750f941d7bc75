// e2e.mjs - helpers the compat and hostile suites share on top of server.mjs:
// more tenants through `tfaas admin`, bounded polling, raw bytes on a socket,
// the openwhisk client's rejections.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { BIN, api, sleep, storeArgs } from './server.mjs';

// Creates namespace NAME in the running server's state directory with
// `tfaas admin namespace create NAME --state DIR` (it opens the same SQLite
// database, or with --store the same PostgreSQL schema) and returns a server-like handle {url, auth, ns} for api().
export async function createNamespace(server, name) {
  const out = await new Promise((resolve, reject) => {
    execFile(join(BIN, 'tfaas'), ['admin', 'namespace', 'create', name, '--state', server.stateDir, ...storeArgs(server.stateDir)],
      { timeout: 15000 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`tfaas admin namespace create ${name} failed: ${err.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      });
  });
  const m = /([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}:[A-Za-z0-9]+)/.exec(out);
  if (!m) throw new Error(`no uuid:key in the output of tfaas admin namespace create:\n${out}`);
  return { url: server.url, auth: m[1], ns: name, stateDir: server.stateDir };
}

// The kinds of the engines this build has, one per enclave binary: suites
// that check engine behaviour run once per entry (js:v8 when
// tfaas-enclave-v8 was built, see TFAAS_V8 in CMakeLists.txt).
export const ENGINE_KINDS = ['js:duktape', ...(existsSync(join(BIN, 'tfaas-enclave-v8')) ? ['js:v8'] : [])];

// Calls fn until it returns a truthy value; gives up after timeoutMs and
// returns the last value (so the caller's assertion shows what was there).
export async function poll(fn, { timeoutMs = 10000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try { last = await fn(); } catch (e) { last = undefined; }
    if (last || Date.now() > deadline) return last;
    await sleep(intervalMs);
  }
}

// Creates (or replaces) action NAME with CODE and optional limits/parameters.
export async function putAction(server, name, code, { limits, parameters, kind = 'js:duktape', ns = '_' } = {}) {
  const body = { exec: { kind, code } };
  if (limits) body.limits = limits;
  if (parameters) body.parameters = Object.entries(parameters).map(([key, value]) => ({ key, value }));
  const r = await api(server, 'PUT', `/api/v1/namespaces/${ns}/actions/${name}?overwrite=true`, { body });
  if (r.status !== 200) throw new Error(`PUT action ${name}: ${r.status} ${r.text}`);
  return r.body;
}

// Blocking invoke returning the whole activation: {status, body, text, ms}.
export async function invoke(server, name, params = {}, { ns = '_', result = false } = {}) {
  const t0 = Date.now();
  const r = await api(server, 'POST',
    `/api/v1/namespaces/${ns}/actions/${name}?blocking=true${result ? '&result=true' : ''}`, { body: params });
  return { ...r, ms: Date.now() - t0 };
}

// A blocking invoke that waits for the activation's end however long it
// takes within limitMs: the server's blocking wait ends at 60 s (OpenWhisk's
// limit) with 202 and the activation id while the activation goes on, which
// work slowed by a sanitizer on a loaded machine can outlast. Then the
// record is read once stored and answered as the blocking invoke would have
// answered it (200, 502, or 500 for a whisk error; `late` is set).
export async function invokeToEnd(server, name, params = {}, { ns = '_', limitMs = 300000 } = {}) {
  const r = await invoke(server, name, params, { ns });
  if (r.status !== 202 || !r.body?.activationId) return r;
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    const g = await api(server, 'GET', `/api/v1/namespaces/${ns}/activations/${r.body.activationId}`);
    if (g.status === 200) {
      const code = g.body.statusCode;
      return { ...g, status: code === 0 ? 200 : code === 3 ? 500 : 502, late: true, ms: r.ms };
    }
    await sleep(250);
  }
  return r;
}

// Sends raw bytes to the server's socket (writes may be a list of chunks,
// sent in order with a small pause between them), then collects what comes
// back until the server closes the connection or timeoutMs passes.
// With untilResponse it returns as soon as one whole response (head and
// Content-Length body) has arrived, so a kept-alive connection is not waited on.
// With stopOnAnswer the remaining writes are dropped once the server has
// answered (as a client does after an early 413).
// localAddress picks the client's source address (any of 127.0.0.0/8 reaches
// a server on 127.0.0.1), to be a client other than the suite's others.
// Returns {data (string), closed (server ended it), statusLine}.
export function rawHttp(server, writes, { timeoutMs = 5000, endAfterWrite = false, untilResponse = false, stopOnAnswer = false,
  localAddress } = {}) {
  const { hostname, port } = new URL(server.url);
  const chunks = Array.isArray(writes) ? writes : [writes];
  return new Promise((resolve) => {
    const sock = connect({ host: hostname, port: Number(port), localAddress });
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = data.toString('latin1');
      resolve({ data: text, closed, statusLine: text.split('\r\n')[0] });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('data', (d) => {
      data = Buffer.concat([data, d]);
      if (!untilResponse) return;
      const headEnd = data.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(data.subarray(0, headEnd).toString('latin1'));
      if (m && data.length >= headEnd + 4 + Number(m[1])) finish(false);
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', (e) => { if (process.env.E2E_DEBUG) console.error('rawHttp socket error', e.code); finish(true); });
    sock.on('connect', async () => {
      for (const c of chunks) {
        if (done || (stopOnAnswer && data.length > 0)) break;
        sock.write(c);
        await sleep(10);
      }
      if (endAfterWrite && !done) sock.end();
    });
  });
}
