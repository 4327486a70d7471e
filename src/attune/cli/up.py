"""`attune up`: start the attune graph where `ros2 launch` is not available (pip installs).

Starts the same nodes as launch/attune.launch.py (both read attune.graph.node_graph), one process
per node by default (as the launch file does; `--mode grouped` and `--mode composed` share processes,
see attune.graph.group), and stops them cleanly on SIGINT/SIGTERM (see attune.stop_signals).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys

from attune.errors import ConfigError
from attune.graph import GRAPH_ARGUMENTS, GraphArgs, NodeSpec, node_graph
from attune.graph.group import group_command, split_graph
from attune.graph.runner import NodeProcess, node_command, run_composed, start_processes, supervise
from attune.stop_signals import ignore_stop_signals, install_stop_signals


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('up', help='start the attune node graph (like ros2 launch attune attune.launch.py)',
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for a in GRAPH_ARGUMENTS:
        p.add_argument(f"--{a.name.replace('_', '-')}", dest=a.name, default=a.default,
                       choices=list(a.choices) or None, help=f'{a.description} (default: {a.default!r})')
    p.add_argument('--mode', choices=('processes', 'grouped', 'composed'), default='processes',
                   help='one process per node (default); grouped: one per image node, one for all the others '
                        '(less memory); composed: all nodes in this process')
    p.add_argument('--dry-run', action='store_true', help='print the graph and exit')
    p.add_argument('--json', action='store_true', help='with --dry-run: print the graph as JSON')
    p.set_defaults(handler=run)


def graph_description(args: GraphArgs) -> list[dict]:
    """The graph as plain data (what --dry-run --json prints)."""
    return [{'name': s.name, 'package': s.package, 'executable': s.executable, 'namespace': s.namespace,
             'parameter_files': list(s.parameter_files), 'parameters': dict(s.parameters),
             'remappings': [list(r) for r in s.remappings]} for s in node_graph(args)]


def check_participant(selector: str) -> str:
    """'' when the participant is enrolled in the default database (or it cannot be read without a key
    here); else why not. Names and ids are matched as the interaction node matches them."""
    from attune.errors import AttuneError
    from attune.identity.face_people import selects
    from attune.identity.keys import default_database_path, load_key
    from attune.identity.store import PeopleDatabase

    try:
        people = PeopleDatabase.open(default_database_path(), load_key(None)).people
    except AttuneError:
        return ''  # no key here (the nodes may get theirs from their parameters): not checked
    if any(selects(selector, p.person_id, p.name) for p in people):
        return ''
    return f'participant {selector!r} is not enrolled in {default_database_path()} (attune people list)'


def start_group(specs: list[NodeSpec]) -> NodeProcess:
    """One process running `specs` together (attune.graph.group); its name lists theirs."""
    name = '+'.join(s.name for s in specs)
    return NodeProcess(NodeSpec(name=name, executable='group'), subprocess.Popen(group_command(specs)))


def run(ns: argparse.Namespace) -> int:
    args = GraphArgs(**{a.name: getattr(ns, a.name) for a in GRAPH_ARGUMENTS})
    specs = node_graph(args)
    problem = check_participant(args.participant) if args.participant.strip() and args.robot != 'none' else ''
    if problem:
        raise ConfigError(problem)
    if ns.dry_run:
        if ns.json:
            print(json.dumps(graph_description(args)))
        else:
            own, shared = split_graph(specs) if ns.mode == 'grouped' else (specs, [])
            for spec in own:
                print(' '.join(node_command(spec)))
            if shared:
                print(' '.join(group_command(shared)))
        return 0
    # SIGINT/SIGTERM (a Ctrl-C reaches this process and its nodes as one group) set `stop` once and
    # never raise; the handlers stay for the process's life, so a late repeat cannot interrupt the exit.
    stop = install_stop_signals()
    log = lambda text: print(f'[attune up] {text}', file=sys.stderr, flush=True)  # noqa: E731
    from attune.ros.shm_clean import remove_zombie_segments

    if zombies := remove_zombie_segments():  # left by killed nodes of an earlier run
        log(f'removed {len(zombies)} shared-memory file(s) of DDS participants that no longer run')
    log(f"starting {len(specs)} node(s) ({ns.mode}): {', '.join(s.name for s in specs)}")
    try:
        if ns.mode == 'composed':
            return run_composed(specs, stop, log)
        if ns.mode == 'grouped':
            own, shared = split_graph(specs)
            processes = start_processes(own) + ([start_group(shared)] if shared else [])
        else:
            processes = start_processes(specs)
        code = supervise(processes, stop, log)
        log('all nodes stopped' if code == 0 else 'stopped after a node failure')
        return code
    finally:
        ignore_stop_signals()  # stopped: from here the process only exits
