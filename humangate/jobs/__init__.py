"""Background jobs every node runs, each a `PeriodicJob`: housekeeping (accounts), retention (risk
events) and batching (the buffers of risk events and statistics).

Only the base is imported here: housekeeping needs the console's message delivery, and the
buffers are imported by the services the console itself builds on.
"""

from humangate.jobs.base import PeriodicJob

__all__ = ["PeriodicJob"]
