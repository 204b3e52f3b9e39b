# Shizuishan Culture Cloud. The two commands of the quick start are `make run` and `make test`.
SHELL := /bin/bash
TOOLS := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)

.PHONY: run test install build lint unit browser fuzz bench bench-live bench-exhibitions clean

## run: install what is missing, start Redis, MinIO and Meilisearch with demo data, and serve
run:
	@bash deploy/run.sh

## test: install what is missing, lint, and run the whole suite against real services
test: install lint
	CC_REQUIRE_SERVICES=1 go test -race -count=1 -timeout 40m ./...

install:
	@bash deploy/install.sh

build:
	go build -o bin/culturecloud ./cmd/culturecloud

lint: install
	golangci-lint run ./...
	go mod tidy -diff

## fuzz: run each fuzz test for a while (not part of make test: the seeds run there)
fuzz:
	go test -run XXX -fuzz FuzzDecodeAndValidate -fuzztime 60s ./internal/server/

clean:
	rm -rf bin test-artifacts

## bench-library: measure the library against its baselines (MinIO, Meilisearch, Redis) and print a table
bench-library: install
	go run ./cmd/benchlib

## bench-exhibitions: measure IIIF tiles of a 12,000 × 9,000 scan against MinIO, and the tile pyramid against vips dzsave, and print a table (QUICK=1 for a short run)
bench-exhibitions: install
	go run ./cmd/benchexhib $(if $(QUICK),-quick)

## bench-live: measure live fan-out (one WHIP publisher, WHEP viewers in steps) on our own server and print a table
bench-live: install
	go run ./cmd/benchlive
