"""`attune up --mode grouped`: nodes that take camera images run one process each; the others share one.

Why: every process carries its own interpreter, rclpy, message libraries and DDS participant
(about 85 MB of resident memory for a node that only fuses or acts on small messages), while those
nodes use a few percent of a core each. Nodes that decode and analyse images keep their own process,
so a slow MediaPipe or onnxruntime step never holds the interpreter lock of another image node.
docs/architecture.md has the measured numbers of the three modes.

    python -m attune.graph.group SPEC_JSON   # run the nodes of SPEC_JSON (a list of NodeSpec fields) here
"""
from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from attune.graph.spec import NodeSpec

#: Executables whose node takes camera images (an attune.ros.image_input node); a test keeps it true.
IMAGE_NODES = frozenset({'face_node', 'hands_node', 'expression_node', 'asd_emotion_node',
                         'event_emulator_node', 'identity_node', 'stream_guard_node'})


def split_graph(specs: Sequence[NodeSpec]) -> tuple[list[NodeSpec], list[NodeSpec]]:
    """(nodes that get a process each, nodes that share one), each in start order."""
    return ([s for s in specs if s.executable in IMAGE_NODES], [s for s in specs if s.executable not in IMAGE_NODES])


def group_command(specs: Sequence[NodeSpec], python: str = sys.executable) -> list[str]:
    """The command line that runs `specs` together in one process."""
    return [python, '-m', 'attune.graph.group', json.dumps([asdict(s) for s in specs])]


def specs_from_json(text: str) -> list[NodeSpec]:
    def spec(fields: dict[str, Any]) -> NodeSpec:
        return NodeSpec(name=fields['name'], executable=fields['executable'], package=fields['package'],
                        namespace=fields['namespace'], parameter_files=tuple(fields['parameter_files']),
                        parameters=tuple((k, v) for k, v in fields['parameters']),
                        remappings=tuple((a, b) for a, b in fields['remappings']))
    return [spec(fields) for fields in json.loads(text)]


def main(argv: Sequence[str] | None = None) -> int:
    import importlib

    from attune.graph.runner import run_composed
    from attune.ros.dds import use_attune_dds_profile
    from attune.ros.node_main import end_node_process
    from attune.stop_signals import ignore_stop_signals, install_stop_signals

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print('usage: python -m attune.graph.group SPEC_JSON', file=sys.stderr)
        return 2
    specs = specs_from_json(args[0])
    stop = install_stop_signals()
    large = any(getattr(importlib.import_module(s.module).NODE_CLASS, 'SENDS_LARGE_MESSAGES', True) for s in specs)
    use_attune_dds_profile(large_messages=large)
    names = ', '.join(s.name for s in specs)
    try:
        code = run_composed(specs, stop, lambda text: print(f'[attune group: {names}] {text}', file=sys.stderr,
                                                            flush=True), one_thread=True)
    finally:
        ignore_stop_signals()  # stopped: from here the process only exits
    end_node_process(code)  # as a node process ends: at once, the participant's exit under a deadline


if __name__ == '__main__':
    raise SystemExit(main())
