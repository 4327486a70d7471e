"""`attune policy check PROFILE|FILE` and `attune policy list`: validate behaviour policies.

    attune policy check config/policies/asd_session.yaml   # OK with a summary, or FILE:LINE: FIELD: problem
    attune policy list                                      # the shipped profiles
"""
from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('policy', help='check a behaviour policy file, list the shipped profiles',
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='policy_command', metavar='ACTION', required=True)
    check = sub.add_parser('check', help='validate a policy (shipped profile name or YAML file)')
    check.add_argument('policy', help='profile name (default, asd_session, signing_partner) or file')
    check.set_defaults(handler=run_check)
    listing = sub.add_parser('list', help='the shipped profiles')
    listing.set_defaults(handler=run_list)


def run_check(ns: argparse.Namespace) -> int:
    from attune.behavior.policy import load_policy

    policy = load_policy(ns.policy)  # PolicyError -> `ERROR: FILE:LINE: FIELD: problem`, exit 1
    limits = policy.limits
    print(f'OK: {policy.path}: policy {policy.name!r}, {len(policy.rules)} rules; at most {limits.max_commands} '
          f'commands per {limits.window_s:g} s' + (f"; forbids {', '.join(limits.forbid)}" if limits.forbid else ''))
    for rule in policy.rules:
        actions = ', '.join(a.action.key for a in rule.actions)
        print(f'  {rule.name:<22} on {rule.trigger:<8} {rule.priority.name.lower():<6} when {rule.condition.text}'
              f' -> {actions}')
    return 0


def run_list(ns: argparse.Namespace) -> int:
    from attune.behavior.policy import load_policy, shipped_profiles

    for name in shipped_profiles():
        policy = load_policy(name)
        print(f'{name:<18} {policy.description}')
    return 0
