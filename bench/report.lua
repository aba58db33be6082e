-- wrk report for bench/harness.py: one machine-readable line, prefixed with "BENCH_JSON ".
--
-- wrk gives durations and latencies in microseconds; this prints milliseconds and seconds.
-- summary.errors.status counts responses with a status of 400 or above (wrk's rule), so
-- 2xx and 3xx answers are successes. A custom request-building script (POST scenarios)
-- is prepended to this file by the harness: such a script must not define done() itself.

local function ms(microseconds)
  return microseconds / 1000.0
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local rate = 0
  if seconds > 0 then
    rate = summary.requests / seconds
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {"
      .. '"requests": %d, "duration_s": %.6f, "requests_per_s": %.3f, "bytes": %d, '
      .. '"latency_ms": {"mean": %.3f, "p50": %.3f, "p90": %.3f, "p99": %.3f, "max": %.3f}, '
      .. '"errors": {"status": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}'
      .. "}\n",
    summary.requests, seconds, rate, summary.bytes,
    ms(latency.mean), ms(latency:percentile(50)), ms(latency:percentile(90)),
    ms(latency:percentile(99)), ms(latency.max),
    e.status, e.connect, e.read, e.write, e.timeout
  ))
end
