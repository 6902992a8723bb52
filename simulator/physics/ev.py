"""EV charger (J1772 / IEC 61851 EVSE) and the vehicle behind it, vectorised over a fleet.

Model
-----
* **Pilot.** J1772 pilot states A–F, with the OpenEVSE / SAE duty-cycle rule
  (10–85 %: ``I = 0.6·D``; 85–96 %: ``I = 2.5·(D − 64)``).
* **Power.** Unity power factor, ``P_ac = V·I_drawn`` with
  ``I_drawn = min(I_pilot, I_OBC, I_BMS(SoC), I_limit)``.
* **Battery acceptance.** ACN-Sim's ``Linear2StageBattery``: ``P_max`` up to
  ``transition_soc``, then a linear fall to 0 at full. Under a constant cap this gives a linear
  SoC rise followed by an exponential approach to full, with
  ``τ_ev = E_cap·(1 − s_t)/(η·P_max)`` (device-physics §5.2).
* **Energy.** ``E += η·P_ac·Δt`` (OCHRE ``EV_EFFICIENCY``).
* **Session end.** A session ends "EV full" once the acceptance falls below ``P_STOP_W`` (the 6 A
  minimum at 240 V), or when SoC reaches the charge limit.
* **Sessions.** Residential arrival/departure/energy distributions (§5.3, an assumption
  consistent with Sagewell and EIA aggregates).
* **OCPP 1.6.** Status mapping from §5.4.

Step rule. :func:`charge_power_w` returns the AC power to hold for the next ``dt_s``. It is
the mean power of the continuous two-stage model over that step, integrated in closed form and
stopped at the charge limit or at the EV-full SoC. It is therefore never above the
instantaneous bound ``min(V·I, P_OBC, P_max(s₀))``, and :func:`advance_soc` lands on the
continuous trajectory whatever ``dt_s`` is. The newer ACN-Sim does the same: it integrates
within the period rather than holding the start-of-step rate.

Per-step functions (:func:`charge_power_w`, :func:`advance_soc`, :func:`pilot_state`,
:func:`ocpp_status`, :func:`max_acceptance_w`) do not validate their inputs, because they run
on every tick for the whole fleet. The device layer validates parameters once.

References
----------
SAE J1772; OpenEVSE firmware ``J1772Pilot::SetPWM``; TI JAJU858 (pilot states).
Z. J. Lee et al., "ACN-Sim", acnportal ``acnsim/models/battery.py`` (``Linear2StageBattery``).
NREL OCHRE ``Equipment/EV.py``. Lee, Li & Low, "ACN-Data", e-Energy 2019.
OCA, OCPP 1.6 ``StatusNotification``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gridtwin.simulator.errors import InvalidParameter
from gridtwin.simulator.units import SECONDS_PER_DAY, SECONDS_PER_HOUR

Array = NDArray[np.float64]

STATE_A, STATE_B, STATE_C, STATE_D, STATE_E, STATE_F = 0, 1, 2, 3, 4, 5
STATE_LETTERS = ("A", "B", "C", "D", "E", "F")

(
    OCPP_AVAILABLE,
    OCPP_PREPARING,
    OCPP_CHARGING,
    OCPP_SUSPENDED_EVSE,
    OCPP_SUSPENDED_EV,
    OCPP_FINISHING,
    OCPP_FAULTED,
    OCPP_UNAVAILABLE,
) = range(8)
OCPP_STATUS_NAMES = (
    "Available",
    "Preparing",
    "Charging",
    "SuspendedEVSE",
    "SuspendedEV",
    "Finishing",
    "Faulted",
    "Unavailable",
)

VOLTAGE_V = 240.0
MIN_CURRENT_A, MAX_CURRENT_A = 6.0, 48.0
P_STOP_W = 1400.0
SOC_EPS = 1e-9  # SoC within this of the limit / EV-full SoC counts as reached

_ARRIVAL_WINDOW_H = (15.0, 24.0)
_MIN_STAY_S = SECONDS_PER_HOUR
_MAX_SEARCH_DAYS = 3660


# --- J1772 pilot ------------------------------------------------------------------------------


def pilot_duty_from_current(current_a: ArrayLike) -> Array:
    """Pilot PWM duty cycle [%] that offers ``current_a`` [A] (OpenEVSE ``SetPWM`` rule).

    ``D = I/0.6`` for 6–51 A and ``D = I/2.5 + 64`` for 51–80 A. Outside 6–80 A: NaN.

    Notes
    -----
    The two SAE segments do not meet. 51 A maps to 85 % and 51+ A to 84.4 %, while
    :func:`current_from_pilot_duty` decodes anything ≤ 85 % with the lower segment. So
    51 < I < 52.5 A reads back as 50.64–51 A, i.e. 0.36–1.5 A *low*, which is on the safe side.
    Everywhere else the round trip is exact. (Home units are limited to 48 A.)
    """
    i = np.asarray(current_a, dtype=float)
    duty = np.where(i <= 51.0, i / 0.6, i / 2.5 + 64.0)
    return np.where((i >= 6.0) & (i <= 80.0), duty, np.nan)


def current_from_pilot_duty(duty_pct: ArrayLike) -> Array:
    """Offered current [A] read from a pilot duty cycle [%] (SAE J1772).

    ``I = 0.6·D`` for 10–85 % and ``I = 2.5·(D − 64)`` for 85–96 %. Outside 10–96 % there is no
    current: NaN. This covers < 3 % / > 96 % (error) and 3–7 % (digital communication), and
    NaN is never ≥ ``MIN_CURRENT_A``, so :func:`charge_power_w` gives 0 for it.
    """
    d = np.asarray(duty_pct, dtype=float)
    i = np.where(d <= 85.0, d * 0.6, (d - 64.0) * 2.5)
    return np.where((d >= 10.0) & (d <= 96.0), i, np.nan)


def pilot_state(
    plugged: ArrayLike,
    charging_enabled: ArrayLike,
    power_w: ArrayLike,
    fault: ArrayLike,
    ventilation_required: ArrayLike = False,
) -> NDArray[np.int8]:
    """J1772 pilot state code (``STATE_A`` … ``STATE_F``) [-].

    Parameters
    ----------
    plugged, charging_enabled, fault, ventilation_required : array_like of bool
        Vehicle connected; EVSE offering current (PWM on); EVSE fault; vehicle asks for
        ventilation.
    power_w : array_like
        AC power drawn [W].

    Returns
    -------
    numpy.ndarray of int8
        ``F`` if faulted (whatever the plug: the EVSE holds −12 V). Otherwise ``A`` if not
        plugged, ``C`` (``D`` with ventilation) if plugged, enabled and ``power_w > 0``, and
        ``B`` otherwise. ``E`` (pilot short / no EVSE power) is never produced here.
    """
    plug = np.asarray(plugged, dtype=bool)
    flowing = plug & np.asarray(charging_enabled, dtype=bool) & (np.asarray(power_w, dtype=float) > 0.0)
    state = np.where(flowing, np.where(ventilation_required, STATE_D, STATE_C), STATE_B)
    state = np.where(plug, state, STATE_A)
    return np.where(np.asarray(fault, dtype=bool), STATE_F, state).astype(np.int8)


# --- battery acceptance and charging ----------------------------------------------------------


def max_acceptance_w(soc_frac: ArrayLike, *, p_max_w: ArrayLike, transition_soc: ArrayLike = 0.8) -> Array:
    """Battery charge acceptance [W], ACN-Sim ``Linear2StageBattery``.

    ``P_max`` for ``s < s_t``, then ``P_max·(1 − s)/(1 − s_t)``. SoC is clipped to [0, 1], so the
    result is 0 at full. Requires ``transition_soc < 1``.
    """
    s = np.clip(np.asarray(soc_frac, dtype=float), 0.0, 1.0)
    taper = (1.0 - s) / (1.0 - np.asarray(transition_soc, dtype=float))
    return np.asarray(p_max_w, dtype=float) * np.minimum(taper, 1.0)


def _two_stage(
    cap_w: Array, p_max_w: Array, transition_soc: ArrayLike, efficiency: ArrayLike, capacity_wh: ArrayLike
) -> tuple[Array, Array, Array]:
    """Under a constant cap: (effective transition SoC, linear rate [1/s], taper τ [s])."""
    s_t = np.asarray(transition_soc, dtype=float)
    e_ws = np.asarray(capacity_wh, dtype=float) * SECONDS_PER_HOUR
    p_lin = np.minimum(cap_w, p_max_w)
    s_eff = 1.0 - (1.0 - s_t) * p_lin / p_max_w  # where P_max(s) drops below the cap
    rate = np.asarray(efficiency, dtype=float) * p_lin / e_ws
    tau_s = e_ws * (1.0 - s_t) / (np.asarray(efficiency, dtype=float) * p_max_w)
    return s_eff, rate, tau_s


def full_soc_frac(*, p_max_w: ArrayLike, transition_soc: ArrayLike = 0.8) -> Array:
    """SoC [-] at which acceptance falls to ``P_STOP_W`` ("EV full"); −inf if ``p_max_w < P_STOP_W``."""
    p_max = np.asarray(p_max_w, dtype=float)
    with np.errstate(divide="ignore"):
        s_stop = 1.0 - (1.0 - np.asarray(transition_soc, dtype=float)) * P_STOP_W / p_max
    return np.where(p_max >= P_STOP_W, s_stop, -np.inf)


def charge_power_w(
    soc_frac: ArrayLike,
    *,
    plugged: ArrayLike,
    charging_enabled: ArrayLike,
    offered_current_a: ArrayLike,
    voltage_v: ArrayLike,
    obc_max_w: ArrayLike,
    p_max_w: ArrayLike,
    charge_limit_frac: ArrayLike,
    capacity_wh: ArrayLike,
    efficiency: ArrayLike,
    dt_s: ArrayLike,
    transition_soc: ArrayLike = 0.8,
) -> Array:
    """AC power [W] the vehicle draws, held constant over the next ``dt_s`` [s].

    Parameters
    ----------
    soc_frac : array_like
        State of charge at the start of the step [-], 0–1.
    plugged, charging_enabled : array_like of bool
        Vehicle connected; EVSE offering current.
    offered_current_a : array_like
        Pilot current [A]. Not clamped: the API layer enforces 6–48 A.
    voltage_v : array_like
        Supply voltage [V].
    obc_max_w : array_like
        On-board charger limit [W].
    p_max_w : array_like
        Battery acceptance below ``transition_soc`` [W].
    charge_limit_frac : array_like
        SoC at which the session stops [-]. To stop on an energy need, pass
        :func:`session_limit_frac`.
    capacity_wh : array_like
        Usable battery capacity [Wh].
    efficiency : array_like
        AC→battery efficiency η [-].
    dt_s : array_like
        Step length [s], > 0.
    transition_soc : array_like, default 0.8
        CC→CV transition SoC [-], < 1.

    Returns
    -------
    numpy.ndarray
        ``P`` [W]. It is 0 when unplugged, disabled, ``offered_current_a < MIN_CURRENT_A`` (or
        NaN), at or above the charge limit, or EV full
        (``max_acceptance_w(soc) < P_STOP_W``, i.e. ``soc ≥ full_soc_frac``). Otherwise it is
        the mean power of the continuous model over the step:
        ``P = (s₁ − s₀)·E_cap/(η·Δt)``, where ``s₁`` is the closed-form two-stage trajectory
        after ``dt_s`` under the cap ``min(V·I, P_OBC)``, stopped at the limit and the EV-full
        SoC.

    Notes
    -----
    The result never exceeds ``min(V·I_offered, obc_max_w, max_acceptance_w(soc))``, the rule
    of §5.2, and the output is clamped to it. Because acceptance only falls with SoC, the step
    mean is at most the start-of-step value. Stepping with :func:`advance_soc` is exact in
    both regions for any ``dt_s``, up to floating-point rounding.
    """
    s0 = np.asarray(soc_frac, dtype=float)
    current = np.asarray(offered_current_a, dtype=float)
    p_max = np.asarray(p_max_w, dtype=float)
    eff = np.asarray(efficiency, dtype=float)
    dt = np.asarray(dt_s, dtype=float)
    cap_w = np.minimum(np.asarray(voltage_v, dtype=float) * current, np.asarray(obc_max_w, dtype=float))
    p_now = np.minimum(cap_w, max_acceptance_w(s0, p_max_w=p_max, transition_soc=transition_soc))
    stop = np.minimum(
        np.asarray(charge_limit_frac, dtype=float),
        full_soc_frac(p_max_w=p_max, transition_soc=transition_soc),
    )
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s_eff, rate, tau_s = _two_stage(cap_w, p_max, transition_soc, eff, capacity_wh)
        t_lin = np.clip((s_eff - s0) / rate, 0.0, dt)
        s1 = 1.0 - (1.0 - (s0 + rate * t_lin)) * np.exp((t_lin - dt) / tau_s)
        p_mean = (np.minimum(s1, stop) - s0) * (np.asarray(capacity_wh) * SECONDS_PER_HOUR) / (eff * dt)
    active = (
        np.asarray(plugged, dtype=bool)
        & np.asarray(charging_enabled, dtype=bool)
        & (current >= MIN_CURRENT_A)
        & (s0 < stop - SOC_EPS)
    )
    return np.where(active, np.clip(p_mean, 0.0, p_now), 0.0)


def advance_soc(
    soc_frac: ArrayLike,
    power_ac_w: ArrayLike,
    *,
    efficiency: ArrayLike,
    capacity_wh: ArrayLike,
    dt_s: ArrayLike,
) -> Array:
    """SoC [-] after holding ``power_ac_w`` [W] for ``dt_s`` [s]: ``E += η·P·Δt``.

    Not clipped. :func:`charge_power_w` never overshoots the limit, so a result above it
    means a caller bug, and the tests are there to catch it.
    """
    gain_j = np.asarray(efficiency, dtype=float) * np.asarray(power_ac_w, dtype=float) * np.asarray(dt_s)
    return np.asarray(soc_frac, dtype=float) + gain_j / (SECONDS_PER_HOUR * np.asarray(capacity_wh))


def time_to_soc_s(
    soc0_frac: ArrayLike,
    soc_target_frac: ArrayLike,
    *,
    power_cap_w: ArrayLike,
    efficiency: ArrayLike,
    capacity_wh: ArrayLike,
    transition_soc: ArrayLike = 0.8,
    p_max_w: ArrayLike | None = None,
) -> Array:
    """Charging time [s] from ``soc0_frac`` to ``soc_target_frac`` under a constant cap (§5.2).

    Parameters
    ----------
    soc0_frac, soc_target_frac : array_like
        Start and target SoC [-].
    power_cap_w : array_like
        EVSE/OBC cap ``min(V·I, P_OBC)`` [W].
    efficiency : array_like
        η [-].
    capacity_wh : array_like
        Usable capacity [Wh].
    transition_soc : array_like, default 0.8
        s_t [-].
    p_max_w : array_like, optional
        Battery acceptance [W]. Defaults to ``power_cap_w``, the §5.2 case where the cap *is*
        ``P_max``.

    Returns
    -------
    numpy.ndarray
        ``(s_e − s₀)/r + τ_ev·ln((1 − s_e)/(1 − s_f))``, where ``r = η·min(cap, P_max)/E_cap``,
        ``τ_ev = E_cap·(1 − s_t)/(η·P_max)`` and ``s_e ≥ s_t`` is the SoC at which ``P_max(s)``
        falls below the cap (each term is taken only over its part of the interval). It is 0
        when ``s_f ≤ s₀``. It is ``inf`` when the target cannot be reached: ``s_f ≥ 1``,
        ``s_f`` above :func:`full_soc_frac` (the EV stops itself), or no power.
    """
    s0 = np.asarray(soc0_frac, dtype=float)
    sf = np.asarray(soc_target_frac, dtype=float)
    cap_w = np.asarray(power_cap_w, dtype=float)
    p_max = cap_w if p_max_w is None else np.asarray(p_max_w, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_eff, rate, tau_s = _two_stage(cap_w, p_max, transition_soc, efficiency, capacity_wh)
        t_lin = np.maximum(np.minimum(sf, s_eff) - s0, 0.0) / rate
        s_a = np.maximum(s0, s_eff)
        t_exp = np.where(sf > s_a, tau_s * np.log((1.0 - s_a) / (1.0 - sf)), 0.0)
        total_s = t_lin + t_exp
    # sf ≥ 1 is covered: full_soc_frac < 1 whenever P_STOP_W > 0
    unreachable = (sf > full_soc_frac(p_max_w=p_max, transition_soc=transition_soc)) | ~(rate > 0)
    return np.where(sf <= s0, 0.0, np.where(unreachable, np.inf, total_s))


def session_limit_frac(
    soc0_frac: ArrayLike, energy_need_wh: ArrayLike, *, capacity_wh: ArrayLike, charge_limit_frac: ArrayLike
) -> Array:
    """SoC [-] at which a session stops: ``min(limit, s₀ + need/E_cap)``.

    ``energy_need_wh`` is energy *into the battery* [Wh], the same quantity
    :func:`draw_next_session` caps at 0.9·capacity.
    """
    s_need = np.asarray(soc0_frac, dtype=float) + np.asarray(energy_need_wh, dtype=float) / np.asarray(
        capacity_wh
    )
    return np.minimum(np.asarray(charge_limit_frac, dtype=float), s_need)


# --- sessions ---------------------------------------------------------------------------------


def _truncated_normal(rng: np.random.Generator, mean: float, sd: float, low: float, high: float) -> float:
    """One draw of N(mean, sd) restricted to [low, high), by rejection (clipped after 64 tries)."""
    for _ in range(64):
        x = float(rng.normal(mean, sd))
        if low <= x < high:
            return x
    return float(np.clip(mean, low, np.nextafter(high, low)))


def _check_session_args(
    after_s: float, day_start_s: float, plug_probability: float, capacity_wh: float, **sd: float
) -> None:
    if not 0.0 < plug_probability <= 1.0:
        raise InvalidParameter("plug_probability", plug_probability, "in (0, 1]")
    if not capacity_wh > 0.0:
        raise InvalidParameter("capacity_wh", capacity_wh, "> 0")
    if not day_start_s <= after_s < day_start_s + SECONDS_PER_DAY:
        raise InvalidParameter(
            "day_start_s", day_start_s, f"the midnight of the day containing after_s={after_s}"
        )
    for name, value in sd.items():
        if not value >= 0.0:
            raise InvalidParameter(name, value, ">= 0")


def draw_next_session(
    rng: np.random.Generator,
    after_s: float,
    *,
    day_start_s: float,
    plug_probability: float = 3 / 7,
    arrival_mean_h: float = 18.5,
    arrival_sd_h: float = 1.5,
    departure_mean_h: float = 7.5,
    departure_sd_h: float = 1.0,
    energy_mean_wh: float = 17000.0,
    energy_sd_wh: float = 8000.0,
    capacity_wh: float,
) -> tuple[float, float, float]:
    """Draw the next residential charging session of one vehicle (§5.3 defaults).

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness. The same state gives the same session.
    after_s : float
        The session must arrive strictly after this time [s].
    day_start_s : float
        Local midnight of the day containing ``after_s``, on the same axis [s].
    plug_probability : float, default 3/7
        Chance of plugging in on a given evening [-], in (0, 1].
    arrival_mean_h, arrival_sd_h : float
        Arrival hour-of-day ~ N(mean, sd) [h], truncated to [15:00, 24:00).
    departure_mean_h, departure_sd_h : float
        Departure hour of the *next* day ~ N(mean, sd) [h], truncated to ≥ 1 h after arrival.
    energy_mean_wh, energy_sd_wh : float
        Mean and sd of the lognormal energy need [Wh], into the battery.
    capacity_wh : float
        Usable capacity [Wh]. The need is capped at 0.9·capacity.

    Returns
    -------
    tuple of float
        ``(arrival_s, departure_s, energy_need_wh)``, absolute times on the axis of ``after_s``.

    Raises
    ------
    InvalidParameter
        On a probability outside (0, 1], a negative sd, a non-positive capacity or mean, a
        ``day_start_s`` that is not the midnight before ``after_s``, or no session within
        ``_MAX_SEARCH_DAYS``.

    Notes
    -----
    Walks forward one day at a time from ``day_start_s``. Each day takes one uniform draw
    (plug in?), and a plugging day takes an arrival, a departure and an energy draw. Days whose
    arrival is ≤ ``after_s`` are skipped. The energy lognormal has
    ``σ² = ln(1 + sd²/mean²)`` and ``μ = ln(mean) − σ²/2``.
    """
    _check_session_args(
        after_s,
        day_start_s,
        plug_probability,
        capacity_wh,
        arrival_sd_h=arrival_sd_h,
        departure_sd_h=departure_sd_h,
        energy_sd_wh=energy_sd_wh,
    )
    if not energy_mean_wh > 0.0:
        raise InvalidParameter("energy_mean_wh", energy_mean_wh, "> 0")
    sigma2 = math.log1p((energy_sd_wh / energy_mean_wh) ** 2)
    mu = math.log(energy_mean_wh) - sigma2 / 2.0
    for day in range(_MAX_SEARCH_DAYS):
        if rng.random() >= plug_probability:
            continue
        midnight_s = day_start_s + day * SECONDS_PER_DAY
        arrival_s = midnight_s + SECONDS_PER_HOUR * _truncated_normal(
            rng, arrival_mean_h, arrival_sd_h, *_ARRIVAL_WINDOW_H
        )
        next_midnight_s = midnight_s + SECONDS_PER_DAY
        earliest_h = (arrival_s + _MIN_STAY_S - next_midnight_s) / SECONDS_PER_HOUR
        departure_h = _truncated_normal(rng, departure_mean_h, departure_sd_h, earliest_h, math.inf)
        energy_wh = min(float(rng.lognormal(mu, math.sqrt(sigma2))), 0.9 * capacity_wh)
        if arrival_s > after_s:
            return arrival_s, next_midnight_s + SECONDS_PER_HOUR * departure_h, energy_wh
    raise InvalidParameter(
        "plug_probability", plug_probability, f"large enough to plug in within {_MAX_SEARCH_DAYS} days"
    )


# --- OCPP 1.6 ---------------------------------------------------------------------------------


def ocpp_status(
    state: ArrayLike,
    power_w: ArrayLike,
    plugged: ArrayLike,
    charging_enabled: ArrayLike,
    at_limit: ArrayLike,
    fault: ArrayLike,
    *,
    available: ArrayLike = True,
    session_ended: ArrayLike = False,
) -> NDArray[np.int8]:
    """OCPP 1.6 ``StatusNotification.status`` code (``OCPP_*``), following the §5.4 table.

    Parameters
    ----------
    state : array_like of int
        J1772 pilot state (``STATE_*``).
    power_w : array_like
        AC power drawn [W].
    plugged, charging_enabled, at_limit, fault : array_like of bool
        Vehicle connected; EVSE offering ≥ 6 A (pass False for a smart-charging limit
        < ``MIN_CURRENT_A``); charge limit reached or EV full; EVSE fault.
    available : array_like of bool, default True
        False after ``ChangeAvailability(Inoperative)``.
    session_ended : array_like of bool, default False
        Transaction stopped while the vehicle is still plugged in.

    Returns
    -------
    numpy.ndarray of int8
        The first match, in precedence order:

        1. Faulted: fault, or state E/F.
        2. Unavailable: not ``available``.
        3. Available: unplugged, or state A.
        4. Finishing: ``session_ended``.
        5. Charging: state C/D with ``power_w > 0``.
        6. SuspendedEVSE: EVSE not offering (B1/C1).
        7. SuspendedEV: PWM offered, EV takes 0 W because it is at the limit or full.
        8. Preparing: otherwise, i.e. plugged and offered but charging has not started.

        ``Reserved`` is not modelled.
    """
    st = np.asarray(state)
    conditions = [
        np.asarray(fault, dtype=bool) | (st == STATE_E) | (st == STATE_F),
        ~np.asarray(available, dtype=bool),
        ~np.asarray(plugged, dtype=bool) | (st == STATE_A),
        np.asarray(session_ended, dtype=bool),
        ((st == STATE_C) | (st == STATE_D)) & (np.asarray(power_w, dtype=float) > 0.0),
        ~np.asarray(charging_enabled, dtype=bool),
        np.asarray(at_limit, dtype=bool),
    ]
    choices = [
        OCPP_FAULTED,
        OCPP_UNAVAILABLE,
        OCPP_AVAILABLE,
        OCPP_FINISHING,
        OCPP_CHARGING,
        OCPP_SUSPENDED_EVSE,
        OCPP_SUSPENDED_EV,
    ]
    return np.select(conditions, choices, default=OCPP_PREPARING).astype(np.int8)
