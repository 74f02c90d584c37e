# ccm: the README's two commands are `make demo` and `make test`.
.PHONY: test lint format

# README command 2: installs what the suite needs (Debian packages, services, roles, Python
# packages), then lint, types, migrations and deploy checks, and the whole test suite.
test:
	bash .ci/test.sh

# Quick checks while developing (needs `make test` once for the virtualenv).
lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .
