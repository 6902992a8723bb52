"""Clocks that say what time the simulation should have reached.

* :class:`ManualClock` moves only when told (tests: nothing happens unless a test advances it).
* :class:`ScaledClock` is wall time × speed, pausable, with the speed changeable at run time.
  Pause, resume and speed changes rebase the anchors, so simulated time never jumps backwards.

Times are epoch seconds (UTC) as floats.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Protocol

from .errors import InvalidParameter


class Clock(Protocol):
    """What the runtime needs from a clock."""

    def now_s(self) -> float: ...

    def jump_to(self, t_s: float) -> None: ...


class ManualClock:
    """A clock that only moves when :meth:`advance` or :meth:`jump_to` is called."""

    def __init__(self, start_s: float) -> None:
        if not math.isfinite(start_s):
            raise InvalidParameter("start_s", start_s, "a finite time")
        self._now_s = float(start_s)

    def now_s(self) -> float:
        return self._now_s

    def advance(self, seconds: float) -> float:
        if not (math.isfinite(seconds) and seconds >= 0):
            raise InvalidParameter("seconds", seconds, "a finite number >= 0 (time never goes backwards)")
        self._now_s += float(seconds)
        return self._now_s

    def jump_to(self, t_s: float) -> None:
        if not math.isfinite(t_s):
            raise InvalidParameter("to", t_s, "a finite time")
        if t_s < self._now_s:
            raise InvalidParameter("to", t_s, f">= current time {self._now_s}")
        self._now_s = float(t_s)

    @property
    def speed(self) -> float:
        return 0.0

    @property
    def paused(self) -> bool:
        return True


class ScaledClock:
    """Simulated time = anchor + speed × (wall − wall anchor); pausable; speed settable."""

    def __init__(self, start_s: float, speed: float = 1.0, *, wall: Callable[[], float] = time.monotonic) -> None:
        self._check_speed(speed)
        self._wall = wall
        self._lock = threading.Lock()
        self._sim_anchor_s = float(start_s)
        self._wall_anchor_s = wall()
        self._speed = float(speed)
        self._paused = False

    @staticmethod
    def _check_speed(speed: float) -> None:
        if not (0.0 < speed <= 1e6):  # also refuses NaN
            raise InvalidParameter("speed", speed, "in (0, 1e6]")

    def _rebase(self) -> None:
        now = self._wall()
        if not self._paused:
            self._sim_anchor_s += self._speed * (now - self._wall_anchor_s)
        self._wall_anchor_s = now

    def now_s(self) -> float:
        with self._lock:
            if self._paused:
                return self._sim_anchor_s
            return self._sim_anchor_s + self._speed * (self._wall() - self._wall_anchor_s)

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def paused(self) -> bool:
        return self._paused

    def set_speed(self, speed: float) -> None:
        self._check_speed(speed)
        with self._lock:
            self._rebase()
            self._speed = float(speed)

    def pause(self) -> None:
        with self._lock:
            self._rebase()
            self._paused = True

    def resume(self) -> None:
        with self._lock:
            self._rebase()
            self._paused = False

    def jump_to(self, t_s: float) -> None:
        if not math.isfinite(t_s):
            raise InvalidParameter("to", t_s, "a finite time")
        with self._lock:
            self._rebase()
            if t_s < self._sim_anchor_s:
                raise InvalidParameter("to", t_s, f">= current time {self._sim_anchor_s}")
            self._sim_anchor_s = float(t_s)

    def restarted(self, start_s: float) -> ScaledClock:
        """A clock at ``start_s`` with this one's speed, wall source and paused state."""
        clock = ScaledClock(start_s, self._speed, wall=self._wall)
        if self._paused:
            clock.pause()
        return clock
