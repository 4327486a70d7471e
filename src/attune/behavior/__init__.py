"""Behaviour: interaction-state fusion, declarative policies and their engine, session logs and reports.

ROS-free: the nodes (attune.nodes.interaction_node, behavior_node) convert messages and call into it.
"""
from attune.behavior.commands import Action, Command, GazeTarget, Priority
from attune.behavior.engine import PolicyEngine
from attune.behavior.fusion import (
    AffectInput,
    Contribution,
    ExpressionInput,
    FaceInput,
    FusionOptions,
    InteractionFusion,
    PersonState,
    SignInput,
)
from attune.behavior.outcome import Outcome, PersonSign, ProtocolResult, Suppressed
from attune.behavior.policy import Policy, PolicyError, load_policy, parse_policy, shipped_profiles

__all__ = [
    'Action',
    'AffectInput',
    'Command',
    'Contribution',
    'ExpressionInput',
    'FaceInput',
    'FusionOptions',
    'GazeTarget',
    'InteractionFusion',
    'Outcome',
    'PersonSign',
    'PersonState',
    'Policy',
    'PolicyEngine',
    'PolicyError',
    'Priority',
    'ProtocolResult',
    'SignInput',
    'Suppressed',
    'load_policy',
    'parse_policy',
    'shipped_profiles',
]
