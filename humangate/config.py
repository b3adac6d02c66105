"""Settings read once from the environment (HUMANGATE_*), with embedded defaults."""

from __future__ import annotations

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from humangate.errors import ConfigError
from humangate.risk.access import AccessList
from humangate.risk.environment import RegionTable

Environment = Literal["local", "production"]
_PLACEHOLDERS = {"", "changeme", "change-me", "secret", "please-change"}


class Settings(BaseSettings):
    """Process settings. Core code receives explicit values from here, never this object."""

    model_config = SettingsConfigDict(env_prefix="HUMANGATE_", extra="ignore")

    environment: Environment = "local"
    data_dir: Path = Path("data")
    database_url: str = ""
    # Every wait on PostgreSQL is bounded too (docs/production.md, "PostgreSQL"): past these a
    # request answers 503 database-unavailable. The timeouts apply to PostgreSQL, the pool to
    # both; 0 turns a timeout off (a migration of a large table may need it, for its run).
    database_connect_timeout: float = Field(default=5.0, ge=0, le=300)
    database_statement_timeout: float = Field(default=5.0, ge=0, le=3600)
    database_pool_size: int = Field(default=10, ge=1, le=1000)
    database_max_overflow: int = Field(default=10, ge=0, le=1000)
    database_pool_timeout: float = Field(default=2.0, gt=0, le=300)
    # How long a request waits for a site key's or a secret's unit (any database).
    database_lookup_timeout: float = Field(default=2.0, ge=0, le=300)
    # Site keys (comma-separated) whose siteverify fails open while Redis cannot answer: a
    # genuine unexpired token passes with score 0, used or not. Empty: every unit fails closed
    # (503). The operator's choice alone (docs/production.md, "Siteverify fails closed").
    siteverify_fail_open: str = ""
    redis_url: str = ""
    # Every wait on Redis is bounded: a frozen server gives a 503 within these, never a hang.
    redis_connect_timeout: float = Field(default=1.0, gt=0, le=60)
    redis_socket_timeout: float = Field(default=0.5, gt=0, le=60)
    redis_max_connections: int = Field(default=64, ge=1, le=10_000)
    redis_pool_timeout: float = Field(default=0.5, gt=0, le=60)
    redis_health_check_interval: float = Field(default=15.0, ge=0, le=3600)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    public_url: str = ""
    secret_key: str = ""
    auto_migrate: bool = True
    demo: bool = True
    test_keys: bool = True
    challenge_ttl: int = Field(default=120, ge=10, le=3600)
    token_ttl: int = Field(default=300, ge=10, le=3600)
    secret_grace_hours: float = Field(default=24.0, ge=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    rate_challenges_per_minute: int = Field(default=120, ge=1)
    unit_cache_seconds: float = Field(default=5.0, ge=0)
    pool_size: int = Field(default=8, ge=0, le=1000)
    risk_retention_days: int = Field(default=30, ge=1, le=3650)
    # What a live account accumulates, purged by the hourly housekeeping job (0 keeps it for
    # ever): audit entries of every kind, known devices unused this long (the next login from
    # one asks for a step-up code again), and inbox notices the owner has read.
    audit_retention_days: int = Field(default=400, ge=0, le=3650)
    device_retention_days: int = Field(default=400, ge=0, le=3650)
    notice_retention_days: int = Field(default=365, ge=0, le=3650)
    lockout_failures: int = Field(default=12, ge=1, le=10_000)
    # An operator's CSV of network → country and UTC offsets (see humangate/risk/environment.py);
    # no GeoIP data ships, so the time-zone-versus-region rule is off without one.
    region_table: Path | None = None
    log_level: str = "info"
    # --- observability (docs/production.md, "Observability") ---
    # Log lines as JSON objects or text; empty: JSON in production, text in local.
    log_format: Literal["json", "text", ""] = ""
    access_log: bool = True  # one line per request: method, route template, status, duration
    metrics: bool = True  # GET /metrics in the Prometheus text format
    # Who may read /metrics (comma-separated CIDRs, the client address after proxy headers).
    metrics_networks: str = "127.0.0.1/32, ::1/128"
    # On SIGTERM: how long in-flight requests may finish (then they are cancelled), and then
    # how long the last writes of counters and events may take; the node exits after both.
    shutdown_timeout: int = Field(default=10, ge=1, le=600)
    # Set by `humangate serve` for its workers (a fresh folder per run); leave it unset.
    metrics_dir: Path | None = None
    forwarded_allow_ips: str = "127.0.0.1"
    # Networks of the operator's own automation (uptime checks, end-to-end tests), comma-
    # separated CIDRs: a browser there that declares automation is judged like anyone else
    # (its gesture, answers and work) instead of refused. Empty: none.
    monitoring_networks: str = ""
    # The console's own forms carry a HumanGate widget; turn it off only for tests.
    console_widget: bool = True
    # The hourly housekeeping job always warns owners of accounts unused for a year; it cancels
    # those still unused 30 days after the warning only when this is on (see docs/guide.md).
    cancel_inactive: bool = False
    # The operator's terms of service and privacy policy. With a version set, sign-up asks owners
    # to accept them, and an owner who accepted an older version is asked again at the next
    # console visit (their export and cancellation stay open meanwhile). Empty: nothing is asked.
    terms_version: str = Field(default="", max_length=40, pattern=r"^[A-Za-z0-9._-]*$")
    terms_url: str = Field(default="", max_length=500)
    privacy_url: str = Field(default="", max_length=500)

    # --- message channels ---
    # Mail goes to HUMANGATE_SMTP_URL (smtp://user:pass@host:587, STARTTLS required unless
    # ?starttls=0; smtps://user:pass@host:465), SMS to the provider at HUMANGATE_SMS_URL. Left
    # empty in `local`, each goes to the development outbox (<data_dir>/outbox/, read it with
    # `humangate outbox`); in `production`, sending then fails: codes never land on disk there.
    # URLs and credentials are SecretStr so that no repr or log of the settings shows them.
    # See humangate/messaging/ and docs/decisions/0003-message-channels.md.
    smtp_url: SecretStr = SecretStr("")
    mail_from: str = ""
    smtp_timeout: float = Field(default=10.0, gt=0, le=300)
    smtp_ca_file: Path | None = None
    sms_url: SecretStr = SecretStr("")
    sms_method: Literal["POST", "PUT", "PATCH", "GET"] = "POST"
    sms_auth: Literal["none", "basic", "bearer", "header"] = "none"
    sms_username: str = ""
    sms_password: SecretStr = SecretStr("")
    sms_token: SecretStr = SecretStr("")
    sms_auth_header: str = ""
    sms_body_format: Literal["json", "form"] = "json"
    sms_body_template: str = '{"to": "{to}", "text": "{text}", "from": "{from}"}'
    sms_from: str = ""
    sms_message_id_path: str = ""
    sms_timeout: float = Field(default=10.0, gt=0, le=300)

    @field_validator("sms_method", mode="before")
    @classmethod
    def _sms_method_upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("sms_auth", "sms_body_format", mode="before")
    @classmethod
    def _sms_choices_lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    # --- end of message channels ---

    # --- verification API (humangate/verify/, docs/verify.md) ---
    # Verifications (masked destinations, statuses) are purged this many days after they start.
    verify_retention_days: int = Field(default=30, ge=1, le=3650)
    # A new start for a destination with a live code resends it only after this many seconds.
    verify_resend_seconds: int = Field(default=30, ge=0, le=3600)
    verify_max_attempts: int = Field(default=5, ge=1, le=20)
    verify_max_sends: int = Field(default=5, ge=1, le=20)
    # The conversion monitor blocks a number prefix for `block_hours` once it has sent at least
    # `min_sent` codes in an hour and fewer than `floor` of them were approved.
    verify_conversion_min_sent: int = Field(default=10, ge=3, le=100_000)
    verify_conversion_floor: float = Field(default=0.2, ge=0, le=1)
    verify_block_hours: int = Field(default=24, ge=1, le=24 * 30)
    # Carrier number verification (humangate/verify/carrier/, docs/carrier-verification.md):
    # each path is on when its URLs and credentials are set.
    camara_authorize_url: str = ""
    camara_token_url: str = ""
    camara_api_url: str = ""
    camara_client_id: str = ""
    camara_client_secret: SecretStr = SecretStr("")
    cn_onetap_url: str = ""
    cn_onetap_app_id: str = ""
    cn_onetap_app_key: SecretStr = SecretStr("")
    carrier_timeout: float = Field(default=5.0, gt=0, le=60)
    # --- end of verification API ---

    # --- billing (humangate/billing/, docs/billing.md): off unless an operator charges owners ---
    billing: bool = False
    billing_currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    # Minor units a node reserves from a balance at a time: the most a node can hold back.
    billing_slice: int = Field(default=1000, ge=1, le=10**9)
    billing_settle_seconds: float = Field(default=2.0, gt=0, le=300)
    # Balances (minor units, comma list) at which the owner is told; zero is always told.
    billing_notice_thresholds: str = Field(default="1000", max_length=200)
    # Keep a cancelled owner's ledger this many days where the law asks it (0: erase at once).
    billing_keep_ledger_days: int = Field(default=0, ge=0, le=3650)
    # Editions (humangate/billing/editions.py): days the console's statistics are kept for a
    # standard and an enterprise owner (0: for ever), and how many times the per-network
    # challenge limit (HUMANGATE_RATE_CHALLENGES_PER_MINUTE) an enterprise owner's units get.
    billing_stats_days_standard: int = Field(default=31, ge=1, le=3650)
    billing_stats_days_enterprise: int = Field(default=400, ge=0, le=3650)
    billing_enterprise_rate_multiplier: int = Field(default=5, ge=1, le=1000)
    stripe_api_url: str = "https://api.stripe.com"
    stripe_secret_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    # --- end of billing ---

    def load_region_table(self) -> RegionTable | None:
        if self.region_table is None:
            return None
        try:
            return RegionTable.parse(self.region_table.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"HUMANGATE_REGION_TABLE {self.region_table}: {exc}") from exc

    def load_monitoring_networks(self) -> AccessList | None:
        entries = [entry.strip() for entry in self.monitoring_networks.split(",") if entry.strip()]
        if not entries:
            return None
        try:
            return AccessList.from_strings(allow=entries)
        except ValueError as exc:
            raise ConfigError(f"HUMANGATE_MONITORING_NETWORKS: {exc}") from exc

    @field_validator("database_url", "redis_url", "secret_key", "public_url")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @property
    def resolved_log_format(self) -> Literal["json", "text"]:
        if self.log_format:
            return self.log_format
        return "json" if self.environment == "production" else "text"

    @cached_property
    def fail_open_sitekeys(self) -> frozenset[str]:
        return frozenset(key.strip() for key in self.siteverify_fail_open.split(",") if key.strip())

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'humangate.db'}"

    def check_workers(self) -> None:
        """Several worker processes need a shared store; the in-memory one is per process."""
        if self.workers > 1 and not self.redis_url:
            raise ConfigError("HUMANGATE_WORKERS > 1 needs HUMANGATE_REDIS_URL (a shared store).")

    def resolve_secret_key(self) -> bytes:
        """Return the server key that signs PoW challenges; nodes of one cluster must share it.

        In `local` the key is generated once and kept in the data folder; in `production` it must
        be set explicitly and must not be a placeholder.
        """
        if self.secret_key:
            if self.secret_key.lower() in _PLACEHOLDERS or len(self.secret_key) < 32:
                raise ConfigError(
                    "HUMANGATE_SECRET_KEY must be at least 32 characters and not a placeholder."
                )
            return self.secret_key.encode()
        if self.environment == "production":
            raise ConfigError(
                "HUMANGATE_SECRET_KEY must be set when HUMANGATE_ENVIRONMENT=production."
            )
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()


def load_settings() -> Settings:
    """Read the settings from the environment, naming the offending key on error."""
    try:
        return Settings()
    except ValueError as exc:
        raise ConfigError(f"Invalid HumanGate setting: {exc}") from exc
