#!/usr/bin/env bash
# Writes the secrets deploy/compose.yaml reads (env_file), with random passwords that agree
# across the files, readable by you only:
#   app.env       for the app nodes: ASSISTANT_DATABASE_URL and ASSISTANT_REDIS_URL (with
#                 their passwords), ASSISTANT_IDENTITY_SECRET (give the same to the shop's
#                 back end, which signs its signed-in customers' identity), and the passwords
#                 of the agents `demo` and `lead` that the launcher creates at start
#   postgres.env  POSTGRES_PASSWORD, for the postgres service's first start
#   redis.env     REDIS_PASSWORD
# Usage: deploy/make-secrets.sh [FOLDER]   (default deploy/secrets; it must not exist yet:
# new passwords would no longer match a database made with the old ones).
set -euo pipefail
dir="${1:-$(dirname "$0")/secrets}"
if [ -e "$dir" ]; then
  echo "error: $dir already exists; remove it to make new secrets (and new databases)" >&2
  exit 1
fi
umask 077
mkdir -p "$dir"
# 32 random bytes as hex: safe inside a URL without escaping.
random() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
postgres_password="$(random)"
redis_password="$(random)"
cat >"$dir/postgres.env" <<EOF
POSTGRES_PASSWORD=$postgres_password
EOF
cat >"$dir/redis.env" <<EOF
REDIS_PASSWORD=$redis_password
EOF
# The user, database and host names are compose.yaml's (services postgres and redis).
cat >"$dir/app.env" <<EOF
ASSISTANT_DATABASE_URL=postgresql://assistant:$postgres_password@postgres:5432/assistant
ASSISTANT_REDIS_URL=redis://:$redis_password@redis:6379/0
ASSISTANT_IDENTITY_SECRET=$(random)
DEMO_AGENT_PASSWORD=$(random)
DEMO_SUPERVISOR_PASSWORD=$(random)
EOF
echo "wrote $dir/app.env, postgres.env, redis.env (mode 0600)"
