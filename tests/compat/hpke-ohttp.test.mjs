// hpke-ohttp.test.mjs - cross-tests of src/common's HPKE, BHTTP and OHTTP
// against third-party clients from npm: @hpke/core (+ X25519 and
// ChaCha20-Poly1305 modules) and bhttp-js, both directions. The C side is
// build/tests/tfaas_crypto_tool (JSON in on stdin, JSON out), found through
// TFAAS_TESTS_BIN (set by CTest) or next to TFAAS_BIN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CipherSuite, Aes128Gcm, HkdfSha256 } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { BHttpEncoder, BHttpDecoder } from 'bhttp-js';
import { tool } from '../lib/crypto-tool.mjs';

const hex = (b) => Buffer.from(b).toString('hex');
const unhex = (h) => new Uint8Array(Buffer.from(h, 'hex'));
const enc = (s) => new TextEncoder().encode(s);

const AEADS = [
  { id: 0x0001, name: 'AES-128-GCM', make: () => new Aes128Gcm() },
  { id: 0x0003, name: 'ChaCha20-Poly1305', make: () => new Chacha20Poly1305() },
];
const suiteFor = (a) => new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: a.make() });

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

// RFC 9458 §4.3-4.4, written out with @hpke/core and node's HKDF/AEAD: the
// client side of an OHTTP exchange, independent of the C code.
async function ohttpClient(keys, aead, bhttpRequest) {
  // application/ohttp-keys: u16 length, key_id, kem_id, pk(32), u16 suites length, suites.
  const cfg = keys.subarray(2);
  const keyId = cfg[0];
  assert.equal((cfg[1] << 8) | cfg[2], 0x0020);
  const pk = cfg.subarray(3, 35);
  const suite = suiteFor(aead);
  const hdr = new Uint8Array([keyId, 0x00, 0x20, 0x00, 0x01, 0x00, aead.id]);
  const info = new Uint8Array([...enc('message/bhttp request'), 0, ...hdr]);
  const sender = await suite.createSenderContext({ recipientPublicKey: await suite.kem.deserializePublicKey(pk), info });
  const ct = new Uint8Array(await sender.seal(bhttpRequest));
  const encReq = new Uint8Array([...hdr, ...new Uint8Array(sender.enc), ...ct]);
  return { encReq, sender, enc: new Uint8Array(sender.enc) };
}

async function ohttpOpenResponse(state, aead, encRes) {
  const { createHmac, createDecipheriv } = await import('node:crypto');
  const nk = aead.id === 0x0001 ? 16 : 32, nn = 12, len = Math.max(nk, nn);
  const secret = new Uint8Array(await state.sender.export(enc('message/bhttp response'), len));
  const nonce = encRes.subarray(0, len), ct = encRes.subarray(len);
  const prk = createHmac('sha256', Buffer.concat([state.enc, nonce])).update(secret).digest();
  const expand = (label, n) => createHmac('sha256', prk).update(Buffer.concat([Buffer.from(label), Buffer.from([1])])).digest().subarray(0, n);
  const key = expand('key', nk), iv = expand('nonce', nn);
  const d = createDecipheriv(aead.id === 0x0001 ? 'aes-128-gcm' : 'chacha20-poly1305', key, iv, { authTagLength: 16 });
  d.setAuthTag(ct.subarray(ct.length - 16));
  return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
}

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
