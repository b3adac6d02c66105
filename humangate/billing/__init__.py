"""Billing: plans and editions, a prepaid balance in a double-entry ledger, vouchers, metering
without a database write per request, payments and statements. Off unless HUMANGATE_BILLING."""
