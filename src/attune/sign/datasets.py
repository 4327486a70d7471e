"""Landmark data sets for sign training and evaluation, in one place: the public ones
(attune.sign.public_data), a user's own recordings (attune.sign.recording), recording blocks and
block splits (attune.sign.splits), segments and their windows (attune.sign.segments), and
`load_dataset`, which picks one by name or folder.

Every loader cuts its rows into *blocks* (runs of consecutive frames of one gloss) and every split
holds out whole blocks: neighbouring frames are near duplicates, so a row split would put the same
moment in training and test.
"""
from __future__ import annotations

from pathlib import Path

from attune.errors import ConfigError
from attune.sign.public_data import (
    ASL_ASPECT,
    BUILTIN,
    load_asl_alphabet,
    load_builtin,
    load_kinivi_keypoints,
    load_kinivi_point_history,
)
from attune.sign.recording import RECORDING_KEYS, load_recordings, save_recording
from attune.sign.segments import Kind, LandmarkDataset, Segment, windows
from attune.sign.splits import SignSplit, blocks_from_breaks, jump_breaks, split_blocks, trajectory_breaks

__all__ = [
    'ASL_ASPECT', 'BUILTIN', 'RECORDING_KEYS', 'Kind', 'LandmarkDataset', 'Segment', 'SignSplit', 'blocks_from_breaks',
    'jump_breaks', 'load_asl_alphabet', 'load_builtin', 'load_dataset', 'load_kinivi_keypoints',
    'load_kinivi_point_history', 'load_recordings', 'save_recording', 'split_blocks', 'trajectory_breaks', 'windows',
]


def load_dataset(spec: str, data_dir: Path) -> LandmarkDataset:
    """A built-in data set by name (read from data_dir), or a folder of recordings by path.

    Raises:
        ConfigError: neither a built-in name nor a folder.
    """
    if spec in BUILTIN:
        return load_builtin(spec, data_dir)
    path = Path(spec)
    if path.is_dir():
        return load_recordings(path)
    raise ConfigError(f"unknown data set {spec!r}: not one of {', '.join(BUILTIN)} and not a folder")
