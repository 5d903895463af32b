# Brine build. Binaries are static (CGO_ENABLED=0); only the race-detector
# tests need cgo.

GO          ?= go
MODULE      := github.com/brine-project/brine
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS     := -s -w -X $(MODULE)/internal/version.Version=$(VERSION)
BUILDFLAGS  := -trimpath -ldflags '$(LDFLAGS)'
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s
# os/arch[/arm version] of `make cross`, in Docker's platform notation;
# each goes to dist/os-arch[-version].
CROSS       := linux/amd64 linux/arm64 linux/arm/v7 linux/arm/v6 linux/386 linux/riscv64
# The date inside `make dist`'s archives: the last commit's, so the same
# commit packs to the same bytes.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)

.PHONY: all build test demo cross dist bench bench-swarm profile-swarm fuzz lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build $(BUILDFLAGS) -o bin/ ./cmd/...

test:
	@out=$$(gofmt -l $$(find . -name '*.go' -not -path './.demo/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needs to run on:"; echo "$$out"; exit 1; fi
	CGO_ENABLED=0 $(GO) vet ./...
	CGO_ENABLED=1 $(GO) test -race -timeout 30m ./...

demo: build
	@./scripts/demo.sh

cross:
	@set -e; for t in $(CROSS); do \
	  os=$${t%%/*}; rest=$${t#*/}; arch=$${rest%%/*}; arm=; dir=$$(echo $$t | tr / -); \
	  case $$rest in arm/v*) arm=$${rest#arm/v};; esac; \
	  echo "building dist/$$dir"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=$$arm $(GO) build $(BUILDFLAGS) -o dist/$$dir/ ./cmd/...; \
	done
	@echo; echo "sizes (bytes):"; cd dist && for f in */*; do printf '%10d  %s\n' $$(stat -c %s $$f) $$f; done

# One brine-VERSION-os-arch.tar.gz per platform of `make cross` (the
# binaries, the systemd units, the shell completions and
# packaging/README.md) and SHA256SUMS. Sorted, root-owned and dated
# SOURCE_DATE_EPOCH, so a commit packs to the same bytes every time.
dist: cross
	@set -e; rm -f dist/*.tar dist/*.tar.gz dist/SHA256SUMS; \
	for d in $(subst /,-,$(CROSS)); do \
	  name=brine-$(VERSION)-$$d; \
	  tar --sort=name --owner=0 --group=0 --numeric-owner --mode=go-w --mtime=@$(SOURCE_DATE_EPOCH) \
	    --transform "s,^,$$name/," -cf dist/$$name.tar -C dist/$$d $$(ls dist/$$d) \
	    -C $(CURDIR)/packaging README.md systemd completion; \
	  gzip -9n dist/$$name.tar; \
	done; \
	cd dist && sha256sum *.tar.gz > SHA256SUMS
	@echo; cat dist/SHA256SUMS

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

# Every fuzz target, one after the other, for FUZZTIME each. No list of
# targets is kept here: every package with a `func Fuzz...` in a test file
# is asked for its targets (go test -list, which fails when the tests do
# not build, instead of skipping them), so a new target cannot be left
# out. A failing target does not stop the others; they are named at the
# end, and the make fails.
fuzz:
	@set -e; total=0; failed=; \
	for pkg in $$(grep -rlE --include='*_test.go' --exclude-dir=testdata '^func Fuzz[^a-z]' . | xargs -n1 dirname | sort -u); do \
	  list=$$($(GO) test -list '^Fuzz' $$pkg); \
	  targets=$$(echo "$$list" | grep '^Fuzz' || true); \
	  if [ -z "$$targets" ]; then echo "$$pkg has a func Fuzz... but go test -list finds no fuzz target" >&2; exit 1; fi; \
	  for f in $$targets; do \
	    total=$$((total + 1)); echo "== fuzzing $$pkg $$f for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$pkg || failed="$$failed $$pkg:$$f"; \
	  done; \
	done; \
	echo "fuzzed $$total targets for $(FUZZTIME) each"; \
	if [ -n "$$failed" ]; then echo "failed:$$failed" >&2; exit 1; fi

lint:
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin dist .demo
