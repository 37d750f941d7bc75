# summary.awk - one line from post.lua's BENCH line (key=value fields): the
# label (-v l=LABEL), requests/s, p50, p99 and the errors of every kind.
{
  for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  printf "%-28s %7.0f req/s  p50 %6.2f ms  p99 %6.2f ms  errors %d\n", l, v["rps"], v["p50_us"] / 1000,
    v["p99_us"] / 1000, v["err_status"] + v["err_timeout"] + v["err_read"] + v["err_connect"] + v["err_write"]
}
