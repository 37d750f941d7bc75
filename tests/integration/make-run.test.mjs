// make-run.test.mjs - scripts/run.sh (what `make run` starts) brings up the
// platform with every example deployed and prints commands that work as printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../lib/server.mjs';

const ROOT = new URL('../..', import.meta.url).pathname;

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

test('make run: examples deployed, printed commands work, Ctrl-C stops everything', async () => {
  const state = mkdtempSync(join(tmpdir(), 'tfaas-run-'));
  const port = await freePort();
  const proc = spawn(join(ROOT, 'scripts/run.sh'), [BIN, state, `127.0.0.1:${port}`],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`run.sh printed no instructions in 20 s:\n${out}`)), 20000);
      proc.stdout.on('data', () => { if (out.includes('Press Ctrl-C')) { clearTimeout(timer); resolve(); } });
      proc.on('exit', (c) => { clearTimeout(timer); reject(new Error(`run.sh exited ${c}:\n${out}`)); });
    });
    const auth = readFileSync(join(state, 'guest.auth'), 'utf8').trim();
    assert.match(auth, /^[0-9a-f-]{36}:[A-Za-z0-9]{64}$/);
    assert.ok(out.includes(auth), 'the credentials are printed');

    // Every example is deployed.
    const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.js')).map((f) => f.slice(0, -3));
    const url = `http://127.0.0.1:${port}`;
    const headers = { authorization: 'Basic ' + Buffer.from(auth).toString('base64'), 'content-type': 'application/json' };
    const list = await (await fetch(`${url}/api/v1/namespaces/_/actions`, { headers })).json();
    assert.deepEqual(list.map((a) => a.name).sort(), examples.sort());

    // The printed console and metrics addresses answer (the console is in the binary).
    const consoleUrl = /The web console .*: (\S+)/.exec(out)?.[1];
    assert.equal(consoleUrl, `${url}/console`, out);
    const page = await fetch(consoleUrl);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type'), /^text\/html/);
    assert.match(await page.text(), /<script src="\/console\/console\.js"/);
    const metricsUrl = /Prometheus metrics .*: (\S+)/.exec(out)?.[1];
    assert.equal((await fetch(metricsUrl)).status, 200);

    // The printed CLI command works as printed.
    const cliLine = out.split('\n').find((l) => l.includes('action invoke hello'));
    assert.ok(cliLine, 'a CLI command is printed');
    const cliOut = execFileSync('bash', ['-c', cliLine.trim()], {
      env: { ...process.env, TFAAS_APIHOST: url, TFAAS_AUTH: auth, HOME: state }, encoding: 'utf8',
    });
    assert.match(cliOut, /Hello, Ada!/);

    // The trigger and rule it printed: firing runs hello through the rule.
    const fireLine = out.split('\n').find((l) => l.includes('trigger fire greet'));
    assert.ok(fireLine, 'a trigger fire command is printed');
    const fired = execFileSync('bash', ['-c', fireLine.trim()], {
      env: { ...process.env, TFAAS_APIHOST: url, TFAAS_AUTH: auth, HOME: state }, encoding: 'utf8',
    });
    const tid = /with id ([0-9a-f]{32})/.exec(fired)?.[1];
    assert.ok(tid, fired);
    let ran;
    for (let i = 0; i < 200 && !ran; i++) {
      const acts = await (await fetch(`${url}/api/v1/namespaces/_/activations?name=hello&docs=true`, { headers })).json();
      ran = acts.find((a) => a.cause === tid);
      if (!ran) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(ran?.response.result, { greeting: 'Hello, Grace!' });

    // And so does the curl one.
    const res = await fetch(`${url}/api/v1/namespaces/_/actions/hello?blocking=true&result=true`,
      { method: 'POST', headers, body: JSON.stringify({ name: 'Ada' }) });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { greeting: 'Hello, Ada!' });

    // The printed curl line of the web action works as printed, without credentials.
    const webLine = out.split('\n').find((l) => l.includes('/api/v1/web/guest/default/webhello'));
    assert.ok(webLine, 'a web action curl line is printed');
    const webOut = execFileSync('bash', ['-c', webLine.trim()], { encoding: 'utf8' });
    assert.equal(webOut, '<p>Hello, Ada! (get)</p>\n');
  } finally {
    const exited = new Promise((r) => proc.once('exit', r));
    process.kill(-proc.pid, 'SIGINT');
    await exited;
    rmSync(state, { recursive: true, force: true });
  }
  // Nothing is left listening on the port.
  await assert.rejects(fetch(`http://127.0.0.1:${port}/api/v1`));
});
