// loader.js - CommonJS for actions on tfaas-enclave-v8: require() of the
// files of a zip action (relative paths, JSON, node_modules with package.json
// "main" and "exports", directories with index.js), cycles and caching as
// Node does them, and for nodejs:* kinds the Node built-ins (bundled npm
// ports, compiled on first require) and the `process` object.
//
// It runs inside the action's own context: whatever the action does to it
// harms only itself. All it can read is the archive, through `native`
// (src/trusted/v8/node_surface.cc): read(path) gives a file's text or
// undefined, isFile(path) and isDir(path) whether it is a file or has files
// under it, compile(text, name) a function (exports, require, module,
// __filename, __dirname), isBuiltin(name) and builtin(name) whether a
// built-in is bundled and its source. Paths are archive-relative
// ("lib/a.js"); modules see them under ROOT ("/action/lib/a.js").
//
// Evaluates to a function (native, node) returning {require, main(),
// process, Buffer(), setEnv}.
(function (native, node) {
  'use strict';
  const ROOT = '/action';
  // Node's built-ins that tfaas does not offer: require() names the gap
  // instead of searching node_modules for them.
  const ABSENT = new Set(['child_process', 'cluster', 'dgram', 'diagnostics_channel', 'dns', 'fs', 'fs/promises',
    'http', 'http2', 'https', 'inspector', 'module', 'net', 'os', 'perf_hooks', 'readline', 'repl', 'stream',
    'stream/promises', 'tls', 'trace_events', 'tty', 'v8', 'vm', 'wasi', 'worker_threads', 'zlib', 'async_hooks',
    'constants', 'domain', 'punycode', 'process', 'sys', 'timers', 'timers/promises']);
  const CRYPTO_HOOK = Symbol.for('tfaas.node.crypto');

  const cache = Object.create(null); // archive path -> Module
  const builtinCache = Object.create(null);

  function Module(id, path) {
    this.id = id;
    this.path = path; // archive-relative, '' for built-ins
    this.filename = path === null ? id : ROOT + '/' + path;
    this.loaded = false;
    this.exports = {};
    this.children = [];
  }

  function notFound(spec, parent) {
    const e = new Error("Cannot find module '" + spec + "'" +
      (parent && parent.filename ? '\nRequire stack:\n- ' + parent.filename : ''));
    e.code = 'MODULE_NOT_FOUND';
    return e;
  }

  // Joins and normalises archive-relative segments; null when '..' would
  // leave the archive.
  function normalize(path) {
    const out = [];
    for (const seg of path.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') {
        if (!out.length) return null;
        out.pop();
      } else {
        out.push(seg);
      }
    }
    return out.join('/');
  }
  function join(a, b) { return a ? a + '/' + b : b; }
  function dirOf(p) { const i = p.lastIndexOf('/'); return i < 0 ? '' : p.slice(0, i); }

  function isFile(p) { return p !== '' && native.isFile(p); }
  function tryFile(p) {
    for (const ext of ['', '.js', '.json', '.cjs']) if (isFile(p + ext)) return p + ext;
    return null;
  }
  function tryIndex(p) {
    for (const f of ['index.js', 'index.json', 'index.cjs']) if (isFile(join(p, f))) return join(p, f);
    return null;
  }
  function readPackage(dir) {
    const text = native.read(join(dir, 'package.json'));
    if (text === undefined) return null;
    try {
      return JSON.parse(text);
    } catch (e) {
      const err = new Error('Invalid package config ' + ROOT + '/' + join(dir, 'package.json') + ': ' + e.message);
      err.code = 'ERR_INVALID_PACKAGE_CONFIG';
      throw err;
    }
  }
  function tryDir(p) {
    const pkg = readPackage(p);
    if (pkg && typeof pkg.main === 'string' && pkg.main) {
      const m = normalize(join(p, pkg.main));
      const f = m !== null && (tryFile(m) || tryIndex(m));
      if (f) return f;
    }
    return tryIndex(p);
  }

  // package.json "exports" with the conditions a require() matches.
  const CONDITIONS = ['require', 'node', 'default'];
  function exportTarget(t) {
    if (typeof t === 'string') return t;
    if (Array.isArray(t)) {
      for (const x of t) { const r = exportTarget(x); if (r) return r; }
      return null;
    }
    if (t && typeof t === 'object') {
      for (const k of Object.keys(t)) if (CONDITIONS.includes(k)) { const r = exportTarget(t[k]); if (r) return r; }
    }
    return null;
  }
  function resolveExports(dir, exp, sub, spec, parent) {
    let map = exp;
    if (typeof exp === 'string' || Array.isArray(exp) || !Object.keys(exp).some((k) => k.startsWith('.')))
      map = { '.': exp };
    let target = null;
    if (Object.prototype.hasOwnProperty.call(map, sub)) {
      target = exportTarget(map[sub]);
    } else {
      for (const k of Object.keys(map)) {
        const star = k.indexOf('*');
        if (star < 0 || !sub.startsWith(k.slice(0, star)) || !sub.endsWith(k.slice(star + 1))) continue;
        const t = exportTarget(map[k]);
        if (t) target = t.split('*').join(sub.slice(star, sub.length - (k.length - star - 1)));
        break;
      }
    }
    const p = target && target.startsWith('./') ? normalize(join(dir, target)) : null;
    // a target must stay inside its package, as Node requires
    if (p === null || !(p === dir || p.startsWith(dir + '/')) || !isFile(p)) {
      const e = new Error("Package subpath '" + sub + "' is not defined by \"exports\" in " + ROOT + '/' +
        join(dir, 'package.json') + (parent ? ' imported from ' + parent.filename : ''));
      e.code = 'ERR_PACKAGE_PATH_NOT_EXPORTED';
      throw e;
    }
    return p;
  }

  function resolvePackage(spec, parent) {
    const parts = spec.split('/');
    const nameLen = spec[0] === '@' ? 2 : 1;
    const name = parts.slice(0, nameLen).join('/');
    const sub = parts.length > nameLen ? './' + parts.slice(nameLen).join('/') : '.';
    for (let dir = parent ? dirOf(parent.path) : ''; ; dir = dirOf(dir)) {
      if (!dir.endsWith('node_modules')) {
        const pkgDir = normalize(join(join(dir, 'node_modules'), name));
        if (pkgDir !== null && native.isDir(pkgDir)) {
          const pkg = readPackage(pkgDir);
          if (pkg && pkg.exports !== undefined && pkg.exports !== null)
            return resolveExports(pkgDir, pkg.exports, sub, spec, parent);
          const p = normalize(join(pkgDir, sub));
          const f = p !== null && (tryFile(p) || tryDir(p));
          if (f) return f;
        }
      }
      if (dir === '') return null;
    }
  }

  function resolve(spec, parent) {
    if (typeof spec !== 'string' || spec === '') {
      const e = new TypeError('The "id" argument must be a non-empty string. Received ' + String(spec));
      e.code = 'ERR_INVALID_ARG_VALUE';
      throw e;
    }
    let f = null;
    if (spec === '.' || spec === '..' || spec.startsWith('./') || spec.startsWith('../') || spec.startsWith('/')) {
      let p;
      if (spec.startsWith('/'))
        p = spec === ROOT || spec.startsWith(ROOT + '/') ? normalize(spec.slice(ROOT.length)) : null;
      else p = normalize(join(parent ? dirOf(parent.path) : '', spec));
      f = p !== null && (tryFile(p) || tryDir(p));
    } else {
      f = resolvePackage(spec, parent);
    }
    if (!f) throw notFound(spec, parent);
    return f;
  }

  function builtin(name) {
    if (builtinCache[name]) return builtinCache[name].exports;
    if (name === 'crypto') {
      // The Web-API side installs Node's crypto subset here (docs/api.md).
      const c = globalThis[CRYPTO_HOOK];
      if (c !== undefined) return c;
      throw Object.assign(new Error("The Node built-in module 'crypto' is not available in this tfaas build"),
        { code: 'ERR_TFAAS_NO_BUILTIN' });
    }
    const text = native.builtin(name);
    if (text === undefined) return undefined;
    const m = new Module('node:' + name, null);
    builtinCache[name] = m;
    try {
      native.compile(text, 'node:' + name).call(m.exports, m.exports, makeRequire(m), m, m.filename, '/');
    } catch (e) {
      delete builtinCache[name];
      throw e;
    }
    m.loaded = true;
    return m.exports;
  }

  function load(path, parent) {
    const cached = cache[path];
    if (cached) {
      if (parent && !parent.children.includes(cached)) parent.children.push(cached);
      return cached; // a cycle gets the exports as they are so far, as in Node
    }
    const m = new Module(ROOT + '/' + path, path);
    cache[path] = m;
    if (parent) parent.children.push(m);
    try {
      const text = native.read(path);
      if (path.endsWith('.json')) {
        try {
          m.exports = JSON.parse(text);
        } catch (e) {
          e.message = m.filename + ': ' + e.message;
          throw e;
        }
      } else {
        native.compile(text, m.filename).call(m.exports, m.exports, makeRequire(m), m, m.filename,
          ROOT + (dirOf(path) ? '/' + dirOf(path) : ''));
      }
    } catch (e) {
      delete cache[path];
      throw e;
    }
    m.loaded = true;
    return m;
  }

  function requireFrom(parent, spec) {
    if (typeof spec === 'string') {
      let bare = spec.startsWith('node:') ? spec.slice(5) : spec;
      // The ports name each other's npm package ("util/" in assert): that
      // package is the built-in here.
      if (parent && parent.path === null && bare.endsWith('/')) bare = bare.slice(0, -1);
      if (bare === 'crypto' || native.isBuiltin(bare)) {
        if (!node) {
          throw Object.assign(new Error("The Node built-in module '" + bare + "' is available to nodejs:* kinds only"),
            { code: 'ERR_TFAAS_NO_BUILTIN' });
        }
        return builtin(bare);
      }
      if (ABSENT.has(bare)) {
        throw Object.assign(new Error("The Node built-in module '" + bare + "' is not available in tfaas: " +
          'functions have no file system, processes or raw network access (docs/api.md)'),
          { code: 'ERR_TFAAS_NO_BUILTIN' });
      }
      if (spec.startsWith('node:')) throw notFound(spec, parent);
    }
    return load(resolve(spec, parent), parent).exports;
  }

  function makeRequire(m) {
    const r = function require(spec) { return requireFrom(m, spec); };
    r.resolve = function (spec) {
      const bare = typeof spec === 'string' && spec.startsWith('node:') ? spec.slice(5) : spec;
      if (typeof bare === 'string' && (bare === 'crypto' || native.isBuiltin(bare))) return bare;
      return ROOT + '/' + resolve(spec, m);
    };
    r.cache = cache;
    return r;
  }

  // process for nodejs:* kinds: env holds OpenWhisk's __OW_* values, set
  // before every load and call (setEnv); no argv, no exit, no clock. The
  // native side puts it, require and Buffer on the global object, each made
  // when first read (node_surface.cc).
  const env = {};
  const process = {
    env,
    title: 'node',
    version: 'v18.20.4',
    versions: { node: '18.20.4' },
    platform: 'linux',
    arch: 'x64',
    argv: ['node'],
    execArgv: [],
    pid: 1,
    browser: false,
    cwd() { return ROOT; },
    nextTick(fn, ...args) { Promise.resolve().then(() => fn(...args)); },
    emitWarning() {},
    on() { return process; },
    once() { return process; },
    off() { return process; },
    removeListener() { return process; },
    listeners() { return []; },
    emit() { return false; },
  };
  const topRequire = makeRequire(new Module('.', ''));

  return {
    require: topRequire,
    // The zip's main module: package.json "main" at the top, else index.js.
    main() {
      const f = tryDir('');
      if (!f) {
        throw new Error('The zip action has no main module: give package.json a "main" or add index.js at the top ' +
          'of the archive');
      }
      return load(f, null).exports;
    },
    process,
    // Buffer as Node has it: the `buffer` port's, compiled on first use.
    Buffer() { return builtin('buffer').Buffer; },
    setEnv(values) {
      const e = process.env;
      if (typeof e !== 'object' || e === null) return;
      for (const k of Object.keys(e)) if (k.startsWith('__OW_')) delete e[k];
      Object.assign(e, values);
    },
  };
})
