"""pip build of attune (the venv path). colcon builds with CMakeLists.txt instead.

Messages are not built here: pip's build isolation would hide the venv's ROS wheels from CMake.
tools/bootstrap.sh builds msg/ into the venv first, then installs this package.
"""
import sys
from glob import glob
from pathlib import Path

from setuptools import find_packages, setup

sys.path.insert(0, str(Path(__file__).resolve().parent / 'tools'))
from pins import read_sections  # noqa: E402  (tools/pins.py: the one file of version pins)

PINS = read_sections()

setup(
    name='attune',
    version='0.1.0',
    description='Face, expression, affect and sign perception that adapts a robot\'s interaction (ROS 2)',
    long_description=Path('README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    package_dir={'': 'src'},
    packages=find_packages('src'),
    include_package_data=True,
    package_data={'attune': ['py.typed', 'face/data/*', 'models/resources/*']},
    data_files=[
        ('share/attune', ['package.xml']),
        ('share/attune/config', [p for p in glob('config/*') if Path(p).is_file()]),
        ('share/attune/config/policies', glob('config/policies/*.yaml')),
        ('share/attune/launch', glob('launch/*.py')),
        ('share/attune/msg', glob('msg/*.msg')),
    ],
    install_requires=PINS['runtime'],
    extras_require={name: pins for name, pins in PINS.items() if name != 'runtime'},
    entry_points={'console_scripts': ['attune = attune.cli.main:main']},
)
