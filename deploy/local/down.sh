#!/usr/bin/env bash
# Stop what up.sh started (Kafka, then PostgreSQL). Data is kept; use kafka.sh/postgres.sh clean to delete it.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
"$HERE/kafka.sh" down
"$HERE/postgres.sh" down
