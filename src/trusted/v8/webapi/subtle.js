  /* subtle.js - part of webapi.js (after keys.js): signing, AES-GCM,
   * HKDF and SubtleCrypto's methods on the keys of keys.js. */
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
