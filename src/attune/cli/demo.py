"""`attune demo`: watch the face pipeline run through real ROS 2 nodes.

With no arguments it builds a short clip from a real photo that ships with the installation
(matplotlib's grace_hopper.jpg, animated with head motion), starts the attune graph (one process
per node, as `attune up` does), replays the clip through it as a rosbag, records the nodes'
output (Faces and Expressions), prints the per-face results (pose, and the expression labels the
expression node published with the share of calibrated ones) and writes an annotated video and a
contact sheet.

  attune demo                     # built-in clip
  attune demo --bag BAG [--topic /camera/image_raw]
  attune demo --camera 0 [--duration 20]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser('demo', help='run the face pipeline on a built-in clip, a bag or a camera',
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = p.add_mutually_exclusive_group()
    source.add_argument('--bag', type=Path, help='replay this bag instead of the built-in clip')
    source.add_argument('--camera', type=int, metavar='INDEX', help='use a local camera (OpenCV index)')
    p.add_argument('--topic', help='image topic of --bag (default: its only image topic)')
    p.add_argument('--duration', type=float, default=0.0, help='with --camera: stop after S seconds')
    p.add_argument('--rate', type=float, default=1.0, help='replay speed (default: 1 = real time)')
    p.add_argument('--out', type=Path, default=Path('out/demo'), help='output folder (default: out/demo)')
    p.set_defaults(handler=run)


def run(ns: argparse.Namespace) -> int:
    from attune.demo.results import (
        expression_stats,
        expressions,
        face_frames,
        format_summary,
        summarize,
        write_annotated,
    )
    from attune.demo.session import bag_input, default_input, run_on_bag, run_on_camera

    out: Path = ns.out
    out.mkdir(parents=True, exist_ok=True)

    def log(text: str) -> None:
        print(f'[attune demo] {text}', file=sys.stderr, flush=True)

    if ns.camera is not None:
        source, faces_bag, images = run_on_camera(ns.camera, out, ns.duration, log)
    else:
        source = bag_input(ns.bag, ns.topic) if ns.bag else default_input(out / 'input', log)
        faces_bag, images = run_on_bag(source, out, ns.rate, log)

    from attune.demo.results import bag_images

    frames = face_frames(faces_bag)
    expressed = expressions(faces_bag)
    summary = summarize(frames, images, expression_stats(faces_bag))
    written = write_annotated(bag_images(source.bag, source.image_topic), frames, out / 'annotated.mp4',
                              out / 'contact_sheet.png', fps=source.fps, expressed=expressed)
    summary['outputs'] = {'annotated_video': str(out / 'annotated.mp4'),
                          'contact_sheet': str(out / 'contact_sheet.png'),
                          'faces_bag': str(faces_bag), 'node_log': str(out / 'nodes.log'),
                          'annotated_frames': written}
    (out / 'summary.json').write_text(json.dumps(summary, indent=2))
    print(format_summary(summary))
    print(f"annotated video: {out / 'annotated.mp4'}\ncontact sheet:   {out / 'contact_sheet.png'}\n"
          f"recorded Faces and Expressions: {faces_bag} (attune report {faces_bag})")
    return 0 if summary['images_with_face'] else 1
