// The three benchmark functions, written exactly as they are deployed to tfaas
// (OpenWhisk style: main(params) returns an object), behind a tiny router that
// does what the tfaas gateway does for a blocking invoke with result=true:
// parse the JSON body as params, call main, answer with the result as JSON.

function hello(params) {
  return { greeting: 'Hello, ' + (params.name || 'world') + '!' };
}

function echo(params) {
  return params;
}

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function fib25() {
  return { fib25: fib(25) };
}

const actions = { hello, echo, fib: fib25 };

export default {
  async fetch(request) {
    const name = new URL(request.url).pathname.slice(1);
    const main = actions[name];
    if (!main) {
      return Response.json({ error: 'The requested resource does not exist.', code: 'not_found' }, { status: 404 });
    }
    let params = {};
    if (request.method === 'POST') {
      const text = await request.text();
      if (text.length > 0) {
        try {
          params = JSON.parse(text);
        } catch {
          return Response.json({ error: 'The request content was malformed.', code: 'bad_request' }, { status: 400 });
        }
      }
    }
    return Response.json(main(params));
  },
};
