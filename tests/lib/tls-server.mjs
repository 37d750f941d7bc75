// tls-server.mjs - a local HTTPS (and plain HTTP) origin for the fetch suites:
// a fresh test CA and a certificate for 127.0.0.1 and localhost made with the
// openssl command, and a server whose TCP side records the raw bytes each
// connection sent (so a test can show they were TLS, never the plaintext).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer as createNetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A CA and a leaf certificate signed by it: {caPem, keyPem, certPem}.
export function makeTestCa(cn = 'tfaas test CA') {
  const dir = mkdtempSync(join(tmpdir(), 'tfaas-ca-'));
  const run = (args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
      '-subj', `/CN=${cn}`, '-keyout', 'ca.key', '-out', 'ca.pem',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost',
      '-keyout', 'leaf.key', '-out', 'leaf.csr']);
    require_ext(dir);
    run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
      '-extfile', 'leaf.ext', '-out', 'leaf.pem']);
    return {
      caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      keyPem: readFileSync(join(dir, 'leaf.key'), 'utf8'),
      certPem: readFileSync(join(dir, 'leaf.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function require_ext(dir) {
  execFileSync('sh', ['-c', "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > leaf.ext"],
    { cwd: dir });
}

// Starts an HTTPS origin on 127.0.0.1 with `handler(req, res)` (node:http's).
// The port clients get is a TCP relay in front of it that keeps the raw bytes
// each connection sent (`raw`: one array of Buffers per connection), as they
// were on the wire, before TLS is taken off them. tls: {keyPem, certPem}, or
// null for plain HTTP. Returns {port, raw, connections (count), close()}.
export async function startOrigin(tls, handler) {
  const { createServer: createTlsServer } = await import('node:tls');
  const http = createHttpServer(handler);
  const backend = tls ? createTlsServer({ key: tls.keyPem, cert: tls.certPem }, (s) => http.emit('connection', s)) : http;
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  const raw = [];
  let connections = 0;
  const sockets = new Set();
  const track = (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); };
  const relay = createNetServer((sock) => {
    connections++;
    track(sock);
    const chunks = [];
    raw.push(chunks);
    const up = connect(backend.address().port, '127.0.0.1');
    track(up);
    sock.on('data', (d) => chunks.push(Buffer.from(d)));
    // pipes: each side's end goes to the other after what it buffered
    sock.pipe(up);
    up.pipe(sock);
    sock.on('error', () => up.destroy());
    up.on('error', () => sock.destroy());
  });
  await new Promise((r) => relay.listen(0, '127.0.0.1', r));
  return {
    port: relay.address().port,
    raw,
    get connections() { return connections; },
    close: async () => {
      for (const s of sockets) s.destroy();
      http.closeAllConnections?.();
      await new Promise((r) => relay.close(r));
      await new Promise((r) => backend.close(r));
    },
  };
}
