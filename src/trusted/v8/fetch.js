// fetch.js - the V8 enclave's fetch(), Headers, Request, Response,
// AbortController/AbortSignal, timers and queueMicrotask, and the activation's
// event loop (src/trusted/v8/fetch.cc compiles it into each context; it is
// compiled into the enclave binary, so it is part of the measurement).
// `native` holds the C++ side: fetch (one blocking request, bounded by the
// activation's deadline), encode/decode (UTF-8). Returns {step, reset} for
// the shim's loop, and `api`, the globals (the shim installs each on first
// access); nothing here outlives an activation (reset).
(function (native) {
  'use strict';
  const g = globalThis;
  // What becomes global: the shim's placeholders (fetch.cc) answer with these.
  const api = {};

  // ---- timers and the loop -------------------------------------------
  const timers = new Map();
  let nextTimer = 1;
  const jobs = [];
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== 'function') throw new TypeError('The callback must be a function');
    ms = Number(ms);
    if (!(ms >= 1)) ms = 1;
    if (ms > 2147483647) ms = 1;
    const id = nextTimer++;
    timers.set(id, { id, fn, args, ms, due: Date.now() + ms, repeat });
    return id;
  }
  api.setTimeout = (function setTimeout(fn, ms, ...args) { return addTimer(fn, ms, args, false); });
  api.setInterval = (function setInterval(fn, ms, ...args) { return addTimer(fn, ms, args, true); });
  api.clearTimeout = (function clearTimeout(id) { timers.delete(Number(id)); });
  api.clearInterval = (function clearInterval(id) { timers.delete(Number(id)); });
  api.queueMicrotask = (function queueMicrotask(fn) {
    if (typeof fn !== 'function') throw new TypeError('The callback must be a function');
    Promise.resolve().then(() => fn());
  });

  // One step: a queued request, else the earliest due timer. Returns 0
  // after running something, the milliseconds until the next timer, or -1
  // when nothing is left that could settle a Promise.
  function step() {
    if (jobs.length) {
      runJob(jobs.shift());
      return 0;
    }
    let first = null;
    for (const t of timers.values()) if (!first || t.due < first.due) first = t;
    if (!first) return -1;
    const wait = first.due - Date.now();
    if (wait > 0) return wait;
    if (first.repeat) first.due = Date.now() + first.ms;
    else timers.delete(first.id);
    first.fn.apply(undefined, first.args);
    return 0;
  }
  function reset() {
    timers.clear();
    jobs.length = 0;
  }

  // ---- errors ---------------------------------------------------------
  function domError(message, name) {
    if (typeof g.DOMException === 'function') return new g.DOMException(message, name);
    const e = new Error(message);
    e.name = name;
    return e;
  }

  // ---- AbortController / AbortSignal ------------------------------------
  const internal = Symbol('internal');
  class AbortSignal {
    #aborted = false;
    #reason = undefined;
    #listeners = [];
    constructor(key) {
      if (key !== internal) throw new TypeError('Illegal constructor');
      this.onabort = null;
    }
    get aborted() { return this.#aborted; }
    get reason() { return this.#reason; }
    throwIfAborted() { if (this.#aborted) throw this.#reason; }
    addEventListener(type, fn) { if (type === 'abort' && typeof fn === 'function') this.#listeners.push(fn); }
    removeEventListener(type, fn) {
      const i = this.#listeners.indexOf(fn);
      if (type === 'abort' && i >= 0) this.#listeners.splice(i, 1);
    }
    static abort(reason) {
      const s = new AbortSignal(internal);
      s[internal](reason);
      return s;
    }
    static timeout(ms) {
      const s = new AbortSignal(internal);
      addTimer(() => s[internal](domError('The operation timed out.', 'TimeoutError')), ms, [], false);
      return s;
    }
    [internal](reason) {
      if (this.#aborted) return;
      this.#aborted = true;
      this.#reason = reason === undefined ? domError('This operation was aborted', 'AbortError') : reason;
      const ev = { type: 'abort', target: this };
      if (typeof this.onabort === 'function') this.onabort(ev);
      for (const fn of this.#listeners.slice()) fn(ev);
    }
  }
  class AbortController {
    #signal = new AbortSignal(internal);
    get signal() { return this.#signal; }
    abort(reason) { this.#signal[internal](reason); }
  }

  // ---- Headers -----------------------------------------------------------
  const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  function headerName(n) {
    n = String(n);
    if (!TOKEN.test(n)) throw new TypeError(`Invalid header name '${n}'`);
    return n.toLowerCase();
  }
  function headerValue(v) {
    v = String(v).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    if (/[\0\r\n]/.test(v)) throw new TypeError('Invalid header value');
    return v;
  }
  class Headers {
    #list = [];
    constructor(init) {
      if (init == null) return;
      if (init instanceof Headers) {
        for (const [k, v] of init.#list) this.#list.push([k, v]);
      } else if (typeof init === 'object' && typeof init[Symbol.iterator] === 'function') {
        for (const pair of init) {
          const p = Array.from(pair);
          if (p.length !== 2) throw new TypeError('A header pair must have exactly two items');
          this.append(p[0], p[1]);
        }
      } else if (typeof init === 'object') {
        for (const k of Object.keys(init)) this.append(k, init[k]);
      } else {
        throw new TypeError('Headers: init must be an object, an iterable of pairs or Headers');
      }
    }
    append(n, v) { this.#list.push([headerName(n), headerValue(v)]); }
    set(n, v) {
      n = headerName(n);
      v = headerValue(v);
      this.#list = this.#list.filter(([k]) => k !== n);
      this.#list.push([n, v]);
    }
    delete(n) { n = headerName(n); this.#list = this.#list.filter(([k]) => k !== n); }
    get(n) {
      n = headerName(n);
      const vs = this.#list.filter(([k]) => k === n).map(([, v]) => v);
      return vs.length ? vs.join(', ') : null;
    }
    getSetCookie() { return this.#list.filter(([k]) => k === 'set-cookie').map(([, v]) => v); }
    has(n) { n = headerName(n); return this.#list.some(([k]) => k === n); }
    // sorted by name, values of one name combined (set-cookie kept apart)
    *entries() {
      const names = [...new Set(this.#list.map(([k]) => k))].sort();
      for (const n of names) {
        if (n === 'set-cookie') for (const v of this.getSetCookie()) yield [n, v];
        else yield [n, this.get(n)];
      }
    }
    *keys() { for (const [k] of this.entries()) yield k; }
    *values() { for (const [, v] of this.entries()) yield v; }
    [Symbol.iterator]() { return this.entries(); }
    forEach(fn, thisArg) { for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this); }
    [internal]() { return this.#list.flat(); }
  }

  // ---- bodies ------------------------------------------------------------
  // A body is null, a string or an ArrayBuffer (copied from views), plus the
  // content type it implies.
  function extractBody(body) {
    if (body == null) return [null, null];
    if (typeof body === 'string') return [body, 'text/plain;charset=UTF-8'];
    if (body instanceof ArrayBuffer) return [body.slice(0), null];
    if (ArrayBuffer.isView(body)) return [body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength), null];
    if (typeof g.URLSearchParams === 'function' && body instanceof g.URLSearchParams)
      return [body.toString(), 'application/x-www-form-urlencoded;charset=UTF-8'];
    return [String(body), 'text/plain;charset=UTF-8'];
  }
  class BodyState {
    constructor(body) { this.body = body; this.used = false; }
    take() {
      if (this.used) throw new TypeError('Body has already been used');
      this.used = true;
      return this.body;
    }
  }
  const asText = (b) => (b == null ? '' : typeof b === 'string' ? b : native.decode(b));
  const asBuffer = (b) => (b == null ? new ArrayBuffer(0) : typeof b === 'string' ? native.encode(b) : b.slice(0));
  function bodyMethods(proto, state) {
    Object.defineProperties(proto, {
      bodyUsed: { get() { return state(this).used; }, configurable: true },
      body: { get() { return null; }, configurable: true }, // no streams (docs/api.md)
      text: reader((b) => asText(b)),
      json: reader((b) => JSON.parse(asText(b))),
      arrayBuffer: reader((b) => asBuffer(b)),
    });
    // body -> Promise of convert(body); a used body or a bad JSON rejects
    function reader(convert) {
      return { value: function () {
        try { return Promise.resolve(convert(state(this).take())); } catch (e) { return Promise.reject(e); }
      }, writable: true, configurable: true };
    }
  }

  // Read-only properties of the objects' hidden state (a WeakMap).
  function accessors(proto, store, names) {
    for (const n of names) Object.defineProperty(proto, n, { get() { return store.get(this)[n]; }, configurable: true });
  }

  // ---- Request -------------------------------------------------------------
  const METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'];
  const REDIRECTS = ['follow', 'error', 'manual'];
  const requests = new WeakMap();
  class Request {
    constructor(input, init = {}) {
      const base = input instanceof Request ? requests.get(input) : null;
      if (init === null || typeof init !== 'object') init = {};
      let url = base ? base.url : String(input);
      if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(url)) throw new TypeError(`Invalid URL: '${url}'`);
      let method = init.method !== undefined ? String(init.method) : base ? base.method : 'GET';
      if (!TOKEN.test(method)) throw new TypeError(`Invalid method '${method}'`);
      if (METHODS.includes(method.toUpperCase())) method = method.toUpperCase();
      if (['CONNECT', 'TRACE', 'TRACK'].includes(method.toUpperCase())) throw new TypeError(`Forbidden method '${method}'`);
      const headers = new Headers(init.headers !== undefined ? init.headers : base ? base.headers : undefined);
      let body = base ? base.state.body : null;
      if (init.body !== undefined) {
        const [b, type] = extractBody(init.body);
        body = b;
        if (type && !headers.has('content-type')) headers.set('content-type', type);
      }
      if (body != null && (method === 'GET' || method === 'HEAD'))
        throw new TypeError('Request with GET/HEAD method cannot have body.');
      const redirect = init.redirect !== undefined ? String(init.redirect) : base ? base.redirect : 'follow';
      if (!REDIRECTS.includes(redirect)) throw new TypeError(`Invalid redirect mode '${redirect}'`);
      const signal = init.signal !== undefined ? init.signal : base ? base.signal : null;
      if (signal != null && !(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
      requests.set(this, { url, method, headers, redirect, signal: signal || new AbortSignal(internal), state: new BodyState(body) });
    }
    clone() {
      const r = requests.get(this);
      if (r.state.used) throw new TypeError('Body has already been used');
      return new Request(this);
    }
  }
  accessors(Request.prototype, requests, ['url', 'method', 'headers', 'redirect', 'signal']);
  bodyMethods(Request.prototype, (r) => requests.get(r).state);

  // ---- Response ------------------------------------------------------------
  const responses = new WeakMap();
  class Response {
    constructor(body = null, init = {}) {
      if (init === null || typeof init !== 'object') init = {};
      const inner = init[internal];
      const status = inner ? inner.status : init.status !== undefined ? Number(init.status) : 200;
      if (!inner && !(Number.isInteger(status) && status >= 200 && status <= 599))
        throw new RangeError(`The status provided (${init.status}) is outside the range [200, 599].`);
      const headers = new Headers(init.headers);
      const [b, type] = inner ? [body, null] : extractBody(body);
      if (!inner && b != null && [101, 204, 205, 304].includes(status)) throw new TypeError('Response with null body status cannot have body');
      if (type && !headers.has('content-type')) headers.set('content-type', type);
      responses.set(this, {
        status, statusText: init.statusText !== undefined ? String(init.statusText) : '',
        headers, url: inner ? inner.url : '', redirected: inner ? inner.redirected : false,
        type: inner ? 'basic' : 'default', state: new BodyState(b),
      });
    }
    get ok() { const s = responses.get(this).status; return s >= 200 && s <= 299; }
    clone() {
      const r = responses.get(this);
      if (r.state.used) throw new TypeError('Body has already been used');
      const body = r.state.body;
      return new Response(body, { [internal]: r, statusText: r.statusText, headers: r.headers });
    }
    static json(data, init = {}) {
      const headers = new Headers(init && init.headers);
      if (!headers.has('content-type')) headers.set('content-type', 'application/json');
      return new Response(JSON.stringify(data), { ...init, headers });
    }
    static redirect(url, status = 302) {
      if (![301, 302, 303, 307, 308].includes(status)) throw new RangeError('Invalid redirect status');
      return new Response(null, { status, headers: { location: String(url) } });
    }
    static error() { return new Response(null, { [internal]: { status: 0, url: '', redirected: false } }); }
  }
  accessors(Response.prototype, responses, ['status', 'statusText', 'headers', 'url', 'redirected', 'type']);
  bodyMethods(Response.prototype, (r) => responses.get(r).state);

  // ---- fetch -------------------------------------------------------------
  function runJob(job) {
    if (job.done) return;
    job.done = true;
    const r = requests.get(job.req);
    if (r.signal.aborted) return job.reject(r.signal.reason);
    let out;
    try {
      const body = r.state.body;
      out = native.fetch(r.method, r.url, r.headers[internal](), body == null ? undefined : body, r.redirect);
    } catch (e) {
      return job.reject(e);
    }
    const [status, statusText, url, redirected, flat, buffer] = out;
    const headers = new Headers();
    for (let i = 0; i < flat.length; i += 2) headers.append(flat[i], flat[i + 1]);
    job.resolve(new Response(buffer, { [internal]: { status, url, redirected }, statusText, headers }));
  }
  api.fetch = (function fetch(input, init) {
    let req;
    try {
      req = new Request(input, init);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      const signal = requests.get(req).signal;
      if (signal.aborted) return reject(signal.reason);
      const job = { req, resolve, reject, done: false };
      // An abort while the request waits for its turn rejects it at once;
      // a running request is bounded by the activation's time limit.
      signal.addEventListener('abort', () => {
        if (job.done) return;
        job.done = true;
        reject(signal.reason);
      });
      jobs.push(job);
    });
  });
  Object.assign(api, { Headers, Request, Response, AbortController, AbortSignal });
  return { step, reset, api };
})
