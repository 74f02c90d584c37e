# ccm: the README's two commands are `make demo` and `make test`.
.PHONY: demo venv test lint format

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python

# README command 1: the whole app on http://127.0.0.1:8000 with synthetic demo data, needing only
# Python 3.11: embedded PostgreSQL, Celery on a filesystem broker, gunicorn (Ctrl-C stops all).
demo: venv
	@$(VENV_PYTHON) -m ccm.demo

# The virtualenv with the app's runtime packages (pinned by .ci/constraints.txt); reinstalled
# when pyproject.toml changes.
venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml | $(VENV_PYTHON)
	@echo "Installing ccm and its packages into $(VENV) (the first time takes a few minutes) ..."
	@$(VENV_PYTHON) -m pip install -qq --constraint .ci/constraints.txt --editable .
	@touch $@

# Debian's python3.11 has no ensurepip unless python3.11-venv is installed: then the venv is made
# without pip, and pip is installed from its wheel on PyPI (checked against PyPI's sha256).
$(VENV_PYTHON):
	@test -n "$(PYTHON)" || { echo "Python 3.11 is needed: install python3.11." >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
	  { echo "$(PYTHON) is not Python 3.11; run: make PYTHON=/path/to/python3.11 demo" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) 2>/dev/null || \
	  { rm -rf $(VENV) && $(PYTHON) -m venv --without-pip $(VENV) && \
	    $(VENV_PYTHON) -c "$$BOOTSTRAP_PIP"; }

define BOOTSTRAP_PIP
import hashlib, json, pathlib, subprocess, sys, tempfile, urllib.parse, urllib.request
index = "https://pypi.org/pypi/pip/json"
release = json.load(urllib.request.urlopen(index, timeout=60))
wheel = next(f for f in release["urls"] if f["packagetype"] == "bdist_wheel")
path = pathlib.Path(tempfile.mkdtemp()) / wheel["filename"]
url = urllib.parse.urljoin(index, wheel["url"])
path.write_bytes(urllib.request.urlopen(url, timeout=300).read())
if hashlib.sha256(path.read_bytes()).hexdigest() != wheel["digests"]["sha256"]:
    sys.exit("the pip wheel from PyPI does not match its sha256")
subprocess.check_call([sys.executable, str(path / "pip"), "install", "--quiet", "--no-index", str(path)])
endef
export BOOTSTRAP_PIP

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
