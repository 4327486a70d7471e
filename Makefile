# The two commands of the README, and a few more. Each target sets up what it needs (tools/bootstrap.sh
# skips what is already up to date).
VENV ?= .venv
PY := $(VENV)/bin/python
export ATTUNE_VENV := $(abspath $(VENV))

.PHONY: demo test bench setup clean typecheck

# Checked with mypy --strict (grow this list package by package until it is the whole core).
MYPY_STRICT := attune.behavior.protocol attune.behavior.outcome attune.behavior.state \
	attune.behavior.emotion_space attune.behavior.fusion attune.behavior.engine attune.behavior.commands \
	attune.behavior.engine_context attune.behavior.identities attune.identity.face_people \
	attune.jsonl_log

## make demo: run the face pipeline through real ROS 2 nodes on the built-in recording
demo:
	@tools/bootstrap.sh runtime ros build
	@$(VENV)/bin/attune demo $(ARGS)

## make test: the whole test suite
test:
	@tools/bootstrap.sh runtime ros build train test
	@$(VENV)/bin/ruff check src test bench tools launch
	@$(MAKE) --no-print-directory typecheck
	@$(PY) -m pytest $(ARGS)

## make typecheck: mypy, strict on the modules of MYPY_STRICT
typecheck:
	@$(PY) -m mypy --strict --follow-imports=silent $(addprefix -m ,$(MYPY_STRICT))

## make bench: all benchmarks (JSON on the last line of each)
bench:
	@tools/bootstrap.sh runtime ros build fer
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

setup:
	@tools/bootstrap.sh runtime ros build train test

clean:
	rm -rf build $(VENV) .pytest_cache
