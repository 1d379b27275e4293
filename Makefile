# Lookout — the two commands a new machine needs are `make run` and `make test`.
CARGO ?= cargo
LOOKOUT := target/release/lookout

.PHONY: run build test test-deps lint fuzz bench bench-decode clean

## Build and run the main job on the embedded default (no external services):
## the live picture of the bundled central-Mediterranean demo scenario at
## http://127.0.0.1:8080 (WebSocket at /ws, API at /api/...). Ctrl-C stops it.
run: build
	$(LOOKOUT) serve --config config/lookout.toml

## The release binary, with the web client compiled in (built first).
build: web
	$(CARGO) build --release --bin lookout

## Install what the tests need (Debian packages, as root) and run every test.
test: test-deps build
	FUZZ_SECONDS=$(FUZZ_QUICK_SECONDS) FUZZ_CASES=$(FUZZ_QUICK_CASES) $(CARGO) test --workspace --lib --bins --tests
	$(CARGO) test --workspace --doc
	$(MAKE) lint
	$(MAKE) web-test

# Debian packages the tests need, installed quietly (the dpkg output goes to
# target/apt.log) without recommended extras. nats-server's package enables a
# system service; the tests start their own servers on 127.0.0.1, so it is
# disabled again.
APT_INSTALL = apt-get update -qq >target/apt.log 2>&1 && DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0

test-deps:
	@mkdir -p target
	@command -v gpsdecode >/dev/null 2>&1 || { \
	  echo "installing gpsd-clients (gpsdecode, the reference AIS decoder)"; \
	  $(APT_INSTALL) gpsd-clients >>target/apt.log 2>&1 || { tail -20 target/apt.log; exit 1; }; }
	@command -v nats-server >/dev/null 2>&1 || test -x /usr/sbin/nats-server || { \
	  echo "installing nats-server (NATS with JetStream, the bus of the cluster tests)"; \
	  $(APT_INSTALL) nats-server >>target/apt.log 2>&1 || { tail -20 target/apt.log; exit 1; }; }
	@systemctl disable --now nats-server >/dev/null 2>&1 || rm -f /etc/systemd/system/multi-user.target.wants/nats-server.service
	@$(MAKE) --no-print-directory target/py/.installed

# Independent Python parsers the tests check outputs with (tests/python/),
# in a virtualenv under target/ so nothing outside the tree is touched.
target/py/.installed: tests/python/requirements.txt
	@echo "installing the Python reference parsers into target/py (tests/python/requirements.txt)"
	@python3 -m venv target/py >target/py.log 2>&1 && target/py/bin/pip install -q --disable-pip-version-check \
	  -r tests/python/requirements.txt >>target/py.log 2>&1 || { tail -20 target/py.log; exit 1; }
	@touch $@

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Fuzz every parser of outside input (fuzz/README.md): the AIS decoder, TAG
## blocks, zone GeoJSON, WebSocket client messages, HTTP JSON bodies (and the
## SAR bodies end to end) and the config file. The stable harness (property
## tests, crates/*/tests/fuzz_*.rs) runs each target for FUZZ_SECONDS (default
## 60) or FUZZ_CASES cases (default 200000), whichever ends first. When a
## nightly toolchain is already installed (`cargo +nightly` works; none is
## downloaded), the cargo-fuzz decoder target in fuzz/ runs as well for
## FUZZ_SECONDS (cargo-fuzz is installed if missing; skipped if that fails).
## `make fuzz-quick`: every target for a few seconds, as `make test` does.
FUZZ_SECONDS ?= 60
FUZZ_CASES ?= 200000
FUZZ_QUICK_SECONDS ?= 2
FUZZ_QUICK_CASES ?= 1000
FUZZ_TARGETS = -p lookout-ais -p spatial-index -p broadcast -p server --test 'fuzz_*'
.PHONY: fuzz-quick
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_CASES=$(FUZZ_CASES) $(CARGO) test $(FUZZ_TARGETS) -- --nocapture
	@if $(CARGO) +nightly --version >/dev/null 2>&1; then \
	  { command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked; } && \
	  mkdir -p fuzz/corpus/decode_line && cd fuzz && \
	  $(CARGO) +nightly fuzz run decode_line corpus/decode_line seeds -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	  || { s=$$?; command -v cargo-fuzz >/dev/null 2>&1 && exit $$s; echo "cargo-fuzz could not be installed: decoder fuzzed by the stable harness only"; }; \
	else \
	  echo "no nightly toolchain: cargo-fuzz skipped, decoder fuzzed by the stable harness only"; \
	fi

fuzz-quick:
	FUZZ_SECONDS=$(FUZZ_QUICK_SECONDS) FUZZ_CASES=$(FUZZ_QUICK_CASES) $(CARGO) test $(FUZZ_TARGETS)

## Library benchmarks (criterion) and the end-to-end decode comparison.
bench:
	$(CARGO) bench -p lookout-ais --bench decode
	$(CARGO) bench -p spatial-index --bench picture
	$(CARGO) bench -p spatial-index --bench memory

bench-decode: build test-deps
	scripts/bench-decode.sh

clean:
	$(CARGO) clean

## The operations-room web client (web/): npm ci when the lockfile changed,
## then bundle into web/dist (served by `lookout serve` at /), only when a
## source changed.
.PHONY: web web-test web-test-deps
WEB_SRC := $(wildcard web/src/*.js web/src/*.css) web/index.html web/build.mjs
web: web/dist/index.html

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && node build.mjs

## End-to-end tests of the web client: headless Debian chromium (installed
## as root when missing) driven by playwright-core against `lookout serve
## --replay` of a simulated scenario. Screenshots go to web/test-artifacts/.
web-test: web-test-deps web build
	cd web && node --test --test-concurrency=1 tests/geo.test.mjs tests/console.test.mjs tests/e2e.test.mjs

web-test-deps:
	@mkdir -p target
	@test -x /usr/bin/chromium || { \
	  echo "installing chromium (headless browser for the web client's tests)"; \
	  $(APT_INSTALL) chromium >>target/apt.log 2>&1 || { tail -20 target/apt.log; exit 1; }; }
