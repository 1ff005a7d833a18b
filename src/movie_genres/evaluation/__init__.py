"""Judging models: metrics, decision rules, per-model evaluation, genre analysis and its plots."""
