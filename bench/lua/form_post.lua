-- Example request builder for POST scenarios: the same form body on every request.
--
-- Arguments (the seeding callback's return value, passed after wrk's "--"):
--   args[1]  the request body, already URL-encoded, e.g. "name=Ada&guests=0"
--   args[2]  optional Content-Type (default application/x-www-form-urlencoded)
--   args[3]  optional extra header line "Name: value", e.g. a CSRF header
--
-- A scenario that needs a different request each time (one registration per attendee,
-- one check-in per ticket) defines request() instead and calls wrk.format() itself, e.g.
--   local n = 0
--   function request()
--     n = n + 1
--     return wrk.format("POST", "/e/some-event/register", nil, "email=a" .. n .. "@x.org")
--   end
-- wrk runs init() and request() in each thread's own Lua state: counters are per thread,
-- so mix the thread's id in (setup(thread) can give each one an id) when values must be
-- unique across threads. bench/report.lua supplies done(); do not define it here.

function init(args)
  wrk.method = "POST"
  wrk.body = args[1] or ""
  wrk.headers["Content-Type"] = args[2] or "application/x-www-form-urlencoded"
  if args[3] then
    local name, value = args[3]:match("^([^:]+):%s*(.*)$")
    if name then
      wrk.headers[name] = value
    end
  end
end
