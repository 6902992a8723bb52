"""The contract harness: judges any implementation of contracts/openapi/unified.yaml over HTTP.

``run(Target(base_url, api_key, sim_url), checks=...)`` returns a :class:`Report`. It speaks only
HTTP: to the API under test and to gridtwin's control plane (``/_sim/v1``) for ground truth and time.
"""

from .engine import DEFAULT_MAX_EXAMPLES, Context, HarnessError, run
from .http import Target
from .report import CHECKS, CheckResult, Failure, Report

__all__ = ["CHECKS", "DEFAULT_MAX_EXAMPLES", "CheckResult", "Context", "Failure", "HarnessError", "Report",
           "Target", "run"]
