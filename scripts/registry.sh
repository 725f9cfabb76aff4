#!/usr/bin/env bash
# Starts or stops a local CNCF Distribution registry (Debian's docker-registry) for the demo.
#
# Usage: scripts/registry.sh start|stop
#   REGISTRY_PORT  port on 127.0.0.1 (default 5000)
#   NOTIFY_URL     webhook that receives the registry's notifications; none are sent when unset
#   WEBHOOK_TOKEN  sent as "Authorization: Bearer <token>"; required with NOTIFY_URL
#
# Storage is .run/registry, the configuration .run/registry.yml, the log .run/registry.log and
# the pid file .run/registry.pid. Deletes are enabled.
set -euo pipefail

project_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly project_dir
readonly run_dir="${project_dir}/.run"
readonly storage_dir="${run_dir}/registry"
readonly config_file="${run_dir}/registry.yml"
readonly log_file="${run_dir}/registry.log"
readonly pid_file="${run_dir}/registry.pid"
readonly port=${REGISTRY_PORT:-5000}

fail() {
  echo "registry: $*" >&2
  exit 1
}

# Prints the pid from the pid file when that process is a running docker-registry.
running_pid() {
  local pid
  [[ -f $pid_file ]] || return 1
  pid=$(<"$pid_file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # The pid may have been reused by another program since the registry stopped.
  tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -q docker-registry || return 1
  echo "$pid"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null
}

# Prints $1 as a double-quoted YAML string.
yaml_string() {
  local value=${1//\\/\\\\}
  value=${value//\"/\\\"}
  printf '"%s"' "$value"
}

write_config() {
  {
    echo 'version: 0.1'
    echo 'log:'
    echo '  level: info'
    echo '  formatter: text'
    echo 'storage:'
    echo '  filesystem:'
    echo "    rootdirectory: $(yaml_string "$storage_dir")"
    echo '  delete:'
    echo '    enabled: true'
    echo 'http:'
    echo "  addr: 127.0.0.1:${port}"
    if [[ -n ${NOTIFY_URL:-} ]]; then
      echo 'notifications:'
      echo '  events:'
      echo '    includereferences: true'
      echo '  endpoints:'
      echo '    - name: provenance'
      echo "      url: $(yaml_string "$NOTIFY_URL")"
      echo '      headers:'
      echo "        Authorization: [$(yaml_string "Bearer ${WEBHOOK_TOKEN}")]"
      echo '      timeout: 5s'
      echo '      threshold: 3'
      echo '      backoff: 1s'
    fi
  } >"$config_file"
}

start() {
  local pid
  if pid=$(running_pid); then
    echo "registry: already running on 127.0.0.1:${port} (pid ${pid})"
    return
  fi
  [[ $port =~ ^[0-9]+$ ]] || fail "REGISTRY_PORT must be a port number, got \"${port}\""
  if [[ -n ${NOTIFY_URL:-} && -z ${WEBHOOK_TOKEN:-} ]]; then
    fail "WEBHOOK_TOKEN is empty; set it to the token the webhook expects, or unset NOTIFY_URL"
  fi
  if port_open; then
    fail "127.0.0.1:${port} is already in use; set REGISTRY_PORT to a free port"
  fi
  "${project_dir}/scripts/ensure-tools.sh" docker-registry

  mkdir -p "$storage_dir"
  # The configuration and the log contain the webhook token.
  write_config
  touch "$log_file"
  chmod 600 "$config_file" "$log_file"
  nohup /usr/bin/docker-registry serve "$config_file" >>"$log_file" 2>&1 &
  pid=$!
  echo "$pid" >"$pid_file"

  local _
  for _ in $(seq 1 50); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      tail -n 20 "$log_file" >&2
      fail "docker-registry exited while starting; see ${log_file}"
    fi
    if port_open; then
      echo "registry: listening on http://127.0.0.1:${port} (pid ${pid}), storage in ${storage_dir}, log in ${log_file}"
      if [[ -n ${NOTIFY_URL:-} ]]; then
        # NOTE: docker-registry 2.8 writes the endpoint headers, token included, to its log.
        echo "registry: sending notifications to ${NOTIFY_URL}"
      else
        echo "registry: NOTIFY_URL is unset, so no notifications are sent"
      fi
      return
    fi
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
  rm -f "$pid_file"
  fail "docker-registry did not listen on 127.0.0.1:${port} within 10 s; see ${log_file}"
}

stop() {
  local pid _
  if ! pid=$(running_pid); then
    rm -f "$pid_file"
    echo "registry: not running"
    return
  fi
  kill "$pid"
  for _ in $(seq 1 50); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      echo "registry: stopped (pid ${pid})"
      return
    fi
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pid_file"
  echo "registry: killed (pid ${pid}) after it ignored SIGTERM for 10 s"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "Usage: $0 start|stop" >&2
    exit 2
    ;;
esac
