# firn — build, run and test. `make test` is what CI runs (via .ci/run).

GO ?= go
# The end-to-end tests (tests/e2e) build the server they start with -race
# too, so that a data race the real clients provoke fails the run.
export FIRN_E2E_RACE ?= 1

.PHONY: all build run test vet fmt-check bench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -o firn ./cmd/firn

run:
	$(GO) run ./cmd/firn server

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l .)"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# FIRN_E2E_REQUIRE=1 (set by .ci/run) makes a missing e2e client a
# failure instead of a skip. -count=1: the e2e results depend on what Go's
# test cache cannot see (the server they build, the installed clients).
test: vet fmt-check
	$(GO) test -race -count=1 -timeout 30m ./...
	$(GO) test -count=1 -run 'TestOneByteChange1GiB' ./internal/backup
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/firn

# Throughput and peak RSS of a real server under S3 load (see
# tests/bench); compare runs with benchstat.
bench:
	$(GO) test ./tests/bench -run '^$$' -bench . -count 5

clean:
	rm -f firn
