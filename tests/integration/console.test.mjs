// console.test.mjs - the web console (/console) in a real headless browser
// (Debian's chromium driven by puppeteer-core) against the real server and
// enclaves: sign in, deploy, invoke, the activation and its logs appear
// without a reload, the latency and error plots draw, the platform view lists
// the enclaves; a confidential action shows its certificate and policy, never
// code; and what a hostile function returns or logs (<script>, <img onerror>)
// stays text. The last screenshot is kept in the test output directory.
//
// No browser: the test fails, unless TFAAS_ALLOW_NO_BROWSER=1 is set (a local
// run without chromium), in which case it skips and says why. CI never sets it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { startServer, api } from '../lib/server.mjs';
import { putAction, poll } from '../lib/e2e.mjs';
import { confidentialOf, deployBody } from '../lib/confidential.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT_DIR = process.env.TFAAS_TESTS_BIN || new URL('../../build/tests', import.meta.url).pathname;
const noBrowser = !existsSync(CHROMIUM);
if (noBrowser && process.env.TFAAS_ALLOW_NO_BROWSER === '1')
  console.log(`# console tests skipped: no browser at ${CHROMIUM} (scripts/install-deps.sh installs chromium)`);
const skip = noBrowser && process.env.TFAAS_ALLOW_NO_BROWSER === '1';

// A function that returns and logs markup meant to run in the console.
const PWN = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';
const HOSTILE = `function main(p) {
  console.log(${JSON.stringify(PWN)});
  console.log('<svg onload="window.__pwned=1"></svg>');
  if (p.fail) throw new Error(${JSON.stringify(PWN)});
  return { html: ${JSON.stringify(PWN)}, echo: p.name };
}`;
// A bound for what the page promises: it refreshes every 2 s (console.js
// REFRESH_MS); a loaded machine gets several rounds.
const UI_WAIT = 30000;

let server, browser, page;
const dialogs = [], pageErrors = [];

before(async () => {
  if (skip) return;
  assert.ok(!noBrowser, `no browser at ${CHROMIUM}: scripts/install-deps.sh installs chromium ` +
    '(TFAAS_ALLOW_NO_BROWSER=1 skips this test locally)');
  server = await startServer();
  browser = await puppeteer.launch({
    executablePath: CHROMIUM, headless: true,
    // --no-sandbox: CI containers run as root, where chromium's sandbox cannot start
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1400 });
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const text = (sel) => page.$eval(sel, (e) => e.textContent);

test('the console signs in, deploys, invokes, shows activations, logs and plots; hostile output stays text',
  { skip, timeout: 180000 }, async () => {
    const res = await page.goto(`${server.url}/console`);
    assert.equal(res.status(), 200);
    const h = res.headers();
    assert.match(h['content-security-policy'], /script-src 'self'/);
    assert.doesNotMatch(h['content-security-policy'], /unsafe-inline|unsafe-eval/);
    assert.match(h['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(h['x-frame-options'], 'DENY');

    // sign in: the credentials stay in this tab's sessionStorage only
    await page.type('#auth', server.auth);
    await page.click('#signin-form button');
    await page.waitForFunction(() => document.getElementById('who').textContent === 'namespace guest',
      { timeout: UI_WAIT });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tfaas.auth')), server.auth);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.ok(!page.url().includes(server.auth.split(':')[1]), page.url());
    assert.equal(await page.$eval('#auth', (e) => e.value), '', 'the field is cleared');

    // deploy through the form
    await page.click('#deploy summary');
    await page.type('#deploy-name', 'hostile');
    await page.$eval('#deploy-code', (e, code) => { e.value = code; }, HOSTILE);
    await page.click('#deploy-form button');
    await page.waitForFunction(() => document.getElementById('deploy-status').textContent, { timeout: UI_WAIT });
    assert.equal(await text('#deploy-status'), 'Deployed hostile');
    await page.waitForSelector('#actions button[data-action="hostile"]', { timeout: UI_WAIT });
    await page.waitForFunction(() => document.getElementById('action-title').textContent === 'hostile',
      { timeout: UI_WAIT });
    assert.equal(await text('#action-code'), HOSTILE, 'the code is shown as text');

    // invoke through the form; the result (markup) is text
    await page.$eval('#invoke-params', (e, v) => { e.value = v; }, JSON.stringify({ name: PWN }));
    await page.click('#invoke-button');
    await page.waitForFunction(() => document.getElementById('invoke-result').textContent.includes('"echo"'),
      { timeout: UI_WAIT });
    assert.ok((await text('#invoke-result')).includes('<script>window.__pwned=1</script>'));

    // more activations arrive from elsewhere (successes and errors): the
    // list refreshes by itself and the plots draw both
    for (let i = 0; i < 4; i++) {
      const r = await api(server, 'POST', '/api/v1/namespaces/_/actions/hostile?blocking=true',
        { body: { fail: i % 2 === 1, name: 'x' } });
      assert.ok(r.status === 200 || r.status === 502, r.text);
    }
    await page.waitForFunction(() => document.querySelectorAll('#activations tr').length >= 5, { timeout: UI_WAIT });
    const statuses = await page.$$eval('#activations tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent));
    assert.ok(statuses.includes('success') && statuses.includes('developer error'), statuses.join());

    // open the newest failed activation: its logs are the literal markup
    const failedRow = await page.$$eval('#activations tr', (rows) =>
      rows.find((r) => r.children[1].textContent === 'developer error').dataset.id);
    await page.click(`#activations tr[data-id="${failedRow}"]`);
    await page.waitForFunction(() => document.getElementById('activation-logs').textContent.includes('stdout'),
      { timeout: UI_WAIT });
    assert.equal(await page.$$eval('#activation-detail *', (es) => es.filter((e) => /^(img|svg|script)$/i
      .test(e.tagName)).length), 0, 'the logs made elements');
    assert.ok((await text('#activation-logs')).includes(PWN));
    assert.ok((await text('#activation-result')).includes('window.__pwned=1'));

    // plots: the latency plot has its p50 and p99 lines, the error plot its
    // line off the baseline (half the runs failed)
    await page.waitForSelector('#latency-plot svg polyline.p50', { timeout: UI_WAIT });
    const plot = await page.evaluate(() => ({
      p50: document.querySelector('#latency-plot polyline.p50').getAttribute('points'),
      p99: document.querySelector('#latency-plot polyline.p99').getAttribute('points'),
      err: document.querySelector('#error-plot polyline.errors').getAttribute('points'),
      dots: document.querySelectorAll('#latency-plot circle').length,
    }));
    assert.match(plot.p50, /^\d+(\.\d+)?,\d+(\.\d+)?/);
    assert.match(plot.p99, /^\d+(\.\d+)?,\d+(\.\d+)?/);
    assert.ok(plot.dots >= 2, JSON.stringify(plot));
    const errYs = plot.err.split(' ').map((p) => Number(p.split(',')[1]));
    assert.ok(errYs.some((y) => y < 140), `an error rate above 0 is drawn: ${plot.err}`);

    // operators: the enclaves from /metrics and the key service's status
    await page.waitForFunction(() => document.querySelectorAll('#enclaves tr').length >= 1, { timeout: UI_WAIT });
    const enclave = await page.$$eval('#enclaves tr td', (tds) => tds.map((t) => t.textContent));
    assert.equal(enclave[0], 'duktape');
    assert.equal(enclave[1], 'enclave-per-tenant');
    assert.match(await text('#kms-status'), /^Key service: up/);

    // nothing of it ran: no dialog, no flag, no element made from the output
    const pwned = await page.evaluate(() => ({
      flag: window.__pwned,
      imgs: document.querySelectorAll('img').length,
      svgOutsidePlots: [...document.querySelectorAll('svg')].filter((s) => !s.closest('.plot')).length,
      scripts: [...document.scripts].map((s) => s.src),
    }));
    assert.equal(pwned.flag, undefined);
    assert.equal(pwned.imgs, 0);
    assert.equal(pwned.svgOutsidePlots, 0);
    assert.deepEqual(pwned.scripts, [`${server.url}/console/console.js`]);
    assert.deepEqual(dialogs, []);
    assert.deepEqual(pageErrors, []);

    mkdirSync(OUT_DIR, { recursive: true });
    const shot = join(OUT_DIR, 'console.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`# screenshot: ${shot}`);
  });

test('a confidential action shows its certificate and policy, never its code', { skip, timeout: 120000 }, async () => {
  const attestation = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
  const code = 'function main(p) { return { secret: "SECRET-CODE-MARK" }; }';
  const d = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/conf',
    { body: await deployBody(attestation, 'conf', code) });
  assert.equal(d.status, 200, d.text);
  const ciphertext = d.body.exec.code;
  await page.reload();
  await page.waitForSelector('#actions button[data-action="conf"]', { timeout: UI_WAIT });
  await page.click('#actions button[data-action="conf"]');
  await page.waitForFunction(() => document.getElementById('action-title').textContent === 'conf',
    { timeout: UI_WAIT });
  const shown = await page.evaluate(() => document.getElementById('action-pane').textContent);
  assert.ok(shown.includes(confidentialOf(d.body).certificate), 'the certificate is shown');
  assert.ok(shown.includes(attestation.workers.duktape), 'the policy (its measurement) is shown');
  assert.ok(!shown.includes(ciphertext.slice(0, 40)), 'no code, not even ciphertext');
  assert.ok(!shown.includes('SECRET-CODE-MARK'));
  assert.equal(await page.$eval('#invoke-button', (b) => b.disabled), true);
});

test('signing out forgets the credentials', { skip, timeout: 60000 }, async () => {
  await Promise.all([page.waitForNavigation(), page.click('#signout')]);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('tfaas.auth')), null);
  assert.equal(await page.$eval('#signin', (e) => e.hidden), false);
});

test('the console cannot be framed by another page', { skip, timeout: 60000 }, async () => {
  // An attacker's page on another origin (another port) frames the console:
  // frame-ancestors 'none' / X-Frame-Options DENY leave Chromium's error page
  // in the frame. Without the two headers the console renders there (checked).
  const evil = createServer((req, res) => {
    res.setHeader('content-type', 'text/html');
    res.end(`<iframe src="${server.url}/console"></iframe>`);
  });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
  const p = await browser.newPage();
  try {
    await p.goto(`${server.url}/console`); // unframed it renders, so what follows tests the framing
    assert.ok(await p.$('#signin-form'), 'the console renders at all');
    await p.goto(`http://127.0.0.1:${evil.address().port}/`, { waitUntil: 'load' });
    const framed = await poll(async () => p.frames().find((f) => f !== p.mainFrame() && f.url() !== 'about:blank'),
      { timeoutMs: UI_WAIT });
    assert.ok(framed, 'the frame loaded something');
    assert.equal(await framed.$('#signin-form'), null, `the console rendered inside a frame (${framed.url()})`);
    assert.doesNotMatch(framed.url(), /\/console$/);
  } finally {
    await p.close();
    evil.close();
  }
});
