#!/usr/bin/env bash
# Bring up the local infrastructure (PostgreSQL and Kafka) on loopback and write
# the addresses the tests and services read to $RCM_LOCAL_DIR/env.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

start=$(date +%s.%N)
"$HERE/postgres.sh" up
"$HERE/kafka.sh" up
mkdir -p "$RCM_LOCAL_DIR"
cat > "$RCM_LOCAL_DIR/env" <<ENV
RCM_KAFKA_BOOTSTRAP=$RCM_HOST:$RCM_KAFKA_PORT
RCM_DATABASE_URL=postgresql+psycopg://$RCM_PG_USER@$RCM_HOST:$RCM_PG_PORT/rcm_test
RCM_PG_HOST=$RCM_HOST
RCM_PG_PORT=$RCM_PG_PORT
RCM_PG_USER=$RCM_PG_USER
ENV
say "infrastructure up in $(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')") s; addresses in $RCM_LOCAL_DIR/env"
