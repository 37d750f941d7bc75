// server.mjs - starts a real `tfaas serve` (and so real enclaves) for a test
// suite: a fresh state directory, an ephemeral port, known guest credentials.
// Under scripts/pg-test.sh (TFAAS_TEST_PG set) the store is PostgreSQL: a
// schema of its own per state directory, so a restart on the same directory
// finds what it wrote.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomUUID, randomBytes } from 'node:crypto';

export const BIN = process.env.TFAAS_BIN || new URL('../../build/bin', import.meta.url).pathname;

// The sanitizer the binaries under test were built with, as ctest says
// through TFAAS_SANITIZE (CMakeLists.txt): ON for ASan+UBSan (build-asan/),
// TSAN for ThreadSanitizer (build-tsan/), OFF or unset for none.
export const SANITIZER = { ON: 'asan', TSAN: 'tsan' }[process.env.TFAAS_SANITIZE] || null;
export const SANITIZED = SANITIZER !== null;

// An action's limits.timeout for work whose point is not its speed (a memory
// bomb must end at its memory limit, not its time limit; long strings must be
// made at all): ThreadSanitizer makes Duktape's string work 10-20x slower
// (each byte it hashes or copies is checked), so those actions get 6x their
// time there, within the API's 300 s maximum. What the test asserts stays.
export function workTimeout(ms) {
  return SANITIZER === 'tsan' ? Math.min(ms * 6, 300000) : ms;
}

// The --store arguments for state directory dir: none under SQLite; under
// PostgreSQL a URL whose search_path is the directory's schema (made here).
export function storeArgs(dir) {
  const pg = process.env.TFAAS_TEST_PG;
  if (!pg) return [];
  const schema = `t_${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`;
  execFileSync('psql', ['-qX', '-v', 'ON_ERROR_STOP=1', pg, '-c', `SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS ${schema}`]);
  return ['--store', `${pg}${pg.includes('?') ? '&' : '?'}options=-csearch_path%3D${schema}`];
}

// Starts the server; resolves once it prints its listening line.
// extraArgs go to `tfaas serve`. Returns { url, auth, ns, stateDir, proc, logs(), stop() }.
export async function startServer({ extraArgs = [], stateDir, keepState = false } = {}) {
  const dir = stateDir || mkdtempSync(join(tmpdir(), 'tfaas-test-'));
  const auth = `${randomUUID()}:${randomBytes(32).toString('hex')}`;
  const args = ['serve', '--listen', '127.0.0.1:0', '--state', dir, ...storeArgs(dir), '--guest-auth', auth, ...extraArgs];
  const proc = spawn(join(BIN, 'tfaas'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tfaas serve did not start in 15 s:\n${out}`)), 15000);
    const onData = () => {
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1].replace(/\/$/, '')); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`tfaas serve exited (${code ?? sig}):\n${out}`)); });
  });
  // A SIGTERM stop is the server's clean shutdown path: it must exit 0, and
  // under the sanitizers (SANITIZED: ASan+UBSan or TSan) neither the
  // server nor an enclave may have reported a leak, a memory error, undefined
  // behaviour or a data race.
  const stop = async (signal = 'SIGTERM') => {
    let clean = false;
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await exited;
      clean = signal === 'SIGTERM';
    }
    if (!keepState && !stateDir) rmSync(dir, { recursive: true, force: true });
    if (clean) assertCleanExit(proc, out);
  };
  return { url, auth, ns: 'guest', stateDir: dir, proc, logs: () => out, stop };
}

const SANITIZER_REPORT = /ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:|WARNING: ThreadSanitizer/;

// After a SIGTERM the test sent itself: exit 0, no sanitizer report.
export function assertCleanExit(proc, out) {
  const tail = () => out.slice(-4000);
  if (SANITIZED && SANITIZER_REPORT.test(out)) {
    throw new Error(`sanitizer report from tfaas serve or an enclave:\n${tail()}`);
  }
  if (proc.exitCode !== 0) {
    throw new Error(`tfaas serve did not exit 0 after SIGTERM (${proc.exitCode ?? proc.signalCode}):\n${tail()}`);
  }
}

// Plain HTTP helper: JSON in, { status, headers, body (parsed when JSON), text } out.
export async function api(server, method, path, { body, auth = server.auth, headers = {}, raw } = {}) {
  const h = { ...headers };
  if (auth) h.authorization = 'Basic ' + Buffer.from(auth).toString('base64');
  let payload = raw;
  if (body !== undefined) { payload = JSON.stringify(body); h['content-type'] = 'application/json'; }
  const res = await fetch(server.url + path, { method, headers: h, body: payload });
  const text = await res.text();
  let parsed;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A loopback port with nothing listening on it (just now): for a server
// that cannot be told port 0, or a client that must find nobody there.
export async function freePort() {
  const s = createNetServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}
