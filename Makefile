# ebpm task runner. `make demo` and `make test` do all the set-up on a fresh Debian machine.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
EBPM := $(BIN)/ebpm
STAMP := $(VENV)/.installed
APT_PACKAGES := fonts-morisawa-bizud-gothic fonts-noto-cjk chromium poppler-utils  # BIZ UD: the house font (see docs/reports.md); poppler-utils: pdftotext in the report tests
SEED ?= 20260401

.PHONY: demo test test-fast setup apt build synth reports course lab hub hub-proxy lint fmt bench clean help

help:
	@echo "make demo   — 環境構築・データ構築・標準レポートとレポート一覧の作成"
	@echo "make test   — 環境構築とすべてのテスト（CI と同じ）"
	@echo "make lab    — JupyterLab（127.0.0.1, トークン付き, 日本語）"
	@echo "make course — 研修教材（ハンドアウト・講師ガイド・ワークブック）と受講者用ノートブック（training/README.md）"
	@echo "make hub    — 複数職員用の JupyterHub（127.0.0.1, デモ: alice / bob, deploy/jupyterhub/README.md）"

# --- set-up -----------------------------------------------------------------
apt:
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then echo "apt: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	else echo "apt: root ではないため $(APT_PACKAGES) の導入を省略します（手動で導入してください）"; fi

$(BIN)/python:
	$(PY) -m pip install -q uv || true
	$(PY) -m uv venv -q $(VENV) --python 3.11 || $(PY) -m venv $(VENV)

$(STAMP): pyproject.toml tools/jupyterlab-overrides.json | $(BIN)/python
	@# bytecode compiled at install: where PYTHONDONTWRITEBYTECODE=1 (CI, containers) nothing is recompiled per process
	@# [hub]: JupyterHub and the idle culler; the hub test runs in CI (make test)
	$(PY) -m uv pip install -q --compile-bytecode --python $(BIN)/python -e ".[dev,hub]" \
	  || $(BIN)/python -m pip install -q --compile -e ".[dev,hub]"
	$(BIN)/python -m compileall -q -j 0 lib >/dev/null
	$(BIN)/python -m ebpm.report.launcher install >/dev/null
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp tools/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

setup: apt $(STAMP)

# --- data and reports ---------------------------------------------------------
synth: setup
	@test -f data/raw/synthetic_morioka/SOURCE.yml || $(EBPM) synthesize --seed $(SEED)

build: setup synth
	$(EBPM) build

TEMPLATES := dx_kpi_dashboard did_study its_study rdd_study synth_study population_profile survey_analysis power_plan

reports: build
	$(EBPM) run $(TEMPLATES)
	$(EBPM) reports

course: build
	$(EBPM) course build
	$(EBPM) course release

demo: reports
	@echo "レポート一覧: reports/index.html / データ定義書: data/curated/dictionary.html"

lab: setup
	@token=$${JUPYTER_TOKEN:-$$($(BIN)/python -c 'import secrets;print(secrets.token_hex(24))')}; \
	echo "JupyterLab: http://127.0.0.1:$${JUPYTER_PORT:-8888}/lab?token=$$token"; \
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$${JUPYTER_PORT:-8888} \
	  --ServerApp.open_browser=False --IdentityProvider.token=$$token \
	  --ServerApp.root_dir=. $$( [ "$$(id -u)" = "0" ] && echo --allow-root )

# --- many users: JupyterHub (deploy/jupyterhub) ------------------------------------
HUB := deploy/jupyterhub
$(HUB)/node_modules/.bin/configurable-http-proxy: $(HUB)/package.json $(HUB)/package-lock.json
	@command -v npm >/dev/null || { [ "$$(id -u)" = "0" ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	cd $(HUB) && npm ci --no-fund --no-audit --loglevel=error
	touch $@

hub-proxy: $(HUB)/node_modules/.bin/configurable-http-proxy

hub: setup hub-proxy build
	@pw=$${EBPM_HUB_PASSWORD:-$$($(BIN)/python -c 'import secrets;print(secrets.token_urlsafe(12))')}; \
	echo "JupyterHub: http://$${EBPM_HUB_IP:-127.0.0.1}:$${EBPM_HUB_PORT:-8000}/hub/login  利用者: $${EBPM_HUB_USERS:-alice,bob}  共有パスワード: $$pw"; \
	echo "止めるには Ctrl-C（ハブ・プロキシ・各職員のサーバーがすべて止まります）"; \
	PATH=$(CURDIR)/$(BIN):$$PATH EBPM_HUB_PASSWORD=$$pw $(BIN)/jupyterhub -f $(HUB)/jupyterhub_config.py

# --- quality -------------------------------------------------------------------
test: setup hub-proxy
	$(BIN)/ruff check lib tests bench
	$(BIN)/ruff format --check lib tests bench
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadgroup --durations=15

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser"

lint: setup
	$(BIN)/ruff check lib tests bench
	$(BIN)/ruff format --check lib tests bench

fmt: setup
	$(BIN)/ruff format lib tests bench
	$(BIN)/ruff check --fix lib tests bench

bench: setup hub-proxy build
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	-@[ -x $(BIN)/python ] && $(BIN)/python -c "from ebpm.report import warm; warm.stop_all()"
	rm -rf data/curated/*.duckdb data/curated/*.json data/curated/*.html reports/*
