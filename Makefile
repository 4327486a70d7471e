# The two commands of the README, and a few more. Each target sets up what it needs (tools/bootstrap.sh
# skips what is already up to date).
VENV ?= .venv
PY := $(VENV)/bin/python
export ATTUNE_VENV := $(abspath $(VENV))

.PHONY: demo test bench setup clean typecheck

# Checked with mypy --strict: the whole core, attune.ros (the message converters and the node shell) and
# the nodes. Single modules (the package's top level) and whole packages (every module in them, present
# and future); test_architecture keeps every core module in one of them. cli/ is checked in normal mode
# (the second pass of `make typecheck`).
MYPY_STRICT := attune attune.jsonl_log attune.errors attune.limits attune.geometry attune.resources attune.inference \
	attune.stop_signals attune.file_digest attune.emotions attune.model_files attune.mediapipe_executor
MYPY_STRICT_PACKAGES := attune.imaging attune.face attune.tracking attune.hands attune.sign attune.bag \
	attune.graph attune.view attune.demo attune.behavior attune.expression attune.identity attune.robots \
	attune.models attune.affect attune.events attune.integrity attune.ros \
	attune.nodes

## make demo: run the face pipeline through real ROS 2 nodes on the built-in recording
demo:
	@tools/bootstrap.sh runtime ros build
	@$(VENV)/bin/attune demo $(ARGS)

## make test: the whole test suite (the 30 slowest tests listed at the end, to keep CI's time in view)
test:
	@tools/bootstrap.sh runtime ros build train test
	@$(VENV)/bin/ruff check src test bench tools launch
	@$(MAKE) --no-print-directory typecheck
	@$(PY) -m pytest --durations=30 $(ARGS)

# mypy reads typed stubs of the message classes (tools/message_stubs.py writes them into MSG_STUBS on
# every run): rosidl's generated Python leaves fields and constructors unannotated, so mypy would see
# every field as Any and accept any constructor keyword. Stubs are made for attune.msg, the REP-155
# hri_msgs and ROS_MSG_PACKAGES (the ROS wheels' message packages the source imports; a test keeps
# the list complete), and every package their fields refer to. Code typed with the classes (imports
# under TYPE_CHECKING) is checked against the real fields. Each run keeps its own cache: strict and
# normal options would invalidate each other's.
ROS_MSG_PACKAGES := builtin_interfaces std_msgs sensor_msgs diagnostic_msgs geometry_msgs rosgraph_msgs rcl_interfaces
MSG_STUBS := .mypy_cache/message_stubs
MYPY := MYPYPATH=$(abspath $(MSG_STUBS)) $(PY) -m mypy

## make typecheck: mypy, strict on the modules of MYPY_STRICT, normal on the whole package
typecheck:
	@rm -rf $(MSG_STUBS) && $(PY) tools/message_stubs.py $(MSG_STUBS) attune hri_msgs $(ROS_MSG_PACKAGES) > /dev/null
	@$(MYPY) --strict --follow-imports=silent --cache-dir .mypy_cache/strict \
		$(addprefix -m ,$(MYPY_STRICT)) $(addprefix -p ,$(MYPY_STRICT_PACKAGES))
	@$(MYPY) --cache-dir .mypy_cache/package -p attune

## make bench: all benchmarks (JSON on the last line of each)
bench:
	@tools/bootstrap.sh runtime ros build fer
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

setup:
	@tools/bootstrap.sh runtime ros build train test

clean:
	rm -rf build $(VENV) .pytest_cache
