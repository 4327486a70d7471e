"""Behaviour: interaction-state fusion, declarative policies and their engine, session logs and reports.

ROS-free: the nodes (attune.nodes.interaction_node, behavior_node) convert messages and call into it.
"""
from attune.behavior.commands import Action, Command, GazeTarget, Priority
from attune.behavior.engine import PolicyEngine
from attune.behavior.fusion import (
    AffectObservation,
    Contribution,
    ExpressionObservation,
    FaceSighting,
    FusionOptions,
    InteractionFusion,
    PersonState,
    SignObservation,
)
from attune.behavior.outcome import Outcome, PersonSign, ProtocolResult, Suppressed
from attune.behavior.policy import Policy, PolicyError, load_policy, parse_policy, shipped_profiles

__all__ = [
    'Action',
    'AffectObservation',
    'Command',
    'Contribution',
    'ExpressionObservation',
    'FaceSighting',
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
    'SignObservation',
    'Suppressed',
    'load_policy',
    'parse_policy',
    'shipped_profiles',
]
