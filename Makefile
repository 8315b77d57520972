# The two commands a new user runs: `make run` and `make test`.
GO        ?= go
BIN       := bin/healthcode
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.Version=$(VERSION)
PKGS      := ./...

.PHONY: run test test-faults loadtest deps testdeps build generate lint bench clean

## run: install what is missing and start the whole platform with demo data
run: deps build
	$(BIN) dev

## test: install what is missing, start throwaway PostgreSQL and Redis, run every test; then the web
## front end's component tests (Vitest) and end-to-end tests (Chromium against a healthcode dev)
test: testdeps build
	$(BIN) testenv -- $(GO) test -race -count=1 -timeout 20m $(PKGS)
	@web/build.sh test
	@web/build.sh e2e

## test-faults: the fault tests (faults/, about 5 minutes): two serve replicas and two workers as real
## processes, killed and stopped, with PostgreSQL and Redis stopped and restarted under them
test-faults: deps build
	$(GO) test -tags faults -count=1 -v -timeout 20m ./faults

## loadtest: the overload test (graph/loadtest_test.go, about 6 minutes, not part of `make test`): one replica on
## loopback, the saturation rate of a mixed load, then 50 %, 100 % and 150 % of it open-loop for 60 s each
## (LOADTEST_DURATION), 150 % without admission control, a login flood; prints a table (docs/performance.md "Overload")
loadtest: testdeps build
	$(BIN) testenv -- $(GO) test -tags loadtest -run '^TestLoad$$' -count=1 -v -timeout 30m ./graph

deps:
	@scripts/deps.sh

testdeps:
	@scripts/deps.sh test

## build: the front end (web/build.sh: only when a source changed; skipped without Node.js), then the binary
build:
	@web/graphiql/build.sh
	@web/build.sh
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/healthcode

## generate: regenerate gqlgen code, the region migration, the front end's typed documents and the generated
## parts of docs/architecture.md (package table, dependency rule, task lists: package layout)
generate:
	$(GO) generate ./...

## lint: gofmt, go vet, generated code is current (Go and the front end's typed documents), TypeScript checks
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet $(PKGS)
	$(GO) generate ./...
	@web/build.sh typecheck
	@git diff --exit-code -- . || (echo "generated code is not current: run make generate and commit"; exit 1)

## bench: run the benchmarks (each prints a ratio against a baseline measured in the same run)
bench: deps build
	$(BIN) testenv -- $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m $(PKGS)

clean:
	rm -rf bin
