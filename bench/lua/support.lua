-- POST .../proposals/{call}/1/support, a different ticket holder on every request
-- (scenario support-hot): distinct people supporting one proposal.
--
-- Arguments: args[1] the file of seeded ticket codes (one per line), args[2] the "visitor"
-- cookie one cookie-less GET of the call page was given and args[3] the CSRF token that page
-- carried (bound to that cookie, web/csrf.py): sent back as the cookie and the X-CSRFToken
-- header, as htmx sends them.
-- Each wrk thread walks the codes from its own half of the list, so no ticket is used
-- twice; each request also comes from its own client address (X-Forwarded-For, trusted
-- from the loopback proxy), as distinct phones would: the per-client limit of a shared
-- network is not what this measures.

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
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = "visitor=" .. args[2]
  wrk.headers["X-CSRFToken"] = args[3]
  counter = (id - 1) * math.floor(#codes / 2)  -- wrk runs 2 threads (bench/run.py default)
end

function request()
  counter = counter + 1
  local code = codes[(counter % #codes) + 1]
  -- wrk.format() takes a headers table INSTEAD of wrk.headers, not on top of it: copy the
  -- cookie, CSRF header and content type in, or every POST is a 403 (CSRF) and nothing is
  -- measured but the refusal.
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  headers["X-Forwarded-For"] =
    "10." .. id .. "." .. math.floor(counter / 250) % 250 .. "." .. counter % 250
  return wrk.format(nil, nil, headers, "ticket=" .. code)
end
