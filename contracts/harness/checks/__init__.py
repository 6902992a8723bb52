"""The four checks of the harness, one module each (``NAME``, ``run(ctx)``)."""
