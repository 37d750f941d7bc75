  /* crypto.js - the last part of webapi.js (after subtle.js): the crypto
   * object, Node's crypto subset, and the globals the function returns. */
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
