#!/usr/bin/env bash
# README command 2: everything the test suite needs, from nothing, then every check.
# Debian packages, PostgreSQL and Redis (started when not up), the two database roles, the
# virtualenv, then lint, types, migrations, deploy checks, the pure rules suite (100 % branch
# coverage), the main suite against the real PostgreSQL and Redis, and the browser journeys.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

DEBIAN_PACKAGES=(
  postgresql postgresql-contrib redis-server chromium poppler-utils
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation
)
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "Installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PGHOST=127.0.0.1
if ! pg_isready -q -h "$PGHOST" -p 5432; then
  say "Starting PostgreSQL"
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p 5432 && break; sleep 1; done
fi
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  say "Starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 30); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 1; done
fi

say "Database roles (ccm_owner owns and migrates; ccm_app runs the app and the tests)"
if [ -n "${PG_SUPERUSER_URL:-}" ]; then
  psql -q -v ON_ERROR_STOP=1 "$PG_SUPERUSER_URL" -f .ci/db-roles.sql
elif [ "$(id -u)" -eq 0 ]; then
  runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -f .ci/db-roles.sql
else
  psql -q -v ON_ERROR_STOP=1 -h "$PGHOST" -U postgres -f .ci/db-roles.sql
fi

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  say "Creating the virtualenv"
  "$PYTHON" -m venv .venv
fi
say "Installing Python packages"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c .ci/constraints.txt -e ".[dev]"

export DATABASE_URL=${DATABASE_URL:-postgres://ccm_app:ccm_app@127.0.0.1:5432/ccm}
export DATABASE_OWNER_URL=${DATABASE_OWNER_URL:-postgres://ccm_owner:ccm_owner@127.0.0.1:5432/ccm}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
export PATH="$PWD/.venv/bin:$PATH"

say "ruff check"
ruff check .
say "ruff format --check"
ruff format --check .
say "mypy"
mypy .
say "makemigrations --check"
DJANGO_SETTINGS_MODULE=ccm.settings.test python manage.py makemigrations --check --dry-run
say "check --deploy (production settings)"
DJANGO_SETTINGS_MODULE=ccm.settings.base \
  SECRET_KEY="ci-deploy-check-$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')" \
  python manage.py check --deploy --fail-level WARNING

say "pytest: billing rules (pure, 100 % branch coverage of the rules engine)"
pytest tests/billing/rules -q -p no:randomly \
  --cov=billing.rules --cov=billing.pricing --cov-branch --cov-report=term-missing \
  --cov-fail-under=100
# Developers reuse their test database between runs; CI builds it anew, so a database left by
# another checkout (other migrations) can never leak into a verdict.
reuse_flags=()
if [ "${CI:-}" = "true" ]; then reuse_flags=(--create-db); fi
say "pytest: the suite against PostgreSQL and Redis"
pytest -q --ignore=tests/billing/rules --ignore=tests/e2e "${reuse_flags[@]}" "$@"
if compgen -G "tests/e2e/test_*.py" >/dev/null; then
  say "pytest: browser journeys (Playwright driving Debian's Chromium)"
  pytest tests/e2e -q -m e2e
fi
