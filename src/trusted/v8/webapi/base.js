/* base.js - the first part of webapi.js, the Web APIs of the V8 enclave:
 * the files of this directory joined in the order base, encoding, keys,
 * subtle, crypto (CMakeLists.txt), compiled into tfaas-enclave-v8 (so part
 * of its measurement) and run once per context on the first access to one
 * of its globals (webapi_install.cc). One expression: a function of the
 * natives (webapi.cc) that returns the globals. This part opens it and
 * holds DOMException and the byte and base64 helpers the others use.
 *
 * Written from the specifications: WHATWG Encoding (TextEncoder,
 * TextDecoder: UTF-8 only), HTML (atob/btoa: forgiving-base64;
 * structuredClone, transferring ArrayBuffers), WebIDL (DOMException), W3C
 * Web Crypto (crypto.getRandomValues, randomUUID, subtle: SHA digests, HMAC, ECDSA
 * P-256, Ed25519, AES-GCM, HKDF; raw, JWK, SPKI and, for Ed25519, PKCS#8),
 * plus Node's `crypto` subset (createHash, createHmac, randomBytes,
 * randomUUID, timingSafeEqual) on the same natives. Every primitive runs in
 * native code (webapi.cc, src/trusted/crypto/webcrypto.c); these files
 * hold the shapes: argument checks, key objects, formats and error names.
 * crypto.subtle's methods settle their Promise before they return. */
(function (native) {
  'use strict';

  // ---- DOMException (WebIDL) ---------------------------------------------
  const LEGACY_CODES = {
    IndexSizeError: 1, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11, SyntaxError: 12,
    InvalidAccessError: 15, TypeMismatchError: 17, QuotaExceededError: 22, DataCloneError: 25,
    InvalidCharacterError: 5,
  };
  class DOMException extends Error {
    constructor(message = '', name = 'Error') {
      super(String(message));
      Object.defineProperty(this, 'name', { value: String(name), configurable: true, writable: true });
    }
    get code() { return LEGACY_CODES[this.name] || 0; }
  }
  native.DOMException = DOMException;
  const dom = (message, name) => new DOMException(message, name);

  // ---- bytes -------------------------------------------------------------
  /* A Uint8Array over a BufferSource's bytes (no copy), or a TypeError. A
   * detached buffer holds no bytes (WebIDL), and no view can be made on it. */
  function viewOf(x, what) {
    const isBuffer = x instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && x instanceof SharedArrayBuffer);
    if (!isBuffer && !ArrayBuffer.isView(x)) throw new TypeError(`${what} is not a BufferSource (ArrayBuffer or ArrayBufferView)`);
    if (x.byteLength === 0) return EMPTY;
    return isBuffer ? new Uint8Array(x) : new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  }
  /* A private copy, as Web Crypto takes of every input. */
  const copyOf = (x, what) => viewOf(x, what).slice();
  const EMPTY = new Uint8Array(0);

  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const B64_INDEX = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) B64_INDEX[B64.charCodeAt(i)] = i;

  /* Base64 of bytes; url: the URL-safe alphabet without padding (JWK). */
  function b64encode(bytes, url) {
    let out = '';
    const n = bytes.length;
    for (let i = 0; i < n; i += 3) {
      const a = bytes[i], b = i + 1 < n ? bytes[i + 1] : 0, c = i + 2 < n ? bytes[i + 2] : 0;
      out += B64[a >> 2] + B64[((a & 3) << 4) | (b >> 4)] +
        (i + 1 < n ? B64[((b & 15) << 2) | (c >> 6)] : '=') + (i + 2 < n ? B64[c & 63] : '=');
    }
    return url ? out.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_') : out;
  }
  /* Bytes of base64 text already stripped of padding; null when a character
   * is outside the alphabet or the length cannot be base64. */
  function b64decode(s) {
    if (s.length % 4 === 1) return null;
    const out = new Uint8Array((s.length * 3) >> 2);
    let acc = 0, bits = 0, j = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const v = c < 128 ? B64_INDEX[c] : -1;
      if (v < 0) return null;
      acc = (acc << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[j++] = (acc >> bits) & 255;
      }
    }
    return out;
  }
  /* JWK members are base64url without padding (RFC 7515 §2). */
  function b64urlDecode(s, what) {
    if (typeof s !== 'string' || /[^A-Za-z0-9_-]/.test(s)) throw dom(`JWK member ${what} is not base64url`, 'DataError');
    const out = b64decode(s.replace(/-/g, '+').replace(/_/g, '/'));
    if (!out) throw dom(`JWK member ${what} is not base64url`, 'DataError');
    return out;
  }
  const hex = (bytes) => Array.from(bytes, (b) => (b < 16 ? '0' : '') + b.toString(16)).join('');
