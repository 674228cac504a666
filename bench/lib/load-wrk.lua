-- wrk's done() hook for bench/lib/load-wrk.ts: prints, as plain lines that file parses,
--   wrk-cpu <s>      CPU seconds the whole wrk process used until now (all threads, exited ones included), read
--                    before this hook does its own work so that dumping the histogram is not counted
--   wrk-summary <duration µs> <responses> <bytes read> <connect> <read> <write> <status> <timeout errors>
--   wrk-bin <µs> <count>   one line per distinct latency: wrk's whole histogram (1 µs bins), not a few percentiles,
--                    so that rounds can be merged and any percentile taken exactly
--   wrk-end <bins>   the number of wrk-bin lines, so a cut-off output is detected
function done(summary, latency, requests)
  io.write(string.format("wrk-cpu %.6f\n", os.clock()))
  local e = summary.errors
  io.write(string.format("wrk-summary %d %d %d %d %d %d %d %d\n", summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout))
  local n = #latency
  local out = {}
  for i = 1, n do
    local value, count = latency(i)
    out[#out + 1] = string.format("wrk-bin %d %d\n", value, count)
  end
  io.write(table.concat(out))
  io.write(string.format("wrk-end %d\n", n))
end
