"""How big a slice a node reserves: the configured size, or more for an account charged fast.

A slice of HUMANGATE_BILLING_SLICE lasts an account charged a few times a second for minutes,
but a busy one for a fraction of a second: then the node reserves again and again, and a
reservation that waits for the database (a settlement holding the account row or SQLite's write
lock, a loop busy with requests) outlasts the slice, and the account's charges wait for it. So
the meter counts each account's charges on this node per window of `WINDOW_SECONDS`; after a
window of at least `BUSY_CHARGES` charges, a slice is what the account spent in `LEAD_SECONDS`
at that pace (at most `MAX_FACTOR` configured slices). The next slice is reserved while the
allowance still holds one, so the database has a whole slice's time to answer.

An account charged fewer than `BUSY_CHARGES` times in a window keeps the configured size: the
money held back from its balance stays what the operator set.
"""

from __future__ import annotations

from dataclasses import dataclass

WINDOW_SECONDS = 1.0
BUSY_CHARGES = 100  # charges in a window before the pace sets the slice
LEAD_SECONDS = 2.0  # a busy account's slice lasts this long at its pace
MAX_FACTOR = 64  # a slice is at most this many configured slices
MAX_ACCOUNTS = 10_000


@dataclass(slots=True)
class _Window:
    start: float
    charges: int = 0
    amount: int = 0
    per_second: float = 0.0  # of the last window that was busy; 0 after a quiet one


class SlicePace:
    """Each account's pace of charges on this node, and the slice that pace calls for.

    Args:
        slice_size: the configured slice (minor units), the least a slice ever is.
    """

    def __init__(self, slice_size: int) -> None:
        self._slice = slice_size
        self._windows: dict[int, _Window] = {}

    def count(self, account_id: int, price: int, *, now: float) -> None:
        """Note one charge of `price` at `now`."""
        window = self._windows.get(account_id)
        if window is None:
            if len(self._windows) >= MAX_ACCOUNTS:
                self._windows.clear()
            window = self._windows[account_id] = _Window(now)
        elapsed = now - window.start
        if elapsed >= WINDOW_SECONDS:
            busy = window.charges >= BUSY_CHARGES
            window.per_second = window.amount / elapsed if busy else 0.0
            window.start, window.charges, window.amount = now, 0, 0
        window.charges += 1
        window.amount += price

    def slice_for(self, account_id: int, price: int) -> int:
        """The slice to reserve for the account: at least the configured size and `price`."""
        least = max(self._slice, price)
        window = self._windows.get(account_id)
        if window is None or not window.per_second:
            return least
        paced = min(int(window.per_second * LEAD_SECONDS), self._slice * MAX_FACTOR)
        return max(least, paced)
