# stampede: build, test, demo, bench, lint.
GO      ?= go
BIN     := bin/stampede
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

.PHONY: build test test-browser demo demo-series bench lint clean docs image accuracy

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/stampede

# Every database test runs against a real throwaway PostgreSQL started by fixtures/pg.
test:
	$(GO) test -count=1 -timeout 20m ./...

# report.html in headless Chromium (installed with apt-get when missing);
# saves docs/report-screenshot.png.
test-browser:
	./scripts/browser-test.sh

demo: build
	./scripts/demo.sh

# The demo N times (default 10) as the machine is, then N times beside a busy
# core, with a tally of the breaking point's cause and the scorecard
# (scripts/demo-series.sh; runs in runs/demo-series/). About 25 minutes.
demo-series: build
	./scripts/demo-series.sh

# Benchmarks print figures (rates, times, ratios against vegeta); they assert nothing.
# The vegeta command-line tool is built into bin/ for the side-by-side runs.
# Then one agent's efficiency as a user measures it: stampede, the vegeta CLI
# and wrk, each in its own process against a loopback server in another,
# interleaved (scripts/bench-agents.sh; REPS and SECS set the repetitions).
bench: build bin/vegeta
	VEGETA_BIN=$(CURDIR)/bin/vegeta $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 20m ./...
	./scripts/bench-agents.sh

bin/vegeta:
	GOBIN=$(CURDIR)/bin $(GO) install github.com/tsenart/vegeta/v12@v12.13.0

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The container image that stampede k8s runs (see the Dockerfile and docs/kubernetes.md).
image:
	docker build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) --build-arg DATE=$(DATE) -t stampede:$(VERSION) .

# The scenario reference is generated from the loader's key table.
docs:
	$(GO) run ./cmd/stampede schema --format markdown > docs/scenarios.md

clean:
	rm -rf bin

# The full accuracy matrix: 27 cases (white-box fixture, black-box fixture as its own process,
# Django, a trivial service; database-path latency on black boxes, the limit from a pure ramp,
# Django past max_connections, a generator overloading its own machine, a single-threaded event
# loop, 150 ms on a black box's client path), each run 3 times quiet and 2 times beside a busy core, plus find-limit
# against Little's law; the summary marks each limit figure steady, ramp or find-limit.
# About 34 minutes on 2 cores (135 runs: 33m26s measured); run directories and summary.txt in runs/accuracy/.
accuracy:
	$(GO) test -count=1 -tags accuracy -run TestAccuracyFull -timeout 60m -v ./cmd/stampede/
