#!/bin/sh
# Regenerates skopeo-copy/: a real `skopeo copy --sign-by` GPG signature in a lookaside
# directory, for an image built with umoci and pushed to a local CNCF Distribution registry.
# Needs gpg, umoci, skopeo, docker-registry and curl. The registry listens on 127.0.0.1 only.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/skopeo-copy"
port=${REGISTRY_PORT:-5917}
work=$(mktemp -d)
registry_pid=""

cleanup() {
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
cat > "$work/key-params" <<PARAMS
%no-protection
Key-Type: eddsa
Key-Curve: ed25519
Key-Usage: cert
Subkey-Type: eddsa
Subkey-Curve: ed25519
Subkey-Usage: sign
Name-Real: Fixture Signer
Name-Email: fixture@example.com
Expire-Date: 0
%commit
PARAMS
gpg --batch --quiet --gen-key "$work/key-params"
fingerprint=$(gpg --batch --list-keys --with-colons | awk -F: '/^fpr/ { print $10; exit }')

cd "$work"
umoci init --layout image
umoci new --image image:v1

cat > registry.yml <<CONFIG
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry-data
http:
  addr: 127.0.0.1:$port
CONFIG
docker-registry serve registry.yml > registry.log 2>&1 &
registry_pid=$!
attempt=0
until curl -fs "http://127.0.0.1:$port/v2/" > /dev/null; do
  attempt=$((attempt + 1))
  if [ "$attempt" -gt 50 ]; then
    echo "registry on 127.0.0.1:$port did not start; see $work/registry.log" >&2
    cat registry.log >&2
    exit 1
  fi
  sleep 0.1
done

mkdir registries.d
cat > registries.d/default.yaml <<REGISTRIES
docker:
  127.0.0.1:$port:
    lookaside: file://$work/lookaside
    lookaside-staging: file://$work/lookaside
REGISTRIES
skopeo copy --registries.d registries.d --dest-tls-verify=false --sign-by "$fingerprint" \
  oci:image:v1 "docker://127.0.0.1:$port/fixtures/app:v1"
skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:$port/fixtures/app:v1" > manifest.json

rm -rf "$out"
mkdir -p "$out"
# No .json extension: a formatter rewriting the file would change its digest.
cp manifest.json "$out/manifest"
cp lookaside/fixtures/app@sha256=*/signature-1 "$out/signature-1"
gpg --batch --armor --export "$fingerprint" > "$out/public-key.asc"
printf '%s\n' "$fingerprint" > "$out/fingerprint"
printf '127.0.0.1:%s/fixtures/app:v1\n' "$port" > "$out/reference"
echo "wrote $out"
