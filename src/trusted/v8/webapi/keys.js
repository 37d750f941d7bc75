  /* keys.js - part of webapi.js (after encoding.js): CryptoKey, the
   * algorithm names Web Crypto knows here, and each algorithm's key import,
   * export and generation. */
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
