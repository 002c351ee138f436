# Shared settings for the local infrastructure scripts (sourced, not run).
# Every setting can be overridden from the environment.

RCM_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RCM_LOCAL_DIR="${RCM_LOCAL_DIR:-$RCM_REPO_ROOT/.local}"
RCM_HOST="${RCM_HOST:-127.0.0.1}"

RCM_KAFKA_VERSION="${RCM_KAFKA_VERSION:-4.1.1}"
RCM_KAFKA_PORT="${RCM_KAFKA_PORT:-19092}"
RCM_KAFKA_CONTROLLER_PORT="${RCM_KAFKA_CONTROLLER_PORT:-19093}"
RCM_KAFKA_DATA="${RCM_KAFKA_DATA:-$RCM_LOCAL_DIR/kafka}"
RCM_KAFKA_JARS="${RCM_KAFKA_JARS:-${XDG_CACHE_HOME:-$HOME/.cache}/rcm/kafka-$RCM_KAFKA_VERSION}"
RCM_KAFKA_HEAP="${RCM_KAFKA_HEAP:--Xms256m -Xmx1g}"
RCM_KAFKA_PARTITIONS="${RCM_KAFKA_PARTITIONS:-3}"

RCM_PG_PORT="${RCM_PG_PORT:-55432}"
RCM_PG_DATA="${RCM_PG_DATA:-$RCM_LOCAL_DIR/postgres}"
RCM_PG_USER="${RCM_PG_USER:-postgres}"
RCM_PG_DATABASES="${RCM_PG_DATABASES:-rcm_eligibility rcm_claims rcm_remittance rcm_denials rcm_authorizations rcm_sandbox rcm_test}"

say() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else die "need root (or sudo) to run: $*"
  fi
}

# True when PID is alive and its command line contains every further argument.
pid_matches() {
  local pid="$1"; shift
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  local cmd
  cmd="$(tr '\0' ' ' < "/proc/$pid/cmdline")"
  for part in "$@"; do
    case "$cmd" in *"$part"*) ;; *) return 1 ;; esac
  done
}

# Install Debian packages (apt_install WHAT PACKAGE...); returns 1 when apt-get is not available.
apt_install() {
  local what="$1"; shift
  command -v apt-get >/dev/null 2>&1 || return 1
  say "installing $what from Debian's packages ($*)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    || die "apt-get update failed (is the Debian mirror reachable?)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || die "apt-get install $* failed"
}
