"""`attune view [--port P] [--camera-topic T] [--no-camera]`: watch attune live in Foxglove.

Starts a Foxglove WebSocket server (foxglove-sdk) and relays attune's topics to it: the camera with
each face's box, landmarks and expression label drawn on it (foxglove.ImageAnnotations), expression
and affect per face as plottable numbers, the fused interaction state, the robot's commands with
their reasons, signs, ratings and the nodes' diagnostics. In the Foxglove app: Open connection ->
Foxglove WebSocket -> ws://HOST:PORT, then import the layout that ships with attune:

    attune paths foxglove-layout

Camera pixels go to connected viewers only and are never written to disk; --no-camera keeps them
off the wire. The server listens on 127.0.0.1 unless --host says otherwise (it has no
authentication: bind it to another interface only on a network you trust). Stop with Ctrl-C.
"""
from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('view', help='live view in Foxglove: camera with faces, affect plots, state, commands',
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--host', default='127.0.0.1', help='address to listen on (default 127.0.0.1: this machine only)')
    p.add_argument('--port', type=int, default=8765, help='WebSocket port (default 8765, Foxglove\'s; 0 = any free)')
    p.add_argument('--camera-topic', default='/camera/image_raw', help='camera image topic to relay')
    p.add_argument('--image-transport', choices=('raw', 'compressed'), default='raw',
                   help='raw: sensor_msgs/Image; compressed: sensor_msgs/CompressedImage on the same topic')
    p.add_argument('--no-camera', action='store_true', help='relay no camera pixels (faces, plots, state only)')
    p.add_argument('--max-image-hz', type=float, default=15.0,
                   help='most camera frames per second sent to viewers (0 = every frame; default 15)')
    p.set_defaults(handler=run)


def run(ns: argparse.Namespace) -> int:
    from attune.errors import AttuneError
    from attune.resources import config_file
    from attune.ros.node_main import run_node
    from attune.ros.view_relay import ViewRelay
    from attune.view.live import LiveView

    if ns.max_image_hz < 0 or not 0 <= ns.port <= 65535:
        raise AttuneError('--max-image-hz must be >= 0 and --port in 0..65535')
    try:
        view = LiveView(ns.host, ns.port, camera=None if ns.no_camera else ns.image_transport,
                        max_image_hz=ns.max_image_hz)
    except RuntimeError as exc:  # foxglove-sdk: the port is taken, or the address is not ours
        raise AttuneError(f'cannot start the Foxglove server on {ns.host}:{ns.port}: {exc}') from None
    def relay() -> ViewRelay:
        node = ViewRelay(view, ns.camera_topic)
        # printed once the relay subscribes: scripts may wait for the URL line before they connect
        print(f'Foxglove WebSocket server: {view.url}', flush=True)
        print(f'open in the Foxglove app: {view.app_url()}', flush=True)
        print(f'layout to import: {config_file("foxglove_layout.json")}', flush=True)
        return node

    try:
        return run_node(relay, ['attune'], end_process=False)
    finally:
        view.close()
