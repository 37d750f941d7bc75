// run.mjs - runs a tfaas binary (the client, tfaas-enclave) as a test would
// from a shell: resolves { code, stdout, stderr }.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './server.mjs';

export function runBin(name, args, { env = process.env, input } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(join(BIN, name), args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    p.stdin.on('error', (e) => { if (e.code !== 'EPIPE') reject(e); });
    p.stdin.end(input ?? '');
  });
}

// pids of the server's enclave processes started with `--role role`.
export function enclavePids(server, role) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const status = readFileSync(join('/proc', d, 'status'), 'utf8');
      const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1]);
      const argv = readFileSync(join('/proc', d, 'cmdline'), 'utf8').split('\0');
      const i = argv.indexOf('--role');
      if (ppid === server.proc.pid && i >= 0 && argv[i + 1] === role) out.push(Number(d));
    } catch { /* the process ended meanwhile */ }
  }
  return out;
}
