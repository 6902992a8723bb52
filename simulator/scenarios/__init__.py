"""Built-in scenarios (package data): single-home, neighbourhood, fleet-10k."""
