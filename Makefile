# Herald — the two commands are `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SWIFT ?= swift
SWIFT_FLAGS ?=
STACK := deploy/dev/stack.sh
SERVICES := control tracker job-server mta-sender bounce-fbl-reader
RELEASE_BIN = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)

.PHONY: help install build release run stop stack-start stack-stop stack-status test bench proto proto-check openapi openapi-check clean

help:
	@echo "make run     install what is missing, build, start the stack and all services with demo data"
	@echo "make test    start the servers the tests need, run every test, stop them (ARGS='--filter X' for a subset)"
	@echo "make stop    stop the services and the stack that 'make run' started"
	@echo "make bench   build in release mode and print the benchmark ratios"
	@echo "make proto   regenerate Shared/Contracts/Generated from proto/"
	@echo "make openapi regenerate the served OpenAPI JSON from docs/openapi.yaml"

install:
	@bash deploy/dev/install.sh

build: install
	$(SWIFT) build $(SWIFT_FLAGS)

release: install
	$(SWIFT) build -c release $(SWIFT_FLAGS)

stack-start: install
	@bash $(STACK) start all

stack-stop:
	@bash $(STACK) stop all

stack-status:
	@bash $(STACK) status

## The whole product on this machine: servers, then the five services, in the foreground.
run: release stack-start
	@bash deploy/dev/run-services.sh "$(RELEASE_BIN)"

stop:
	@bash deploy/dev/run-services.sh --stop
	@bash $(STACK) stop all

## Every test against real servers. Servers this target started are stopped again, pass or fail.
ARGS ?=
test: install
	@$(MAKE) --no-print-directory proto-check openapi-check
	@bash deploy/dev/test.sh $(ARGS)

bench: install
	@bash Benchmarks/run.sh

## protoc from Debian, protoc-gen-swift built from the swift-protobuf version Package.swift resolves.
PROTOC_GEN_SWIFT := .build-protoc/release/protoc-gen-swift
CONTRACTS := Shared/Contracts/Generated
define generate-contracts
	rm -rf $(1) && mkdir -p $(1)
	protoc --plugin=protoc-gen-swift=$(PROTOC_GEN_SWIFT) \
	  --swift_out=$(1) \
	  --swift_opt=Visibility=Public --swift_opt=FileNaming=PathToUnderscores \
	  -I proto -I /usr/include $$(find proto -name '*.proto' | sort)
endef

$(PROTOC_GEN_SWIFT):
	$(SWIFT) package resolve
	$(SWIFT) build -c release --package-path .build/checkouts/swift-protobuf --scratch-path .build-protoc --product protoc-gen-swift

proto: install $(PROTOC_GEN_SWIFT)
	$(call generate-contracts,$(CONTRACTS))

## Fails when the committed generated code is not what proto/ generates (run by make test).
proto-check: install $(PROTOC_GEN_SWIFT)
	$(call generate-contracts,.build-protoc/check)
	@diff -r $(CONTRACTS) .build-protoc/check >/dev/null || { \
	  echo "Shared/Contracts/Generated is out of date with proto/: run 'make proto' and commit the result" >&2; \
	  diff -ru $(CONTRACTS) .build-protoc/check | head -40 >&2; exit 1; }
	@echo "generated contracts match proto/"

## docs/openapi.yaml is the source; control serves its JSON form from its resources.
OPENAPI_JSON := Shared/ControlPanel/Resources/openapi.json
VENV_PY := .stack/venv/bin/python
openapi: install
	$(VENV_PY) deploy/dev/openapi.py $(OPENAPI_JSON)

openapi-check: install
	@$(VENV_PY) deploy/dev/openapi.py .build-openapi.json
	@cmp -s $(OPENAPI_JSON) .build-openapi.json || { \
	  echo "$(OPENAPI_JSON) is out of date with docs/openapi.yaml: run 'make openapi' and commit the result" >&2; exit 1; }
	@rm -f .build-openapi.json
	@echo "served OpenAPI document matches docs/openapi.yaml"

clean:
	$(SWIFT) package clean
	rm -rf .build-protoc
