-- Extra request headers for GET scenarios, one "Name: value" argument each (what the
-- scenario's seeding or preparing callback returned), e.g. the conditional request
--   If-None-Match: "3f2a..."
-- that bench/scenarios.py's feed-*-304 scenarios read from the running server.
-- Static headers need no script: Scenario(headers=(...)) passes them to wrk's -H.
-- bench/report.lua supplies done(); do not define it here.

function init(args)
  for _, line in ipairs(args) do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then
      wrk.headers[name] = value
    end
  end
end
