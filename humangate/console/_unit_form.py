"""The unit form of the console: its labels, its raw fields, and their check by the one parser.

The rules are those of `humangate.units.parse_unit_input`, as on the command line; only the
sentences that name a field speak of the form's labels here, in the page's language. Leaving
the HumanGate mark out (`hide_mark`) is on the form only where the owner's edition has it; the
page decides that (`units.py`), the form only reads the box.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from humangate.console._i18n import N_, Phrase
from humangate.console.web import form_text
from humangate.risk.access import CRAWLERS, MAX_ENTRIES, MAX_LINE
from humangate.units import (
    DEFAULT_DIFFICULTY,
    DEFAULT_KINDS,
    DEFAULT_POW_DIFFICULTY,
    MAX_DIFFICULTY,
    MAX_POW_DIFFICULTY,
    MODES,
    VISUAL_KINDS,
    UnitChanges,
    UnitView,
    Wording,
    parse_unit_input,
)
from humangate.units.input import AccessListName, WholeField

# The modes by name, as the page shows them (the catalogue translates them).
MODE_LABELS = {
    "managed": N_("managed"),
    "interactive": N_("interactive"),
    "invisible": N_("invisible"),
    "score": N_("score"),
}
MODE_HELP = {
    "managed": N_("a proof of work, and a visual challenge only when the risk score asks for one"),
    "interactive": N_("always a visual challenge"),
    "invisible": N_("a proof of work only; nothing to click"),
    "score": N_("no challenge; siteverify returns a risk score for your server to judge"),
}
KIND_LABELS = {
    "slide": N_("Slide a piece into place"),
    "rotate": N_("Turn an image upright"),
    "click": N_("Click the named icons"),
    "text": N_("Type distorted characters"),
    # Not chosen on the form, but counted in the statistics.
    "pow": N_("Proof of work"),
    "audio": N_("Audio (the accessible alternative)"),
}
# Each declared crawler by the name its User-Agent gives, such as "Googlebot".
CRAWLER_LABELS = {name: crawler.ua_tokens[0] for name, crawler in CRAWLERS.items()}
# An access list's text box: its longest lists, with room for a comment on each line.
MAX_LIST_TEXT = MAX_ENTRIES * (MAX_LINE + 1) * 2
# What the form for a new unit starts with.
NEW_UNIT_VALUES: dict[str, Any] = {
    "name": "",
    "domains": "",
    "mode": "managed",
    "kinds": list(DEFAULT_KINDS),
    "difficulty": str(DEFAULT_DIFFICULTY),
    "threshold": "",
    "pow_difficulty": str(DEFAULT_POW_DIFFICULTY),
    "allow_networks": "",
    "deny_networks": "",
    "good_bots": [],
    "hide_mark": False,
}
# The constants the form template shows beside its fields.
FORM_CONTEXT: dict[str, Any] = {
    "modes": MODES,
    "mode_help": MODE_HELP,
    "mode_labels": MODE_LABELS,
    "kinds": VISUAL_KINDS,
    "kind_labels": KIND_LABELS,
    "max_difficulty": MAX_DIFFICULTY,
    "crawlers": CRAWLER_LABELS,
    "default_pow_difficulty": DEFAULT_POW_DIFFICULTY,
    "max_pow_difficulty": MAX_POW_DIFFICULTY,
    "max_entries": MAX_ENTRIES,
}


class FormWording(Wording):
    """The parser's field-naming refusals as the form's labels, for the catalogue to translate."""

    def bad_access_list(self, which: AccessListName, error: str) -> str:
        name = N_("allow list") if which == "allow" else N_("deny list")
        return Phrase("The %(name)s: %(error)s", name=Phrase(name), error=error)

    def unknown_crawler(self, name: str) -> str:
        message = N_("%(value)s is not a known crawler; choose from %(known)s.")
        return Phrase(message, value=repr(name[:40]), known=", ".join(CRAWLERS))

    def not_whole(self, field: WholeField) -> str:
        if field == "difficulty":
            return Phrase(
                "The difficulty must be a whole number from 0 to %(max)s.", max=MAX_DIFFICULTY
            )
        return Phrase(
            "The proof-of-work difficulty must be a whole number from 1 to %(max)s.",
            max=MAX_POW_DIFFICULTY,
        )

    def bad_threshold_text(self) -> str:
        return N_("The threshold must be a number between 0 and 1, or empty.")


FORM_WORDING = FormWording()


def form_values(form: FormData) -> dict[str, Any]:
    """The raw fields, to show the form again as the owner typed it.

    `hide_mark` is whether the mark's box is ticked, or None when the form did not send it.
    """
    return {
        "name": form_text(form, "name"),
        "domains": form_text(form, "domains", limit=5000),
        "mode": form_text(form, "mode", limit=20),
        "kinds": [k for k in form.getlist("kinds") if isinstance(k, str)][:10],
        "difficulty": form_text(form, "difficulty", limit=10),
        "threshold": form_text(form, "threshold", limit=20),
        "pow_difficulty": form_text(form, "pow_difficulty", limit=20),
        "allow_networks": form_text(form, "allow_networks", limit=MAX_LIST_TEXT),
        "deny_networks": form_text(form, "deny_networks", limit=MAX_LIST_TEXT),
        "good_bots": [b for b in form.getlist("good_bots") if isinstance(b, str)][:20],
        "hide_mark": form.get("hide_mark") == "on" if "hide_mark" in form else None,
    }


def read_unit_form(values: dict[str, Any], *, hide_mark: bool | None = None) -> UnitChanges:
    """Every setting of the form, checked as the CLI checks them; raises InvalidInput.

    An empty threshold clears it, an empty proof-of-work difficulty takes the default.
    `hide_mark` is the mark's box where the form offers it; None leaves the setting as it is.
    """
    return parse_unit_input(
        name=values["name"],
        domains=values["domains"],
        mode=values["mode"],
        kinds=values["kinds"],
        difficulty=values["difficulty"],
        pow_difficulty=values["pow_difficulty"],
        threshold=values["threshold"],
        allow_networks=values["allow_networks"],
        deny_networks=values["deny_networks"],
        good_bots=values["good_bots"],
        hide_mark=hide_mark,
        wording=FORM_WORDING,
    )


def unit_values(unit: UnitView) -> dict[str, Any]:
    """A stored unit's settings as the form's fields show them."""
    threshold = "" if unit.score_threshold is None else f"{unit.score_threshold:g}"
    return {
        "name": unit.name,
        "domains": "\n".join(unit.domains),
        "mode": unit.mode,
        "kinds": list(unit.kinds),
        "difficulty": str(unit.difficulty),
        "threshold": threshold,
        "pow_difficulty": str(unit.pow_difficulty),
        "allow_networks": "\n".join(unit.allow_networks),
        "deny_networks": "\n".join(unit.deny_networks),
        "good_bots": list(unit.good_bots),
        "hide_mark": unit.hide_mark,
    }


def embed_snippet(sitekey: str, base: str) -> str:
    """The widget, and for a browser without JavaScript a link to the challenge page whose
    code the visitor pastes into the same field (the link sends the page's origin, which the
    challenge page checks against the unit's domains)."""
    return (
        f'<div class="humangate" data-sitekey="{sitekey}"></div>\n'
        f'<script src="{base}/humangate.js" async defer></script>\n'
        "<noscript>\n"
        f'  <p><a href="{base}/challenge?sitekey={sitekey}" target="_blank" rel="noopener"\n'
        '     referrerpolicy="origin">Verify without JavaScript</a>,\n'
        "  then paste the code here:</p>\n"
        '  <textarea name="humangate-response" rows="3" required\n'
        '    aria-label="Verification code"></textarea>\n'
        "</noscript>"
    )


def siteverify_example(base: str) -> str:
    return (
        f"curl -s {base}/siteverify \\\n"
        '  -d "secret=$HUMANGATE_SECRET" \\\n'
        '  -d "response=$TOKEN_FROM_THE_FORM"\n'
        '# => {"success": true, "challenge_ts": "…", "hostname": "…", …}'
    )
