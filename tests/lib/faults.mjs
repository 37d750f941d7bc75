// faults.mjs - helpers for the fault-injection tests: the store's SQLite
// integrity check (the sqlite3 command-line shell), a server's enclave
// processes, running `tfaas` as an unprivileged user so that file
// permissions bind even when the suite runs as root, and a small disk to
// fill.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './server.mjs';
import { runCommand } from './run.mjs';

// `PRAGMA integrity_check` of STATE_DIR/tfaas.db: resolves to its output
// ("ok" for a sound database). Opening it also replays a WAL left by a kill.
export function integrityCheck(stateDir) {
  return new Promise((resolve, reject) => {
    execFile('sqlite3', [join(stateDir, 'tfaas.db'), 'PRAGMA integrity_check;'], { timeout: 60000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`sqlite3 integrity_check failed: ${err.message}\n${stderr}`));
        else resolve(stdout.trim());
      });
  });
}

// Pids of the direct children of PID that run functions: tfaas-enclave or
// tfaas-enclave-v8 (whose name the kernel cuts to 15 characters).
export function enclavePids(pid) {
  return children(pid, /^tfaas-enclave(-v)?$/);
}

// The pid of the server's key-service enclave (tfaas-kms), or 0.
export function kmsPid(pid) {
  return children(pid, /^tfaas-kms$/)[0] || 0;
}

// Direct children of PID whose command name matches re.
function children(pid, re) {
  const kids = [];
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let text = '';
    try { text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8'); } catch { continue; }
    for (const k of text.split(/\s+/).filter(Boolean)) kids.push(Number(k));
  }
  return kids.filter((k) => {
    try { return re.test(readFileSync(`/proc/${k}/comm`, 'utf8').trim()); } catch { return false; }
  });
}

// The uid/gid the unprivileged runs use, and whether a switch is needed.
export const NOBODY = 65534;
export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

// Runs `tfaas ARGS` from the directory bin (as nobody when unprivileged and
// we are root, through util-linux's setpriv) and resolves to {code, signal,
// out, ...} (runCommand) once it exits, or kills it after timeoutMs and says
// so in out.
export function runTfaas(args, { timeoutMs = 30000, unprivileged = false, bin: dir = BIN } = {}) {
  const bin = join(dir, 'tfaas');
  const [cmd, argv] = unprivileged && isRoot()
    ? ['setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', bin, ...args]]
    : [bin, args];
  return runCommand(cmd, argv, { timeoutMs });
}

// Flips one bit of the file at path, `fromEnd` bytes before its end (a
// sealed blob's tag or ciphertext); returns {good, bad}, the bytes before
// and after, to check and to put back.
export function tamperFile(path, fromEnd = 1) {
  const good = readFileSync(path);
  const bad = Buffer.from(good);
  bad[bad.length - fromEnd] ^= 1;
  writeFileSync(path, bad);
  return { good, bad };
}

// A 4 MiB tmpfs under a fresh temporary directory (PREFIX...), for a state
// directory a test runs out of space: mounting needs root with
// CAP_SYS_ADMIN, so `mounted` may be false, with `why`. fill() writes a
// file until the filesystem refuses (ENOSPC), the test frees it by
// removing `filler`; unmount() in the suite's after().
export function tinyDisk(prefix) {
  const mnt = mkdtempSync(join(tmpdir(), prefix));
  const disk = { mnt, mounted: false, why: '', filler: join(mnt, 'filler') };
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', mnt], { stdio: 'pipe' });
    disk.mounted = true;
  } catch (e) {
    disk.why = String(e.stderr || e.message).trim();
  }
  disk.fill = () => {
    const fd = openSync(disk.filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (e) {
      assert.equal(e.code, 'ENOSPC');
    } finally {
      closeSync(fd);
    }
  };
  disk.unmount = () => {
    if (disk.mounted) {
      try { execFileSync('umount', [mnt]); } catch { execFileSync('umount', ['-l', mnt]); }
    }
    rmSync(mnt, { recursive: true, force: true });
  };
  return disk;
}
