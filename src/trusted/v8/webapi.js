/* webapi.js - the Web APIs of the V8 enclave, compiled into tfaas-enclave-v8
 * (so part of its measurement) and run once per context on the first access
 * to one of its globals (webapi_install.cc). One expression: a function of
 * the natives (webapi.cc) that returns the globals.
 *
 * Written from the specifications: WHATWG Encoding (TextEncoder,
 * TextDecoder: UTF-8 only), HTML (atob/btoa: forgiving-base64;
 * structuredClone, transferring ArrayBuffers), WebIDL (DOMException), W3C
 * Web Crypto (crypto.getRandomValues, randomUUID, subtle: SHA digests, HMAC, ECDSA
 * P-256, Ed25519, AES-GCM, HKDF; raw, JWK, SPKI and, for Ed25519, PKCS#8),
 * plus Node's `crypto` subset (createHash, createHmac, randomBytes,
 * randomUUID, timingSafeEqual) on the same natives. Every primitive runs in
 * native code (webapi.cc, src/trusted/crypto/webcrypto.c); this file holds
 * the shapes: argument checks, key objects, formats and error names.
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

  // ---- atob / btoa (HTML) ---------------------------------------------------
  function btoa(data) {
    if (arguments.length < 1) throw new TypeError('btoa: 1 argument required');
    const s = String(data);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 255) throw dom('btoa: the string has a character outside Latin-1', 'InvalidCharacterError');
      bytes[i] = c;
    }
    return b64encode(bytes, false);
  }
  function atob(data) {
    if (arguments.length < 1) throw new TypeError('atob: 1 argument required');
    // forgiving-base64 decode
    let s = String(data).replace(/[\t\n\f\r ]/g, '');
    if (s.length % 4 === 0) s = s.replace(/==?$/, '');
    const bytes = b64decode(s);
    if (!bytes) throw dom('atob: the string is not correctly encoded base64', 'InvalidCharacterError');
    let out = '';
    for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    return out;
  }

  // ---- TextEncoder / TextDecoder (WHATWG Encoding, UTF-8) ----------------------
  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(input = '') { return new Uint8Array(native.utf8Encode(String(input))); }
    encodeInto(source, destination) {
      if (!(destination instanceof Uint8Array)) throw new TypeError('encodeInto: the destination is not a Uint8Array');
      const s = String(source);
      let read = 0, written = 0;
      const cap = destination.length;
      for (let i = 0; i < s.length; ) {
        let c = s.codePointAt(i);
        const units = c > 0xffff ? 2 : 1;
        if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate
        const len = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        if (written + len > cap) break;
        if (len === 1) destination[written] = c;
        else if (len === 2) {
          destination[written] = 0xc0 | (c >> 6);
          destination[written + 1] = 0x80 | (c & 63);
        } else if (len === 3) {
          destination[written] = 0xe0 | (c >> 12);
          destination[written + 1] = 0x80 | ((c >> 6) & 63);
          destination[written + 2] = 0x80 | (c & 63);
        } else {
          destination[written] = 0xf0 | (c >> 18);
          destination[written + 1] = 0x80 | ((c >> 12) & 63);
          destination[written + 2] = 0x80 | ((c >> 6) & 63);
          destination[written + 3] = 0x80 | (c & 63);
        }
        written += len;
        read += units;
        i += units;
      }
      return { read, written };
    }
  }

  const UTF8_LABELS = ['unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'utf-8', 'utf8', 'x-unicode20utf8'];
  const decoders = new WeakMap();
  /* Where an unfinished UTF-8 sequence begins at the end of bytes (its
   * length when there is none): a streaming decode keeps those bytes. */
  function incompleteTail(bytes) {
    const n = bytes.length;
    for (let i = n - 1; i >= 0 && i >= n - 3; i--) {
      const b = bytes[i];
      if (b >= 0x80 && b <= 0xbf) continue;
      const need = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
      return need > n - i ? i : n;
    }
    return n;
  }
  class TextDecoder {
    constructor(label = 'utf-8', options = {}) {
      const l = String(label).replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '').toLowerCase();
      if (!UTF8_LABELS.includes(l)) throw new RangeError(`TextDecoder: the encoding "${label}" is not supported (UTF-8 only)`);
      const o = options == null ? {} : options;
      decoders.set(this, { fatal: !!o.fatal, ignoreBOM: !!o.ignoreBOM, pending: EMPTY, bomSeen: false });
    }
    get encoding() { return 'utf-8'; }
    get fatal() { return state(this).fatal; }
    get ignoreBOM() { return state(this).ignoreBOM; }
    decode(input, options = {}) {
      const st = state(this);
      const stream = !!(options && options.stream);
      let bytes = input === undefined ? EMPTY : viewOf(input, 'TextDecoder.decode: the input');
      if (st.pending.length) {
        const all = new Uint8Array(st.pending.length + bytes.length);
        all.set(st.pending);
        all.set(bytes, st.pending.length);
        bytes = all;
      }
      const cut = stream ? incompleteTail(bytes) : bytes.length;
      st.pending = cut < bytes.length ? bytes.slice(cut) : EMPTY;
      let s = native.utf8Decode(bytes.subarray(0, cut), st.fatal);
      if (s === null) {
        st.pending = EMPTY;
        st.bomSeen = false;
        throw new TypeError('TextDecoder.decode: the data is not valid UTF-8');
      }
      if (!st.ignoreBOM && !st.bomSeen && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      if (s.length || cut) st.bomSeen = true;
      if (!stream) st.bomSeen = false;
      return s;
    }
  }
  function state(d) {
    const st = decoders.get(d);
    if (!st) throw new TypeError('Illegal invocation');
    return st;
  }

  // ---- structuredClone (HTML) ------------------------------------------------
  function structuredClone(value, options) {
    if (arguments.length < 1) throw new TypeError('structuredClone: 1 argument required');
    const transfer = options != null && options.transfer !== undefined ? Array.from(options.transfer) : [];
    for (let i = 0; i < transfer.length; i++) {
      if (!(transfer[i] instanceof ArrayBuffer))
        throw dom('structuredClone: only ArrayBuffers can be transferred', 'DataCloneError');
      if (transfer.indexOf(transfer[i]) !== i) throw dom('structuredClone: an ArrayBuffer is listed twice in transfer', 'DataCloneError');
    }
    return native.clone(value, transfer);
  }

  // ---- CryptoKey --------------------------------------------------------------
  const ILLEGAL = () => { throw new TypeError('Illegal constructor'); };
  const keys = new WeakMap(); // CryptoKey -> { type, extractable, algorithm, usages, data }
  let minting = false;
  class CryptoKey {
    constructor() { if (!minting) ILLEGAL(); }
    get type() { return slot(this).type; }
    get extractable() { return slot(this).extractable; }
    get algorithm() { return slot(this).algorithm; }
    get usages() { return slot(this).usages; }
  }
  function slot(k) {
    const s = keys.get(k);
    if (!s) throw new TypeError('not a CryptoKey');
    return s;
  }
  /* data: the key's bytes by name (secret: {raw}; EC: {d?, pub}; Ed25519: {seed?, pub}). */
  function mintKey(type, extractable, algorithm, usages, data) {
    minting = true;
    let k;
    try { k = new CryptoKey(); } finally { minting = false; }
    keys.set(k, {
      type, extractable: !!extractable, algorithm: Object.freeze(algorithm),
      usages: Object.freeze(USAGE_ORDER.filter((u) => usages.includes(u))), data,
    });
    return k;
  }
  const USAGE_ORDER = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey'];

  // ---- algorithms --------------------------------------------------------------
  const HASHES = { 'SHA-1': 'SHA1', 'SHA-256': 'SHA256', 'SHA-384': 'SHA384', 'SHA-512': 'SHA512' };
  const HASH_BLOCK_BITS = { 'SHA-1': 512, 'SHA-256': 512, 'SHA-384': 1024, 'SHA-512': 1024 };
  const ALGORITHMS = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512', 'HMAC', 'ECDSA', 'Ed25519', 'AES-GCM', 'HKDF'];
  /* Which algorithms each operation knows. */
  const OPS = {
    digest: ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512'],
    sign: ['HMAC', 'ECDSA', 'Ed25519'], verify: ['HMAC', 'ECDSA', 'Ed25519'],
    encrypt: ['AES-GCM'], decrypt: ['AES-GCM'],
    generateKey: ['HMAC', 'ECDSA', 'Ed25519', 'AES-GCM'],
    importKey: ['HMAC', 'ECDSA', 'Ed25519', 'AES-GCM', 'HKDF'],
    deriveBits: ['HKDF'], deriveKey: ['HKDF'],
    derivedKey: ['HMAC', 'AES-GCM'], // the derivedKeyType of deriveKey
  };

  /* The operations whose parameters must name a hash, by algorithm. */
  const NEEDS_HASH = {
    HMAC: ['importKey', 'generateKey', 'derivedKey'], HKDF: ['deriveBits', 'deriveKey'], ECDSA: ['sign', 'verify'],
  };
  /* Web Crypto's "normalize an algorithm": the registered name matched
   * without regard to case, NotSupportedError for any other. */
  function normalize(alg, op) {
    let a = alg;
    if (typeof a === 'string') a = { name: a };
    else if (a === null || typeof a !== 'object') throw new TypeError(`${op}: the algorithm is not an object or a name`);
    if (a.name === undefined) throw new TypeError(`${op}: the algorithm has no name`);
    const wanted = String(a.name).toUpperCase();
    const name = OPS[op].find((n) => n.toUpperCase() === wanted);
    if (!name) {
      const known = ALGORITHMS.some((n) => n.toUpperCase() === wanted);
      throw dom(`${op}: ${known ? 'the operation is not supported for' : 'unrecognized algorithm'} ${a.name}`,
        'NotSupportedError');
    }
    const out = { name };
    for (const k of Object.keys(a)) if (k !== 'name') out[k] = a[k];
    if ('hash' in a || (NEEDS_HASH[name] && NEEDS_HASH[name].includes(op))) out.hash = normalizeHash(a.hash, op, name);
    return out;
  }
  function normalizeHash(h, op, alg) {
    if (h === undefined) throw new TypeError(`${op}: ${alg} needs a hash`);
    return normalize(h, 'digest').name;
  }

  const requireUsages = (usages, allowed, what) => {
    if (!Array.isArray(usages)) usages = Array.from(usages);
    for (const u of usages)
      if (!allowed.includes(u)) throw dom(`${what}: the usage "${u}" is not allowed for this key`, 'SyntaxError');
    return usages;
  };
  function checkKey(key, name, usage) {
    const s = slot(key);
    if (s.algorithm.name !== name) throw dom(`the key is for ${s.algorithm.name}, not ${name}`, 'InvalidAccessError');
    if (!s.usages.includes(usage)) throw dom(`the key's usages do not include "${usage}"`, 'InvalidAccessError');
    return s;
  }

  /* A JWK's common checks (Web Crypto's importKey, "jwk" steps). */
  function checkJwk(jwk, kty, usages, extractable, alg, use) {
    if (jwk === null || typeof jwk !== 'object' || ArrayBuffer.isView(jwk) || jwk instanceof ArrayBuffer)
      throw new TypeError('importKey: a JWK must be an object');
    if (jwk.kty !== kty) throw dom(`importKey: the JWK's kty is not "${kty}"`, 'DataError');
    if (jwk.use !== undefined && usages.length && jwk.use !== use) throw dom('importKey: the JWK\'s "use" does not allow these usages', 'DataError');
    if (jwk.key_ops !== undefined) {
      if (!Array.isArray(jwk.key_ops)) throw dom('importKey: the JWK\'s key_ops is not a list', 'DataError');
      for (const u of usages) if (!jwk.key_ops.includes(u)) throw dom(`importKey: the JWK's key_ops lacks "${u}"`, 'DataError');
    }
    if (jwk.ext === false && extractable) throw dom('importKey: the JWK is not extractable', 'DataError');
    if (alg !== undefined && jwk.alg !== undefined && jwk.alg !== alg)
      throw dom(`importKey: the JWK's alg is not "${alg}"`, 'DataError');
  }
  const jwkCommon = (s) => ({ key_ops: s.usages.slice(), ext: s.extractable });

  // Ed25519 SPKI and PKCS#8 (RFC 8410) are a fixed prefix and the 32 bytes.
  const ED_SPKI = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];
  const ED_PKCS8 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
  function withPrefix(prefix, bytes) {
    const out = new Uint8Array(prefix.length + bytes.length);
    out.set(prefix);
    out.set(bytes, prefix.length);
    return out;
  }
  function stripPrefix(prefix, der, what) {
    if (der.length !== prefix.length + 32 || prefix.some((b, i) => der[i] !== b))
      throw dom(`importKey: not an Ed25519 ${what}`, 'DataError');
    return der.slice(prefix.length);
  }

  const HMAC_JWK_ALG = { 'SHA-1': 'HS1', 'SHA-256': 'HS256', 'SHA-384': 'HS384', 'SHA-512': 'HS512' };
  const ECDSA_JWK_ALG = { 'SHA-256': 'ES256', 'SHA-384': 'ES384', 'SHA-512': 'ES512' };

  /* Each algorithm's key handling: import(format, data, alg, extractable,
   * usages) -> CryptoKey, export(format, slot) -> result, generate(alg,
   * extractable, usages) -> CryptoKey or pair. */
  const KEYS = {
    HMAC: {
      import(format, data, alg, extractable, usages) {
        usages = requireUsages(usages, ['sign', 'verify'], 'importKey');
        let raw;
        if (format === 'raw') raw = copyOf(data, 'importKey: keyData');
        else if (format === 'jwk') {
          checkJwk(data, 'oct', usages, extractable, HMAC_JWK_ALG[alg.hash], 'sig');
          raw = b64urlDecode(data.k, 'k');
        } else throw dom(`importKey: HMAC keys cannot be imported as ${format}`, 'NotSupportedError');
        let length = raw.length * 8;
        if (length === 0) throw dom('importKey: an HMAC key cannot be empty', 'DataError');
        if (alg.length !== undefined) {
          if (alg.length > length || alg.length <= length - 8) throw dom('importKey: the length does not match the key', 'DataError');
          length = alg.length;
        }
        if (!usages.length) throw dom('importKey: a secret key needs usages', 'SyntaxError');
        return mintKey('secret', extractable, { name: 'HMAC', hash: { name: alg.hash }, length }, usages, { raw });
      },
      export(format, s) {
        if (format === 'raw') return s.data.raw.slice().buffer;
        if (format === 'jwk') return { kty: 'oct', k: b64encode(s.data.raw, true), alg: HMAC_JWK_ALG[s.algorithm.hash.name], ...jwkCommon(s) };
        throw dom(`exportKey: HMAC keys cannot be exported as ${format}`, 'NotSupportedError');
      },
      generate(alg, extractable, usages) {
        const length = alg.length === undefined ? HASH_BLOCK_BITS[alg.hash] : Number(alg.length);
        if (!(length > 0) || length % 8) throw dom('generateKey: the HMAC length must be a positive multiple of 8', 'OperationError');
        const raw = new Uint8Array(length / 8);
        native.random(raw);
        return this.import('raw', raw, { ...alg, length }, extractable, usages);
      },
    },
    'AES-GCM': {
      import(format, data, alg, extractable, usages) {
        usages = requireUsages(usages, ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'], 'importKey');
        let raw;
        if (format === 'raw') raw = copyOf(data, 'importKey: keyData');
        else if (format === 'jwk') {
          checkJwk(data, 'oct', usages, extractable, undefined, 'enc');
          raw = b64urlDecode(data.k, 'k');
          if (data.alg !== undefined && data.alg !== `A${raw.length * 8}GCM`) throw dom('importKey: the JWK\'s alg does not match its key', 'DataError');
        } else throw dom(`importKey: AES keys cannot be imported as ${format}`, 'NotSupportedError');
        if (![16, 24, 32].includes(raw.length)) throw dom('importKey: an AES key is 128, 192 or 256 bits', 'DataError');
        if (!usages.length) throw dom('importKey: a secret key needs usages', 'SyntaxError');
        return mintKey('secret', extractable, { name: 'AES-GCM', length: raw.length * 8 }, usages, { raw });
      },
      export(format, s) {
        if (format === 'raw') return s.data.raw.slice().buffer;
        if (format === 'jwk') return { kty: 'oct', k: b64encode(s.data.raw, true), alg: `A${s.algorithm.length}GCM`, ...jwkCommon(s) };
        throw dom(`exportKey: AES keys cannot be exported as ${format}`, 'NotSupportedError');
      },
      generate(alg, extractable, usages) {
        if (![128, 192, 256].includes(alg.length)) throw dom('generateKey: the AES length must be 128, 192 or 256', 'OperationError');
        const raw = new Uint8Array(alg.length / 8);
        native.random(raw);
        return this.import('raw', raw, alg, extractable, usages);
      },
    },
    HKDF: {
      import(format, data, alg, extractable, usages) {
        usages = requireUsages(usages, ['deriveKey', 'deriveBits'], 'importKey');
        if (format !== 'raw') throw dom(`importKey: HKDF keys cannot be imported as ${format}`, 'NotSupportedError');
        if (extractable) throw dom('importKey: an HKDF key cannot be extractable', 'SyntaxError');
        if (!usages.length) throw dom('importKey: a secret key needs usages', 'SyntaxError');
        return mintKey('secret', false, { name: 'HKDF' }, usages, { raw: copyOf(data, 'importKey: keyData') });
      },
    },
    ECDSA: {
      import(format, data, alg, extractable, usages) {
        if (alg.namedCurve !== 'P-256') throw dom(`importKey: the curve ${alg.namedCurve} is not supported (P-256 only)`, 'NotSupportedError');
        const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
        let pub, d;
        if (format === 'raw' || format === 'spki') {
          requireUsages(usages, ['verify'], 'importKey');
          const bytes = copyOf(data, 'importKey: keyData');
          pub = format === 'raw' ? bytes : new Uint8Array(native.p256FromSpki(bytes));
        } else if (format === 'jwk') {
          const priv = data !== null && typeof data === 'object' && data.d !== undefined;
          usages = requireUsages(usages, priv ? ['sign'] : ['verify'], 'importKey');
          checkJwk(data, 'EC', usages, extractable, undefined, 'sig');
          if (data.crv !== 'P-256') throw dom('importKey: the JWK\'s crv is not P-256', 'DataError');
          if (data.alg !== undefined && data.alg !== 'ES256') throw dom('importKey: the JWK\'s alg is not ES256', 'DataError');
          const x = b64urlDecode(data.x, 'x'), y = b64urlDecode(data.y, 'y');
          if (x.length !== 32 || y.length !== 32) throw dom('importKey: P-256 coordinates are 32 bytes', 'DataError');
          pub = withPrefix([4], withPrefix(x, y));
          if (priv) {
            d = b64urlDecode(data.d, 'd');
            if (d.length !== 32) throw dom('importKey: a P-256 private key is 32 bytes', 'DataError');
          }
        } else throw dom(`importKey: ECDSA keys cannot be imported as ${format}`, 'NotSupportedError');
        if (d) native.p256Check(pub, d);
        else native.p256Check(pub);
        if (d && !usages.length) throw dom('importKey: a private key needs usages', 'SyntaxError');
        return mintKey(d ? 'private' : 'public', d ? extractable : true, algorithm, usages, { d, pub });
      },
      export(format, s) {
        const pub = s.data.pub;
        if (format === 'raw' && s.type === 'public') return pub.slice().buffer;
        if (format === 'spki' && s.type === 'public') return native.p256Spki(pub);
        if (format === 'jwk') {
          const jwk = { kty: 'EC', crv: 'P-256', x: b64encode(pub.subarray(1, 33), true), y: b64encode(pub.subarray(33), true) };
          if (s.type === 'private') jwk.d = b64encode(s.data.d, true);
          return Object.assign(jwk, jwkCommon(s));
        }
        throw dom(`exportKey: this ECDSA key cannot be exported as ${format}`, 'NotSupportedError');
      },
      generate(alg, extractable, usages) {
        if (alg.namedCurve !== 'P-256') throw dom(`generateKey: the curve ${alg.namedCurve} is not supported (P-256 only)`, 'NotSupportedError');
        usages = requireUsages(usages, ['sign', 'verify'], 'generateKey');
        const [d, pub] = native.p256Generate().map((b) => new Uint8Array(b));
        const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
        return pair(mintKey('public', true, algorithm, usages.filter((u) => u === 'verify'), { pub }),
          mintKey('private', extractable, algorithm, usages.filter((u) => u === 'sign'), { d, pub }));
      },
    },
    Ed25519: {
      import(format, data, alg, extractable, usages) {
        let pub, seed;
        if (format === 'raw' || format === 'spki') {
          usages = requireUsages(usages, ['verify'], 'importKey');
          const bytes = copyOf(data, 'importKey: keyData');
          pub = format === 'raw' ? bytes : stripPrefix(ED_SPKI, bytes, 'SubjectPublicKeyInfo');
          if (pub.length !== 32) throw dom('importKey: an Ed25519 public key is 32 bytes', 'DataError');
        } else if (format === 'pkcs8') {
          usages = requireUsages(usages, ['sign'], 'importKey');
          seed = stripPrefix(ED_PKCS8, copyOf(data, 'importKey: keyData'), 'PKCS #8 key');
        } else if (format === 'jwk') {
          const priv = data !== null && typeof data === 'object' && data.d !== undefined;
          usages = requireUsages(usages, priv ? ['sign'] : ['verify'], 'importKey');
          checkJwk(data, 'OKP', usages, extractable, undefined, 'sig');
          if (data.crv !== 'Ed25519') throw dom('importKey: the JWK\'s crv is not Ed25519', 'DataError');
          if (data.alg !== undefined && data.alg !== 'EdDSA' && data.alg !== 'Ed25519') throw dom('importKey: the JWK\'s alg is not EdDSA', 'DataError');
          pub = b64urlDecode(data.x, 'x');
          if (pub.length !== 32) throw dom('importKey: an Ed25519 public key is 32 bytes', 'DataError');
          if (priv) {
            seed = b64urlDecode(data.d, 'd');
            if (seed.length !== 32) throw dom('importKey: an Ed25519 private key is 32 bytes', 'DataError');
          }
        } else throw dom(`importKey: Ed25519 keys cannot be imported as ${format}`, 'NotSupportedError');
        if (seed) {
          const derived = new Uint8Array(native.ed25519Public(seed));
          if (pub && pub.some((b, i) => b !== derived[i])) throw dom('importKey: the JWK\'s x is not the public key of d', 'DataError');
          pub = derived;
          if (!usages.length) throw dom('importKey: a private key needs usages', 'SyntaxError');
        }
        return mintKey(seed ? 'private' : 'public', seed ? extractable : true, { name: 'Ed25519' }, usages, { seed, pub });
      },
      export(format, s) {
        const pub = s.data.pub;
        if (format === 'raw' && s.type === 'public') return pub.slice().buffer;
        if (format === 'spki' && s.type === 'public') return withPrefix(ED_SPKI, pub).buffer;
        if (format === 'pkcs8' && s.type === 'private') return withPrefix(ED_PKCS8, s.data.seed).buffer;
        if (format === 'jwk') {
          const jwk = { kty: 'OKP', crv: 'Ed25519', x: b64encode(pub, true) };
          if (s.type === 'private') jwk.d = b64encode(s.data.seed, true);
          return Object.assign(jwk, jwkCommon(s));
        }
        throw dom(`exportKey: this Ed25519 key cannot be exported as ${format}`, 'NotSupportedError');
      },
      generate(alg, extractable, usages) {
        usages = requireUsages(usages, ['sign', 'verify'], 'generateKey');
        const [seed, pub] = native.ed25519Generate().map((b) => new Uint8Array(b));
        return pair(mintKey('public', true, { name: 'Ed25519' }, usages.filter((u) => u === 'verify'), { pub }),
          mintKey('private', extractable, { name: 'Ed25519' }, usages.filter((u) => u === 'sign'), { seed, pub }));
      },
    },
  };
  function pair(publicKey, privateKey) {
    if (!privateKey.usages.length) throw dom('generateKey: a private key needs usages', 'SyntaxError');
    return { publicKey, privateKey };
  }

  /* sign/verify per algorithm: (alg, slot, data[, signature]). */
  const SIGNERS = {
    HMAC: {
      sign: (alg, s, data) => native.hmac(HASHES[s.algorithm.hash.name], s.data.raw, data),
      verify(alg, s, sig, data) {
        const mac = new Uint8Array(native.hmac(HASHES[s.algorithm.hash.name], s.data.raw, data));
        return sig.length === mac.length && timingSafeEqual(mac, sig);
      },
    },
    ECDSA: {
      sign: (alg, s, data) => native.ecdsaSign(HASHES[alg.hash], s.data.d, s.data.pub, data),
      verify: (alg, s, sig, data) => native.ecdsaVerify(HASHES[alg.hash], s.data.pub, sig, data),
    },
    Ed25519: {
      sign: (alg, s, data) => native.ed25519Sign(s.data.seed, data),
      verify: (alg, s, sig, data) => native.ed25519Verify(s.data.pub, sig, data),
    },
  };

  function timingSafeEqual(a, b) {
    if (a.length !== b.length) throw new RangeError('timingSafeEqual: the inputs differ in length');
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  function aesGcm(encrypt, alg, key, data) {
    const s = checkKey(key, 'AES-GCM', encrypt ? 'encrypt' : 'decrypt');
    const iv = viewOf(alg.iv, 'AES-GCM: iv');
    const aad = alg.additionalData === undefined ? EMPTY : viewOf(alg.additionalData, 'AES-GCM: additionalData');
    const tagLength = alg.tagLength === undefined ? 128 : alg.tagLength;
    if (![32, 64, 96, 104, 112, 120, 128].includes(tagLength)) throw dom('AES-GCM: the tagLength is not allowed', 'OperationError');
    if (iv.length === 0) throw dom('AES-GCM: the iv is empty', 'OperationError');
    return native.aesGcm(encrypt, s.data.raw, iv, aad, tagLength / 8, data);
  }

  function hkdfBits(alg, key, length) {
    const s = checkKey(key, 'HKDF', 'deriveBits');
    if (length === null || length === undefined || length % 8 !== 0) throw dom('deriveBits: the HKDF length must be a multiple of 8', 'OperationError');
    if (length === 0) return new ArrayBuffer(0);
    return native.hkdf(HASHES[alg.hash], s.data.raw, viewOf(alg.salt, 'HKDF: salt'), viewOf(alg.info, 'HKDF: info'), length / 8);
  }

  /* What a method's arguments must be, then its body, as a Promise that is
   * settled before the method returns. */
  const settle = (fn) => {
    try { return Promise.resolve(fn()); } catch (e) { return Promise.reject(e); }
  };
  const needArgs = (args, n, name) => {
    if (args.length < n) throw new TypeError(`SubtleCrypto.${name}: ${n} arguments required, ${args.length} given`);
  };
  const FORMATS = ['raw', 'spki', 'pkcs8', 'jwk'];
  const checkFormat = (format) => {
    if (!FORMATS.includes(format)) throw new TypeError(`"${format}" is not a key format (raw, spki, pkcs8, jwk)`);
  };

  let subtleOk = false;
  class SubtleCrypto {
    constructor() { if (!subtleOk) ILLEGAL(); }
    digest(algorithm, data) {
      return settle(() => {
        needArgs(arguments, 2, 'digest');
        const alg = normalize(algorithm, 'digest');
        return native.digest(HASHES[alg.name], copyOf(data, 'digest: data'));
      });
    }
    sign(algorithm, key, data) {
      return settle(() => {
        needArgs(arguments, 3, 'sign');
        const alg = normalize(algorithm, 'sign');
        const s = checkKey(key, alg.name, 'sign');
        return SIGNERS[alg.name].sign(alg, s, copyOf(data, 'sign: data'));
      });
    }
    verify(algorithm, key, signature, data) {
      return settle(() => {
        needArgs(arguments, 4, 'verify');
        const alg = normalize(algorithm, 'verify');
        const s = checkKey(key, alg.name, 'verify');
        return SIGNERS[alg.name].verify(alg, s, copyOf(signature, 'verify: signature'), copyOf(data, 'verify: data'));
      });
    }
    encrypt(algorithm, key, data) {
      return settle(() => {
        needArgs(arguments, 3, 'encrypt');
        return aesGcm(true, normalize(algorithm, 'encrypt'), key, copyOf(data, 'encrypt: data'));
      });
    }
    decrypt(algorithm, key, data) {
      return settle(() => {
        needArgs(arguments, 3, 'decrypt');
        return aesGcm(false, normalize(algorithm, 'decrypt'), key, copyOf(data, 'decrypt: data'));
      });
    }
    generateKey(algorithm, extractable, keyUsages) {
      return settle(() => {
        needArgs(arguments, 3, 'generateKey');
        const alg = normalize(algorithm, 'generateKey');
        return KEYS[alg.name].generate(alg, !!extractable, Array.from(keyUsages));
      });
    }
    importKey(format, keyData, algorithm, extractable, keyUsages) {
      return settle(() => {
        needArgs(arguments, 5, 'importKey');
        checkFormat(format);
        const alg = normalize(algorithm, 'importKey');
        if (format === 'jwk' && (keyData === null || typeof keyData !== 'object' || ArrayBuffer.isView(keyData) || keyData instanceof ArrayBuffer))
          throw new TypeError('importKey: a JWK must be an object');
        if (format !== 'jwk' && !(keyData instanceof ArrayBuffer || ArrayBuffer.isView(keyData)))
          throw new TypeError('importKey: keyData is not a BufferSource');
        return KEYS[alg.name].import(format, keyData, alg, !!extractable, Array.from(keyUsages));
      });
    }
    exportKey(format, key) {
      return settle(() => {
        needArgs(arguments, 2, 'exportKey');
        checkFormat(format);
        const s = slot(key);
        if (!s.extractable) throw dom('exportKey: the key is not extractable', 'InvalidAccessError');
        const k = KEYS[s.algorithm.name];
        if (!k.export) throw dom(`exportKey: ${s.algorithm.name} keys cannot be exported`, 'NotSupportedError');
        return k.export(format, s);
      });
    }
    deriveBits(algorithm, baseKey, length) {
      return settle(() => {
        needArgs(arguments, 2, 'deriveBits');
        return hkdfBits(normalize(algorithm, 'deriveBits'), baseKey, length);
      });
    }
    deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
      return settle(() => {
        needArgs(arguments, 5, 'deriveKey');
        const alg = normalize(algorithm, 'deriveKey');
        const type = normalize(derivedKeyType, 'derivedKey');
        const s = checkKey(baseKey, alg.name, 'deriveKey');
        let length = type.length;
        if (type.name === 'HMAC' && length === undefined) length = HASH_BLOCK_BITS[type.hash];
        if (type.name === 'AES-GCM' && ![128, 192, 256].includes(length)) throw dom('deriveKey: the AES length must be 128, 192 or 256', 'OperationError');
        // deriveBits' check of the usage is deriveKey's here
        const bits = native.hkdf(HASHES[alg.hash], s.data.raw, viewOf(alg.salt, 'HKDF: salt'), viewOf(alg.info, 'HKDF: info'), Math.ceil(length / 8));
        return KEYS[type.name].import('raw', bits, type, !!extractable, Array.from(keyUsages));
      });
    }
    wrapKey() { return Promise.reject(dom('wrapKey is not supported', 'NotSupportedError')); }
    unwrapKey() { return Promise.reject(dom('unwrapKey is not supported', 'NotSupportedError')); }
  }
  subtleOk = true;
  const subtle = new SubtleCrypto();
  subtleOk = false;

  // ---- crypto ------------------------------------------------------------------
  const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    BigInt64Array, BigUint64Array];
  function getRandomValues(array) {
    if (!INTEGER_ARRAYS.some((T) => array instanceof T))
      throw dom('getRandomValues: the argument is not an integer-typed array', 'TypeMismatchError');
    if (array.byteLength > 65536)
      throw dom(`getRandomValues: ${array.byteLength} bytes asked for, more than 65536`, 'QuotaExceededError');
    native.random(array);
    return array;
  }
  function randomUUID() {
    const b = new Uint8Array(16);
    native.random(b);
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // variant 10
    const h = hex(b);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
  let cryptoOk = false;
  class Crypto {
    constructor() { if (!cryptoOk) ILLEGAL(); }
    get subtle() { return subtle; }
    getRandomValues(array) {
      if (!(this instanceof Crypto)) throw new TypeError('Illegal invocation');
      return getRandomValues(array);
    }
    randomUUID() { return randomUUID(); }
  }
  cryptoOk = true;
  const crypto = new Crypto();
  cryptoOk = false;

  // ---- Node's crypto subset ------------------------------------------------------
  const NODE_HASHES = { md5: 'MD5', sha1: 'SHA1', sha256: 'SHA256', sha384: 'SHA384', sha512: 'SHA512' };
  const nodeHash = (name) => {
    const h = NODE_HASHES[String(name).toLowerCase().replace(/^rsa-/, '').replace('-', '')];
    if (!h) throw new Error(`Digest method not supported: ${name}`);
    return h;
  };
  /* Node's Buffer when the kind has one (nodejs:*), else a Uint8Array. */
  const nodeBytes = (ab) => (typeof globalThis.Buffer === 'function' && globalThis.Buffer.from
    ? globalThis.Buffer.from(ab) : new Uint8Array(ab));
  function nodeInput(data, encoding) {
    if (typeof data === 'string') {
      const enc = encoding === undefined ? 'utf8' : String(encoding).toLowerCase();
      if (enc === 'utf8' || enc === 'utf-8') return new Uint8Array(native.utf8Encode(data));
      if (enc === 'hex') {
        const out = new Uint8Array(data.length >> 1);
        for (let i = 0; i < out.length; i++) {
          const v = parseInt(data.substr(i * 2, 2), 16);
          if (Number.isNaN(v)) return out.subarray(0, i); // Node stops at the first bad pair
          out[i] = v;
        }
        return out;
      }
      if (enc === 'base64' || enc === 'base64url') return b64decode(data.replace(/[^A-Za-z0-9+/_-]/g, '').replace(/-/g, '+').replace(/_/g, '/')) || EMPTY;
      if (enc === 'latin1' || enc === 'binary' || enc === 'ascii') return Uint8Array.from(data, (c) => c.charCodeAt(0) & 255);
      throw new TypeError(`Unknown encoding: ${encoding}`);
    }
    if (ArrayBuffer.isView(data)) return copyOf(data, 'data');
    throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
  }
  function nodeOutput(ab, encoding) {
    const b = new Uint8Array(ab);
    if (encoding === undefined || encoding === 'buffer') return nodeBytes(ab);
    switch (String(encoding).toLowerCase()) {
    case 'hex': return hex(b);
    case 'base64': return b64encode(b, false);
    case 'base64url': return b64encode(b, true);
    case 'latin1': case 'binary': return String.fromCharCode.apply(null, b);
    default: throw new TypeError(`Unknown encoding: ${encoding}`);
    }
  }
  /* Hash and Hmac keep the chunks and hash them at digest(): no native state
   * to free, at the cost of holding the input until then. */
  class Hash {
    constructor(algorithm, key) {
      this._h = nodeHash(algorithm);
      this._key = key;
      this._chunks = [];
      this._done = false;
    }
    update(data, encoding) {
      if (this._done) throw new Error('Digest already called');
      this._chunks.push(nodeInput(data, encoding));
      return this;
    }
    digest(encoding) {
      if (this._done) throw new Error('Digest already called');
      this._done = true;
      let n = 0;
      for (const c of this._chunks) n += c.length;
      const all = new Uint8Array(n);
      n = 0;
      for (const c of this._chunks) { all.set(c, n); n += c.length; }
      this._chunks = [];
      const out = this._key ? native.hmac(this._h, this._key, all) : native.digest(this._h, all);
      return nodeOutput(out, encoding);
    }
    copy() {
      if (this._done || this._key) throw new Error('Digest already called');
      const c = new Hash(Object.keys(NODE_HASHES).find((k) => NODE_HASHES[k] === this._h));
      c._chunks = this._chunks.slice();
      return c;
    }
  }
  const nodeCrypto = {
    createHash: (algorithm) => new Hash(algorithm),
    createHmac: (algorithm, key) => {
      if (key == null) throw new TypeError('The "key" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
      return new Hash(algorithm, nodeInput(key));
    },
    randomBytes(size, callback) {
      if (!Number.isInteger(size) || size < 0 || size > 2147483647) throw new RangeError(`The "size" argument is out of range: ${size}`);
      const out = new Uint8Array(size);
      native.random(out);
      const b = nodeBytes(out.buffer);
      if (typeof callback === 'function') {
        Promise.resolve().then(() => callback(null, b));
        return undefined;
      }
      return b;
    },
    randomUUID: () => randomUUID(),
    getRandomValues: (a) => getRandomValues(a),
    timingSafeEqual: (a, b) => timingSafeEqual(viewOf(a, 'a'), viewOf(b, 'b')),
    getHashes: () => Object.keys(NODE_HASHES),
    webcrypto: crypto,
    subtle,
  };

  return {
    TextEncoder, TextDecoder, atob, btoa, structuredClone, crypto, Crypto, CryptoKey, SubtleCrypto, DOMException,
    nodeCrypto: Object.freeze(nodeCrypto),
  };
})
