"""Which Fast DDS profile each attune process runs with (attune.ros.dds)."""
from __future__ import annotations

import importlib
import pkgutil
import xml.etree.ElementTree as ET

import pytest

import attune.nodes
from attune.resources import config_file
from attune.ros.dds import LARGE_PROFILE, SMALL_PROFILE, use_attune_dds_profile

NS = {'dds': 'http://www.eprosima.com'}


def shm_segment_bytes(name: str) -> int:
    root = ET.parse(config_file(name)).getroot()
    for descriptor in root.iterfind('.//dds:transport_descriptor', NS):
        if descriptor.findtext('dds:type', namespaces=NS) == 'SHM':
            return int(descriptor.findtext('dds:segment_size', namespaces=NS))
    raise AssertionError(f'{name} has no SHM transport')


def test_the_small_profile_differs_only_in_its_segment() -> None:
    assert shm_segment_bytes(LARGE_PROFILE) >= 32 * 2**20  # a 640x480 rgb8 image is 0.9 MB
    assert shm_segment_bytes(SMALL_PROFILE) < shm_segment_bytes(LARGE_PROFILE)

    def without_shm_sizes(name: str) -> str:
        text = config_file(name).read_text()
        body = text[text.index('<dds'):]
        for tag in ('segment_size', 'maxMessageSize'):
            start = body.index(f'<{tag}>')
            body = body[:start] + body[body.index(f'</{tag}>'):]
        return body
    assert without_shm_sizes(LARGE_PROFILE) == without_shm_sizes(SMALL_PROFILE)


@pytest.mark.parametrize('large', [True, False])
def test_a_process_gets_the_profile_it_needs_even_when_it_inherits_the_other(large: bool) -> None:
    inherited = {'FASTDDS_DEFAULT_PROFILES_FILE': str(config_file(SMALL_PROFILE if large else LARGE_PROFILE))}
    chosen = use_attune_dds_profile(inherited, large_messages=large)
    assert chosen == str(config_file(LARGE_PROFILE if large else SMALL_PROFILE))
    assert inherited == {'FASTDDS_DEFAULT_PROFILES_FILE': chosen}


@pytest.mark.parametrize('variable', ['FASTDDS_DEFAULT_PROFILES_FILE', 'FASTRTPS_DEFAULT_PROFILES_FILE'])
def test_a_users_own_profile_is_kept(variable: str) -> None:
    environ = {variable: '/etc/my_fastdds.xml'}
    assert use_attune_dds_profile(environ, large_messages=False) == '/etc/my_fastdds.xml'
    assert environ == {variable: '/etc/my_fastdds.xml'}


def test_only_nodes_that_publish_images_or_event_packets_ask_for_large_segments() -> None:
    large = set()
    for info in pkgutil.iter_modules(attune.nodes.__path__):
        node_class = getattr(importlib.import_module(f'attune.nodes.{info.name}'), 'NODE_CLASS', None)
        if node_class is not None and node_class.SENDS_LARGE_MESSAGES:
            large.add(info.name)
    # The face node's debug image and the emulator's event packets can exceed the small segment's
    # 1 MB message limit; every other node publishes small messages (hri_bridge's crops are ~50 kB).
    assert large == {'face_node', 'event_emulator_node'}
