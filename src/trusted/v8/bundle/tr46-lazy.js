// tr46-lazy.js - what whatwg-url gets for `require("tr46")` in the enclave's
// bundle (build.mjs): host names made only of ASCII letters, digits, hyphens
// and dots, with no label starting "xn--", are answered here; anything else
// goes to the real tr46, loaded on first need. Why: tr46 builds its IDNA
// mapping table (some 9000 entries) when loaded, 35-60 ms of a function's
// first `new URL()`, and for such names UTS #46 processing is only
// lowercasing (every code point valid once mapped, no Bidi, no joiners, no
// combining marks, no Punycode), so both answers are the same.
let real;
const tr46 = () => real || (real = require('tr46/index.js'));
const plain = (domain) => /^[A-Za-z0-9.-]*$/.test(domain) && !/(^|\.)xn--/i.test(domain);

exports.toASCII = (domain, options) => (plain(domain) ? domain.toLowerCase() : tr46().toASCII(domain, options));
exports.toUnicode = (domain, options) =>
  plain(domain) ? { domain: domain.toLowerCase(), error: false } : tr46().toUnicode(domain, options);
