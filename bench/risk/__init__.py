"""Seeded generators of slider-drag traces for the risk engine: a model of people and bot families.

`bench.risk.families` holds the registry (`FAMILIES`, `BOT_FAMILIES`, `generate`); the trace
format is the one of humangate/risk/base.py. See docs/risk-model.md, "Trajectory data".
"""
