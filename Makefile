# Every target runs on a fresh machine with Go installed; scripts/test
# installs and starts whatever else the tests need.
.PHONY: test bench soak fuzz e2e lint build

test:  ## the whole suite, with the race detector (what CI runs)
	scripts/test

bench: ## the performance report, docs/performance.md (up to 25 minutes; BASE=<commit> to compare; see bench/run.sh)
	cd bench && go vet ./... && go test ./...
	bench/run.sh

soak:  ## one server under steady mixed load for SOAK (default 10m; see bench/soak.sh); not part of test
	bench/soak.sh

fuzz:  ## each fuzz target for FUZZTIME (default 10s)
	scripts/fuzz $(FUZZTIME)

e2e:   ## black-box tests of the built binary only
	go test -race -count=1 ./e2e/

lint:
	gofmt -l . | (! grep .) && go vet ./...

build:
	go build -o bin/gatehouse ./cmd/gatehouse
