# Quickstart: `make run` starts the service, `make test` runs every test tier.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/provenance
export REDIS_URL ?= redis://127.0.0.1:6379
export PROVENANCE_CONFIG ?= $(CURDIR)/config/provenance.local.yaml
export PORT ?= 8080
export HOST ?= 127.0.0.1
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/provenance_test

.PHONY: help install build tools services migrate run test test-unit test-integration test-e2e lint demo bench clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json ## Install npm dependencies when missing or outdated

build: install ## Compile TypeScript to dist/
	npm run build --silent

tools: ## Install the Debian packages the tests use (registry, umoci, skopeo, gnupg)
	scripts/ensure-tools.sh

services: ## Reuse reachable PostgreSQL and Redis or start local ones under .run/
	scripts/ensure-services.sh

migrate: build services ## Apply database migrations
	node dist/apps/cli/src/main.js migrate

.run/webhook-token:
	@mkdir -p .run && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > $@

run: build services migrate .run/webhook-token ## Start the API and the worker (Ctrl-C stops both)
	@export WEBHOOK_TOKEN=$${WEBHOOK_TOKEN:-$$(cat .run/webhook-token)}; \
	echo "API on http://$(HOST):$(PORT); webhook token in .run/webhook-token"; \
	echo "Create an admin key: DATABASE_URL=$(DATABASE_URL) node dist/apps/cli/src/main.js keys create --name me"; \
	trap 'trap - INT TERM EXIT; kill $$(jobs -p) 2>/dev/null; wait' INT TERM EXIT; \
	node dist/apps/api/src/main.js & \
	node dist/apps/worker/src/main.js & \
	wait

lint: install ## ESLint and Prettier
	npx eslint .
	npx prettier --check .

test: build ## Run every test tier: unit, integration (PostgreSQL, Redis), end-to-end (real registry)
	scripts/ensure-tools.sh
	DATABASE_URL=$(TEST_DATABASE_URL) scripts/ensure-services.sh
	$(MAKE) --no-print-directory lint
	scripts/run-tests.sh

test-unit: install ## Unit specs only
	npx jest --config jest.unit.config.js

test-integration: build ## Integration tests only
	DATABASE_URL=$(TEST_DATABASE_URL) scripts/ensure-services.sh
	DATABASE_URL=$(TEST_DATABASE_URL) npx jest --config jest.integration.config.js --runInBand

test-e2e: build ## End-to-end tests only
	scripts/ensure-tools.sh
	DATABASE_URL=$(TEST_DATABASE_URL) scripts/ensure-services.sh
	DATABASE_URL=$(TEST_DATABASE_URL) npx jest --config jest.e2e.config.js --runInBand

demo: build services migrate .run/webhook-token ## Walk through base -> runtime -> app and a base tag move
	scripts/ensure-tools.sh
	WEBHOOK_TOKEN=$$(cat .run/webhook-token) scripts/demo.sh

bench: build services ## Run the benchmarks under bench/
	bench/run-all.sh

clean: ## Remove build output and local service data
	rm -rf dist .run
