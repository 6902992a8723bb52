"""Clocks: :class:`ManualClock` moves only when told; :class:`ScaledClock` is wall time × speed.

The scaled clock is driven by an injected fake ``wall`` so every test is exact and instant.
The Hypothesis test runs random sequences of wall advances, speed changes, pauses, resumes and
forward jumps against a reference model, and checks that simulated time never goes backwards.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridtwin.simulator.clock import ManualClock, ScaledClock
from gridtwin.simulator.errors import InvalidParameter

START_S = 1_784_073_600.0  # 2026-07-15T00:00:00Z, the built-in scenarios' start


class FakeWall:
    """A monotonic wall clock that moves only when the test says so."""

    def __init__(self, start: float = 5_000.0) -> None:
        self.t = start
        self.calls = 0

    def __call__(self) -> float:
        self.calls += 1
        return self.t

    def tick(self, seconds: float) -> None:
        assert seconds >= 0
        self.t += seconds


# -- ManualClock ---------------------------------------------------------------------------


def test_manual_clock_does_not_move_by_itself() -> None:
    clock = ManualClock(START_S)
    assert [clock.now_s() for _ in range(5)] == [START_S] * 5
    assert clock.paused is True
    assert clock.speed == 0.0


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(START_S)
    assert clock.advance(90.0) == START_S + 90.0
    assert clock.now_s() == START_S + 90.0
    assert clock.advance(0.0) == START_S + 90.0
    clock.jump_to(START_S + 3600.0)
    assert clock.now_s() == START_S + 3600.0
    clock.jump_to(START_S + 3600.0)  # a jump to "now" is allowed (not backwards)
    assert clock.now_s() == START_S + 3600.0


@pytest.mark.parametrize("seconds", [-1e-9, -1.0, -math.inf])
def test_manual_clock_refuses_negative_advance(seconds: float) -> None:
    clock = ManualClock(START_S)
    clock.advance(10.0)
    with pytest.raises(InvalidParameter) as err:
        clock.advance(seconds)
    assert err.value.field == "seconds"
    assert clock.now_s() == START_S + 10.0


def test_manual_clock_refuses_jumping_backwards() -> None:
    clock = ManualClock(START_S)
    clock.advance(100.0)
    with pytest.raises(InvalidParameter) as err:
        clock.jump_to(START_S + 99.0)
    assert err.value.field == "to"
    assert isinstance(err.value, ValueError)
    assert clock.now_s() == START_S + 100.0




@pytest.mark.parametrize("seconds", [math.nan, math.inf])
def test_manual_clock_refuses_non_finite_advance(seconds: float) -> None:
    clock = ManualClock(START_S)
    with pytest.raises(InvalidParameter):
        clock.advance(seconds)
    assert clock.now_s() == START_S


@pytest.mark.parametrize("to", [math.nan, math.inf])
@pytest.mark.parametrize(
    "make", [ManualClock, lambda s: ScaledClock(s, 1.0, wall=FakeWall())], ids=["manual", "scaled"]
)
def test_clocks_refuse_non_finite_jump(make: object, to: float) -> None:
    clock = make(START_S)  # type: ignore[operator]
    with pytest.raises(InvalidParameter):
        clock.jump_to(to)
    assert clock.now_s() == START_S


@given(st.lists(st.floats(0.0, 1e5, allow_nan=False), max_size=30))
def test_manual_clock_is_the_sum_of_its_advances(steps: list[float]) -> None:
    clock = ManualClock(START_S)
    expected = START_S
    previous = clock.now_s()
    for s in steps:
        clock.advance(s)
        expected += s
        assert clock.now_s() >= previous
        previous = clock.now_s()
    assert clock.now_s() == expected


# -- ScaledClock -----------------------------------------------------------------------------


def test_scaled_clock_runs_at_its_speed() -> None:
    wall = FakeWall()
    clock = ScaledClock(START_S, 60.0, wall=wall)
    assert clock.now_s() == START_S
    wall.tick(10.0)
    assert clock.now_s() == START_S + 600.0
    wall.tick(0.5)
    assert clock.now_s() == START_S + 630.0
    assert clock.speed == 60.0
    assert clock.paused is False


def test_scaled_clock_standing_wall_means_standing_time() -> None:
    wall = FakeWall()
    clock = ScaledClock(START_S, 1000.0, wall=wall)
    wall.tick(1.0)
    assert {clock.now_s() for _ in range(5)} == {START_S + 1000.0}


def test_no_time_passes_while_paused() -> None:
    wall = FakeWall()
    clock = ScaledClock(START_S, 10.0, wall=wall)
    wall.tick(3.0)
    clock.pause()
    assert clock.paused is True
    frozen = clock.now_s()
    assert frozen == START_S + 30.0
    wall.tick(1000.0)
    assert clock.now_s() == frozen
    clock.set_speed(500.0)  # changing the speed while paused does not start the clock
    wall.tick(7.0)
    assert clock.now_s() == frozen
    clock.resume()
    assert clock.now_s() == frozen  # resuming does not catch up the paused wall time
    wall.tick(2.0)
    assert clock.now_s() == frozen + 1000.0


def test_pause_and_resume_are_idempotent() -> None:
    wall = FakeWall()
    clock = ScaledClock(START_S, 2.0, wall=wall)
    wall.tick(1.0)
    clock.pause()
    clock.pause()
    wall.tick(5.0)
    assert clock.now_s() == START_S + 2.0
    clock.resume()
    clock.resume()
    wall.tick(1.0)
    assert clock.now_s() == START_S + 4.0


def test_set_speed_mid_run_keeps_time_and_changes_the_rate() -> None:
    wall = FakeWall()
    clock = ScaledClock(START_S, 100.0, wall=wall)
    wall.tick(5.0)
    before = clock.now_s()
    clock.set_speed(1.0)
    assert clock.now_s() == before  # no jump at the change, in either direction
    wall.tick(5.0)
    assert clock.now_s() == before + 5.0
    clock.set_speed(1e6)
    wall.tick(0.001)
    assert clock.now_s() == pytest.approx(before + 5.0 + 1000.0, abs=1e-6)


@pytest.mark.parametrize("speed", [0.0, -1.0, 1e6 * (1 + 1e-9), math.inf, math.nan])
def test_scaled_clock_refuses_bad_speeds(speed: float) -> None:
    with pytest.raises(InvalidParameter) as err:
        ScaledClock(START_S, speed, wall=FakeWall())
    assert err.value.field == "speed"
    clock = ScaledClock(START_S, 3.0, wall=FakeWall())
    with pytest.raises(InvalidParameter):
        clock.set_speed(speed)
    assert clock.speed == 3.0


def test_scaled_clock_jumps_forward_only() -> None:
    wall = FakeWall()
    clock = ScaledClock(START_S, 10.0, wall=wall)
    wall.tick(1.0)
    clock.jump_to(START_S + 3600.0)
    assert clock.now_s() == START_S + 3600.0
    wall.tick(1.0)  # it keeps running from where it jumped to
    assert clock.now_s() == START_S + 3610.0
    with pytest.raises(InvalidParameter) as err:
        clock.jump_to(START_S + 3609.0)
    assert err.value.field == "to"
    assert clock.now_s() == START_S + 3610.0
    clock.pause()
    clock.jump_to(START_S + 7200.0)  # a paused clock may be jumped, and stays paused there
    wall.tick(50.0)
    assert clock.now_s() == START_S + 7200.0


_ops = st.one_of(
    st.tuples(st.just("wall"), st.floats(0.0, 100.0, allow_nan=False)),
    st.tuples(st.just("speed"), st.floats(1e-3, 1e6, allow_nan=False)),
    st.tuples(st.just("pause"), st.none()),
    st.tuples(st.just("resume"), st.none()),
    st.tuples(st.just("jump"), st.floats(0.0, 1e5, allow_nan=False)),
    st.tuples(st.just("jump_back"), st.floats(1e-3, 1e5, allow_nan=False)),
)


@given(st.floats(1e-3, 1e6, allow_nan=False), st.lists(_ops, max_size=40))
def test_scaled_clock_never_goes_backwards_and_matches_a_model(
    speed: float, ops: list[tuple[str, object]]
) -> None:
    """Whatever the sequence of operations, time is monotone and equals Σ speed × wall time + jumps."""
    wall = FakeWall(1.0e4)
    clock = ScaledClock(START_S, speed, wall=wall)
    model, model_speed, paused = START_S, speed, False
    previous = clock.now_s()
    for op, arg in ops:
        if op == "wall":
            assert isinstance(arg, float)
            wall.tick(arg)
            if not paused:
                model += model_speed * arg
        elif op == "speed":
            assert isinstance(arg, float)
            clock.set_speed(arg)
            model_speed = arg
        elif op == "pause":
            clock.pause()
            paused = True
        elif op == "resume":
            clock.resume()
            paused = False
        elif op == "jump":
            assert isinstance(arg, float)
            target = clock.now_s() + arg
            clock.jump_to(target)
            model = target
        else:
            assert isinstance(arg, float)
            now = clock.now_s()
            if now - arg < now:  # the step is representable at this magnitude
                with pytest.raises(InvalidParameter):
                    clock.jump_to(now - arg)
        now = clock.now_s()
        assert now >= previous, f"time went backwards after {op}({arg})"
        assert now == pytest.approx(model, rel=1e-12, abs=1e-6)
        assert clock.paused is paused
        assert clock.speed == model_speed
        previous = now
