// ohttp-client.mjs - the client side of RFC 9458 written out with @hpke/core
// and node's HKDF/AEAD, independent of tfaas's C code: the compat tests and
// the confidential-function tests use it as a third-party OHTTP client.
import assert from 'node:assert/strict';
import { createDecipheriv, createHmac } from 'node:crypto';
import { CipherSuite, Aes128Gcm, HkdfSha256 } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { BHttpDecoder, BHttpEncoder } from 'bhttp-js';

const enc = (s) => new TextEncoder().encode(s);

export const AEADS = [
  { id: 0x0001, name: 'AES-128-GCM', make: () => new Aes128Gcm() },
  { id: 0x0003, name: 'ChaCha20-Poly1305', make: () => new Chacha20Poly1305() },
];
export const suiteFor = (a) => new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: a.make() });

// Encapsulates bhttpRequest to the first configuration of application/ohttp-keys.
export async function ohttpClient(keys, aead, bhttpRequest) {
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

export async function ohttpOpenResponse(state, aead, encRes) {
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

// The inner response (a Response) of an OHTTP response: opened, then
// decoded from Binary HTTP.
export async function ohttpOpenInner(state, aead, encRes) {
  return new BHttpDecoder().decodeResponse(await ohttpOpenResponse(state, aead, encRes));
}

// The Binary HTTP request of a confidential invocation (docs/protocol.md
// §6.4): POST with a JSON body and the Date header the enclave requires
// (date null leaves it out), and any extra header fields (a tfaas-signature).
export function bhttpJsonRequest(path, body, date = new Date(), extraHeaders = {}) {
  const headers = { 'content-type': 'application/json', ...extraHeaders };
  if (date) headers.date = date.toUTCString();
  return new BHttpEncoder().encodeRequest(new Request(`https://tfaas.invalid${path}`,
    { method: 'POST', headers, body: JSON.stringify(body) }));
}
