"""``StepControl``: move the simulator's virtual clock forward step by step and redraw attached views.

Replication, ISR changes, session timeouts and lag all happen on the virtual clock; nothing moves
between two cells of a notebook. Step (or Play, which steps on every tick of an ``ipywidgets.Play``)
advances the clock by ``step_ms`` and calls ``refresh()`` on every attached view, so you can watch
followers catch up or a crashed broker's leaderships move. Simulator only: real Kafka has no clock
to step.
"""
from __future__ import annotations

import ipywidgets as widgets

from ..errors import KafkaError, KafkaException
from .html import num, page
from .source import view_source


class StepControl(widgets.VBox):
    """Step / Play buttons advancing ``cluster`` by ``step_ms`` of virtual time, then refreshing views."""

    def __init__(self, cluster, step_ms=100, views=()):
        self.source = view_source(cluster)
        if not self.source.is_simulator:
            raise KafkaException(KafkaError(
                KafkaError._NOT_IMPLEMENTED,
                reason=f"StepControl needs the simulator: the {self.source.backend_name()} backend runs "
                       "on the wall clock"))
        if isinstance(step_ms, bool) or not isinstance(step_ms, int) or step_ms <= 0:
            raise ValueError(f"step_ms must be a positive int, got {step_ms!r}")
        self.views = []
        self.step_size = widgets.BoundedIntText(value=step_ms, min=1, max=3_600_000, description="step ms",
                                                layout=widgets.Layout(width="170px"))
        self.step_button = widgets.Button(description="Step", icon="step-forward",
                                          layout=widgets.Layout(width="90px"))
        self.step_button.on_click(lambda _b: self.step())
        # Play counts up in the browser, one tick every `interval` wall ms; each tick is one step here.
        self.play = widgets.Play(value=0, min=0, max=10_000, step=1, interval=300, show_repeat=False)
        self.play.observe(self._on_tick, names="value")
        self.time_label = widgets.Label()
        super().__init__(children=[widgets.HBox([self.play, self.step_button, self.step_size, self.time_label])])
        for view in views:
            self.attach(view)
        self._show_time()

    @property
    def step_ms(self):
        return self.step_size.value

    def attach(self, view):
        """Refresh ``view`` (anything with ``refresh()``) after every step. Returns the view."""
        if not callable(getattr(view, "refresh", None)):
            raise TypeError(f"cannot attach {type(view).__name__}: it has no refresh()")
        self.views.append(view)
        return view

    def step(self, n=1):
        """``n`` times: advance the virtual clock by ``step_ms`` ms and refresh every attached view
        (so a ``GroupView`` records one lag sample per step)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"step(n) needs a whole number of steps >= 0, got {n!r}")
        for _ in range(n):
            self.source.advance(self.step_ms)
            for view in self.views:
                view.refresh()
        self._show_time()

    def _on_tick(self, change):
        ticks = change["new"] - change["old"]
        if ticks > 0:  # the Play widget rewinding to 0 is not a step back in time
            self.step(ticks)

    def _show_time(self):
        self.time_label.value = f"virtual time t = {num(self.source.elapsed_ms())} ms"

    def _repr_html_(self):
        return page(f'<div class="es-h">virtual time t = {num(self.source.elapsed_ms())} ms '
                    f'<span class="es-d">Step / Play advance it by {num(self.step_ms)} ms</span></div>', "step")

    def __repr__(self):
        return f"StepControl(step_ms={self.step_ms})"
