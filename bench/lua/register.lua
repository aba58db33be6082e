-- POST /e/{event}/register with a new registrant on every request (scenario register-hot).
--
-- Arguments (what the scenario's preparing callback returned):
--   args[1]  the "visitor" cookie one cookie-less GET of the event page was given, and
--   args[2]  the CSRF token that page carried (bound to that cookie, web/csrf.py). They go
--            back as the cookie and the X-CSRFToken header (as htmx sends it), so every
--            request passes the app's CSRF check like a browser's would.
--
-- The address and the form nonce are "<run>-<thread>-<n>": the run (wall-clock seconds at
-- start-up) keeps the warm-up's and the measured run's apart, setup() numbers the threads,
-- each thread counts its own requests. A repeated address would measure the "already
-- registered" path instead of a new registration.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
  thread:set("run", tostring(os.time()))
end

local counter = 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = "visitor=" .. args[1]
  wrk.headers["X-CSRFToken"] = args[2]
end

function request()
  counter = counter + 1
  local who = run .. "-" .. id .. "-" .. counter
  local body = "name=Bench+" .. who
    .. "&email=p" .. who .. "%40example.org"
    .. "&guests=0&consent=on&request_key=k" .. who
  return wrk.format(nil, nil, nil, body)
end
