// hello.js - the smallest useful action: greets params.name.
//   tfaas action create hello examples/hello.js
//   tfaas action invoke hello -p name Ada --result
function main(params) {
  return { greeting: 'Hello, ' + (params.name || 'world') + '!' };
}
