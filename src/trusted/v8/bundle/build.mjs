// build.mjs - bundles an entry of this directory (CommonJS, npm packages
// from node_modules) into one JavaScript expression for the V8 enclave:
// `(function () { ...; return module.exports; })`, which webapi.cc runs and
// calls on the first use of what it exports. No global is written.
// usage: node build.mjs ENTRY OUT
import { buildSync } from 'esbuild';
import { writeFileSync } from 'node:fs';

const [entry, out] = process.argv.slice(2);
if (!entry || !out) {
  console.error('usage: node build.mjs ENTRY OUT');
  process.exit(2);
}
const { outputFiles } = buildSync({
  entryPoints: [entry], bundle: true, format: 'cjs', platform: 'neutral', target: 'es2022',
  mainFields: ['main'], legalComments: 'inline', write: false, logLevel: 'error',
});
writeFileSync(out, '(function () {\nconst module = { exports: {} };\n(function (module, exports) {\n' +
  outputFiles[0].text + '\n})(module, module.exports);\nreturn module.exports;\n})\n');
