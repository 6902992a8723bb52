"""Benchmark of the fleet kernel against naive one-SimPy-process-per-device stepping.

``python -m gridtwin.simulator.bench [--homes N] [--days D] [--baseline-homes M] [--json]``

Both sides run the *same* physics code (each fleet's ``materialise`` and ``plan``) at the same
60 s step: the kernel calls it once per device type per tick on whole arrays; the baseline gives
every device (and every home's load and meter) its own SimPy process that calls it on its own
row. The baseline runs on a subset of homes (it is slow by design); rates are per device-step,
so the two are comparable. Figures are ratios measured in one run, never absolute targets in tests.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable

import numpy as np

from .devices.base import Fleet
from .scenario import load_scenario
from .world import World, long_lived

TARGET_SECONDS_10K_DAY = 3.0
TARGET_SPEEDUP = 50.0
TARGET_BYTES_PER_DEVICE = 4096


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def _device_count(world: World) -> int:
    return world.solar.n + world.battery.n + world.thermostat.n + world.charger.n


def _ticks_run(world: World) -> float:
    """Fleet steps the run really went through (not the nominal days × steps per day)."""
    return (world.env.now - world.start_s) / world.step_s


def run_kernel(homes: int, days: float, seed: int) -> dict[str, float]:
    scenario = load_scenario("fleet-10k", homes=homes, seed=seed)
    rss0 = _rss_bytes()
    t0 = time.perf_counter()
    world = World(scenario)
    build_s = time.perf_counter() - t0
    with long_lived():  # as `gridtwin serve` and `gridtwin simulate` run it
        t0 = time.perf_counter()
        world.run_until(scenario.start_s + days * 86400.0)
        run_s = time.perf_counter() - t0
    devices = _device_count(world)
    return {"build_s": build_s, "run_s": run_s, "devices": devices, "device_steps": devices * _ticks_run(world),
            "bytes_per_device": (_rss_bytes() - rss0) / devices}


def run_baseline(homes: int, days: float, seed: int) -> dict[str, float]:
    """The same stages, one SimPy process per device (and per home's load and meter), one row each."""
    scenario = load_scenario("fleet-10k", homes=homes, seed=seed)
    world = World(scenario, fleet_processes=False)
    env, step_s = world.env, scenario.step_s
    env.process(world._stage_process(world._tick_weather))

    def one_row(stage: Fleet, row: int) -> Callable[[float], None]:
        idx = np.array([row])
        return lambda t: (stage.materialise(t, idx), stage.plan(t, idx, step_s))  # type: ignore[func-returns-value]

    for stage in world.stages:  # stage order, so a home's devices still plan in dependency order
        for row in range(stage.n):
            env.process(world._stage_process(one_row(stage, row)))
    with long_lived():  # the same treatment as the kernel
        t0 = time.perf_counter()
        world.run_until(scenario.start_s + days * 86400.0)
        run_s = time.perf_counter() - t0
    devices = _device_count(world)
    return {"run_s": run_s, "devices": devices, "device_steps": devices * _ticks_run(world)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gridtwin.simulator.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=1.0)
    parser.add_argument("--baseline-homes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="emit one JSON object")
    args = parser.parse_args(argv)
    baseline_days = min(args.days, 0.25)
    kern = run_kernel(args.homes, args.days, args.seed)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # the kernel's peak (it runs first)
    base = run_baseline(args.baseline_homes, baseline_days, args.seed)
    kernel_rate = kern["device_steps"] / kern["run_s"]
    baseline_rate = base["device_steps"] / base["run_s"]
    result = {
        "homes": args.homes,
        "days": args.days,
        "devices": int(kern["devices"]),
        "kernel_build_s": round(kern["build_s"], 3),
        "kernel_run_s": round(kern["run_s"], 3),
        "kernel_device_steps_per_s": round(kernel_rate),
        "baseline_homes": args.baseline_homes,
        "baseline_days": baseline_days,
        "baseline_device_steps_per_s": round(baseline_rate),
        "speedup": round(kernel_rate / baseline_rate, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "bytes_per_device": round(kern["bytes_per_device"]),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    for key, value in result.items():
        print(f"{key:28s} {value}")
    measured = args.homes == 10_000 and args.days == 1.0
    seconds = kern["run_s"] * (10_000 / args.homes) / args.days
    verdict = ("PASS" if seconds < TARGET_SECONDS_10K_DAY else "FAIL") if measured else "(not measured at that size)"
    print()
    print(f"targets: 10,000 homes x 1 day < {TARGET_SECONDS_10K_DAY:g} s "
          f"({'measured' if measured else 'extrapolated linearly'}: {seconds:.2f} s) {verdict}; "
          f"speedup >= {TARGET_SPEEDUP:g} {'PASS' if result['speedup'] >= TARGET_SPEEDUP else 'FAIL'}; "
          f"< {TARGET_BYTES_PER_DEVICE} B/device "
          f"{'PASS' if result['bytes_per_device'] < TARGET_BYTES_PER_DEVICE else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
