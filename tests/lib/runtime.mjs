// runtime.mjs - starts a real `tfaas runtime` (OpenWhisk's action-runtime
// protocol, with real enclaves) for a test, and reads its two log streams
// as OpenWhisk's invoker does: up to the end-of-activation sentinels.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN, assertCleanExit } from './server.mjs';
import { poll } from './e2e.mjs';

export const SENTINEL = 'XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX';

// Starts the runtime on an ephemeral port; resolves once it prints its
// listening line. env adds variables (__OW_ALLOW_CONCURRENT, __OW_API_HOST).
// Returns { url, proc, stdout(), stderr(), sentinels(), waitSentinels(n), stop() }.
export async function startRuntime({ kind, extraArgs = [], env = {} } = {}) {
  const args = ['runtime', '--listen', '127.0.0.1:0', ...(kind ? ['--kind', kind] : []), ...extraArgs];
  const proc = spawn(join(BIN, 'tfaas'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tfaas runtime did not start in 15 s:\n${err}`)), 15000);
    proc.stderr.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code, sig) => { clearTimeout(timer); reject(new Error(`tfaas runtime exited (${code ?? sig}):\n${err}`)); });
  });
  const count = (s) => s.split('\n').filter((l) => l === SENTINEL).length;
  const sentinels = () => ({ stdout: count(out), stderr: count(err) });
  // The runtime writes an activation's logs and sentinels before it answers;
  // this waits only for the pipe to deliver them.
  const waitSentinels = async (n) => {
    if (!await poll(() => { const s = sentinels(); return s.stdout >= n && s.stderr >= n; })) {
      throw new Error(`expected ${n} sentinels on stdout and stderr, got ${JSON.stringify(sentinels())}`);
    }
  };
  const stop = async (signal = 'SIGTERM') => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await exited;
    }
    if (signal === 'SIGTERM') assertCleanExit(proc, out + err);
  };
  return { url, proc, stdout: () => out, stderr: () => err, sentinels, waitSentinels, stop };
}

// POST path with body (an object, sent as JSON, or raw text):
// { status, body (parsed when JSON), text }.
export async function post(rt, path, body, { raw = false } = {}) {
  const res = await fetch(rt.url + path, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

// OpenWhisk's /init body for CODE.
export const initBody = (code, { main = 'main', name = 'action', env } = {}) =>
  ({ value: { name, main, code, binary: false, ...(env ? { env } : {}) } });
