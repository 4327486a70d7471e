"""The Foxglove layout that ships with `attune view` (config/foxglove_layout.json), built with
foxglove-sdk's layout types so that it follows Foxglove's own format.

    python -m attune.view.layout          # rewrite config/foxglove_layout.json
    python -m attune.view.layout --check  # exit 1 if the shipped file is out of date (a test runs it)

Tabs: "Live" (camera with faces, affect plots, fused state, commands over time, the latest command),
"Expression" (per-emotion probabilities and action units), "Health" (diagnostics). Plots show every
person; to follow one, add a filter to a series, e.g. `/attune/interaction_state{person_id=="f1"}.valence`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Literal

import foxglove.layouts as fl

from attune.emotions import EMOTIONS
from attune.view import live

LAYOUT_NAME = 'foxglove_layout.json'


def _plot(title: str, series: list[tuple[str, str]], y: tuple[float, float] | None = None) -> fl.PlotPanel:
    config = fl.PlotConfig(paths=[fl.PlotSeries(value=v, label=label) for v, label in series],
                           show_legend=True, legend_display='top', x_axis_val='timestamp',
                           following_view_width=60.0, time_window_mode='sliding')
    if y is not None:
        config.min_y_value, config.max_y_value = y
    return fl.PlotPanel(title=title, config=config)


def _split(direction: Literal['row', 'column'], *items: tuple[fl.Content, float]) -> fl.SplitContainer:
    return fl.SplitContainer(direction=direction, items=[fl.SplitItem(content=c, proportion=p) for c, p in items])


def build_layout() -> fl.Layout:
    camera = fl.ImagePanel(title='camera and faces', config=fl.ImageConfig(image_mode=fl.ImageModeConfig(
        image_topic=live.CAMERA_TOPIC,
        annotations={live.ANNOTATIONS_TOPIC: fl.ImageAnnotationSettings(visible=True)})))
    state = live.STATE_TOPIC
    affect = _plot('interaction state (fused, per person)', [
        (f'{state}.engagement', 'engagement'), (f'{state}.valence', 'valence'), (f'{state}.arousal', 'arousal'),
        (f'{state}.distress', 'distress'), (f'{state}.attention', 'attention')], (-1.0, 1.0))
    face_affect = _plot('expression and ASD affect (per face)', [
        (f'{live.EXPRESSION_TOPIC}{{source=="ensemble"}}.valence', 'expression valence'),
        (f'{live.EXPRESSION_TOPIC}{{source=="ensemble"}}.arousal', 'expression arousal'),
        (f'{live.AFFECT_TOPIC}.valence', 'affect valence'), (f'{live.AFFECT_TOPIC}.arousal', 'affect arousal')],
        (-1.0, 1.0))
    commands = fl.StateTransitionsPanel(title='robot commands and ratings', config=fl.StateTransitionsConfig(paths=[
        fl.StateTransitionsSeries(value=f'{live.COMMAND_TOPIC}.action', label='action'),
        fl.StateTransitionsSeries(value=f'{live.COMMAND_TOPIC}.rule', label='rule'),
        fl.StateTransitionsSeries(value=f'{live.STATE_TOPIC}.summary', label='state'),
        fl.StateTransitionsSeries(value=f'{live.SIGN_TOPIC}.gloss', label='sign'),
        fl.StateTransitionsSeries(value=f'{live.RATING_TOPIC}.engagement', label='rated engagement')]))
    last_command = fl.RawMessagesPanel(title='latest command (rule and reason)',
                                       config=fl.RawMessagesConfig(topic_path=live.COMMAND_TOPIC))
    live_tab = _split('row', (camera, 1.2),
                      (_split('column', (affect, 1.0), (face_affect, 1.0), (commands, 0.8), (last_command, 0.6)),
                       1.0))
    probabilities = _plot('expression probabilities (ensemble)', [
        (f'{live.EXPRESSION_TOPIC}{{source=="ensemble"}}.probabilities.{e}', e) for e in EMOTIONS], (0.0, 1.0))
    aus = _plot('action units', [(f'{live.EXPRESSION_TOPIC}{{source=="ensemble"}}.action_units.{au}', au)
                                 for au in ('AU1', 'AU4', 'AU6', 'AU12', 'AU15', 'AU25')], (0.0, 1.0))
    expression_tab = _split('column', (probabilities, 1.0), (aus, 1.0),
                            (fl.RawMessagesPanel(title='latest affect (name-call protocol)',
                                                 config=fl.RawMessagesConfig(topic_path=live.AFFECT_TOPIC)), 0.8))
    health = _split('column', (fl.StateTransitionsPanel(title='node health', config=fl.StateTransitionsConfig(
        paths=[fl.StateTransitionsSeries(value=f'{live.DIAGNOSTICS_TOPIC}.status[:].level_name', label='level')])),
        0.5), (fl.RawMessagesPanel(title='diagnostics', config=fl.RawMessagesConfig(
            topic_path=live.DIAGNOSTICS_TOPIC)), 1.0))
    return fl.Layout(content=fl.TabContainer(tabs=[fl.TabItem(title='Live', content=live_tab),
                                                   fl.TabItem(title='Expression', content=expression_tab),
                                                   fl.TabItem(title='Health', content=health)]))


def layout_json() -> str:
    """The layout file's text (indented, stable)."""
    return json.dumps(json.loads(build_layout().to_json()), indent=1, sort_keys=True) + '\n'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--check', action='store_true', help='exit 1 if the shipped layout is out of date')
    parser.add_argument('--out', type=Path, default=None, help='where to write (default: config/ of this checkout)')
    ns = parser.parse_args(argv)
    from attune.resources import config_file

    out = ns.out or config_file(LAYOUT_NAME)
    text = layout_json()
    if ns.check:
        current = out.read_text(encoding='utf-8') if out.is_file() else ''
        if current != text:
            print(f'{out} is out of date: run python -m attune.view.layout', file=sys.stderr)
            return 1
        return 0
    out.write_text(text, encoding='utf-8')
    print(out)
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
