-- POST /door/{event}/scan, a different ticket on every request (scenario door-scan).
--
-- Arguments: args[1] the file of seeded ticket codes (one per line), args[2] the session
-- cookie value of a door link opened by the preparing step, args[3] the CSRF token bound to
-- that session (web/csrf.py).
-- Each wrk thread walks the codes from its own half of the list, so the 64 scanners
-- present distinct tickets, as at a busy door; a nonce per request makes every scan new.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

local codes = {}
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    codes[#codes + 1] = line
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  wrk.headers["Cookie"] = "session=" .. args[2]
  wrk.headers["X-CSRFToken"] = args[3]
  counter = (id - 1) * math.floor(#codes / 2)  -- wrk runs 2 threads (bench/run.py default)
end

function request()
  counter = counter + 1
  local code = codes[(counter % #codes) + 1]
  local body = '{"scanned":"' .. code .. '","nonce":"n' .. id .. '-' .. counter
    .. '-' .. os.time() .. '","device":"bench ' .. id .. '"}'
  return wrk.format(nil, nil, nil, body)
end
