-- wrk script: one Distribution manifest push per request, each with a unique event id and digest.
local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  token = os.getenv("WEBHOOK_TOKEN")
end

request = function()
  counter = counter + 1
  local unique = string.format("%08x%08x", id, counter)
  local digest = "sha256:" .. string.rep(unique, 4)
  local body = '{"events":[{"id":"bench-' .. unique .. '","timestamp":"2026-12-04T00:00:00Z",' ..
    '"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json",' ..
    '"digest":"' .. digest .. '","repository":"bench/app","tag":"x","size":1007},' ..
    '"request":{"id":"r-' .. unique .. '","method":"PUT"}}]}'
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/vnd.docker.distribution.events.v1+json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

response = function(status)
  if status ~= 202 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
