# Brine build. Binaries are static (CGO_ENABLED=0); only the race-detector
# tests need cgo.

GO          ?= go
MODULE      := github.com/brine-project/brine
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X $(MODULE)/internal/version.Version=$(VERSION)
BUILDFLAGS  := -trimpath -ldflags '$(LDFLAGS)'
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s
# os/arch[/arm version] of `make cross`.
CROSS       := linux/amd64 linux/arm64 linux/arm/7 linux/arm/6 linux/386 linux/riscv64

.PHONY: all build test demo cross bench bench-swarm profile-swarm fuzz lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build $(BUILDFLAGS) -o bin/ ./cmd/...

test:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.demo/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needs to run on:"; echo "$$out"; exit 1; fi
	CGO_ENABLED=0 $(GO) vet ./...
	CGO_ENABLED=1 $(GO) test -race ./...

demo: build
	@./scripts/demo.sh

cross:
	@set -e; for t in $(CROSS); do \
	  os=$${t%%/*}; rest=$${t#*/}; arch=$${rest%%/*}; arm=; dir=$$os-$$arch; \
	  case $$rest in arm/*) arm=$${rest#arm/}; dir=$$dir-v$$arm;; esac; \
	  echo "building dist/$$dir"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=$$arm $(GO) build $(BUILDFLAGS) -o dist/$$dir/ ./cmd/...; \
	done
	@echo; echo "sizes (bytes):"; cd dist && for f in */*; do printf '%10d  %s\n' $$(stat -c %s $$f) $$f; done

bench:
	@./transport/bench/run.sh
	@echo; echo "== master returns/s and the CLI's wall time against one local minion"
	CGO_ENABLED=0 $(GO) test -run '^$$' -bench 'BenchmarkReturns|BenchmarkCLIPing' -benchtime 3x ./master/ ./e2e/

# The swarm figures of issue 6: N minions (default 1000) against a master.
N ?= 1000
bench-swarm: build
	CGO_ENABLED=0 $(GO) run ./swarm/benchswarm -n $(N) -json swarm-figures.json

# The same, keeping the master's and the swarm's CPU and heap profiles in
# profiles/.
profile-swarm: build
	CGO_ENABLED=0 $(GO) run ./swarm/benchswarm -n $(N) -single=false -profile profiles -json profiles/figures.json
	@echo "go tool pprof -top bin/brine-master profiles/master-cpu.pprof (and master-heap, swarm-cpu, swarm-heap with bin/brine-swarm)"

fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzzing $$pkg $$f for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

lint:
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin dist .demo
