# Two commands for everyone: `make lab` (set up, then open JupyterLab on the notebooks) and `make test`
# (set up, then run every test). Everything a fresh clone needs is installed from here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KAFKA_STAMP := kafka/lib/.resolved

.PHONY: setup lab test test-fast bench fuzz fidelity kafka-jars kafka-image kafka-image-if-docker notebooks labs clean help

help:
	@echo "make lab    - set up .venv and open JupyterLab on notebooks/ (simulator backend)"
	@echo "make test   - set up .venv, resolve the Kafka jars, run every test"
	@echo "make bench  - measure the simulator against real Kafka (ratios from one run)"
	@echo "make kafka-image - build the course's Kafka image for the testcontainers backend (needs Docker)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "eventsim needs Python 3.11 or newer, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/jupyter labextension disable "@jupyterlab/apputils-extension:announcements" >/dev/null 2>&1 || true
	@touch $@

setup: $(STAMP)

# LAB_ARGS passes extra options to JupyterLab, e.g. make lab LAB_ARGS="--no-browser --port=8890"
# (as root, e.g. in a container, JupyterLab needs --allow-root)
LAB_ARGS ?=
ROOT_ARG := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: setup
	EVENTSIM_BACKEND=sim $(BIN)/jupyter lab --notebook-dir=notebooks $(ROOT_ARG) $(LAB_ARGS)

# Real Kafka for the "local" backend: the broker jars listed in kafka/pom.xml, fetched from Maven Central
# into kafka/lib/. Without java or mvn this prints a note and succeeds (the real-Kafka tests then skip),
# except with EVENTSIM_REQUIRE_KAFKA=1 (CI), where it fails.
kafka-jars: $(KAFKA_STAMP)

$(KAFKA_STAMP): kafka/pom.xml
	@if command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then \
	  rm -rf kafka/lib && \
	  mvn -q -B -Dstyle.color=never -f kafka/pom.xml dependency:copy-dependencies -DoutputDirectory=lib && \
	  touch $@ && echo "Kafka broker jars ready in kafka/lib/"; \
	else \
	  msg="make kafka-jars: java and/or mvn not found, so the real-Kafka (local backend) tests cannot run. Install Java 17+ and Maven (e.g. apt-get install openjdk-17-jdk-headless maven) and run make kafka-jars again; the simulator backend needs neither."; \
	  if [ "$$EVENTSIM_REQUIRE_KAFKA" = "1" ]; then echo "$$msg EVENTSIM_REQUIRE_KAFKA=1, so this is an error." >&2; exit 1; fi; \
	  echo "$$msg"; \
	fi

# The course's Kafka image for the testcontainers backend, built here with no image registry: a Debian base
# made with debootstrap, Debian's Java 17 and the jars above (scripts/kafka_image.sh; fast when unchanged).
kafka-image: kafka-jars
	bash scripts/kafka_image.sh

# For make test: the image where a Docker engine answers; elsewhere, or where it cannot be built (no
# debootstrap, e.g. Docker Desktop), a note and the Docker tests skip, except with EVENTSIM_REQUIRE_DOCKER=1
# (CI), where that is an error.
kafka-image-if-docker: kafka-jars
	@if ! docker info >/dev/null 2>&1; then \
	  msg="make test: no Docker engine answers, so the testcontainers (Docker) tests cannot run; start Docker to run them."; \
	elif ! bash scripts/kafka_image.sh; then \
	  msg="make test: the course's Kafka image could not be built (above), so the Docker tests use apache/kafka if your engine has it, or skip."; \
	fi; \
	if [ -n "$$msg" ]; then \
	  if [ "$$EVENTSIM_REQUIRE_DOCKER" = "1" ]; then echo "$$msg EVENTSIM_REQUIRE_DOCKER=1, so this is an error." >&2; exit 1; fi; \
	  echo "$$msg"; \
	fi

# Every test: unit and property tests, the notebooks under nbval (executed on the simulator, so
# EVENTSIM_BACKEND is pinned to sim here), labs, widgets, real Kafka and the browser test.
test: setup kafka-jars kafka-image-if-docker
	EVENTSIM_BACKEND=sim $(BIN)/python -m pytest --durations=30

test-fast: setup
	EVENTSIM_BACKEND=sim $(BIN)/python -m pytest -m "not kafka and not browser and not docker"

# The simulator against real Kafka on the same workloads, in one run: a table of wall-clock times, the
# ratios sim/real and the simulator's virtual time, and the numbers as JSON in bench-results/; then how
# long the history checker takes on 100 000 ops.
# BENCH_ARGS passes options, e.g. make bench BENCH_ARGS="--records 50000"
BENCH_ARGS ?=
bench: setup kafka-jars kafka-image-if-docker
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)
	$(BIN)/python scripts/bench_history.py

# The long profile of the stateful fuzzer (tests/fuzz_machine.py): random sequences of client, admin and
# cluster operations, invariants after every step, counts per outcome class; fails on any hang, raw
# traceback or broken invariant. FUZZ_ARGS passes options, e.g. make fuzz FUZZ_ARGS="--sequences 300"
FUZZ_ARGS ?= --sequences 2000
fuzz: setup
	$(BIN)/python scripts/fuzz.py $(FUZZ_ARGS)

# docs/fidelity.md from the differential campaign (tests/campaign/): every behaviour compared with real
# Kafka, by area (make test fails when the committed file is stale).
fidelity: setup
	$(BIN)/python scripts/fidelity.py

clean:
	rm -rf $(VENV) kafka/lib kafka/target .pytest_cache .hypothesis test-artifacts
