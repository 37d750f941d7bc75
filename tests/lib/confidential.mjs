// confidential.mjs - a third-party client of tfaas's confidential protocol,
// written from docs/protocol.md with npm libraries only (@hpke/core, jose,
// node's crypto): seals a deploy package to the attested KMS and encrypts
// code. Tests use it to drive and to attack the server without the tfaas CLI;
// it also holds the checks the confidential tests share.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as jose from 'jose';
import { CipherSuite, HkdfSha256 } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { AEADS, bhttpJsonRequest, ohttpClient } from './ohttp-client.mjs';

const te = new TextEncoder();
export const deploySuite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305(),
});

// box = nonce (12) || ChaCha20-Poly1305(key, nonce, aad, plaintext) || tag
export function aeadBox(key, aad, plaintext) {
  const nonce = randomBytes(12);
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, ct, c.getAuthTag()]);
}

// enc || HPKE-Seal(kmsPk, info "tfaas deploy v1", JSON package)
export async function sealPackage(kmsPkB64u, pkg) {
  const pk = await deploySuite.kem.deserializePublicKey(Buffer.from(kmsPkB64u, 'base64url'));
  const sender = await deploySuite.createSenderContext({ recipientPublicKey: pk, info: te.encode('tfaas deploy v1') });
  const ct = await sender.seal(te.encode(JSON.stringify(pkg)));
  return Buffer.concat([Buffer.from(sender.enc), Buffer.from(ct)]);
}

// The engine a kind runs on: js:duktape on Duktape, every other kind on V8.
export const engineOf = (kind) => (kind === 'js:duktape' ? 'duktape' : 'v8');

// The default policy of a kind: its engine and the worker measurement the
// attestation document lists for that engine (the KMS's own measurement
// names no worker: it is another binary).
export const policyFor = (attestation, kind = 'js:duktape') =>
  ({ measurements: [attestation.workers[engineOf(kind)]], engine: engineOf(kind) });

// The PUT body of a confidential deploy of `code` as `name` in namespace
// `ns`, deploy version `version`, of kind `kind` (pkgName and pkgNs override
// what is sealed inside, for attacks; pkg adds or replaces package members).
export async function deployBody(attestation, name, code,
  { policy, pkgName = name, ns = 'guest', pkgNs = ns, version = 1, pkg = {}, kind = 'js:duktape' } = {}) {
  const key = randomBytes(32);
  const box = aeadBox(key, 'tfaas code v1', Buffer.from(code));
  const pol = policy ?? policyFor(attestation, kind);
  const sealed = await sealPackage(attestation.kms.hpke_key.public_key, {
    namespace: pkgNs, name: pkgName, version, code_key: key.toString('base64url'),
    code_hash: createHash('sha256').update(code).digest('hex'), policy: pol, ...pkg,
  });
  return { kind, code: box.toString('base64url'), sealed_key: sealed.toString('base64url') };
}

// The claims of a compact JWS verified with `key` (jose), as an object.
export async function jwsClaims(jws, key) {
  const { payload, protectedHeader } = await jose.compactVerify(jws, key);
  return { claims: JSON.parse(new TextDecoder().decode(payload)), header: protectedHeader };
}

// SHA-256 with WebCrypto, as a browser verifier would have it.
async function sha256Bytes(...parts) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', Buffer.concat(parts.map((p) => Buffer.from(p)))));
}

// A receipt signed in a batch (docs/protocol.md §6.5), the text of the
// `tfaas-receipt` field: the root JWS verified with jose by workerKey, the
// claims' leaf hash and the audit path taken up to that root (RFC 9162
// §2.1.3.2) with WebCrypto's SHA-256. Returns {claims, root, index, proof,
// claimsB64}; throws with the reason otherwise.
export async function verifyBatchReceipt(field, workerKey) {
  const r = JSON.parse(field);
  assert.deepEqual(Object.keys(r).sort(), ['claims', 'index', 'proof', 'root'], 'the receipt\'s members');
  const { payload, protectedHeader } = await jose.compactVerify(r.root, workerKey);
  assert.equal(protectedHeader.typ, 'tfaas-receipt-root+jwt');
  const root = JSON.parse(new TextDecoder().decode(payload));
  assert.ok(Number.isInteger(r.index) && Number.isInteger(root.size) && r.index >= 0 && r.index < root.size,
    'the leaf index is below the tree size');
  const claimBytes = Buffer.from(r.claims, 'base64url');
  let hash = await sha256Bytes([0], claimBytes);
  let fn = r.index, sn = root.size - 1;
  for (const p of r.proof) {
    const sib = Buffer.from(p, 'base64url');
    assert.ok(sn > 0 && sib.length === 32, 'the proof fits the index and size');
    if (fn % 2 === 1 || fn === sn) {
      hash = await sha256Bytes([1], sib, hash);
      while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      hash = await sha256Bytes([1], hash, sib);
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  assert.equal(sn, 0, 'the proof fits the index and size');
  assert.equal(Buffer.from(hash).toString('base64url'), root.root, 'the claims and the proof lead to the signed root');
  const claims = JSON.parse(claimBytes.toString('utf8'));
  assert.equal(claims.iss, root.iss);
  assert.equal(claims.measurement, root.measurement);
  return { claims, root, index: r.index, proof: r.proof, claimsB64: r.claims };
}

// The receipt chain of an opened confidential response (docs/protocol.md
// §6.5), checked with jose and WebCrypto alone: the worker certificate by
// the KMS key for the certificate's function, the receipt's root by the
// certified worker key and the claims by their proof.
// inner is bhttp-js's decoded Response; returns {receipt (the claims),
// receiptField (the field's text), batch (verifyBatchReceipt's), worker, result}.
export async function verifyReceiptChain(inner, kmsKey, fnClaims) {
  const wcert = inner.headers.get('tfaas-worker-certificate');
  const field = inner.headers.get('tfaas-receipt');
  assert.ok(wcert && field, 'the receipt and the worker certificate are inside the sealed response');
  const wc = await jwsClaims(wcert, kmsKey);
  assert.equal(wc.header.typ, 'tfaas-worker+jwt');
  for (const k of ['namespace', 'name', 'version', 'code_hash']) assert.equal(wc.claims[k], fnClaims[k], k);
  assert.ok(fnClaims.policy.measurements.includes(wc.claims.measurement), 'the worker satisfies the policy');
  const workerKey = await jose.importJWK({ ...wc.claims.worker_key, alg: 'ES256' }, 'ES256');
  const batch = await verifyBatchReceipt(field, workerKey);
  const rc = batch.claims;
  for (const k of ['namespace', 'name', 'version', 'code_hash']) assert.equal(rc[k], fnClaims[k], k);
  assert.equal(rc.measurement, wc.claims.measurement);
  assert.match(rc.nonce, /^[A-Za-z0-9_-]{22}$/, 'a 16-byte nonce per leaf');
  const result = Buffer.from(await inner.arrayBuffer());
  assert.equal(rc.result_sha256, createHash('sha256').update(result).digest('hex'));
  assert.equal(rc.status, inner.status);
  return { receipt: rc, receiptField: field, batch, worker: wc.claims, result };
}

// The `confidential` annotation of an action document: {certificate, ...}.
export function confidentialOf(action) {
  return action.annotations.find((x) => x.key === 'confidential').value;
}

// The KMS's ES256 key from an attestation document (GET
// /tfaas/v1/attestation), to verify certificates with jose.compactVerify.
export function kmsSigningKey(attestation) {
  return jose.importJWK({ ...attestation.kms.signing_key, alg: 'ES256' }, 'ES256');
}

// Asserts that no file of the state directory holds any of the needles.
export function assertStateLacks(stateDir, needles) {
  for (const f of readdirSync(stateDir)) {
    const bytes = readFileSync(join(stateDir, f));
    for (const s of needles) assert.ok(!bytes.includes(s), `${f} holds ${s}`);
  }
}

// Every readable mapping of process pid (as a core dump would hold it),
// searched for the needles (Buffers or strings); returns those found.
export function memoryHolds(pid, needles) {
  const found = new Set();
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8').trim().split('\n');
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let scanned = 0;
  try {
    for (const line of maps) {
      const [range, perms] = line.split(/\s+/);
      if (!perms.startsWith('r') || /\[(vvar|vsyscall)\]/.test(line)) continue;
      const [start, end] = range.split('-').map((h) => BigInt(`0x${h}`));
      const overlap = 64n; // a needle split across two reads is still seen
      for (let pos = start; pos < end; pos += BigInt(chunk.length) - overlap) {
        const want = Number(end - pos < BigInt(chunk.length) ? end - pos : BigInt(chunk.length));
        let n = 0;
        try { n = readSync(fd, chunk, 0, want, pos); } catch { break; }
        scanned += n;
        const view = chunk.subarray(0, n);
        for (const s of needles) if (view.includes(s)) found.add(s);
        if (n < want) break;
      }
    }
  } finally {
    closeSync(fd);
  }
  assert.ok(scanned > 1 << 20, `scanned ${scanned} bytes of the memory of ${pid}`);
  return [...found];
}

// A confidential invocation over OHTTP (docs/protocol.md §6.5) of `name`
// with a JSON body, keys from its certificate: { res, bytes, state, aead }.
export async function ohttpInvoke(server, name, certificate, kmsKey, body) {
  const { payload } = await jose.compactVerify(certificate, kmsKey);
  const keys = Buffer.from(JSON.parse(new TextDecoder().decode(payload)).ohttp_keys, 'base64url');
  const inner = await bhttpJsonRequest(`/${name}`, body, new Date());
  const state = await ohttpClient(new Uint8Array(keys), AEADS[1], inner);
  const res = await fetch(`${server.url}/tfaas/v1/namespaces/_/actions/${name}/ohttp`, {
    method: 'POST', body: state.encReq,
    headers: { 'content-type': 'message/ohttp-req', authorization: 'Basic ' + Buffer.from(server.auth).toString('base64') },
  });
  return { res, bytes: Buffer.from(await res.arrayBuffer()), state, aead: AEADS[1] };
}
