// alarm-store-faults.test.mjs - the alarm feed's firing thread when the
// store refuses writes (a full state disk): it cannot claim due schedules,
// so it must wait and look again (ALARM_POLL_MS), not spin on them, and once
// space is freed the schedule fires again without a restart. The store
// lives on a 4 MiB tmpfs the test fills; mounting needs root with
// CAP_SYS_ADMIN, elsewhere the test is skipped and says why.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, api, sleep } from '../lib/server.mjs';
import { putAction, poll } from '../lib/e2e.mjs';
import { tinyDisk } from '../lib/faults.mjs';

const disk = tinyDisk('tfaas-alarm-full-');
const { mnt, mounted, filler } = disk;
const mountError = disk.why;
after(() => disk.unmount());

// Writes to filler until the filesystem refuses.
const fillDisk = disk.fill;

// CPU time (user + system, in clock ticks) the process has used so far.
function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

test('a full state disk: the alarm thread waits instead of spinning, and fires again once space is freed',
  { skip: mounted ? false : `cannot mount a tmpfs: ${mountError}` }, async () => {
    const server = await startServer({ stateDir: join(mnt, 'state') });
    try {
      await putAction(server, 'tick', 'function main(p) { return {}; }');
      await api(server, 'PUT', '/api/v1/namespaces/_/triggers/t', { body: {} });
      await api(server, 'PUT', '/api/v1/namespaces/_/rules/r', { body: { trigger: 't', action: 'tick' } });
      const r = await api(server, 'POST', '/api/v1/namespaces/whisk.system/actions/alarms/alarm?blocking=true',
        { body: { lifecycleEvent: 'CREATE', triggerName: '/_/t', cron: '* * * * * *' } });
      assert.equal(r.status, 200, r.text);
      const count = async () => (await api(server, 'GET', '/api/v1/namespaces/_/activations?name=t&count=true')).body?.activations ?? 0;
      assert.ok(await poll(async () => (await count()) >= 1), 'the alarm fired before the disk filled');

      fillDisk();
      await sleep(2500); // due times pass that the thread cannot claim
      const before = cpuTicks(server.proc.pid);
      await sleep(2000);
      const used = cpuTicks(server.proc.pid) - before;
      // A spinning thread takes a whole core: ~200 ticks in 2 s. Waiting
      // ALARM_POLL_MS between looks costs next to nothing.
      assert.ok(used < 60, `the server used ${used} ticks of CPU in 2 s while the disk was full`);

      rmSync(filler);
      const n = await count();
      assert.ok(await poll(async () => (await count()) > n, { timeoutMs: 15000 }), 'the alarm fires again once space is freed');
    } finally {
      await server.stop();
    }
  });
