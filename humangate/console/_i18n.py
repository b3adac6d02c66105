"""The console's languages: which one a page speaks, and the catalogue that translates it.

English is the source language: templates and page modules are written in it, and a catalogue
(`locales/<tag>.json`, English text -> translation) holds every other language. A sentence the
catalogue lacks is shown in English. Templates translate their own text with Jinja2's i18n
extension (`{% trans %}`, `_("...")`); sentences made in Python (errors, notices, labels) stay
English there and are translated when the page is rendered, by the `translate` filter.

Python sentences are marked for the catalogue check (tests/console/test_i18n.py): a constant with
`N_("...")`, a sentence with variable parts with `Phrase("... %(name)s ...", name=value)`.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

DEFAULT_LANGUAGE = "en"
# Every language the console speaks; each but English has locales/<tag>.json.
LANGUAGES = ("en", "zh-CN")
LOCALES = Path(__file__).resolve().parent / "locales"
# Chinese tags written in Traditional characters; the console has no catalogue for them.
_TRADITIONAL = ("zh-tw", "zh-hk", "zh-mo", "zh-hant")
# What marks a Python sentence for the catalogue (see `python_messages`).
MARKERS = ("N_", "Phrase")


def N_(text: str) -> str:  # the gettext convention's name for "translate this later"
    """Mark a constant English sentence for the catalogue; it is translated when rendered."""
    return text


class Phrase(str):
    """An English sentence with variable parts that the catalogue can still translate.

    It is the formatted English text (so it reads, compares and logs like any str), and keeps
    the `msgid` with its `%(name)s` placeholders and the values that fill them.
    """

    msgid: str
    params: Mapping[str, object]

    def __new__(cls, msgid: str, /, **params: object) -> Phrase:
        phrase = super().__new__(cls, msgid % params)
        phrase.msgid = msgid
        phrase.params = params
        return phrase


# --- choosing the language -----------------------------------------------------------------------


def console_language(tag: str | None) -> str | None:
    """The console language for a BCP 47 tag (any case), or None if the console lacks it.

    Any Chinese tag means Simplified Chinese except the Traditional ones (zh-TW, zh-HK, zh-MO,
    zh-Hant), which get None; English of any region is English.
    """
    tag = (tag or "").strip().replace("_", "-").lower()
    if tag == "zh" or tag.startswith("zh-"):
        return None if tag.startswith(_TRADITIONAL) else "zh-CN"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def browser_language(accept_language: str | None) -> str | None:
    """The first console language in an Accept-Language header, by preference; None if none."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((accept_language or "")[:500].split(",")):
        tag, _, params = item.partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if weight > 0:
            ranked.append((-weight, position, tag))
    for _, _, tag in sorted(ranked):
        language = console_language(tag)
        if language is not None:
            return language
    return None


def pick_language(account_language: str | None, accept_language: str | None) -> str:
    """The page's language: the account's if the console has it, else the browser's, else en."""
    return (
        console_language(account_language) or browser_language(accept_language) or DEFAULT_LANGUAGE
    )


# --- the catalogue -------------------------------------------------------------------------------


@cache
def load_catalog(language: str) -> Mapping[str, str]:
    """The catalogue of `language` (English text -> translation), read once; English is empty.

    Raises:
        ValueError: the language is not one of LANGUAGES, or its file is not a JSON object of
            strings.
    """
    if language not in LANGUAGES:
        raise ValueError(f"The console has no language {language!r}.")
    if language == DEFAULT_LANGUAGE:
        return {}
    path = LOCALES / f"{language}.json"
    entries = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(entries, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in entries.items()
    ):
        raise ValueError(f"{path.name} must be one JSON object of English text to translation.")
    return {msgid: text for msgid, text in entries.items() if text}


def translate(text: str, language: str) -> str:
    """`text` in `language`: a Phrase by its msgid and values, any other str as it is written.

    Values of a Phrase that are Phrases themselves are translated too; other values (what a
    visitor typed, names, numbers) are used as they are.
    """
    catalog = load_catalog(language)
    if isinstance(text, Phrase):
        params = {
            name: translate(value, language) if isinstance(value, Phrase) else value
            for name, value in text.params.items()
        }
        return catalog.get(text.msgid, text.msgid) % params
    return catalog.get(text, text)


def message_of(exc: BaseException) -> str:
    """The sentence an exception was raised with: its Phrase if it had one (str() loses it)."""
    first = exc.args[0] if len(exc.args) == 1 else None
    return first if isinstance(first, Phrase) else str(exc)


def gettext_callables(language: str) -> dict[str, Callable[..., str]]:
    """The `gettext`, `ngettext` and `_` a template of `language` calls (newstyle gettext).

    As with Jinja2's own newstyle callables, the translation is trusted markup when autoescape
    is on, and the values that fill its placeholders are escaped. Only text written in the
    templates goes through them; Python sentences, which may carry what a visitor typed, go
    through the `translate` filter instead, which escapes them whole.
    """
    catalog = load_catalog(language)

    @pass_context
    def gettext(context: Context, message: str, /, **variables: Any) -> str:
        text = catalog.get(message, message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    @pass_context
    def ngettext(
        context: Context, singular: str, plural: str, num: int, /, **variables: Any
    ) -> str:
        variables.setdefault("num", num)
        text = catalog.get(singular) or (singular if num == 1 else plural)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables

    return {"gettext": gettext, "ngettext": ngettext, "_": gettext}


@pass_context
def translate_filter(context: Context, text: object) -> object:
    """`{{ sentence | translate }}`: a Python sentence in the page's language (escaped as usual).

    Anything but a str (None, a number) passes through unchanged.
    """
    if not isinstance(text, str) or isinstance(text, Markup):
        return text
    return translate(text, context.get("lang", DEFAULT_LANGUAGE))


# --- what the catalogue must hold ----------------------------------------------------------------


def python_messages(paths: Iterable[Path]) -> set[str]:
    """The msgids the Python files mark: the constant first argument of N_(...) and Phrase(...)."""
    found: set[str] = set()
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            first = node.args[0]
            if name in MARKERS and isinstance(first, ast.Constant):
                if isinstance(first.value, str):
                    found.add(first.value)
    return found
