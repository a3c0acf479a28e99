# The two set-up commands of the README:
#   make up     runs the whole platform locally (no Docker needed)
#   make test   runs the test suite
# Each installs what it needs first: uv, the locked Python packages, and the Debian packages the tests use.

PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
VENV := .venv
# Debian packages the tests need: a real compose parser, the browser for the end-to-end tests, and Prometheus
# (promtool checks the alert rules; the server shows them firing against the real services).
TEST_DEBIAN_PACKAGES := docker-compose chromium prometheus

export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: up test install system-packages architecture schemas clean

up: install .env
	$(VENV)/bin/payments up

test: install system-packages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest $(PYTEST_ARGS)

install: $(VENV)/.installed

$(UV):
	@$(PYTHON) -c "import ensurepip, venv" 2> /dev/null || { \
	  echo "$(PYTHON) cannot make a virtual environment: install Debian's python3-venv" \
	       "(sudo apt-get install python3-venv), then run make again"; exit 1; }
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-extras
	touch $@

# A new .env is .env.example with a fresh random value for each secret (every *SECRET* and *PASSWORD*); an older
# one gets the variables added since, and keeps its own values (platform_ops/env_file.py).
.env: .env.example | $(VENV)/.installed
	@$(VENV)/bin/python -m platform_ops.env_file .env.example .env
	@touch .env

# Installs only what is missing; needs root or sudo, as apt-get does.
system-packages:
	@missing=""; for p in $(TEST_DEBIAN_PACKAGES); do \
	  dpkg -s $$p > /dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	  echo "installing Debian packages:$$missing"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing > /dev/null; \
	fi

# architecture.png is drawn from architecture.dot by Graphviz.
architecture: architecture.png
architecture.png: architecture.dot
	@command -v dot > /dev/null || { echo "needs Graphviz: apt-get install graphviz"; exit 1; }
	dot -Tpng -Gdpi=110 architecture.dot -o architecture.png

# Rewrites schemas/*.schema.json from the event models.
schemas: install
	$(VENV)/bin/payments schemas

clean:
	rm -rf $(VENV) .tools .local .pytest_cache
