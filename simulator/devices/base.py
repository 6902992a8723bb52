"""What every fleet shares: rows per device, the home each row belongs to, and per-row time.

A fleet keeps, per row, the instant ``t0`` its state was last materialised and the powers held
since then. ``materialise(t, idx)`` integrates the held powers in closed form up to ``t``;
``plan(t, idx, horizon_s)`` chooses the powers to hold until the next tick. ``idx`` is
``slice(None)`` for a whole-fleet tick (views, no copies) or an array of rows for a replan of a
few homes after a command or an event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ..world import World

Index = slice | NDArray[np.intp]
ALL: slice = slice(None)


class Fleet:
    """Rows of one device type; subclasses add their arrays and physics calls."""

    kind: str = ""

    def __init__(self, world: World, homes: list[int], device_ids: list[str]) -> None:
        self.world = world
        self.n = len(homes)
        self.home = np.asarray(homes, dtype=np.intp)
        self.cell = world.home_cell[self.home] if self.n else np.zeros(0, dtype=np.intp)
        self.row_of_home = np.full(world.n_homes, -1, dtype=np.intp)
        self.row_of_home[self.home] = np.arange(self.n)
        self.ids = list(device_ids)
        self.t0 = np.full(self.n, world.start_s)
        # every home has one: home arrays are then indexed by slices (views), not gathers
        self.identity = self.n == world.n_homes and bool(np.array_equal(self.home, np.arange(self.n)))

    def rows(self, homes: NDArray[np.intp] | None) -> Index:
        if homes is None:
            return ALL
        r = self.row_of_home[homes]
        return r[r >= 0]

    def homes_of(self, idx: Index) -> Index:
        """Home index of rows ``idx``: a slice when the fleet covers every home in order."""
        if self.identity and isinstance(idx, slice):
            return idx
        return self.home[idx]

    @staticmethod
    def empty(idx: Index) -> bool:
        return not isinstance(idx, slice) and idx.size == 0

    def materialise(self, t: float, idx: Index) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def plan(self, t: float, idx: Index, horizon_s: float) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def arrays(self) -> dict[str, Any]:
        """Name -> array of every per-row array (for memory accounting and snapshots)."""
        return {k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}


def param_array(specs: list[dict[str, Any]], key: str, dtype: type = float) -> NDArray[Any]:
    return np.array([s[key] for s in specs], dtype=dtype)


def code_array(specs: list[dict[str, Any]], key: str, names: tuple[str, ...]) -> NDArray[np.int8]:
    return np.array([names.index(s[key]) for s in specs], dtype=np.int8)
