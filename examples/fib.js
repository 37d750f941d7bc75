// fib.js - CPU-bound work: the naive recursive Fibonacci number fib(n),
// n from params (default 25). Useful to watch timeouts and CPU time.
//   tfaas action create fib examples/fib.js
//   tfaas action invoke fib -p n 27 --result
function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

function main(params) {
  var n = params.n === undefined ? 25 : Number(params.n);
  if (!(n >= 0 && n <= 40 && Math.floor(n) === n)) {
    return { error: 'n must be an integer from 0 to 40' };
  }
  var start = Date.now();
  var value = fib(n);
  return { n: n, fib: value, ms: Date.now() - start };
}
