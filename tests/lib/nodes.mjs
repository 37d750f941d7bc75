// nodes.mjs - N `tfaas serve` nodes on one store, for the multi-node suites
// (issue 16; run under scripts/pg-test.sh, so the store is PostgreSQL). Each
// node is a real server with its own state directory (platform key,
// guest.auth) and its own enclaves; all of them use node 0's store (its
// schema, see storeArgs) and node 0's guest credential: a server sets the
// guest credential when it starts, so two different ones would take turns.
import { execFileSync } from 'node:child_process';
import { startServer, storeArgs } from './server.mjs';

// Starts n nodes, one after the other (the first creates the schema).
// extraArgs go to every node's `tfaas serve`. Returns { nodes, store, stop() }:
// nodes[i] is startServer's handle with the shared auth; store is the
// `--store URL` pair the nodes use (for `tfaas admin` and a further node).
export async function startNodes(n, { extraArgs = [] } = {}) {
  const first = await startServer({ extraArgs });
  const store = storeArgs(first.stateDir);
  const nodes = [first];
  try {
    for (let i = 1; i < n; i++) {
      const node = await startServer({ extraArgs: [...store, '--guest-auth', first.auth, ...extraArgs] });
      node.auth = first.auth;
      nodes.push(node);
    }
  } catch (e) {
    await Promise.all(nodes.map((s) => s.stop('SIGKILL')));
    throw e;
  }
  // The first stops last: its state directory names the schema.
  const stop = async () => {
    for (const s of nodes.slice(1)) await s.stop();
    await first.stop();
  };
  return { nodes, store, stop };
}

// Runs one SQL statement in the nodes' store (the URL of `store`, its
// search_path included) with psql; returns its output, unaligned, no header.
export function storeSql(store, sql) {
  const url = store[store.indexOf('--store') + 1];
  return execFileSync('psql', ['-qXAt', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], { encoding: 'utf8' }).trim();
}
