// expect.mjs - the assertions the suites share about OpenWhisk errors: an
// HTTP answer carrying the {"error", "code"} body, and a promise of the
// `openwhisk` client rejected with a given HTTP status.
import assert from 'node:assert/strict';

// r is an api() answer (server.mjs): status, JSON content type, a string
// error and a 32-hex request id; message (a string, or a RegExp) when given.
export function assertError(r, status, message) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/);
  assert.equal(typeof r.body?.error, 'string', r.text);
  assert.match(r.body.code, /^[0-9a-f]{32}$/, `code is a request id: ${r.text}`);
  if (message instanceof RegExp) assert.match(r.body.error, message);
  else if (message !== undefined) assert.equal(r.body.error, message);
}

// Asserts that PROMISE rejects with an OpenWhiskError of HTTP status STATUS;
// returns the error for further checks.
export async function rejectsWith(promise, status) {
  let err;
  try {
    const value = await promise;
    assert.fail(`expected a rejection with HTTP ${status}, got ${JSON.stringify(value)}`);
  } catch (e) {
    err = e;
  }
  if (err instanceof assert.AssertionError) throw err;
  assert.equal(err.statusCode, status, `status of: ${err.message}`);
  return err;
}
