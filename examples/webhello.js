// webhello.js - a web action: `make run` deploys it with --web true, so it
// answers at /api/v1/web/guest/default/webhello without credentials.
//   tfaas action create webhello examples/webhello.js --web true
//   curl 'http://127.0.0.1:3233/api/v1/web/guest/default/webhello?name=Ada'
// The result is the HTTP answer: status, headers and body (OpenWhisk's
// web action contract); __ow_method is the request's method.
function main(params) {
  var name = params.name || 'world';
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body: '<p>Hello, ' + name.replace(/[<>&"]/g, '') + '! (' + params.__ow_method + ')</p>\n'
  };
}
