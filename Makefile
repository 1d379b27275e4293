# Lookout — the two commands a new machine needs are `make run` and `make test`.
CARGO ?= cargo
LOOKOUT := target/release/lookout

.PHONY: run build test test-deps lint fuzz bench bench-decode clean

## Build and run the main job on the embedded default (no external services):
## the live picture of the bundled central-Mediterranean demo scenario at
## http://127.0.0.1:8080 (WebSocket at /ws, API at /api/...). Ctrl-C stops it.
run: build
	$(LOOKOUT) serve --config config/lookout.toml

build:
	$(CARGO) build --release --bin lookout

## Install what the tests need (Debian packages, as root) and run every test.
test: test-deps build
	$(CARGO) test --workspace --lib --bins --tests
	$(CARGO) test --workspace --doc
	$(MAKE) lint

test-deps:
	@command -v gpsdecode >/dev/null 2>&1 || { \
	  echo "installing gpsd-clients (gpsdecode, the reference AIS decoder)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gpsd-clients; }

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Fuzz the framing + decode path for FUZZ_SECONDS (default 60) with cargo-fuzz.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	mkdir -p fuzz/corpus/decode_line
	cd fuzz && $(CARGO) +nightly fuzz run decode_line corpus/decode_line seeds -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048

## Library benchmarks (criterion) and the end-to-end decode comparison.
bench:
	$(CARGO) bench -p lookout-ais --bench decode

bench-decode: build test-deps
	scripts/bench-decode.sh

clean:
	$(CARGO) clean
