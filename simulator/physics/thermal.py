"""House thermal envelope (2R2C), HVAC equipment and thermostat logic, as pure numpy functions.

The house is a 2R2C grey-box network with an air node ``i`` and a mass node ``m``::

    C_i·dT_i/dt = (T_m − T_i)/R_im + (T_o − T_i)/R_io + Q_air
    C_m·dT_m/dt = (T_i − T_m)/R_im + (T_o − T_m)/R_mo + Q_mass

It is the "TiTe" structure of Bacher & Madsen (2011) and the air + mass ETP model of GridLAB-D /
PNNL GridPIQ. For inputs held constant over a step it is solved exactly (zero-order hold) in closed
form, so one advance of ``dt`` equals any number of shorter advances. The air node is what the
thermostat senses; its small capacitance gives the 2–4 cycles per hour seen in real single-stage
systems (a 1R1C lump cycles far too slowly).

Equipment: a single-speed air-source heat pump / AC whose capacity and COP are linear fits to
OCHRE's biquadratic curves (8.82 HSPF heating, 15.05 SEER cooling), electric-resistance aux /
emergency heat with COP 1, and a gas furnace with AFUE. Thermostat control is OCHRE's deadband
with offset plus minimum on / off timers and the usual consumer modes (heat, cool, auto with a
fixed 3 °F changeover gap, eco, emergency heat, off).

Every function is vectorised: any argument may be a scalar or an array broadcastable to the fleet
shape. Units are SI: [°C], [K], [W], [J/K], [K/W], [s]. Power flows follow ``units.py``: electric
and gas inputs are non-negative; ``q_air_w`` is heat delivered to the air node (negative when
cooling).

References
----------
.. [1] P. Bacher and H. Madsen, "Identifying suitable models for the heat dynamics of buildings",
   Energy and Buildings 43 (2011) 1511–1522.
.. [2] NREL OCHRE, ``ochre/Equipment/HVAC.py`` and ``ochre/defaults/HVAC Heating|Cooling/*.csv``.
.. [3] PNNL GridPIQ, TCL / ETP virtual-battery documentation.
.. [4] Honeywell TH6110D manual (3 °F auto changeover deadband); RCS TBZ48A and Honeywell
   TH5110D (minimum off time).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "AUX_DROOP_K",
    "FAN_AUTO",
    "FAN_CIRCULATE",
    "FAN_ON",
    "HEAT_PUMP_LOCKOUT_C",
    "HEAT_SOURCE_FURNACE",
    "HEAT_SOURCE_HEAT_PUMP",
    "MIN_AUTO_GAP_K",
    "MODE_AUTO",
    "MODE_COOL",
    "MODE_ECO",
    "MODE_EMERGENCY_HEAT",
    "MODE_HEAT",
    "MODE_OFF",
    "RUN_COOL",
    "RUN_HEAT",
    "RUN_IDLE",
    "RC2Step",
    "effective_setpoints",
    "fan_running",
    "heat_pump_cooling",
    "heat_pump_heating",
    "hvac_flows",
    "rc2_advance",
    "rc2_advance_step",
    "rc2_equilibrium",
    "rc2_step_matrix",
    "thermostat_control",
]

FloatArray = NDArray[np.float64]

MODE_OFF, MODE_HEAT, MODE_COOL, MODE_AUTO, MODE_ECO, MODE_EMERGENCY_HEAT = 0, 1, 2, 3, 4, 5
RUN_IDLE, RUN_HEAT, RUN_COOL = 0, 1, 2
FAN_AUTO, FAN_ON, FAN_CIRCULATE = 0, 1, 2
HEAT_SOURCE_HEAT_PUMP, HEAT_SOURCE_FURNACE = 0, 1

MIN_AUTO_GAP_K = 5.0 / 3.0  # 3 °F between heat and cool setpoints in AUTO (Honeywell TH6110D)
AUX_DROOP_K = 1.1  # aux heat engages this far below the heat setpoint (≈ 2 °F)
HEAT_PUMP_LOCKOUT_C = -15.0  # below this outdoor temperature only aux heat runs

# Linear fits to OCHRE's single-speed ASHP / AC curves (device-physics.md §4.2).
_HEAT_CAP_FRAC = (0.81, 0.022, 0.3, 1.25)  # intercept, slope [1/K], clip low, clip high
_HEAT_COP = (3.45, 0.06, 1.5, 5.0)
_COOL_CAP_FRAC = (0.99, -0.0095, 0.5, 1.25)  # about (T_o − 35 °C)
_COOL_COP = (4.2, -0.12, 1.5, 6.0)  # about (T_o − 35 °C)


def _as_float(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def _rc2_offsets(
    q_air_w: ArrayLike, q_mass_w: ArrayLike, g_im: FloatArray, g_io: FloatArray, g_mo: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Equilibrium minus outdoor temperature of both nodes [K], and det of the conductance matrix."""
    det_g = g_im * g_io + g_im * g_mo + g_io * g_mo
    q_a = _as_float(q_air_w)
    q_m = _as_float(q_mass_w)
    d_air = ((g_im + g_mo) * q_a + g_im * q_m) / det_g
    d_mass = (g_im * q_a + (g_im + g_io) * q_m) / det_g
    return d_air, d_mass, det_g


def rc2_equilibrium(
    t_out_c: ArrayLike,
    q_air_w: ArrayLike,
    q_mass_w: ArrayLike,
    *,
    c_air_j_per_k: ArrayLike,
    c_mass_j_per_k: ArrayLike,
    r_im_k_per_w: ArrayLike,
    r_io_k_per_w: ArrayLike,
    r_mo_k_per_w: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Steady state of the 2R2C house for constant outdoor temperature and heat inputs.

    Parameters
    ----------
    t_out_c : array_like
        Outdoor temperature [°C].
    q_air_w, q_mass_w : array_like
        Heat delivered to the air node and to the mass node [W] (HVAC, gains; negative = removed).
    c_air_j_per_k, c_mass_j_per_k : array_like
        Air and mass capacitances [J/K]. They do not affect the equilibrium; they are accepted
        so that the same parameter set can be passed to this function and :func:`rc2_advance`.
    r_im_k_per_w, r_io_k_per_w, r_mo_k_per_w : array_like
        Resistances air–mass, air–outdoor and mass–outdoor [K/W], all positive.

    Returns
    -------
    t_air_inf_c, t_mass_inf_c : ndarray
        Equilibrium air and mass temperatures [°C].

    Notes
    -----
    Solves ``G·(x − T_o) = q`` with the symmetric conductance matrix
    ``G = [[g_im + g_io, −g_im], [−g_im, g_im + g_mo]]``, ``g = 1/R``.
    """
    del c_air_j_per_k, c_mass_j_per_k  # the steady state is independent of the capacitances
    t_o = _as_float(t_out_c)
    g_im = 1.0 / _as_float(r_im_k_per_w)
    g_io = 1.0 / _as_float(r_io_k_per_w)
    g_mo = 1.0 / _as_float(r_mo_k_per_w)
    d_air, d_mass, _ = _rc2_offsets(q_air_w, q_mass_w, g_im, g_io, g_mo)
    return np.asarray(t_o + d_air), np.asarray(t_o + d_mass)


def rc2_advance(
    t_air_c: ArrayLike,
    t_mass_c: ArrayLike,
    t_out_c: ArrayLike,
    q_air_w: ArrayLike,
    q_mass_w: ArrayLike,
    *,
    c_air_j_per_k: ArrayLike,
    c_mass_j_per_k: ArrayLike,
    r_im_k_per_w: ArrayLike,
    r_io_k_per_w: ArrayLike,
    r_mo_k_per_w: ArrayLike,
    dt_s: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Advance the 2R2C house exactly over ``dt_s`` with inputs held constant.

    Parameters
    ----------
    t_air_c, t_mass_c : array_like
        Air and mass temperatures at the start of the step [°C].
    t_out_c : array_like
        Outdoor temperature over the step [°C].
    q_air_w, q_mass_w : array_like
        Heat delivered to the air node (HVAC sensible heat, convective gains) and to the mass
        node (solar, radiant gains) over the step [W]; negative means heat removed.
    c_air_j_per_k, c_mass_j_per_k : array_like
        Air-node and mass-node capacitances [J/K], positive.
    r_im_k_per_w, r_io_k_per_w, r_mo_k_per_w : array_like
        Resistances air–mass, air–outdoor and mass–outdoor [K/W], positive and finite.
    dt_s : array_like
        Step length [s], ≥ 0. May differ per device; 0 returns the inputs unchanged.

    Returns
    -------
    t_air_c, t_mass_c : ndarray
        Air and mass temperatures at the end of the step [°C].

    Notes
    -----
    With ``e = x − x_inf`` (deviation from :func:`rc2_equilibrium`), ``ė = A·e`` and
    ``x(dt) = x0 + (exp(A·dt) − I)·e0``. The 2×2 exponential uses Sylvester's formula on the
    eigenvalues ``λ2 < λ1 < 0``::

        exp(A·t) − I = (e^{λ2 t} − 1)·I + φ·(A − λ2·I),   φ = (e^{λ1 t} − e^{λ2 t}) / (λ1 − λ2)

    evaluated as ``φ = e^{λ1 t}·(−expm1(−(λ1 − λ2)·t)) / (λ1 − λ2)``, which stays accurate when
    the eigenvalues are nearly equal or ``t`` is tiny and never overflows for long steps. The
    off-diagonal product of ``A`` is positive, so the eigenvalues are real and distinct for
    positive R and C; ``λ1`` comes from ``det(A)/λ2`` and ``A − λ2·I`` from a cancellation-free
    form. Cost: about 35 elementwise numpy operations, independent of ``dt_s``.
    """
    c_i = _as_float(c_air_j_per_k)
    c_m = _as_float(c_mass_j_per_k)
    g_im = 1.0 / _as_float(r_im_k_per_w)
    g_io = 1.0 / _as_float(r_io_k_per_w)
    g_mo = 1.0 / _as_float(r_mo_k_per_w)
    dt = _as_float(dt_s)
    t_a = _as_float(t_air_c)
    t_m = _as_float(t_mass_c)
    t_o = _as_float(t_out_c)

    d_air, d_mass, det_g = _rc2_offsets(q_air_w, q_mass_w, g_im, g_io, g_mo)
    e_a = t_a - t_o - d_air
    e_m = t_m - t_o - d_mass

    # A = [[a, b], [c, d]]
    a = -(g_im + g_io) / c_i
    d = -(g_im + g_mo) / c_m
    b = g_im / c_i
    c = g_im / c_m
    half_diff = 0.5 * (a - d)
    bc = b * c
    s = np.sqrt(half_diff * half_diff + bc)  # half the eigenvalue gap, > 0
    big = s + np.abs(half_diff)
    small = bc / big  # = s − |half_diff| without cancellation
    pos = half_diff >= 0.0
    a_minus_l2 = np.where(pos, big, small)
    d_minus_l2 = np.where(pos, small, big)
    lam2 = 0.5 * (a + d) - s  # fast (most negative) eigenvalue
    lam1 = det_g / (c_i * c_m) / lam2  # slow eigenvalue, det(A) / λ2

    e2m1 = np.expm1(lam2 * dt)
    phi = np.exp(lam1 * dt) * -np.expm1(-2.0 * s * dt) / (2.0 * s)
    new_a = t_a + e2m1 * e_a + phi * (a_minus_l2 * e_a + b * e_m)
    new_m = t_m + e2m1 * e_m + phi * (c * e_a + d_minus_l2 * e_m)
    return np.asarray(new_a), np.asarray(new_m)


def _linear_clipped(
    t_c: ArrayLike, coeffs: tuple[float, float, float, float], t_ref_c: float = 0.0
) -> FloatArray:
    intercept, slope, lo, hi = coeffs
    return np.clip(intercept + slope * (_as_float(t_c) - t_ref_c), lo, hi)


def heat_pump_heating(t_out_c: ArrayLike, capacity_nominal_w: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Heating capacity and COP of a single-speed air-source heat pump.

    Parameters
    ----------
    t_out_c : array_like
        Outdoor temperature [°C].
    capacity_nominal_w : array_like
        Rated heating capacity at 8.3 °C (47 °F) [W].

    Returns
    -------
    capacity_w : ndarray
        Heat delivered at full output [W]: ``Q_nom·clip(0.81 + 0.022·T_o, 0.3, 1.25)``.
    cop : ndarray
        Coefficient of performance [-]: ``clip(3.45 + 0.06·T_o, 1.5, 5)``.

    Notes
    -----
    Linear fits to OCHRE's 8.82 HSPF biquadratic curves at 21 °C indoor; within 0.06 (capacity
    fraction) and 0.1 (COP) of the curve between −20 and 15 °C.
    """
    cap = _as_float(capacity_nominal_w) * _linear_clipped(t_out_c, _HEAT_CAP_FRAC)
    return np.asarray(cap), _linear_clipped(t_out_c, _HEAT_COP)


def heat_pump_cooling(t_out_c: ArrayLike, capacity_nominal_w: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Total cooling capacity and COP of a single-speed AC / heat pump in cooling.

    Parameters
    ----------
    t_out_c : array_like
        Outdoor temperature [°C].
    capacity_nominal_w : array_like
        Rated total cooling capacity at 35 °C (95 °F) [W].

    Returns
    -------
    capacity_w : ndarray
        Total (sensible + latent) capacity [W]:
        ``Q_nom·clip(0.99 − 0.0095·(T_o − 35), 0.5, 1.25)``.
    cop : ndarray
        Coefficient of performance [-]: ``clip(4.2 − 0.12·(T_o − 35), 1.5, 6)``.

    Notes
    -----
    Fits to OCHRE's 15.05 SEER curves at 19.4 °C indoor wet-bulb (capacity within 0.01 between
    25 and 45 °C). Only ``shr·capacity_w`` cools the air node; see :func:`hvac_flows`.
    """
    cap = _as_float(capacity_nominal_w) * _linear_clipped(t_out_c, _COOL_CAP_FRAC, 35.0)
    return np.asarray(cap), _linear_clipped(t_out_c, _COOL_COP, 35.0)


def effective_setpoints(
    mode: ArrayLike,
    hold_active: ArrayLike,
    hold_heat_c: ArrayLike,
    hold_cool_c: ArrayLike,
    schedule_heat_c: ArrayLike,
    schedule_cool_c: ArrayLike,
    eco_heat_c: ArrayLike,
    eco_cool_c: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Heat and cool setpoints in force, by priority eco → hold → schedule.

    Parameters
    ----------
    mode : array_like of int
        ``MODE_*`` code.
    hold_active : array_like of bool
        A hold (permanent or temporary) overrides the schedule.
    hold_heat_c, hold_cool_c : array_like
        Hold setpoints [°C].
    schedule_heat_c, schedule_cool_c : array_like
        Setpoints of the current schedule period [°C].
    eco_heat_c, eco_cool_c : array_like
        Eco / away setpoints [°C], used in ``MODE_ECO``.

    Returns
    -------
    heat_sp_c, cool_sp_c : ndarray
        Setpoints [°C]. In AUTO and ECO, ``cool_sp_c ≥ heat_sp_c + MIN_AUTO_GAP_K`` (cool is
        raised when needed; the heat setpoint is never changed); other modes use one setpoint
        and keep both as given.
    """
    m = np.asarray(mode)
    eco = m == MODE_ECO
    hold = np.asarray(hold_active, dtype=bool)
    heat = np.where(eco, eco_heat_c, np.where(hold, hold_heat_c, schedule_heat_c)).astype(np.float64)
    cool = np.where(eco, eco_cool_c, np.where(hold, hold_cool_c, schedule_cool_c)).astype(np.float64)
    # the changeover gap matters only where both setpoints act (auto, eco); in cool mode a low
    # cool setpoint is honoured whatever the (unused) heat setpoint
    both = eco | (m == MODE_AUTO)
    return heat, np.asarray(np.where(both, np.maximum(cool, heat + MIN_AUTO_GAP_K), cool))


def thermostat_control(
    t_sensed_c: ArrayLike,
    heat_sp_c: ArrayLike,
    cool_sp_c: ArrayLike,
    mode: ArrayLike,
    running: ArrayLike,
    since_switch_s: ArrayLike,
    *,
    deadband_k: ArrayLike,
    min_on_s: ArrayLike,
    min_off_s: ArrayLike,
    offset_frac: ArrayLike = 0.2,
) -> NDArray[np.int8]:
    """Next running state of a single-stage thermostat (deadband with offset, minimum times).

    Parameters
    ----------
    t_sensed_c : array_like
        Temperature the thermostat reads (true air temperature + bias/noise) [°C].
    heat_sp_c, cool_sp_c : array_like
        Setpoints in force [°C] (see :func:`effective_setpoints`).
    mode : array_like of int
        ``MODE_*`` code (0–5).
    running : array_like of int
        Current ``RUN_*`` code.
    since_switch_s : array_like
        Time since the running state last changed [s].
    deadband_k : array_like
        Deadband width ``db`` [K].
    min_on_s, min_off_s : array_like
        Minimum run time and minimum idle time (compressor protection) [s].
    offset_frac : array_like, default 0.2
        Deadband offset ``off`` [-] (OCHRE default).

    Returns
    -------
    ndarray of int8
        New ``RUN_*`` code.

    Notes
    -----
    * Heating starts when ``T < sp_h − db·(1 − off)`` and stops when ``T > sp_h + db·off``;
      cooling starts when ``T > sp_c + db·(1 − off)`` and stops when ``T < sp_c − db·off``.
    * Heating is allowed in HEAT, AUTO, ECO and EMERGENCY_HEAT; cooling in COOL, AUTO and ECO.
      A unit whose mode no longer allows it (OFF, or a mode change) stops at once, even inside
      its minimum run time; otherwise a running unit cannot stop before ``min_on_s``.
    * An idle unit cannot start before ``min_off_s``. A running unit only ever goes to idle, so
      heat ↔ cool always passes through idle and the minimum off time.
    * If both would start (only possible with inconsistent setpoints), heating wins.
    """
    t = _as_float(t_sensed_c)
    heat_sp = _as_float(heat_sp_c)
    cool_sp = _as_float(cool_sp_c)
    db = _as_float(deadband_k)
    off = _as_float(offset_frac)
    since = _as_float(since_switch_s)
    mode_i = np.asarray(mode)
    run = np.asarray(running)

    # HEAT, AUTO, ECO and EMERGENCY_HEAT may heat; COOL, AUTO and ECO may cool
    heat_ok = (mode_i == MODE_HEAT) | (mode_i >= MODE_AUTO)
    cool_ok = (mode_i >= MODE_COOL) & (mode_i <= MODE_ECO)
    was_heat = run == RUN_HEAT
    was_cool = run == RUN_COOL
    may_stop = since >= min_on_s
    may_start = (since >= min_off_s) & ~(was_heat | was_cool)

    db_on = db * (1.0 - off)
    db_off = db * off
    heat = (was_heat & heat_ok & ~((t > heat_sp + db_off) & may_stop)) | (
        may_start & heat_ok & (t < heat_sp - db_on)
    )
    cool = (was_cool & cool_ok & ~((t < cool_sp - db_off) & may_stop)) | (
        may_start & cool_ok & (t > cool_sp + db_on) & ~heat
    )
    # heat and cool are exclusive (cool requires ~heat or was_cool, which excludes heat)
    return np.asarray(heat, dtype=np.int8) + np.asarray(cool, dtype=np.int8) * np.int8(RUN_COOL)


def fan_running(
    fan_mode: ArrayLike,
    running: ArrayLike,
    seconds_into_hour: ArrayLike,
    *,
    circulate_minutes_per_hour: ArrayLike = 15.0,
) -> NDArray[np.bool_]:
    """Whether the air-handler fan runs.

    Parameters
    ----------
    fan_mode : array_like of int
        ``FAN_AUTO``, ``FAN_ON`` or ``FAN_CIRCULATE``.
    running : array_like of int
        ``RUN_*`` code of the HVAC unit.
    seconds_into_hour : array_like
        Time since the start of the current hour [s] (taken modulo 3600).
    circulate_minutes_per_hour : array_like, default 15
        Minimum fan time per hour in ``FAN_CIRCULATE`` [min], run at the start of each hour.

    Returns
    -------
    ndarray of bool
        AUTO: while the HVAC runs. ON: always. CIRCULATE: while the HVAC runs and during the
        first ``circulate_minutes_per_hour`` minutes of every hour.
    """
    fm = np.asarray(fan_mode)
    hvac_on = np.asarray(running) != RUN_IDLE
    circulating = np.mod(_as_float(seconds_into_hour), 3600.0) < 60.0 * _as_float(circulate_minutes_per_hour)
    return np.asarray(hvac_on | (fm == FAN_ON) | ((fm == FAN_CIRCULATE) & circulating))


def hvac_flows(
    running: ArrayLike,
    mode: ArrayLike,
    t_out_c: ArrayLike,
    t_air_c: ArrayLike,
    heat_sp_c: ArrayLike,
    *,
    heat_source: ArrayLike,
    hp_capacity_w: ArrayLike,
    aux_capacity_w: ArrayLike,
    furnace_capacity_w: ArrayLike,
    furnace_afue: ArrayLike,
    fan_power_w: ArrayLike,
    shr: ArrayLike,
    fan_on: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Heat to the air node and electric / gas input of the HVAC equipment.

    Parameters
    ----------
    running : array_like of int
        ``RUN_*`` code (from :func:`thermostat_control`).
    mode : array_like of int
        ``MODE_*`` code. ``MODE_OFF`` forces the unit idle; ``MODE_EMERGENCY_HEAT`` runs aux only.
    t_out_c : array_like
        Outdoor temperature [°C].
    t_air_c : array_like
        Indoor air temperature [°C] (decides the aux-heat droop).
    heat_sp_c : array_like
        Heat setpoint [°C].
    heat_source : array_like of int
        ``HEAT_SOURCE_HEAT_PUMP`` or ``HEAT_SOURCE_FURNACE``.
    hp_capacity_w : array_like
        Nominal heat-pump / AC capacity [W]. Also the cooling capacity of furnace houses (their AC).
    aux_capacity_w : array_like
        Electric-resistance aux / emergency heat [W] (heat pumps only; 0 for none).
    furnace_capacity_w : array_like
        Furnace heat output [W].
    furnace_afue : array_like
        Furnace annual fuel utilisation efficiency (0, 1].
    fan_power_w : array_like
        Air-handler fan / blower power [W].
    shr : array_like
        Sensible heat ratio of cooling [-] (≈ 0.74).
    fan_on : array_like of bool
        Fan state (see :func:`fan_running`). The fan always runs while the unit runs.

    Returns
    -------
    q_air_w : ndarray
        Sensible heat delivered to the air node [W]; negative when cooling.
    electric_w : ndarray
        Electric input [W], ≥ 0: compressor heat / COP + aux + fan.
    gas_w : ndarray
        Gas input [W], ≥ 0: furnace heat / AFUE.

    Notes
    -----
    * Heat-pump heating: the compressor delivers :func:`heat_pump_heating` capacity; aux
      (COP 1) adds ``aux_capacity_w`` when ``t_air < heat_sp − AUX_DROOP_K``. Below
      ``HEAT_PUMP_LOCKOUT_C`` or in ``MODE_EMERGENCY_HEAT`` only aux runs.
    * Cooling (either heat source): ``q_air = −shr·capacity`` (latent removal is not modelled),
      electric ``capacity/COP`` from :func:`heat_pump_cooling`.
    * Fan heat is not added to the air node.
    """
    # masks multiply instead of np.where: the same values, a third of the cost per tick
    mode_a = np.asarray(mode)
    run = np.asarray(running)
    on = mode_a != MODE_OFF
    heating = (run == RUN_HEAT) & on
    cooling = (run == RUN_COOL) & on
    is_hp = np.asarray(heat_source) == HEAT_SOURCE_HEAT_PUMP
    t_o = _as_float(t_out_c)

    hp_heat = heating & is_hp
    aux_only = (t_o < HEAT_PUMP_LOCKOUT_C) | (mode_a == MODE_EMERGENCY_HEAT)
    cap_h, cop_h = heat_pump_heating(t_o, hp_capacity_w)
    q_comp = cap_h * (hp_heat & ~aux_only)
    aux_on = hp_heat & (aux_only | (_as_float(t_air_c) < _as_float(heat_sp_c) - AUX_DROOP_K))
    q_aux = np.multiply(aux_capacity_w, aux_on)
    q_furn = np.multiply(furnace_capacity_w, heating & ~is_hp)

    cap_c, cop_c = heat_pump_cooling(t_o, hp_capacity_w)
    q_cool = cap_c * cooling

    fan_w = np.multiply(fan_power_w, np.asarray(fan_on, dtype=bool) | heating | cooling)
    q_air = q_comp + q_aux + q_furn - _as_float(shr) * q_cool
    electric = q_comp / cop_h + q_aux + q_cool / cop_c + fan_w
    gas = q_furn / _as_float(furnace_afue)
    return np.asarray(q_air), np.asarray(electric), np.asarray(gas)


# --------------------------------------------------------------------------------------------
# The fleet's hot path: a fixed step's propagator, precomputed once per house
# --------------------------------------------------------------------------------------------


class RC2Step(NamedTuple):
    """Exact propagator of the 2R2C house over one fixed step ``dt`` (constant inputs).

    ``x(dt) = x∞ + E·(x₀ − x∞)`` with ``E = exp(A·dt)`` and the equilibrium
    ``x∞ = T_out + K·[q_air, q_mass]``; all eight coefficients are per-house arrays.
    """

    e_aa: FloatArray
    e_am: FloatArray
    e_ma: FloatArray
    e_mm: FloatArray
    k_aa: FloatArray
    k_am: FloatArray
    k_ma: FloatArray
    k_mm: FloatArray


def rc2_step_matrix(
    *,
    c_air_j_per_k: ArrayLike,
    c_mass_j_per_k: ArrayLike,
    r_im_k_per_w: ArrayLike,
    r_io_k_per_w: ArrayLike,
    r_mo_k_per_w: ArrayLike,
    dt_s: float,
) -> RC2Step:
    """Precompute :class:`RC2Step` for houses with these parameters [J/K, K/W] and step [s].

    The exponential comes from :func:`rc2_advance` itself (unit initial deviations, no inputs),
    so the fixed-step path and the general closed form cannot drift apart.
    """
    params = dict(
        c_air_j_per_k=c_air_j_per_k,
        c_mass_j_per_k=c_mass_j_per_k,
        r_im_k_per_w=r_im_k_per_w,
        r_io_k_per_w=r_io_k_per_w,
        r_mo_k_per_w=r_mo_k_per_w,
    )
    shape = np.broadcast(*[np.asarray(v) for v in params.values()]).shape
    one, zero = np.ones(shape), np.zeros(shape)
    e_aa, e_ma = rc2_advance(one, zero, zero, zero, zero, dt_s=dt_s, **params)
    e_am, e_mm = rc2_advance(zero, one, zero, zero, zero, dt_s=dt_s, **params)
    g_im = 1.0 / _as_float(r_im_k_per_w)
    g_io = 1.0 / _as_float(r_io_k_per_w)
    g_mo = 1.0 / _as_float(r_mo_k_per_w)
    # the equilibrium's response to unit heat at each node, from the offsets rc2_advance uses
    k_aa, k_ma, _ = _rc2_offsets(one, zero, g_im, g_io, g_mo)
    k_am, k_mm, _ = _rc2_offsets(zero, one, g_im, g_io, g_mo)
    return RC2Step(e_aa, e_am, e_ma, e_mm, k_aa, k_am, k_ma, k_mm)


def rc2_advance_step(
    t_air_c: ArrayLike,
    t_mass_c: ArrayLike,
    t_out_c: ArrayLike,
    q_air_w: ArrayLike,
    q_mass_w: ArrayLike,
    step: RC2Step,
) -> tuple[FloatArray, FloatArray]:
    """:func:`rc2_advance` over the fixed step of ``step`` (about 20 operations, no exponentials)."""
    q_a = _as_float(q_air_w)
    q_m = _as_float(q_mass_w)
    inf_a = step.k_aa * q_a + step.k_am * q_m + t_out_c
    inf_m = step.k_ma * q_a + step.k_mm * q_m + t_out_c
    e_a = t_air_c - inf_a
    e_m = t_mass_c - inf_m
    return inf_a + step.e_aa * e_a + step.e_am * e_m, inf_m + step.e_ma * e_a + step.e_mm * e_m
