// run.mjs - runs a tfaas binary (the client, tfaas-enclave) as a test would
// from a shell: resolves { code, stdout, stderr }.
import { spawn } from 'node:child_process';
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
