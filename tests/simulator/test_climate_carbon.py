"""The climate's carbon log: quarter-hour means of the per-step intensity, kept long after a day's arrays
are dropped, the same whatever the fleet step, and read through the runtime up to the current quarter hour."""

from __future__ import annotations

import numpy as np
import pytest

from gridtwin.simulator import climate as climate_module
from gridtwin.simulator.catalog import CELLS, TARIFFS
from gridtwin.simulator.climate import CARBON_INTERVAL_S, CARBON_LOG_DAYS, Climate
from gridtwin.simulator.runtime import Runtime

DAY = 86400.0
FIRST = 20649  # 2026-07-15, as a UTC day number


def climate(step_s: float) -> Climate:
    return Climate((CELLS["sacramento"], CELLS["boston"]), TARIFFS["flat"], step_s, seed=7)


@pytest.mark.parametrize("step_s", [60.0, 300.0, 3600.0])
def test_quarter_hours_are_time_weighted_means_of_the_steps(step_s: float) -> None:
    c = climate(step_s)
    per_step = c.ensure_day(FIRST)["carbon"]
    quarters = c.carbon_log[FIRST]
    assert quarters.shape == (2, 96)
    # each quarter hour is the mean of the step values held over it (an hour step holds over four quarters)
    fine = np.repeat(per_step, int(step_s), axis=1)  # one value a second
    expected = fine.reshape(2, 96, int(CARBON_INTERVAL_S)).mean(axis=2)
    assert quarters == pytest.approx(expected, rel=1e-9)
    got = c.carbon_quarters(1, FIRST * DAY + 3600.0, FIRST * DAY + 3600.0 + 1800.0)
    assert got == [(FIRST * DAY + 3600.0, pytest.approx(expected[1, 4])),
                   (FIRST * DAY + 4500.0, pytest.approx(expected[1, 5]))]


def test_the_log_outlives_the_days_arrays_and_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    c = climate(3600.0)
    c.ensure_day(FIRST)
    first = c.carbon_log[FIRST].copy()
    c.ensure_day(FIRST + 3)
    assert FIRST not in c.days and np.array_equal(c.carbon_log[FIRST], first)
    assert c.carbon_quarters(0, (FIRST - 1) * DAY, FIRST * DAY) == []  # never generated: nothing
    monkeypatch.setattr(climate_module, "CARBON_LOG_DAYS", 3)  # (400 days of weather take seconds)
    c.ensure_day(FIRST + 4)
    assert sorted(c.carbon_log) == [FIRST + 2, FIRST + 3, FIRST + 4]
    assert CARBON_LOG_DAYS * 96 * len(CELLS) * 8 < 4e6  # a year and more of every cell: a few MB


def test_the_runtime_reads_up_to_the_quarter_hour_holding_now() -> None:
    rt = Runtime.from_scenario("single-home")
    rt.advance(3600.0)  # 01:00 on the first day
    home = rt.homes()[0]
    start = rt.scenario.start_s
    got = rt.carbon_quarters(home.cell, start - DAY, start + DAY)
    assert [t for t, _ in got] == [start + k * CARBON_INTERVAL_S for k in range(5)]  # 00:00 .. 01:00
    truth = []
    for k in range(15):  # the quarter hour 01:00 .. 01:15, one fleet step at a time
        if k:
            rt.advance(60.0)
        truth.append(rt.home_truth(home.home_id).carbon_g_per_kwh)
    assert got[-1][1] == pytest.approx(sum(truth) / len(truth), rel=1e-9)
