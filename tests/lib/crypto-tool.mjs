// crypto-tool.mjs - runs one operation of build/tests/tfaas_crypto_tool (JSON
// in on stdin, JSON out), the C side of the compat cross-tests, found through
// TFAAS_TESTS_BIN (set by CTest) or next to TFAAS_BIN.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const toolDir = process.env.TFAAS_TESTS_BIN ||
  path.join(process.env.TFAAS_BIN || path.resolve('../build/bin'), '..', 'tests');
export const TOOL = path.join(toolDir, 'tfaas_crypto_tool');

// Returns [exit status, parsed output].
export function tool(input) {
  const r = spawnSync(TOOL, [], { input: JSON.stringify(input), encoding: 'utf8' });
  assert.equal(r.error, undefined, `cannot run ${TOOL}`);
  return [r.status, JSON.parse(r.stdout)];
}
