"""Exceptions of the simulator layer.

::

    SimulationError
    ├── InvalidParameter (also ValueError)   a scenario or parameter out of range / missing
    ├── ScenarioError (also ValueError)      a scenario file refused, every offending key listed
    ├── UnknownDevice (also KeyError)        no device or home with that id
    └── CommandRejected (also ValueError)    a command refused: names the field, bound and value
"""

from __future__ import annotations


class SimulationError(Exception):
    """Base class of every error raised by ``gridtwin.simulator``."""


class InvalidParameter(SimulationError, ValueError):
    """A parameter is missing or outside its bounds."""

    def __init__(self, field: str, value: object, bound: str) -> None:
        self.field = field
        self.value = value
        self.bound = bound
        super().__init__(f"{field}={value!r} is out of range: must be {bound}")


class ScenarioError(SimulationError, ValueError):
    """A scenario was refused; ``problems`` lists every offending key."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"scenario {source!r} refused ({len(self.problems)} problem(s)):\n{lines}")


class UnknownDevice(SimulationError, KeyError):
    """No device (or home) with that id exists in the running scenario."""

    def __init__(self, ident: str) -> None:
        self.ident = ident
        super().__init__(ident)

    def __str__(self) -> str:
        return f"unknown device or home id {self.ident!r}"


class CommandRejected(SimulationError, ValueError):
    """A command was refused before it reached the device."""

    def __init__(self, field: str, value: object, bound: str, *, device_id: str | None = None) -> None:
        self.field = field
        self.value = value
        self.bound = bound
        self.device_id = device_id
        where = f" for device {device_id}" if device_id else ""
        super().__init__(f"{field}={value!r} rejected{where}: must be {bound}")
