"""Thin fleet wrappers: one per device type, advancing that type's numpy arrays; no formulas here."""
