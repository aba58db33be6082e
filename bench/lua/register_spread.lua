-- POST /e/{event}/register over many events, a new registrant on every request (scenario
-- register-spread): the same form as bench/lua/register.lua, but each request goes to the
-- next event of the seeded list, so no single event row is the hot spot.
--
-- Arguments: args[1] the file of seeded event slugs (one per line), args[2] the "visitor"
-- cookie and args[3] the CSRF token bound to it (web/csrf.py; the token is bound to the
-- cookie, not to an event, so one pair serves every event's form).

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
  thread:set("run", tostring(os.time()))
end

local slugs = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    slugs[#slugs + 1] = line
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = "visitor=" .. args[2]
  wrk.headers["X-CSRFToken"] = args[3]
  counter = (id - 1) * 7919  -- the threads start at different events
end

function request()
  counter = counter + 1
  local slug = slugs[(counter % #slugs) + 1]
  local who = run .. "-" .. id .. "-" .. counter
  local body = "name=Bench+" .. who
    .. "&email=p" .. who .. "%40example.org"
    .. "&guests=0&consent=on&request_key=k" .. who
  return wrk.format(nil, "/e/" .. slug .. "/register", nil, body)
end
