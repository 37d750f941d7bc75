// host-proxy.mjs - a malicious host in front of a real tfaas server: an HTTP
// proxy that forwards every request and lets a test rewrite it first (swap
// credentials, paths or bodies) and keep what passed (deploy bodies,
// certificates), the way the review of issue 11 played the host.
import { createServer } from 'node:http';

// Starts the proxy for `server`; rewrite({method, path, headers, body}) may
// change any of them (body is a Buffer), or set `reply` {status, headers,
// body} to answer in the server's place (serving a stale certificate). Returns a
// server-like handle {url, auth, ns, seen, stop()} for runClient and api();
// seen lists every request as forwarded, with the answer's status.
export async function startHostProxy(server, rewrite = () => {}) {
  const seen = [];
  const proxy = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const r = { method: req.method, path: req.url, headers: { ...req.headers }, body: Buffer.concat(chunks) };
    delete r.headers.host;
    delete r.headers['content-length'];
    try {
      await rewrite(r);
      if (r.reply) {
        seen.push({ ...r, status: r.reply.status, answer: Buffer.from(r.reply.body) });
        res.writeHead(r.reply.status, r.reply.headers ?? {});
        res.end(r.reply.body);
        return;
      }
      const up = await fetch(`${server.url}${r.path}`, {
        method: r.method, headers: r.headers, body: ['GET', 'HEAD'].includes(r.method) ? undefined : r.body,
      });
      const bytes = Buffer.from(await up.arrayBuffer());
      seen.push({ ...r, status: up.status, answer: bytes });
      const headers = {};
      up.headers.forEach((v, k) => { if (!['content-length', 'transfer-encoding', 'connection'].includes(k)) headers[k] = v; });
      res.writeHead(up.status, headers);
      res.end(bytes);
    } catch (e) {
      res.writeHead(599);
      res.end(String(e));
    }
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${proxy.address().port}`;
  const stop = () => new Promise((resolve) => { proxy.closeAllConnections(); proxy.close(resolve); });
  return { url, auth: server.auth, ns: server.ns, stateDir: server.stateDir, seen, stop };
}

// The Basic authorization header value of credentials "uuid:key".
export const basic = (auth) => 'Basic ' + Buffer.from(auth).toString('base64');
