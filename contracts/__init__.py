"""gridtwin.contracts: the unified contract and the harness that judges any implementation."""
