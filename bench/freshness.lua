-- wrk script: GET /v1/freshness for tags spread over the 100k images that bench/seed.sql writes.
local counter = 0
local thread_id = 0

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  key = os.getenv("API_KEY")
  host = os.getenv("IMAGE_HOST")
end

request = function()
  counter = counter + 1
  local n = 1 + ((counter * 7919 + id * 104729) % 100000)
  local path = "/v1/freshness?image=" .. host .. "/bench/repo-" .. (n % 1000) .. ":t" .. n
  return wrk.format("GET", path, { ["Authorization"] = "Bearer " .. key })
end

response = function(status)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
