"""Moved to humangate.jobs.retention; the job stays importable from here."""

from humangate.jobs.retention import RetentionJob

__all__ = ["RetentionJob"]
