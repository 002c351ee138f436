#!/usr/bin/env bash
# Build the compose checker (main.go: `docker compose config` through the same library, without Docker)
# and print the path of its binary. A second run finds the binary newer than the checker's files and
# only prints its path; a rebuild reuses Go's module and build caches. Go comes from PATH or
# /usr/local/go; when neither has it, golang-go is installed with apt-get, and a Go older than go.mod's
# is refused with what to install (no Go toolchain is downloaded).
#   deploy/compose/check/build.sh      -> prints the path of the checker
#   "$(deploy/compose/check/build.sh)" --project-directory . -f docker-compose.yml -q
# Settings: RCM_COMPOSE_CHECK_BIN (default .local/compose-check/check), RCM_GO_ROOT (where Go is
# looked for when PATH has none, default /usr/local/go); Go's module and build caches
# are Go's own (GOMODCACHE, GOCACHE: ~/go/pkg/mod and ~/.cache/go-build by default).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
bin="${RCM_COMPOSE_CHECK_BIN:-$repo/.local/compose-check/check}"
goroot="${RCM_GO_ROOT:-/usr/local/go}"

# up to date: built after every file of the checker was last changed
if [ -x "$bin" ] && [ -z "$(find "$here" -type f -newer "$bin" -print -quit)" ]; then
  echo "$bin"
  exit 0
fi

find_go() {
  if command -v go >/dev/null 2>&1; then command -v go
  elif [ -x "$goroot/bin/go" ]; then echo "$goroot/bin/go"
  else return 1
  fi
}

if ! go="$(find_go)"; then
  if [ "$(id -u)" -eq 0 ]; then as_root=(); else as_root=(sudo -n); fi
  if ! command -v apt-get >/dev/null 2>&1 || { [ "${#as_root[@]}" -gt 0 ] && ! command -v sudo >/dev/null 2>&1; }; then
    echo "build.sh: Go required and apt-get (as root) is not available: install Go at $goroot" >&2
    exit 1
  fi
  echo "build.sh: installing golang-go from Debian's packages" >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null \
    || { echo "build.sh: apt-get install golang-go failed" >&2; exit 1; }
  go="$(find_go)" || { echo "build.sh: golang-go installed no go command" >&2; exit 1; }
fi

# go.mod's `go` line is the oldest Go that builds the checker; an older one is refused here with a
# clear message instead of a compiler error (or a toolchain download).
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
need="$(awk '$1 == "go" {print $2; exit}' "$here/go.mod")"
have="$("$go" env GOVERSION 2>/dev/null || "$go" version | awk '{print $3}')"
have="${have#go}"
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n1)" != "$need" ]; then
  echo "build.sh: $go is Go $have; the compose checker needs Go $need or newer (Debian 12's golang-go is 1.19): install Go at $goroot" >&2
  exit 1
fi

mkdir -p "$(dirname "$bin")"
(cd "$here" && "$go" build -mod=readonly -buildvcs=false -trimpath -o "$bin.tmp" .) \
  || { echo "build.sh: go build of the compose checker failed (its modules come from the Go module proxy)" >&2; exit 1; }
mv -f "$bin.tmp" "$bin"   # atomic: a concurrent run sees the old binary or the whole new one
echo "$bin"
