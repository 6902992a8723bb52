"""Tests of the contract harness checks against the reference world and planted-bug servers."""
