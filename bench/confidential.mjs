// confidential.mjs - confidential hello over the full OHTTP path (receipts
// on) against plaintext hello, both driven by the same node client, so the
// difference is what confidentiality costs end to end. Every request is a
// fresh encapsulation (replays are refused), so wrk cannot drive it.
// usage: node bench/confidential.mjs [BIN_DIR]   (BENCH_DURATION s, BENCH_CONCURRENCY)
import { startServer, api } from '../tests/lib/server.mjs';
import { deployBody } from '../tests/lib/confidential.mjs';
import { AEADS, bhttpJsonRequest, ohttpClient, ohttpOpenResponse } from '../tests/lib/ohttp-client.mjs';

if (process.argv[2]) process.env.TFAAS_BIN = process.argv[2];
const duration = Number(process.env.BENCH_DURATION || 5) * 1000;
const concurrency = Number(process.env.BENCH_CONCURRENCY || 8);
const HELLO = 'function main(p) { return { greeting: "Hello, " + (p.name || "world") }; }';

async function run(label, once) {
  const lat = [];
  const end = Date.now() + duration;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      const t = process.hrtime.bigint();
      await once();
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }));
  lat.sort((a, b) => a - b);
  const pct = (q) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))].toFixed(2);
  console.log(`${label}: ${(lat.length / (duration / 1000)).toFixed(0)} req/s, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms (${concurrency} concurrent)`);
}

const server = await startServer({ extraArgs: ['--workers', '2'] });
try {
  const auth = 'Basic ' + Buffer.from(server.auth).toString('base64');
  await api(server, 'PUT', '/api/v1/namespaces/_/actions/hello', { body: { exec: { kind: 'js:duktape', code: HELLO } } });
  const att = (await api(server, 'GET', '/tfaas/v1/attestation', { auth: null })).body;
  const dep = await api(server, 'PUT', '/tfaas/v1/namespaces/_/actions/chello', { body: await deployBody(att, 'chello', HELLO) });
  const cert = dep.body.annotations.find((x) => x.key === 'confidential').value.certificate;
  const keys = Buffer.from(JSON.parse(Buffer.from(cert.split('.')[1], 'base64url')).ohttp_keys, 'base64url');
  const aead = AEADS[1];

  const plain = async () => {
    const r = await fetch(`${server.url}/api/v1/namespaces/_/actions/hello?blocking=true&result=true`,
      { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: '{"name":"Ada"}' });
    if (r.status !== 200) throw new Error(`plaintext ${r.status}`);
    await r.arrayBuffer();
  };
  const confidential = async () => {
    const inner = await bhttpJsonRequest('/chello', { name: 'Ada' });
    const st = await ohttpClient(new Uint8Array(keys), aead, inner);
    const r = await fetch(`${server.url}/tfaas/v1/namespaces/_/actions/chello/ohttp`,
      { method: 'POST', headers: { authorization: auth, 'content-type': 'message/ohttp-req' }, body: st.encReq });
    if (r.status !== 200) throw new Error(`confidential ${r.status}: ${await r.text()}`);
    await ohttpOpenResponse(st, aead, new Uint8Array(await r.arrayBuffer()));
  };
  await plain();
  await confidential(); // key release happens here, once per worker enclave
  await run('plaintext hello (OpenWhisk API)', plain);
  await run('confidential hello (OHTTP + receipt)', confidential);
} finally {
  await server.stop();
}
