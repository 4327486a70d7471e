# The two commands of the README, and a few more. Each target sets up what it needs (tools/bootstrap.sh
# skips what is already up to date).
VENV ?= .venv
PY := $(VENV)/bin/python
export ATTUNE_VENV := $(abspath $(VENV))

.PHONY: demo test bench setup clean typecheck

# Checked with mypy --strict (grow these lists package by package until they are the whole core):
# single modules, and whole packages (every module in them, present and future). Every core module is
# strict now: a new core module joins a list.
MYPY_STRICT := attune attune.jsonl_log attune.errors attune.limits attune.geometry attune.resources attune.inference \
	attune.stop_signals attune.file_digest attune.emotions attune.model_files attune.models \
	attune.affect attune.affect.calibration attune.affect.data_cache attune.affect.dataset attune.affect.estimator \
	attune.affect.evaluation attune.affect.face_extraction attune.affect.features attune.affect.held_out_teacher \
	attune.affect.mesh_graph attune.affect.model attune.affect.observation attune.affect.smoothing \
	attune.events.aedat4 attune.events.dataset attune.events.emulated_windows attune.events.emulator \
	attune.events.energy attune.events.errors attune.events.face_labels attune.events.face_window attune.events.fer \
	attune.events.labelled_files attune.events.onsets attune.events.representation attune.events.sensor_roi \
	attune.events.sliding_window attune.events.types attune.events.window_set attune.events.window_sources \
	attune.integrity attune.integrity.content attune.integrity.enrolment attune.integrity.evidence \
	attune.integrity.face_regions attune.integrity.model attune.integrity.photo_screening attune.integrity.simulate \
	attune.integrity.training attune.integrity.trust attune.integrity.retouch_check attune.integrity.retouch_data \
	attune.integrity.retouch_features attune.integrity.retouch_metrics attune.integrity.retouch_ops \
	attune.integrity.retouch_training attune.integrity.retouch_visibility \
	attune.models.training attune.models.training.expression_head_card attune.models.training.expression_head_training \
	attune.models.training.fer_finetune attune.models.training.sign_augment attune.models.training.sign_card \
	attune.models.training.sign_export attune.models.training.sign_training attune.models.training.spiking_fer_card \
	attune.models.training.asd_emotion_card attune.models.training.asd_emotion_ensemble \
	attune.models.training.asd_emotion_export attune.models.training.asd_emotion_metrics \
	attune.models.training.asd_emotion_training attune.models.training.spiking_fer_training
MYPY_STRICT_PACKAGES := attune.imaging attune.face attune.tracking attune.hands attune.sign attune.bag \
	attune.graph attune.view attune.demo attune.behavior attune.expression attune.identity attune.robots \
	attune.models.layers

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

# mypy also reads attune's generated message classes (attune.msg, built by tools/bootstrap.sh), so
# code typed with them (imports under TYPE_CHECKING) is checked against the real fields. Each run
# keeps its own cache: strict and normal options would invalidate each other's.
MYPY := MYPYPATH=$(abspath $(VENV))/lib/attune_interfaces $(PY) -m mypy

## make typecheck: mypy, strict on the modules of MYPY_STRICT, normal on the whole package
typecheck:
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
