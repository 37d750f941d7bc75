  /* encoding.js - part of webapi.js (after base.js): atob/btoa,
   * TextEncoder/TextDecoder and structuredClone. */
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
