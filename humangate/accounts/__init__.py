"""Console accounts: identifiers, passwords, codes, sessions, cancellation, inactivity, audit.

The web layer builds one `AccountContext` at start-up and calls the functions below with a
database session, a `Client` and `now`. Outcomes are values (see `outcomes`); messages to send
come back as `Outgoing`; bad input raises `humangate.errors.InvalidInput` (a ValueError)
before anything is written.
"""

from __future__ import annotations

from humangate.accounts._context import AccountContext, Client
from humangate.accounts.admin import (
    cancel_account,
    cancel_account_as_operator,
    create_admin,
    find_account_by,
    restore_account,
    suspend_account,
)
from humangate.accounts.audit import Actor, AuditPage, AuditRecord, list_entries
from humangate.accounts.blocked import (
    BlockedAccess,
    blocked_account,
    cancel_blocked_account,
    end_blocked_access,
    export_blocked_account,
    open_blocked_access,
    request_blocked_code,
)
from humangate.accounts.cancellation import confirm_cancellation, request_cancellation
from humangate.accounts.contact import confirm_contact_change, request_contact_change
from humangate.accounts.export import export_account
from humangate.accounts.identifiers import Identifier, parse_identifier
from humangate.accounts.inactivity import (
    cancel_inactive_accounts,
    find_inactive_accounts,
    run_housekeeping,
    warn_inactive_accounts,
)
from humangate.accounts.inbox import list_inbox, mark_read
from humangate.accounts.login import log_in, log_in_with_code, request_login_code
from humangate.accounts.outcomes import (
    TEMPLATES,
    AccountBlocked,
    AccountView,
    Cancelled,
    CodeRejected,
    CodeSent,
    ContactChanged,
    HousekeepingReport,
    Locked,
    LoggedIn,
    LoginFailed,
    NotificationView,
    Outgoing,
    PasswordChanged,
    SessionInfo,
    SessionView,
    StatusChanged,
    StepUpRequired,
    Throttled,
)
from humangate.accounts.passwords import PRODUCTION_PARAMS, HashParams, PasswordHasher
from humangate.accounts.policy import AccountPolicy
from humangate.accounts.profile import change_password, update_profile
from humangate.accounts.resend import (
    resend_contact_code,
    resend_sign_up_code,
    resend_step_up_code,
)
from humangate.accounts.sessions import (
    authenticate,
    list_sessions,
    log_out,
    revoke_other_sessions,
    revoke_session,
)
from humangate.accounts.signup import confirm_sign_up, sign_up
from humangate.accounts.step_up import complete_step_up

__all__ = [
    "TEMPLATES",
    "PRODUCTION_PARAMS",
    "AccountBlocked",
    "AccountContext",
    "AccountPolicy",
    "AccountView",
    "Actor",
    "AuditPage",
    "AuditRecord",
    "Cancelled",
    "Client",
    "CodeRejected",
    "CodeSent",
    "ContactChanged",
    "HashParams",
    "HousekeepingReport",
    "Identifier",
    "Locked",
    "LoggedIn",
    "LoginFailed",
    "NotificationView",
    "Outgoing",
    "PasswordChanged",
    "PasswordHasher",
    "SessionInfo",
    "SessionView",
    "StatusChanged",
    "StepUpRequired",
    "Throttled",
    "authenticate",
    "cancel_account",
    "cancel_inactive_accounts",
    "change_password",
    "complete_step_up",
    "confirm_cancellation",
    "confirm_contact_change",
    "confirm_sign_up",
    "create_admin",
    "export_account",
    "find_inactive_accounts",
    "list_entries",
    "list_inbox",
    "list_sessions",
    "log_in",
    "log_in_with_code",
    "log_out",
    "mark_read",
    "parse_identifier",
    "request_cancellation",
    "request_contact_change",
    "request_login_code",
    "resend_contact_code",
    "resend_sign_up_code",
    "resend_step_up_code",
    "restore_account",
    "revoke_other_sessions",
    "revoke_session",
    "run_housekeeping",
    "sign_up",
    "suspend_account",
    "update_profile",
    "warn_inactive_accounts",
    "BlockedAccess",
    "blocked_account",
    "cancel_account_as_operator",
    "cancel_blocked_account",
    "end_blocked_access",
    "export_blocked_account",
    "find_account_by",
    "open_blocked_access",
    "request_blocked_code",
]
