"""Planted-bug servers: the reference world behind a mutating proxy with exactly one defect each.

Each module defines one :class:`~.base.Mutant` subclass (``BUG``) and the harness check that must
catch it (``CAUGHT_BY``).
"""
