// echo.js - returns its parameters unchanged: shows how invocation
// parameters and an action's default parameters arrive in `params`.
//   tfaas action create echo examples/echo.js
//   tfaas action invoke echo -p a 1 -p b '"two"' --result
function main(params) {
  return params;
}
