#!/usr/bin/env node
// bundle-node-builtins.mjs OUTDIR - writes into OUTDIR (emptied first) one
// CommonJS bundle per Node built-in that nodejs:* actions may require,
// OUTDIR/NAME.js, made with esbuild from npm's browser ports installed in
// src/trusted/v8/node_builtins (pinned by its package-lock.json). A
// built-in's require() of another built-in stays a require(), so each exists
// once per heap. Called by CMake at build time; scripts/embed.cmake then
// compiles the directory into tfaas-enclave-v8 (so it is part of the
// enclave's measurement), as it does the CommonJS loader (v8/loader.js).
import { createRequire } from 'node:module';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkgDir = join(here, '..', 'src', 'trusted', 'v8', 'node_builtins');
const require = createRequire(join(pkgDir, 'package.json'));
const esbuild = require('esbuild');

// Node's name -> the npm package that implements it.
const BUILTINS = {
  assert: 'assert',
  buffer: 'buffer',
  events: 'events',
  path: 'path-browserify',
  querystring: 'querystring-es3',
  string_decoder: 'string_decoder',
  url: 'url',
  util: 'util',
};

const [outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: bundle-node-builtins.mjs OUTDIR');
  process.exit(2);
}

const entries = [];
for (const [name, pkg] of Object.entries(BUILTINS)) {
  const r = await esbuild.build({
    stdin: { contents: `module.exports = require(${JSON.stringify(pkg)});`, resolveDir: pkgDir },
    bundle: true,
    format: 'cjs',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    legalComments: 'inline',
    external: Object.keys(BUILTINS).filter((n) => n !== name),
    write: false,
    logLevel: 'error',
  });
  entries.push({ name, text: r.outputFiles[0].text });
}

rmSync(outDir, { recursive: true, force: true }); // no bundle of a built-in since dropped
mkdirSync(outDir, { recursive: true });
for (const e of entries) writeFileSync(join(outDir, `${e.name}.js`), e.text);
const total = entries.reduce((s, e) => s + Buffer.byteLength(e.text), 0);
console.log(`bundle-node-builtins: ${entries.length} built-ins, ${total} bytes`);
