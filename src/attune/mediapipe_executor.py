"""MediaPipe solutions whose graph runs on the calling thread.

Why: a MediaPipe solution (FaceDetection, FaceMesh, Hands) runs its calculator graph on a pool of
min(CPU cores, calculators) worker threads, and `process()` waits for them. One camera frame passes
through a dozen calculators, most of them tiny, so a frame is a chain of hand-offs between threads:
each one a wake-up, and on a busy machine a wait for a core. With MediaPipe's
`ApplicationThreadExecutor` the same calculators run, in the same order, synchronously on the thread
that calls `process()`. Measured here (mediapipe 0.10.21, 640x480 London photos, quiet 2-core machine,
median per frame): attune's face analyzer 12.8 -> 11.1 ms, its hand analyzer 21.0 -> 18.8 ms, with
identical landmarks; docs/architecture.md has the graph-wide numbers.

The solutions API has no option for it: the subclass below edits the graph config the solution has
just validated, through SolutionBase's `_initialize_graph_interface` (a private method of the pinned
mediapipe release; test/test_mediapipe_executor.py checks that it still takes effect).
"""
from __future__ import annotations

from typing import Any, TypeVar

#: MediaPipe's executor type for "run synchronously on the calling thread" (calculator_graph.cc).
APPLICATION_THREAD_EXECUTOR = 'ApplicationThreadExecutor'

_Solution = TypeVar('_Solution')
_on_calling_thread: dict[type[Any], type[Any]] = {}


def run_on_calling_thread(config: Any) -> None:
    """Make the default executor of a CalculatorGraphConfig the calling thread.

    A graph-level `num_threads` (an alternative spelling of the default thread pool) is cleared:
    MediaPipe refuses a config that sets both. Named executors a graph declares for particular
    calculators stay as they are.
    """
    config.ClearField('num_threads')
    default = next((e for e in config.executor if not e.name), None)
    if default is None:
        default = config.executor.add()
    default.ClearField('options')
    default.type = APPLICATION_THREAD_EXECUTOR


def on_calling_thread(solution: type[_Solution]) -> type[_Solution]:
    """The subclass of a mediapipe.python.solutions class whose graph runs on the calling thread.

        from mediapipe.python.solutions import face_mesh
        mesh = on_calling_thread(face_mesh.FaceMesh)(max_num_faces=2)
    """
    cached = _on_calling_thread.get(solution)
    if cached is not None:
        return cached

    class OnCallingThread(solution):  # type: ignore[valid-type,misc]
        def _initialize_graph_interface(self, *args: Any, **kwargs: Any) -> Any:
            config = super()._initialize_graph_interface(*args, **kwargs)
            run_on_calling_thread(config)
            return config

    OnCallingThread.__name__ = OnCallingThread.__qualname__ = f'{solution.__name__}OnCallingThread'
    OnCallingThread.__doc__ = f'{solution.__name__}, its graph run on the thread that calls process().'
    _on_calling_thread[solution] = OnCallingThread
    return OnCallingThread
