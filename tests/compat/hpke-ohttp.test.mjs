// hpke-ohttp.test.mjs - cross-tests of src/common's HPKE, BHTTP and OHTTP
// against third-party clients from npm: @hpke/core (+ X25519 and
// ChaCha20-Poly1305 modules) and bhttp-js, both directions. The C side is
// build/tests/tfaas_crypto_tool (JSON in on stdin, JSON out), found through
// TFAAS_TESTS_BIN (set by CTest) or next to TFAAS_BIN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BHttpEncoder, BHttpDecoder } from 'bhttp-js';
import { tool } from '../lib/crypto-tool.mjs';
import { AEADS, suiteFor, ohttpClient, ohttpOpenResponse } from '../lib/ohttp-client.mjs';

const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (h) => new Uint8Array(Buffer.from(h, 'hex'));
const enc = (s) => new TextEncoder().encode(s);


for (const a of AEADS) {
  test(`HPKE ${a.name}: @hpke/core seals, C opens; tampering refused`, async () => {
    const suite = suiteFor(a);
    const kp = await suite.kem.generateKeyPair();
    const sk = hex(await suite.kem.serializePrivateKey(kp.privateKey));
    const info = enc('tfaas info'), aad = enc('tfaas aad'), pt = randomBytes(1000);
    const sender = await suite.createSenderContext({ recipientPublicKey: kp.publicKey, info });
    const ct = new Uint8Array(await sender.seal(pt, aad));
    const req = { op: 'hpke_open', aead: a.id, sk, enc: hex(sender.enc), info: hex(info), aad: hex(aad), ct: hex(ct) };
    const [status, out] = tool(req);
    assert.equal(status, 0, JSON.stringify(out));
    assert.equal(out.pt, hex(pt));
    ct[5] ^= 1;
    assert.deepEqual(tool({ ...req, ct: hex(ct) }), [1, { error: 'authentication failed' }]);
    ct[5] ^= 1;
    assert.deepEqual(tool({ ...req, aad: hex(enc('other')) }), [1, { error: 'authentication failed' }]);
    assert.deepEqual(tool({ ...req, enc: hex(sender.enc).slice(2) }), [1, { error: 'bad length' }]);
  });

  test(`HPKE ${a.name}: C seals, @hpke/core opens`, async () => {
    const suite = suiteFor(a);
    const kp = await suite.kem.generateKeyPair();
    const pk = hex(await suite.kem.serializePublicKey(kp.publicKey));
    const info = enc('info'), aad = enc(''), pt = enc('confidential hello');
    const [status, out] = tool({ op: 'hpke_seal', aead: a.id, pk, info: hex(info), aad: '', pt: hex(pt) });
    assert.equal(status, 0, JSON.stringify(out));
    const recipient = await suite.createRecipientContext({ recipientKey: kp, enc: unhex(out.enc), info });
    assert.equal(hex(await recipient.open(unhex(out.ct), aad)), hex(pt));
  });
}

test('BHTTP: bhttp-js encodes, C decodes', async () => {
  const body = JSON.stringify({ name: 'Ada' });
  const bin = await new BHttpEncoder().encodeRequest(new Request('https://tfaas.example/api/run', {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant': 'guest' }, body }));
  const [status, out] = tool({ op: 'bhttp_request_decode', msg: hex(bin) });
  assert.equal(status, 0, JSON.stringify(out));
  assert.equal(out.method, 'POST');
  assert.equal(out.scheme, 'https');
  assert.equal(out.authority, 'tfaas.example');
  assert.equal(out.path, '/api/run');
  assert.deepEqual(new Map(out.headers), new Map([['content-type', 'application/json'], ['x-tenant', 'guest']]));
  assert.equal(Buffer.from(out.content, 'hex').toString(), body);

  const res = await new BHttpEncoder().encodeResponse(new Response('done', { status: 201, headers: { 'x-a': 'b' } }));
  const [s2, o2] = tool({ op: 'bhttp_response_decode', msg: hex(res) });
  assert.equal(s2, 0, JSON.stringify(o2));
  assert.equal(o2.status, 201);
  assert.equal(Buffer.from(o2.content, 'hex').toString(), 'done');
});

test('BHTTP: C encodes, bhttp-js decodes', async () => {
  const [status, out] = tool({ op: 'bhttp_request_encode', method: 'PUT', scheme: 'https', authority: 'a.example',
    path: '/p', headers: [['x-one', '1'], ['x-two', '2']], content: hex(enc('payload')) });
  assert.equal(status, 0, JSON.stringify(out));
  const req = new BHttpDecoder().decodeRequest(unhex(out.msg));
  assert.equal(req.method, 'PUT');
  assert.equal(req.url, 'https://a.example/p');
  assert.equal(req.headers.get('x-two'), '2');
  assert.equal(await req.text(), 'payload');

  const [s2, o2] = tool({ op: 'bhttp_response_encode', status: 404, headers: [['content-type', 'text/plain']],
    content: hex(enc('not here')) });
  assert.equal(s2, 0, JSON.stringify(o2));
  const res = new BHttpDecoder().decodeResponse(unhex(o2.msg));
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'text/plain');
  assert.equal(await res.text(), 'not here');
});

for (const a of AEADS) {
  test(`OHTTP ${a.name}: a JS client (@hpke/core + bhttp-js) through the C gateway and back`, async () => {
    const sk = hex(randomBytes(32));
    const [ks, kout] = tool({ op: 'ohttp_keys', sk, key_id: 7 });
    assert.equal(ks, 0, JSON.stringify(kout));
    const keys = unhex(kout.keys);
    const bhttpReq = await new BHttpEncoder().encodeRequest(new Request('https://tfaas.example/run', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Ada"}' }));
    const state = await ohttpClient(keys, a, bhttpReq);
    const response = { status: 200, headers: [['content-type', 'application/json']], content: hex(enc('{"greeting":"Hello, Ada"}')) };
    const [gs, gout] = tool({ op: 'ohttp_gateway', sk, key_id: 7, req: hex(state.encReq), response });
    assert.equal(gs, 0, JSON.stringify(gout));
    assert.equal(gout.request.method, 'POST');
    assert.equal(gout.request.path, '/run');
    assert.equal(Buffer.from(gout.request.content, 'hex').toString(), '{"name":"Ada"}');
    const plain = await ohttpOpenResponse(state, a, unhex(gout.res));
    const res = new BHttpDecoder().decodeResponse(plain);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '{"greeting":"Hello, Ada"}');

    // Refusals: unknown key id, tampered ciphertext, truncated.
    const wrongId = state.encReq.slice(); wrongId[0] ^= 1;
    assert.deepEqual(tool({ op: 'ohttp_gateway', sk, key_id: 7, req: hex(wrongId), response }), [1, { error: 'unknown key id' }]);
    const tampered = state.encReq.slice(); tampered[tampered.length - 1] ^= 1;
    assert.deepEqual(tool({ op: 'ohttp_gateway', sk, key_id: 7, req: hex(tampered), response }), [1, { error: 'authentication failed' }]);
    assert.deepEqual(tool({ op: 'ohttp_gateway', sk, key_id: 7, req: hex(state.encReq.subarray(0, 20)), response }), [1, { error: 'truncated' }]);
  });
}
