"""The billing core's refusals in the console's words, by their codes.

The core (humangate/billing) refuses in English, for the command line and the API, and gives
the values its sentence names (an item, a plan's name, a limit) as the refusal's `params`. The
billing pages show this table's sentence for the refusal's code instead, filled with those
values and marked for the catalogue, so that it is in the page's language. The table holds
every code the core raises (tests/console/test_billing_refusals.py enumerates them).
"""

from __future__ import annotations

from humangate.console._i18n import N_, Phrase, message_of
from humangate.errors import Refusal

BILLING_REFUSALS: dict[str, str] = {
    # Plans and prices (humangate/billing/plans.py).
    "unknown-item": N_(
        "“%(item)s” is not a metered item: challenge, verify, email, sms:CC (a country such as "
        "sms:CN), sms:* or carrier:*."
    ),
    "unknown-country": N_("“%(country)s” is not a country code such as CN, GB or US."),
    "bad-price": N_("The price of %(item)s must be a whole number of minor units, 0 to %(max)s."),
    "bad-credit-limit": N_("The credit limit must be a whole number of minor units, 0 to %(max)s."),
    "too-many-prices": N_("A plan prices at most %(max)s items."),
    "bad-plan-name": N_(
        "A plan's name is 1 to 60 letters, digits, spaces, dots, dashes or underscores."
    ),
    "unknown-edition": N_("Choose the standard or the enterprise edition."),
    "unknown-plan": N_("There is no plan named “%(name)s”."),
    "plan-exists": N_("A plan named “%(name)s” exists already."),
    "unknown-account": N_("There is no account #%(account)s."),
    # Vouchers (humangate/billing/vouchers.py, ledger.py).
    "bad-voucher-amount": N_("A voucher's amount is 1 to %(max)s minor units."),
    "expiry-without-zone": N_("A voucher's expiry needs a time zone."),
    "bad-voucher-expiry": N_("A voucher expires in the future, within %(days)s days."),
    "bad-batch-size": N_("A batch holds 1 to %(max)s codes."),
    "bad-batch-label": N_(
        "More than one code needs a batch label of 1 to 60 letters, digits, dots, dashes or "
        "underscores."
    ),
    "batch-exists": N_("The batch label “%(batch)s” is taken."),
    "void-what": N_("Name one voucher or one batch to void."),
    "unknown-voucher": N_("There is no such voucher or batch."),
    "voucher-in-balance": N_(
        "This voucher was redeemed: its money is the owner's. Adjust their balance instead."
    ),
    "voucher-invalid": N_("No voucher has this code. Check it and try again."),
    "voucher-redeemed": N_("This voucher has been redeemed already."),
    "voucher-voided": N_("This voucher was withdrawn by the operator."),
    "voucher-expired": N_("This voucher has expired."),
    "too-many-attempts": N_("Too many codes tried. Try again in an hour."),
    # Money moved by the operator (humangate/billing/topups.py, ledger.py, payments.py).
    "bad-request-id": N_("This form has expired. Load the page again and send it from there."),
    "bad-amount": N_("An amount is a whole number of minor units, 1 to %(max)s."),
    "bad-adjustment-amount": N_(
        "An adjustment is a signed, non-zero whole number of at most %(max)s minor units."
    ),
    "memo-too-long": N_("A reason is at most %(max)s characters."),
    "reason-required": N_("An adjustment needs a reason."),
    "refund-above-cash": N_("A refund cannot exceed the cash balance that is not in use."),
    "below-credit-limit": N_("That debit would take the balance below what the plan allows."),
    "bad-currency": N_("A currency is a three-letter ISO 4217 code."),
    # Metering and editions (humangate/billing/meter.py, editions.py).
    "insufficient-balance": N_(
        "The balance cannot pay for this; the service resumes after a top-up."
    ),
    "edition-required": N_(
        "%(feature)s needs the enterprise edition; ask the operator to change your plan."
    ),
}
# The features an edition decides on (humangate.billing.editions.Feature), as sentences start.
FEATURE_LABELS = {
    "score-reasons": N_("Score reasons"),
    "calibration": N_("Calibration"),
    "verify-api": N_("The verification API"),
    "hide-mark": N_("Removing the HumanGate mark"),
}


def refusal_message(exc: Refusal) -> str:
    """What a billing page shows for a refusal: this table's sentence for its code, filled with
    the values it names; a refusal of another code (the console's own, already in its words)
    as it was raised."""
    msgid = BILLING_REFUSALS.get(exc.code)
    if msgid is None:
        return message_of(exc)
    values = {name: _shown(name, value) for name, value in exc.params.items()}
    try:
        return Phrase(msgid, **values)
    except (KeyError, TypeError, ValueError):  # a sentence naming a value the refusal lacks
        return message_of(exc)


def _shown(name: str, value: object) -> object:
    if name == "feature" and isinstance(value, str) and value in FEATURE_LABELS:
        return Phrase(FEATURE_LABELS[value])
    return value
