"""Challenge kinds: pure generators and checkers, one module per kind."""

from humangate.challenges.base import Challenge, CheckResult, Kind

__all__ = ["Challenge", "CheckResult", "Kind"]
