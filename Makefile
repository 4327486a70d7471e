# The two commands of the README, and a few more. Each target sets up what it needs (tools/bootstrap.sh
# skips what is already up to date).
VENV ?= .venv
PY := $(VENV)/bin/python
export ATTUNE_VENV := $(abspath $(VENV))

.PHONY: demo test bench setup clean

## make demo: run the face pipeline through real ROS 2 nodes on the built-in recording
demo:
	@tools/bootstrap.sh runtime ros build
	@$(VENV)/bin/attune demo $(ARGS)

## make test: the whole test suite
test:
	@tools/bootstrap.sh runtime ros build train test
	@$(VENV)/bin/ruff check src test bench tools launch
	@$(PY) -m pytest $(ARGS)

## make bench: all benchmarks (JSON on the last line of each)
bench:
	@tools/bootstrap.sh runtime ros build fer
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

setup:
	@tools/bootstrap.sh runtime ros build train test

clean:
	rm -rf build $(VENV) .pytest_cache
