// Small helpers shared by the benchmark's node clients.
import net from 'node:net';
import { spawn } from 'node:child_process';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// An unused loopback TCP port, chosen by the kernel.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Nearest-rank percentile of an array of numbers (p in 0..100).
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export function summarize(values) {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    min: Math.min(...values),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}

// Children started by these scripts run in their own process group so that
// the server and everything it forks (tfaas enclaves) can be ended together.
const children = new Set();

export function spawnGroup(argv, options = {}) {
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: 'ignore', ...options });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export async function stopGroup(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
  const done = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
    await exited;
  }
}

function killAllNow() {
  for (const child of children) {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}
process.on('exit', killAllNow);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { killAllNow(); process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 })[sig]); });
}

export function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}

// Parses "--key value" pairs.
export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) fail(`bad argument ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

// The two functions under test, as deployed to tfaas.
export const HELLO_CODE = "function main(params){return {greeting:'Hello, '+(params.name||'world')+'!'}}";
export const ECHO_CODE = 'function main(params){return params}';

export function basicAuth(uuidKey) {
  return 'Basic ' + Buffer.from(uuidKey).toString('base64');
}

// PUT an action; returns the Response.
export function putAction(base, auth, name, code, overwrite = false) {
  return fetch(`${base}/api/v1/namespaces/_/actions/${name}${overwrite ? '?overwrite=true' : ''}`, {
    method: 'PUT',
    headers: { authorization: basicAuth(auth), 'content-type': 'application/json' },
    body: JSON.stringify({ exec: { kind: 'js:duktape', code } }),
  });
}

// Blocking invoke returning the result; returns the Response.
export function invokeAction(base, auth, name, params) {
  return fetch(`${base}/api/v1/namespaces/_/actions/${name}?blocking=true&result=true`, {
    method: 'POST',
    headers: { authorization: basicAuth(auth), 'content-type': 'application/json' },
    body: JSON.stringify(params),
  });
}
