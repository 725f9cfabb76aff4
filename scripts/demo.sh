#!/usr/bin/env bash
# Walkthrough: a local registry wired to the running service, base -> runtime -> app, a base tag
# move, and the verdicts and lineage that follow. Needs `make run` running in another terminal.
set -euo pipefail
cd "$(dirname "$0")/.."

API="${PROVENANCE_URL:-http://127.0.0.1:${PORT:-8080}}"
REGISTRY_PORT="${REGISTRY_PORT:-5000}"
REGISTRY="127.0.0.1:${REGISTRY_PORT}"
WEBHOOK_TOKEN="${WEBHOOK_TOKEN:?WEBHOOK_TOKEN must be set (make demo reads .run/webhook-token)}"
CLI=(node dist/apps/cli/src/main.js)
work=$(mktemp -d)
registry_pid=""

cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

curl -fsS "$API/healthz" >/dev/null || {
  echo "The API at $API did not respond. Start it with 'make run' in another terminal." >&2
  exit 1
}

echo "== Starting a registry on $REGISTRY that notifies $API"
cat >"$work/registry.yml" <<YAML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $work/storage }
  delete: { enabled: true }
http: { addr: $REGISTRY }
notifications:
  endpoints:
    - name: provenance
      url: $API/v1/webhooks/distribution/local
      headers: { Authorization: [Bearer $WEBHOOK_TOKEN] }
      timeout: 5s
      threshold: 3
      backoff: 1s
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 50); do curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 && break; sleep 0.2; done

KEY=$("${CLI[@]}" keys create --name demo --role ci)

# build NAME [BASE] FILE CONTENT: one OCI layout per image, one new layer each.
build() {
  local name=$1 base=$2 file=$3 content=$4
  if [ -n "$base" ]; then
    cp -r "$work/$base" "$work/$name"
    umoci tag --image "$work/$name:$base" "$name" >/dev/null
  else
    umoci init --layout "$work/$name" >/dev/null
    umoci new --image "$work/$name:$name" >/dev/null
  fi
  umoci unpack --rootless --image "$work/$name:$name" "$work/$name.bundle" >/dev/null
  mkdir -p "$(dirname "$work/$name.bundle/rootfs$file")"
  printf '%s\n' "$content" >"$work/$name.bundle/rootfs$file"
  umoci repack --image "$work/$name:$name" "$work/$name.bundle" >/dev/null
  rm -rf "$work/$name.bundle"
}

push() {
  skopeo copy --quiet --dest-tls-verify=false "oci:$work/$1:$1" "docker://$REGISTRY/$2"
  echo "pushed $2"
}

verdict() {
  "${CLI[@]}" check "$REGISTRY/$1" --server "$API" --api-key "$KEY" || true
}

wait_for() {
  local reference=$1 status=$2
  local output
  for _ in $(seq 1 100); do
    # check exits 1 for a stale image, so its exit code cannot gate the pipeline.
    output=$("${CLI[@]}" check "$REGISTRY/$reference" --server "$API" --api-key "$KEY" --json 2>/dev/null || true)
    grep -q "\"status\": \"$status\"" <<<"$output" && return 0
    sleep 0.3
  done
  echo "timed out waiting for $reference to be $status" >&2
}

echo "== Building and pushing base, runtime (on base) and app (on runtime)"
build base "" /etc/os-release "VERSION=1"
build runtime base /usr/bin/runtime "runtime 1"
build app runtime /app/main "app 1"
push base demo/base:1
push runtime demo/runtime:1
push app demo/app:1
wait_for demo/app:1 fresh
verdict demo/app:1

echo "== Moving demo/base:1 to new content"
build base2 "" /etc/os-release "VERSION=2"
push base2 demo/base:1
wait_for demo/app:1 stale
verdict demo/runtime:1
verdict demo/app:1

echo "== Lineage of the old base"
digest=$(curl -fsS -H "Authorization: Bearer $KEY" \
  "$API/v1/freshness?image=$REGISTRY/demo/runtime:1" | jq -r '.baseChain[0].digest')
curl -fsS -H "Authorization: Bearer $KEY" "$API/v1/images/$digest/lineage" | jq .
