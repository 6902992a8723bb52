"""gridtwin.simulator: SimPy models of home energy devices; knows nothing about HTTP."""
