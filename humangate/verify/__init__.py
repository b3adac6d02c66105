"""Phone-number and e-mail verification for apps: one-time codes, carrier number verification,
and the guard against SMS pumping.

Kept free of imports so that `humangate.client` can use `humangate.verify.signing` (standard
library only) without loading the database or the web framework.
"""
