// build.mjs - bundles an entry of this directory (CommonJS, npm packages
// from node_modules) into one JavaScript expression for the V8 enclave:
// `(function () { ...; return module.exports; })`, which webapi.cc runs and
// calls on the first use of what it exports. No global is written.
// usage: node build.mjs ENTRY OUT
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [entry, out] = process.argv.slice(2);
if (!entry || !out) {
  console.error('usage: node build.mjs ENTRY OUT');
  process.exit(2);
}
// whatwg-url's `require("tr46")` resolves to tr46-lazy.js, which loads the
// real tr46 (as tr46/index.js) only for names that need IDNA processing.
const lazyTr46 = {
  name: 'lazy-tr46',
  setup(build) {
    build.onResolve({ filter: /^tr46$/ }, () => ({ path: fileURLToPath(new URL('tr46-lazy.js', import.meta.url)) }));
  },
};
const { outputFiles } = await build({
  entryPoints: [entry], bundle: true, format: 'cjs', platform: 'neutral', target: 'es2022',
  mainFields: ['main'], legalComments: 'inline', write: false, logLevel: 'error', plugins: [lazyTr46],
});
writeFileSync(out, '(function () {\nconst module = { exports: {} };\n(function (module, exports) {\n' +
  outputFiles[0].text + '\n})(module, module.exports);\nreturn module.exports;\n})\n');
