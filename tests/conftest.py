"""Shared test configuration: Hypothesis profiles.

* ``dev`` (default) and ``ci`` (when ``CI`` is set) are derandomised: the README's test command
  gives every user the same examples, so a run is reproducible and no one meets a flake;
* ``explore`` draws fresh random examples, more of them, and keeps a database of failures: use it
  when hunting bugs (``pytest --hypothesis-profile explore``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# pytester drives the pytest plugin's tests (tests/fixtures/plugin); only a root conftest may load it
pytest_plugins = ["pytester"]

settings.register_profile("dev", max_examples=60, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", max_examples=40, deadline=None, database=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")
