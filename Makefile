# The two commands of the README. Each installs what it needs.
SHELL := /bin/bash
DEMO_DIR ?= $(CURDIR)/.demo

.PHONY: demo test deps node-deps test-deps demo-down typecheck lint format bench build pack deb

node-deps:
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi

test-deps: node-deps
	bash scripts/ensure-debian-packages.sh
	bash scripts/ensure-ganeti-testsuite.sh >/dev/null
	bash scripts/ensure-kvm-assets.sh >/dev/null
	bash scripts/ensure-debian-root.sh >/dev/null

# Everything: unit, integration, conformance with Ganeti's Python client,
# htools against Ganeti's corpus, Pulumi engine end to end.
test: test-deps lint
	npx tsc -p tsconfig.json --noEmit
	PULUMI_BIN_DIR="$$(bash scripts/ensure-pulumi.sh | tail -n 1)" npx vitest run

# The built packages (every workspace's dist/), their npm tarballs in
# ./dist/npm, and the Debian package in ./dist (docs/install.md).
build: node-deps
	npm run build

pack: build
	bash scripts/pack.sh dist/npm

deb: pack
	bash scripts/build-deb.sh dist --tarballs dist/npm

# A one-node cluster in ./.demo on 127.0.0.1, then the SDK example against it.
demo: node-deps
	@bash scripts/demo.sh "$(DEMO_DIR)"

demo-down:
	@bash scripts/demo-down.sh "$(DEMO_DIR)"

typecheck: node-deps
	npx tsc -p tsconfig.json --noEmit

# ESLint (recommended rules plus the layer rules of eslint.config.js) and
# Prettier's check; `make format` rewrites what Prettier would change.
lint: node-deps
	npx eslint --max-warnings 0 .
	npx prettier --check --log-level warn .

format: node-deps
	npx prettier --write --log-level warn .
