"""The benchmark script runs and reports every figure it promises (no timing assertions)."""

from __future__ import annotations

import json

import pytest

from gridtwin.simulator import bench


def test_bench_json_reports_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--homes", "20", "--days", "0.05", "--baseline-homes", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("homes", "days", "kernel_device_steps_per_s", "baseline_device_steps_per_s", "speedup",
                "peak_rss_mb", "bytes_per_device"):
        assert key in out, key
    assert out["homes"] == 20
    assert out["devices"] == 80  # fleet-10k gives every home all four device types
    assert out["kernel_device_steps_per_s"] > 0 and out["baseline_device_steps_per_s"] > 0
    assert out["speedup"] == pytest.approx(out["kernel_device_steps_per_s"] / out["baseline_device_steps_per_s"],
                                           rel=0.01)


def test_bench_text_compares_with_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--homes", "10", "--days", "0.02", "--baseline-homes", "2"]) == 0
    text = capsys.readouterr().out
    assert "speedup" in text and "targets:" in text
