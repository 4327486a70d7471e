"""attune: face, expression, affect and sign perception that adapts a robot's interaction.

Layers (see docs/architecture.md):
  ROS-free core    imaging/, face/, tracking/, bag/ (pure rosbags), graph/ (node graph description)
  ROS adapters     ros/ (message conversion, QoS, bag replay/record over rclpy), nodes/ (one node per file)
  Command line     cli/ (the `attune` command)
"""
from pkgutil import extend_path

# The generated message modules (attune.msg and its type-support extensions) live in a second
# `attune` directory: <venv>/lib/attune_interfaces on the venv path, or the same site-packages
# directory on a colcon install. extend_path makes both one package.
__path__ = extend_path(__path__, __name__)

__version__ = '0.1.0'
