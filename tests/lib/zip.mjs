// zip.mjs - writes zip archives for the zip-action suites: honest ones from
// files (a directory of a real npm package among them) and hostile ones,
// whose headers say what an attacker wants (a symlink, an encrypted flag,
// a traversal path, a size that lies, a bomb). Deflate and CRC-32 are
// node:zlib's; only the container format is written here.
import { deflateRawSync, crc32 as zlibCrc32 } from 'node:zlib';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

// CRC-32 (zlib.crc32 exists from Node 20.15/22.2; a table otherwise).
let table;
function crc32(buf) {
  if (zlibCrc32) return zlibCrc32(buf) >>> 0;
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// entries: [{name, data (string|Buffer), store, method, flags, mode, declaredSize}]
// mode: a unix st_mode (0o120777 a symlink); flags bit 0: encrypted.
export function makeZip(entries) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const e of entries) {
    const raw = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '', 'utf8');
    const name = Buffer.from(e.name, 'utf8');
    const deflated = !e.store && !name.toString().endsWith('/');
    const body = deflated ? deflateRawSync(raw) : raw;
    const method = e.method ?? (deflated ? 8 : 0);
    const size = e.declaredSize ?? raw.length;
    const crc = crc32(raw);
    // the fields both headers share, from "version needed" to the name's length
    const shared = (b, at) => {
      b.writeUInt16LE(20, at);
      b.writeUInt16LE(e.flags ?? 0, at + 2);
      b.writeUInt16LE(method, at + 4);
      b.writeUInt32LE(crc, at + 10);
      b.writeUInt32LE(body.length, at + 14);
      b.writeUInt32LE(size, at + 18);
      b.writeUInt16LE(name.length, at + 22);
    };
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    shared(lh, 4);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE((3 << 8) | 20, 4); // made by unix
    shared(ch, 6);
    const mode = e.mode ?? (name.toString().endsWith('/') ? 0o40755 : 0o100644);
    ch.writeUInt32LE(((mode & 0xffff) << 16) >>> 0, 38);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, body);
    central.push(ch, name);
    offset += lh.length + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

// Entries for every file under dir, named prefix + its relative path.
export function dirEntries(dir, prefix) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...dirEntries(p, `${prefix}${name}/`));
    else if (st.isFile()) out.push({ name: prefix + name, data: readFileSync(p) });
  }
  return out;
}

// A zip of {path: text} plus whole npm packages copied unmodified from
// tests/node_modules (packages: names) into node_modules/.
export function zipOf(files, packages = [], modulesDir) {
  const entries = Object.entries(files).map(([name, data]) => ({ name, data }));
  for (const pkg of packages) entries.push(...dirEntries(join(modulesDir, pkg), `node_modules/${pkg}/`));
  return makeZip(entries);
}
