# The README's two commands: `make demo` and `make test`. Both bootstrap what they need:
# Debian packages (apt-get, when root and missing) and the project's virtualenv in .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Debian packages the tests and the demo need: the browser for the UI tests, the font for posters,
# zbar for the ID-card reader, poppler and tesseract to read rendered PDFs and pages back in tests.
# PostgreSQL is the upstream's production database: its tests start a private server of their own.
# Xvfb and the X/NSS libraries let the kiosk test open pywebview's Qt window (PyQt6-WebEngine).
APT_PACKAGES := chromium fonts-dejavu-core libzbar0 poppler-utils tesseract-ocr tesseract-ocr-vie \
	postgresql xvfb libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
	libxcb-render-util0 libxcb-xinerama0 libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 \
	libasound2 mtools dosfstools fdisk e2fsprogs shellcheck systemd dnsmasq-base nftables nodejs
BENCH_PACKAGES := wrk tesseract-ocr tesseract-ocr-vie

.PHONY: demo test lint typecheck unit system bench translations clean

demo: system $(STAMP)
	$(BIN)/hamletbox demo --dir .demo

test: system $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check appliance web upstream provisioning tests bench
	$(BIN)/ruff format --check appliance web upstream provisioning tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

bench: system $(STAMP)
	@$(MAKE) --no-print-directory system APT_PACKAGES="$(BENCH_PACKAGES)"
	$(BIN)/python bench/web.py
	$(BIN)/python bench/qr.py
	$(BIN)/python bench/pages.py
	$(BIN)/python bench/relay.py

# Recompile the translations after editing web/translations/*/LC_MESSAGES/messages.po.
translations: $(STAMP)
	$(BIN)/pybabel extract -F web/babel.cfg -o web/translations/messages.pot --no-location --omit-header .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching --ignore-pot-creation-date
	$(BIN)/pybabel compile -d web/translations

system:
	@missing=""; \
	for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "missing Debian packages:$$missing — install them as root (sudo apt-get install$$missing)"; exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache *.egg-info
