"""HumanGate: self-hosted, privacy-first human verification."""

from humangate.errors import ConfigError, HumanGateError, StorageError

__all__ = ["ConfigError", "HumanGateError", "StorageError", "__version__"]
__version__ = "0.1.0"
