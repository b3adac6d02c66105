"""Moved to humangate.jobs.housekeeping; these names stay importable from here."""

from humangate.jobs.housekeeping import (
    HousekeepingJob,
    housekeep,
    log_report,
    retention_from_settings,
)

__all__ = ["HousekeepingJob", "housekeep", "log_report", "retention_from_settings"]
