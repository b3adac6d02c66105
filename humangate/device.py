"""A virtual device identity per unit: recognised on one site, unlinkable across sites.

The id is an HMAC, under the server's key, of the unit's own random salt and the browser's stable
facts (user agent, language, time zone, screen class, pixel ratio, touch points, cores, canvas and
WebGL summaries) plus, when the site's page can keep one, a random first-party value the widget
stores in the site's own storage. Two units never share a salt, so the same browser has unrelated
ids on two sites; nothing needs a cookie, and the raw facts are not kept.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping

STABLE_FACTS = ("lang", "tz", "scr", "dpr", "touch", "hc", "canvas", "webgl", "plugins")


def device_id(
    key: bytes, salt: str, environment: Mapping[str, object], user_agent: str, first_party: str = ""
) -> str:
    """32 hex characters identifying this browser on the unit whose salt is `salt`."""
    facts = {name: environment.get(name) for name in STABLE_FACTS}
    facts["ua"] = user_agent
    facts["fp"] = first_party
    message = salt.encode() + b"\0" + json.dumps(facts, sort_keys=True, default=str).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]
