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


#: [runtime] pins whose module apt provides under a rosdep key (the venv's pinned wheel wins at run time).
ROSDEP_KEYS = {'numpy': 'python3-numpy', 'opencv-contrib-python': 'python3-opencv', 'scipy': 'python3-scipy',
               'PyYAML': 'python3-yaml', 'matplotlib': 'python3-matplotlib', 'Pillow': 'python3-pil',
               'scikit-learn': 'python3-sklearn', 'protobuf': 'python3-protobuf',
               'cryptography': 'python3-cryptography'}
#: Imported only where available, and said so in package.xml.
OPTIONAL_ROS_PACKAGES = {'naoqi_bridge_msgs'}


def test_package_xml_declares_every_runtime_dependency() -> None:
    """Every ROS package the sources import is an exec_depend; every [runtime] pin has a rosdep key or
    is named in package.xml's pip-only list (installed from the pins, README "On a ROS 2 install")."""
    from catkin_pkg.package import parse_package

    sys.path.insert(0, str(REPO / 'tools'))
    from pins import read_sections

    text = (REPO / 'package.xml').read_text()
    declared = {d.name for d in parse_package(str(REPO / 'package.xml')).exec_depends}
    sources = '\n'.join(p.read_text() for p in (REPO / 'src').rglob('*.py'))
    sources += (REPO / 'launch' / 'attune.launch.py').read_text()
    imported = set(re.findall(r'^\s*(?:from|import) (\w+)\.(?:msg|srv|action)\b', sources, re.MULTILINE))
    imported |= set(re.findall(r'^\s*(?:from|import) (rclpy|ament_index_python|launch_ros|launch)\b', sources,
                               re.MULTILINE))
    imported -= {'attune'} | OPTIONAL_ROS_PACKAGES
    assert imported and imported <= declared, sorted(imported - declared)
    assert all(name in text for name in OPTIONAL_ROS_PACKAGES)
    pip_only = set(re.search(r'PIP-ONLY: ([^)]*)\)', text).group(1).split())
    for pin in read_sections()['runtime']:
        name = re.split(r'[=<>\[ ]', pin, maxsplit=1)[0]
        assert name in pip_only or ROSDEP_KEYS.get(name) in declared, f'{name}: no rosdep key and not pip-only'
