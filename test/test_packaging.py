"""The package's metadata agrees with itself: package.xml, CMakeLists.txt, setup.py, pins, msg/."""
from __future__ import annotations

import re
import subprocess
import sys

from test.conftest import REPO


def test_package_xml_is_valid_format_3_ament_cmake() -> None:
    from catkin_pkg.package import parse_package

    package = parse_package(str(REPO / 'package.xml'))
    package.validate()
    assert package.package_format == 3
    assert package.name == 'attune'
    assert package.get_build_type() == 'ament_cmake'
    assert 'rosidl_interface_packages' in [g.name for g in package.member_of_groups]


def test_every_message_is_generated() -> None:
    cmake = (REPO / 'CMakeLists.txt').read_text()
    listed = set(re.findall(r'msg/\w+\.msg', cmake))
    on_disk = {f'msg/{p.name}' for p in (REPO / 'msg').glob('*.msg')}
    assert listed == on_disk


def test_messages_import_and_carry_headers() -> None:
    import attune.msg as msgs

    for name in ('Faces', 'Expression', 'EventPacket', 'Sign', 'AffectState', 'InteractionState', 'InteractionEvent',
                 'BehaviorCommand', 'Hands'):
        assert 'header' in getattr(msgs, name).get_fields_and_field_types(), name


def test_version_is_the_same_everywhere() -> None:
    from catkin_pkg.package import parse_package

    import attune

    setup_version = re.search(r"version='([^']+)'", (REPO / 'setup.py').read_text()).group(1)
    assert attune.__version__ == setup_version == parse_package(str(REPO / 'package.xml')).version


def test_every_pin_is_exact_and_in_one_file() -> None:
    sys.path.insert(0, str(REPO / 'tools'))
    from pins import read_sections

    sections = read_sections()
    assert {'runtime', 'ros', 'build', 'test'} <= set(sections)
    for pins in sections.values():
        for pin in pins:
            assert '==' in pin, f'{pin} is not pinned exactly'
    assert 'mediapipe==0.10.21' in sections['runtime']
    for other in REPO.glob('**/requirements*.txt'):
        assert other == REPO / 'requirements.txt' or '.venv' in other.parts, other


def test_console_script_runs() -> None:
    out = subprocess.run([sys.executable, '-m', 'attune.cli.main', '--version'], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith('attune ')


def test_readme_parameter_tables_are_up_to_date() -> None:
    result = subprocess.run([sys.executable, str(REPO / 'tools' / 'gen_docs.py'), '--check'],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (REPO / 'README.md').read_text()
    assert 'make test' in readme
    assert 'make test' in (REPO / '.ci' / 'run').read_text()
