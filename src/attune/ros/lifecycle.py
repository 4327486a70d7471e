"""The lifecycle boilerplate of attune's thin nodes: declared parameters, validation, autostart.

A subclass implements configure() (create publishers, timers; raise AttuneError to refuse start-up),
activate() (subscriptions), deactivate() and release() (free everything configure made), and may
check values across parameters in check_parameters(values) and react to run-time changes in
parameters_changed(names). Every attune node is one, perception and behaviour alike.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rcl_interfaces.msg import SetParametersResult
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.parameter import Parameter

from attune.errors import AttuneError
from attune.ros.params import ParamSpec, declare, validator


class AutostartLifecycleNode(LifecycleNode):
    """A LifecycleNode that declares `parameters` and, when its `autostart` parameter is true,
    configures and activates itself (so it runs without a lifecycle manager)."""

    def __init__(self, name: str, parameters: tuple[ParamSpec, ...], **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self._start_error: AttuneError | None = None
        self._autostarting = False
        self._float_params = {p.name for p in parameters if isinstance(p.default, float)}
        try:
            self.params = declare(self, parameters)
            self.check_parameters(self.params)
        except AttuneError:
            super().destroy_node()
            raise
        self._per_parameter = validator(parameters)
        self.add_on_set_parameters_callback(self._validate)
        self.add_post_set_parameters_callback(self._on_parameters_changed)
        if self.params.get('autostart', True):
            self._autostarting = True  # a refusal is raised to the caller, which reports it once
            try:
                self.trigger_configure()
            finally:
                self._autostarting = False
            if self._start_error is not None:
                error = self._start_error
                self.destroy_node()
                raise error
            self.trigger_activate()

    # --- for subclasses --------------------------------------------------------------------------
    def configure(self) -> None:
        """Create publishers and timers; raise AttuneError to refuse to start."""

    def activate(self) -> None:
        """Create subscriptions."""

    def deactivate(self) -> None:
        """Destroy subscriptions."""

    def release(self) -> None:
        """Free what configure() created (idempotent)."""

    def parameters_changed(self, names: set[str]) -> None:
        """React to run-time parameter changes (self.params is already updated)."""

    def check_parameters(self, values: Mapping[str, Any]) -> None:
        """Checks across parameters (each one's range is checked already); raise AttuneError to refuse
        the values: at start-up, and for run-time changes (`ros2 param set` then reports why)."""

    # --- lifecycle -------------------------------------------------------------------------------
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            self._configure_all()
        except AttuneError as exc:
            self._start_error = exc
            if not self._autostarting:  # a lifecycle manager asked: the log is the only report
                self.get_logger().error(str(exc))
            self._release_all()
            return TransitionCallbackReturn.FAILURE
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._activate_all()
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._deactivate_all()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release_all()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release_all()
        return TransitionCallbackReturn.SUCCESS

    def destroy_node(self) -> None:
        self._release_all()
        super().destroy_node()

    # The shell (attune.ros.shell) extends these to create and destroy what it tracks.
    def _configure_all(self) -> None:
        self.configure()

    def _activate_all(self) -> None:
        self.activate()

    def _deactivate_all(self) -> None:
        self.deactivate()

    def _release_all(self) -> None:
        self.release()

    def _validate(self, parameters: list[Parameter[Any]]) -> SetParametersResult:
        result: SetParametersResult = self._per_parameter(parameters)
        if result.successful:
            values = dict(self.params)
            values.update({p.name: p.value for p in parameters if p.name in values})
            try:
                self.check_parameters(values)
            except AttuneError as exc:
                result.successful, result.reason = False, str(exc)
        return result

    def _on_parameters_changed(self, parameters: list[Parameter[Any]]) -> None:
        names = {p.name for p in parameters if p.name in self.params}
        for p in parameters:
            if p.name in self.params:
                self.params[p.name] = float(p.value) if p.name in self._float_params else p.value
        if names:
            self.parameters_changed(names)

    def now_s(self) -> float:
        """The node clock in seconds (sim time under use_sim_time)."""
        return self.get_clock().now().nanoseconds * 1e-9
