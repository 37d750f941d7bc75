// url.js - the entry of the URL bundle: whatwg-url's URL and URLSearchParams
// (the WHATWG URL Standard), installed as globals of tfaas-enclave-v8 on
// first use (src/trusted/v8/webapi.cc).
const { URL, URLSearchParams } = require('whatwg-url');

module.exports = { URL, URLSearchParams };
