#!/usr/bin/env bash
# Prepare one machine (Debian/Ubuntu, run as root) for a class on JupyterHub with this repository:
#   PostgreSQL 15 (if missing), the hub's Python packages, the proxy (npm ci, pinned by package-lock.json),
#   the learners' Python environment where every account can read it (each server runs as its learner), a Unix
#   account (home folder 0700) for each name given.
# Usage:  deploy/jupyterhub/setup-host.sh [ACCOUNT ...]
# The learners' environment is $APICOURSE_USER_ENV (default /opt/apicourse-hub-env); point the hub at it with
# APICOURSE_USER_PYTHON=$APICOURSE_USER_ENV/bin/python.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
USER_ENV="${APICOURSE_USER_ENV:-/opt/apicourse-hub-env}"

apt_install() {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

[ -x /usr/lib/postgresql/15/bin/initdb ] || apt_install postgresql-15
command -v npm >/dev/null 2>&1 || apt_install nodejs npm
/usr/bin/python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv

# the hub itself (the Python that runs this script's caller's tests) and the proxy
python -m pip install -q -r "$HERE/requirements.txt"
if [ ! -x "$HERE/node_modules/.bin/configurable-http-proxy" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi

# the learners' environment: the course's requirements (the course's own package comes on PYTHONPATH)
[ -x "$USER_ENV/bin/python" ] || /usr/bin/python3 -m venv "$USER_ENV"
grep -v '^-e ' "$ROOT/requirements.txt" > "$USER_ENV/course-requirements.txt"
"$USER_ENV/bin/pip" install -q -r "$USER_ENV/course-requirements.txt" -r "$HERE/requirements.txt"

for account in "$@"; do
  id -u "$account" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$account"
  chmod 700 "/home/$account"
done
