"""The runtime handle: the only door into a running simulation.

Everything outside the simulator (vendor fakes, the control plane, the CLI, tests) goes through
a :class:`Runtime`: ``advance_to(t)`` (or ``sync()`` to the clock), ``snapshot()`` (immutable),
``submit(command)``, ``truth(device_id)``, ``home_truth(home_id)``, the event log and faults.
A lock makes it safe to call from several threads; SimPy itself only ever runs under that lock.

Commands are validated at once (unknown device, wrong kind, out-of-range field: raise
:class:`~gridtwin.simulator.errors.CommandRejected` naming the field, bound and value) and then
take effect as a SimPy event ``delay_s`` later; the event log records when each was received,
when it took effect and what it changed.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import commands as cmd
from .climate import CARBON_INTERVAL_S, CARBON_LOG_DAYS
from .clock import Clock, ManualClock, ScaledClock
from .errors import CommandRejected, InvalidParameter, ScenarioError, SimulationError, UnknownDevice
from .scenario import BUILTIN_SCENARIOS, Scenario, load_scenario
from .snapshot import Snapshot, View
from .state import DeviceInfo, DeviceState, HomeInfo, HomeState
from .world import FaultRecord, World, long_lived

__all__ = [
    "BUILTIN_SCENARIOS", "CARBON_INTERVAL_S", "CARBON_LOG_DAYS", "Clock", "CommandReceipt", "CommandRejected",
    "EventRecord", "InvalidParameter",
    "ManualClock", "Runtime", "ScaledClock", "Scenario", "ScenarioError", "SimulationError", "Snapshot",
    "UnknownDevice", "load_scenario", "long_lived",
]


@dataclass(frozen=True)
class CommandReceipt:
    """What :meth:`Runtime.submit` returns: the id to find the command in the event log."""

    command_id: str
    device_id: str
    command: str
    received_s: float
    effective_s: float


@dataclass
class EventRecord:
    """One entry of the device event log."""

    seq: int
    command_id: str
    device_id: str
    command: str
    params: dict[str, Any]
    received_s: float
    status: str = "pending"  # pending | applied | not_applied | rejected
    effective_s: float | None = None
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "command_id": self.command_id, "device_id": self.device_id, "command": self.command,
            "params": dict(self.params), "received_s": self.received_s, "status": self.status,
            "effective_s": self.effective_s, "reason": self.reason,
            "changes": {k: {"old": o, "new": n} for k, (o, n) in self.changes.items()},
        }


class Runtime:
    """A running scenario behind a lock, driven by a clock."""

    def __init__(self, scenario: Scenario, clock: Clock | None = None, *,
                 source: dict[str, Any] | None = None) -> None:
        self.scenario = scenario
        self._source = source
        self.clock: Clock = clock if clock is not None else ManualClock(scenario.start_s)
        self._lock = threading.RLock()
        self._observers: list[Callable[[float], None]] = []
        self.generation = -1  # +1 at every (re)build: a reset gives a new world
        self._build()

    @classmethod
    def from_scenario(cls, name_or_path: str | Path, *, homes: int | None = None, seed: int | None = None,
                      step_s: float | None = None, speed: float | None = None) -> Runtime:
        """Load a scenario; ``speed`` gives a :class:`ScaledClock`, else a :class:`ManualClock`."""
        scenario = load_scenario(name_or_path, homes=homes, seed=seed, step_s=step_s)
        clock: Clock = ScaledClock(scenario.start_s, speed) if speed else ManualClock(scenario.start_s)
        return cls(scenario, clock, source={"name_or_path": name_or_path, "homes": homes, "step_s": step_s})

    def _build(self) -> None:
        self.world = World(self.scenario)
        self.world.observers.append(self._notify)
        self._log: list[EventRecord] = []
        self._by_device: dict[str, list[EventRecord]] = {}
        self._seq = 0
        self.generation += 1

    def _notify(self, t_s: float) -> None:
        for observer in list(self._observers):
            observer(t_s)

    def add_tick_observer(self, observer: Callable[[float], None]) -> None:
        """Call ``observer(t_s)`` after every fleet tick (under the runtime's lock; keep it short).

        Observers survive :meth:`reset`; compare :attr:`generation` to notice a rebuilt world.
        """
        self._observers.append(observer)

    def remove_tick_observer(self, observer: Callable[[float], None]) -> None:
        """Stop calling ``observer`` (a no-op when it is not registered)."""
        if observer in self._observers:
            self._observers.remove(observer)

    # -- time ----------------------------------------------------------------------------
    @property
    def now_s(self) -> float:
        return float(self.world.env.now)

    def advance_to(self, t_s: float) -> float:
        """Run the simulation up to ``t_s`` (epoch seconds); never backwards."""
        if not math.isfinite(t_s):
            raise InvalidParameter("to", t_s, "a finite time (epoch seconds)")
        with self._lock:
            if t_s < self.now_s - 1e-6:
                raise InvalidParameter("to", t_s, f">= current simulated time {self.now_s}")
            if self.clock.now_s() < t_s:
                self.clock.jump_to(t_s)
            self.world.run_until(t_s)
            return self.now_s

    def advance(self, seconds: float) -> float:
        if not (math.isfinite(seconds) and seconds >= 0):
            raise InvalidParameter("seconds", seconds, "a finite number >= 0")
        return self.advance_to(self.now_s + seconds)

    def sync(self) -> float:
        """Catch the simulation up to the clock's "now" (each request does this first)."""
        with self._lock:
            target = self.clock.now_s()
            if target > self.now_s:
                self.world.run_until(target)
            return self.now_s

    def step_towards(self, budget_s: float = 0.003) -> bool:
        """Advance towards the clock's "now" for at most ``budget_s`` of wall time.

        The server's driver calls this from its event loop in small chunks, so requests are never
        starved by a long catch-up. Returns True when the simulation has caught up.
        """
        with self._lock:
            target = self.clock.now_s()
            env = self.world.env
            deadline = time.perf_counter() + budget_s
            n = 0
            while env.peek() <= target:
                env.step()
                n += 1
                if n % 16 == 0 and time.perf_counter() > deadline:
                    return False
            if target > env.now:
                env.run(until=target)
            return True

    def lag_s(self) -> float:
        return max(self.clock.now_s() - self.now_s, 0.0)

    def reset(self, *, seed: int | None = None) -> None:
        """Rebuild the world from the scenario (same seed -> same world) and rewind the clock."""
        with self._lock:
            if seed is not None and seed != self.scenario.seed:
                if self._source is not None:  # a generated fleet's homes depend on the seed
                    self.scenario = load_scenario(**self._source, seed=seed)
                else:
                    self.scenario = replace(self.scenario, seed=seed)
            self.clock = self.clock.restarted(self.scenario.start_s) if isinstance(self.clock, ScaledClock) \
                else ManualClock(self.scenario.start_s)
            self._build()

    # -- reads ---------------------------------------------------------------------------
    def _view(self) -> View:
        w = self.world
        return View(w, {"battery": w.battery, "solar": w.solar, "thermostat": w.thermostat, "charger": w.charger},
                    w.meter, w.weather, w.device_faults)

    def snapshot(self) -> Snapshot:
        with self._lock:
            return Snapshot(self.world)

    def truth(self, device_id: str) -> DeviceState:
        with self._lock:
            return self._view().device(device_id, self.now_s)

    def home_truth(self, home_id: str) -> HomeState:
        with self._lock:
            return self._view().home(home_id, self.now_s)

    def devices(self) -> list[DeviceInfo]:
        return list(self.world.device_info.values())

    def carbon_quarters(self, cell: str, t0_s: float, t1_s: float) -> list[tuple[float, float]]:
        """A weather cell's grid carbon intensity as ``(start_s, g_per_kwh)`` quarter-hour means
        (:data:`CARBON_INTERVAL_S`) over [t0_s, t1_s), up to the quarter hour holding now: the past as
        the climate logged it (at most :data:`CARBON_LOG_DAYS` back, never before the scenario began)."""
        with self._lock:
            climate = self.world.climate
            now = self.now_s
            quarters = climate.carbon_quarters(climate.index[cell], t0_s, min(t1_s, now + CARBON_INTERVAL_S))
        return [(t, v) for t, v in quarters if t <= now]

    def homes(self) -> list[HomeInfo]:
        return list(self.world.home_info)

    # -- commands ------------------------------------------------------------------------
    def submit(self, command: cmd.Command, *, delay_s: float = 0.0) -> CommandReceipt:
        """Validate ``command`` now and apply it ``delay_s`` simulated seconds later."""
        if not delay_s >= 0:
            raise InvalidParameter("delay_s", delay_s, ">= 0")
        with self._lock:
            now = self.now_s
            self._seq += 1
            rec = EventRecord(self._seq, f"cmd-{self._seq:06d}", command.device_id, command.name, command.params(),
                              now)
            try:
                self.world.check(command)
                if "command_rejected" in self.world.device_faults.get(command.device_id, {}):
                    raise CommandRejected("device_id", command.device_id, "reachable (fault: command_rejected)",
                                          device_id=command.device_id)
            except CommandRejected as err:
                rec.status, rec.reason = "rejected", str(err)
                self._record(rec)
                raise
            except Exception:
                self._seq -= 1
                raise
            self._record(rec)
            self.world.env.process(self._apply_later(command, rec, delay_s))
            if delay_s == 0:
                self.world.drain()  # process the zero-delay event now
            return CommandReceipt(rec.command_id, command.device_id, command.name, now, now + delay_s)

    def _apply_later(self, command: cmd.Command, rec: EventRecord, delay_s: float) -> Any:
        yield self.world.env.timeout(delay_s)
        rec.effective_s = float(self.world.env.now)
        if "command_not_applied" in self.world.device_faults.get(command.device_id, {}):
            rec.status, rec.reason = "not_applied", "fault: command_not_applied"
            return
        try:
            self.world.check(command)  # state may have changed while it waited
            rec.changes = self.world.apply(command)
            rec.status = "applied"
        except CommandRejected as err:
            rec.status, rec.reason = "rejected", str(err)

    def _record(self, rec: EventRecord) -> None:
        self._log.append(rec)
        self._by_device.setdefault(rec.device_id, []).append(rec)

    def events(self, *, since_seq: int = 0, device_id: str | None = None) -> list[EventRecord]:
        """The event log (oldest first) after ``since_seq``, optionally of one device."""
        with self._lock:
            log = self._log if device_id is None else self._by_device.get(device_id, [])
            return [r for r in log if r.seq > since_seq]

    # -- faults --------------------------------------------------------------------------
    def add_fault(self, target: str, kind: str, *, start_s: float | None = None, end_s: float,
                  value: float = 0.0) -> FaultRecord:
        with self._lock:
            rec = self.world.add_fault(target, kind, self.now_s if start_s is None else start_s, end_s, value)
            self.world.drain()
            return rec

    def clear_fault(self, fault_id: str) -> FaultRecord:
        with self._lock:
            rec = self.world.clear_fault(fault_id)
            self.world.drain()
            return rec

    def faults(self) -> list[FaultRecord]:
        with self._lock:
            return list(self.world.faults.values())
