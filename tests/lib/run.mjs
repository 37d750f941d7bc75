// run.mjs - runs a program (a tfaas binary: the client, tfaas-enclave) as a
// test would from a shell, and the `tfaas` client as a user would.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { BIN } from './server.mjs';

// Runs CMD ARGS with INPUT on stdin (empty by default) and resolves to
// {code, signal, stdout, stderr, out} once it has exited and its output has
// ended; out holds stdout and stderr interleaved in the order they arrived.
// With timeoutMs the process is killed after that long and out says so.
export function runCommand(cmd, args, { env = process.env, input, timeoutMs } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let out = '';
    p.stdout.on('data', (d) => { stdout += d; out += d; });
    p.stderr.on('data', (d) => { stderr += d; out += d; });
    const timer = timeoutMs === undefined ? null
      : setTimeout(() => { out += `\n[killed after ${timeoutMs} ms]`; p.kill('SIGKILL'); }, timeoutMs);
    p.on('exit', () => clearTimeout(timer));
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, out }));
    p.stdin.on('error', (e) => { if (e.code !== 'EPIPE') reject(e); });
    p.stdin.end(input ?? '');
  });
}

// Runs the binary NAME of the build (BIN); see runCommand.
export function runBin(name, args, options) {
  return runCommand(join(BIN, name), args, options);
}

// Runs the `tfaas` client against server with a home and config file of its
// own under dir, so nothing of the user's setup reaches it; auth adds the
// server's guest credential; env adds or overrides variables.
export function runClient(args, { dir, server, auth = true, env = {} }) {
  return runBin('tfaas', args, {
    env: {
      PATH: process.env.PATH, HOME: dir, TFAAS_CONFIG: join(dir, 'cfg', 'config'),
      TFAAS_APIHOST: server.url, ...(auth ? { TFAAS_AUTH: server.auth } : {}), ...env,
    },
  });
}
