"""Messages are typed (issue 15): the nodes and attune.ros name the generated message class of every message
they take, imported under TYPE_CHECKING, and mypy (`make typecheck`) reads typed stubs of those classes
(tools/message_stubs.py), so a misspelt field or keyword, or a value of the wrong type, is an error instead
of an Any that passes."""
from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / 'src' / 'attune'

#: Functions that really take every message type, so their message parameter stays Any (each says why).
ANY_MESSAGE = {
    'ros/screen.py': {'_fields', 'size_problem', 'MessageScreen.rejections'},
}
#: Message packages imported by the source that mypy does not need to read: not in the ROS wheels (the
#: NAOqi driver's, imported only where that driver is installed).
OPTIONAL_MSG_PACKAGES = {'naoqi_bridge_msgs'}


def _is_message_parameter(name: str) -> bool:
    return name in ('msg', 'm', 'message') or name.endswith('_msg')


def _is_any(annotation: ast.expr | None) -> bool:
    """Whether an annotation is Any, typing.Any, or Any united with something (Any | None)."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        annotation = ast.parse(annotation.value, mode='eval').body
    if isinstance(annotation, ast.BinOp):
        return _is_any(annotation.left) or _is_any(annotation.right)
    return (isinstance(annotation, ast.Name) and annotation.id == 'Any') or (
        isinstance(annotation, ast.Attribute) and annotation.attr == 'Any')


def untyped_message_parameters(source: str) -> list[tuple[str, str, int]]:
    """(function qualname, parameter, line) of every message parameter (msg, m, message, *_msg) of a def
    that is annotated Any or not annotated at all."""
    found: list[tuple[str, str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f'{prefix}{child.name}.')
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = f'{prefix}{child.name}'
                args = child.args
                for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
                    if _is_message_parameter(arg.arg) and (arg.annotation is None or _is_any(arg.annotation)):
                        found.append((qualname, arg.arg, arg.lineno))
                visit(child, f'{qualname}.')
            else:
                visit(child, prefix)

    visit(ast.parse(source), '')
    return found


def test_the_check_finds_untyped_message_parameters() -> None:
    source = ('from typing import Any\n'
              'class Node:\n'
              '    def on_faces(self, msg: Any) -> None:\n'
              '        def apply(m: "Any | None") -> None: ...\n'
              '    def on_image(self, image_msg) -> None: ...\n'
              '    def on_hands(self, msg: Hands) -> None: ...\n'
              'def convert(header: Any, message: typing.Any) -> int: ...\n')
    assert untyped_message_parameters(source) == [
        ('Node.on_faces', 'msg', 3), ('Node.on_faces.apply', 'm', 4), ('Node.on_image', 'image_msg', 5),
        ('convert', 'message', 7)]


def test_nodes_and_ros_modules_type_their_messages() -> None:
    """No node or attune.ros function takes a message as Any (or unannotated), except those in ANY_MESSAGE."""
    untyped = {}
    for path in sorted([*PACKAGE.joinpath('nodes').glob('*.py'), *PACKAGE.joinpath('ros').glob('*.py')]):
        relative = str(path.relative_to(PACKAGE))
        allowed = ANY_MESSAGE.get(relative, set())
        found = [f'{name}({param}) line {line}' for name, param, line in untyped_message_parameters(path.read_text())
                 if name not in allowed]
        if found:
            untyped[relative] = found
    assert untyped == {}


def test_every_function_allowed_any_still_exists() -> None:
    """ANY_MESSAGE names functions that exist and still take Any (a stale entry would hide nothing)."""
    for relative, names in ANY_MESSAGE.items():
        found = {name for name, _, _ in untyped_message_parameters(PACKAGE.joinpath(relative).read_text())}
        assert names <= found, relative


def test_mypy_reads_every_message_package_the_source_imports() -> None:
    """mypy takes a message package as Any unless `make typecheck` writes its stubs (the ROS wheels' have no
    py.typed, and rosidl's code is unannotated): each message package the source imports is stubbed, as
    attune's own (attune.msg, hri_msgs) or in ROS_MSG_PACKAGES."""
    makefile = REPO.joinpath('Makefile').read_text().replace('\\\n', ' ')
    listed = set(re.search(r'^ROS_MSG_PACKAGES :=(.*)$', makefile, re.M).group(1).split())
    imported = set()
    for path in PACKAGE.rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            imported |= {n.split('.')[0] for n in names if re.search(r'_(msgs|interfaces)$', n.split('.')[0])}
    assert imported - listed - OPTIONAL_MSG_PACKAGES - {'hri_msgs'} == set()
    assert 'tools/message_stubs.py $(MSG_STUBS) attune hri_msgs $(ROS_MSG_PACKAGES)' in makefile


def _message_stubs() -> ModuleType:
    spec = importlib.util.spec_from_file_location('message_stubs', REPO / 'tools' / 'message_stubs.py')
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_message_stub_field_types() -> None:
    """tools/message_stubs.py types each field as rclpy reads it, and as its setter accepts it."""
    field_types = _message_stubs().field_types
    refs: set[str] = set()
    assert field_types('uint32', refs, 'attune') == ('int', 'int')
    assert field_types('string<=64', refs, 'attune') == ('str', 'str')
    assert field_types('attune/Face', refs, 'attune') == ('Face', 'Face')
    assert field_types('std_msgs/Header', refs, 'attune') == ('std_msgs.msg.Header', 'std_msgs.msg.Header')
    read, accepted = field_types('sequence<float>', refs, 'attune')
    assert read == 'array.array[float]' and 'collections.abc.Sequence[float]' in accepted
    assert field_types('double[36]', refs, 'attune')[0] == 'numpy.typing.NDArray[typing.Any]'
    assert field_types('sequence<attune/Face, 8>', refs, 'attune')[0] == 'list[Face]'
    assert refs == {'std_msgs'}


@pytest.mark.slow  # one mypy run (~10-20 s on 2 cores)
def test_mypy_checks_fields_and_keywords_of_messages(tmp_path: Path) -> None:
    """With the stubs, mypy refuses a misspelt constructor keyword (rclpy drops it silently), a misspelt
    nested field and a value of the wrong type, and accepts the right ones."""
    import subprocess
    import sys

    _message_stubs().write_stubs(tmp_path / 'stubs', ['attune'])
    tmp_path.joinpath('use.py').write_text(
        'from attune.msg import Faces\n'
        'faces = Faces(image_width=640, image_heigth=480)\n'
        'faces.header.stamp.secs = 1\n'
        "faces.image_height = 'tall'\n"
        'faces.header.stamp.sec = 1\n'
        'width: int = faces.image_width\n'
        'landmarks: list[float] = faces.faces[0].landmarks.tolist()\n')
    result = subprocess.run([sys.executable, '-m', 'mypy', '--no-incremental', '--follow-imports=silent', 'use.py'],
                            cwd=tmp_path, env={'MYPYPATH': str(tmp_path / 'stubs'), 'PATH': '/usr/bin:/bin'},
                            capture_output=True, text=True, timeout=300)
    errors = sorted(line.split(':')[1] for line in result.stdout.splitlines() if ': error:' in line)
    assert errors == ['2', '3', '4'], result.stdout


def test_attune_messages_protocol_lists_every_message_class() -> None:
    """attune_msgs() is typed as the AttuneMessages protocol: it names every class of attune.msg (one it
    missed would be an error at its first use), and the module satisfies it at run time too."""
    import attune.msg
    from attune.ros.interfaces import AttuneMessages, attune_msgs

    classes = {name for name in dir(attune.msg) if isinstance(getattr(attune.msg, name), type)}
    assert set(AttuneMessages.__annotations__) == classes
    assert all(getattr(attune_msgs(), name) is getattr(attune.msg, name) for name in classes)
