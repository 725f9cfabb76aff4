#!/usr/bin/env bash
# Installs the Debian packages that the tests and benchmarks need, when they are missing.
#
# Usage: scripts/ensure-tools.sh [tool...]
#   Tools: docker-registry umoci skopeo gnupg jq postgresql-client pgbench redis-tools
#   (the default set), plus the servers postgresql and redis-server for ensure-services.sh.
#
# Prints nothing and exits 0 when every tool is present. As root, it runs apt-get update
# once and installs the missing packages. Any other user gets the command to run, and the
# script exits with status 1.
set -euo pipefail

readonly DEFAULT_TOOLS=(docker-registry umoci skopeo gnupg jq postgresql-client pgbench redis-tools)

# Drop-in that stops the postgresql packages from creating and starting their own "main"
# cluster on port 5432. ensure-services.sh runs a server under the project instead.
readonly NO_MAIN_CLUSTER_CONF=/etc/postgresql-common/createcluster.d/50-no-main-cluster.conf

# Succeeds when an installed PostgreSQL version has every named binary.
# Debian keeps them in /usr/lib/postgresql/<version>/bin, and the wrappers in /usr/bin
# exist as soon as postgresql-client-common is installed, so the wrappers prove nothing.
postgres_binaries_present() {
  local name
  for name in "$@"; do
    compgen -G "/usr/lib/postgresql/*/bin/${name}" >/dev/null || return 1
  done
}

# Prints the Debian package that provides a tool.
package_for() {
  case "$1" in
    docker-registry | umoci | skopeo | jq | redis-tools | redis-server | postgresql-client)
      echo "$1"
      ;;
    gnupg | gpg) echo gnupg ;;
    redis-cli) echo redis-tools ;;
    psql | pg_isready | createdb) echo postgresql-client ;;
    # On Debian 12, pgbench ships in postgresql-15 together with the server. The
    # postgresql and postgresql-contrib metapackages both depend on it.
    pgbench | postgresql | postgres) echo postgresql ;;
    *) return 1 ;;
  esac
}

tool_present() {
  case "$1" in
    docker-registry) [[ -x /usr/bin/docker-registry ]] ;;
    umoci | skopeo | jq | redis-cli | redis-server) command -v "$1" >/dev/null ;;
    gnupg | gpg) command -v gpg >/dev/null ;;
    redis-tools) command -v redis-cli >/dev/null ;;
    postgresql-client | psql | pg_isready | createdb)
      postgres_binaries_present psql pg_isready createdb
      ;;
    pgbench) postgres_binaries_present pgbench ;;
    postgresql | postgres) postgres_binaries_present initdb pg_ctl postgres ;;
    *) return 1 ;;
  esac
}

main() {
  local tools=("$@")
  if [[ ${#tools[@]} -eq 0 ]]; then
    tools=("${DEFAULT_TOOLS[@]}")
  fi

  local tool package missing_tools=() packages=()
  for tool in "${tools[@]}"; do
    if ! package=$(package_for "$tool"); then
      echo "ensure-tools: unknown tool \"${tool}\". Known tools: ${DEFAULT_TOOLS[*]} postgresql redis-server" >&2
      exit 2
    fi
    if tool_present "$tool"; then
      continue
    fi
    missing_tools+=("$tool")
    if [[ " ${packages[*]} " != *" ${package} "* ]]; then
      packages+=("$package")
    fi
  done

  if [[ ${#packages[@]} -eq 0 ]]; then
    exit 0
  fi

  local needs_server=false
  if [[ " ${packages[*]} " == *" postgresql "* && ! -e $NO_MAIN_CLUSTER_CONF ]]; then
    needs_server=true
  fi
  local install_command="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages[*]}"

  echo "ensure-tools: missing ${missing_tools[*]} (packages: ${packages[*]})" >&2
  if ! command -v apt-get >/dev/null; then
    echo "ensure-tools: apt-get not found. Install these Debian packages or their equivalents by hand: ${packages[*]}" >&2
    exit 1
  fi

  if [[ $EUID -ne 0 ]]; then
    echo "ensure-tools: installing needs root. Run:" >&2
    if [[ $needs_server == true ]]; then
      echo "  sudo mkdir -p ${NO_MAIN_CLUSTER_CONF%/*} && echo 'create_main_cluster = off' | sudo tee ${NO_MAIN_CLUSTER_CONF}" >&2
    fi
    echo "  sudo apt-get update && sudo env ${install_command}" >&2
    exit 1
  fi

  if [[ $needs_server == true ]]; then
    mkdir -p "${NO_MAIN_CLUSTER_CONF%/*}"
    echo 'create_main_cluster = off' >"$NO_MAIN_CLUSTER_CONF"
    echo "ensure-tools: wrote ${NO_MAIN_CLUSTER_CONF} so that the postgresql packages create no cluster on port 5432" >&2
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"

  for tool in "${missing_tools[@]}"; do
    if ! tool_present "$tool"; then
      echo "ensure-tools: ${tool} is still missing after installing $(package_for "$tool")" >&2
      exit 1
    fi
  done
  echo "ensure-tools: installed ${packages[*]}" >&2
}

main "$@"
