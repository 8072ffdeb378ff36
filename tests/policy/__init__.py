"""Tests of the policy layer (bot/policy)."""
