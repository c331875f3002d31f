#!/usr/bin/env bash
# Debian packages the tests need: Chromium (and its driver) for the browser tests;
# PostgreSQL 15 and Redis, which the scale-out tests start as throwaway servers of their
# own (stack/devservers.py; none is started as a service for them); nginx and openssl, to
# check the deployment sample's load balancer with `nginx -t` and a throwaway certificate
# (tests/stack/test_deploy_sample.py; nginx is never started by the tests).
# Installs only what is missing; needs root or sudo.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
[ -x "${ASSISTANT_POSTGRES_BIN:-/usr/lib/postgresql/15/bin}/initdb" ] || missing+=(postgresql-15)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# `ip` makes the multi-host test's network namespaces (tests/e2e/netns.py).
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || missing+=(iproute2)
# Debian puts nginx in /usr/sbin, which a user's PATH may lack.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "error: need root to apt-get install ${missing[*]}; install them and run make again." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
