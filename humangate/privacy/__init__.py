"""Retention, erasure and export of what HumanGate keeps about people."""
