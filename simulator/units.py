"""Units and the one sign convention of gridtwin.

Inside gridtwin everything is SI with the unit in the name: ``power_w``, ``energy_wh``,
``soc_pct`` (0-100), ``soc_frac`` (0-1), ``temp_c``, ``current_a``, ``dt_s``.

Signs (the unified API's convention, stated once):

* battery power is **positive when discharging** (power delivered to the home bus) and
  negative when charging;
* grid power is **positive when importing** and negative when exporting;
* PV, HVAC, EV and base-load powers are non-negative magnitudes.

The meter balance that follows is ``grid_w = load_w + hvac_w + ev_w - pv_w - battery_w``.
Vendor fakes convert to their own units and signs only in their own mapping module.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0
J_PER_WH = 3600.0


def c_to_f(temp_c: ArrayLike) -> NDArray[np.float64]:
    """Degrees Celsius to degrees Fahrenheit."""
    return np.asarray(temp_c, dtype=float) * 1.8 + 32.0


def f_to_c(temp_f: ArrayLike) -> NDArray[np.float64]:
    """Degrees Fahrenheit to degrees Celsius."""
    return (np.asarray(temp_f, dtype=float) - 32.0) / 1.8


def delta_f_to_k(delta_f: ArrayLike) -> NDArray[np.float64]:
    """A temperature difference in °F to kelvin."""
    return np.asarray(delta_f, dtype=float) / 1.8


def wh_from_w_s(power_w: ArrayLike, dt_s: ArrayLike) -> NDArray[np.float64]:
    """Energy [Wh] of a constant power [W] held for ``dt_s`` seconds."""
    return np.asarray(power_w, dtype=float) * np.asarray(dt_s, dtype=float) / SECONDS_PER_HOUR
