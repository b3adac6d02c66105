"""The attackers bench/adversary/whole.py plays over HTTP: per kind, the best public solvers of
the offline benches as they ship, and an adaptive one that knows the open generator."""

from __future__ import annotations

from collections.abc import Callable

from bench.adversary.arena import JSON, Solve


def for_kind(kind: str, lang: str, family: str, train: int) -> dict[str, Solve]:
    makers: dict[str, Callable[[str, str, int], dict[str, Solve]]] = {
        "slide": _slide,
        "click": _click,
        "rotate": _rotate,
        "text": _text,
        "audio": _audio,
    }
    return makers[kind](lang, family, train)


def _slide(lang: str, family: str, train: int) -> dict[str, Solve]:
    from bench.adversary import slide
    from bench.adversary.whole import slide_reply

    table = {"public: cv2 TM Canny tuned": slide_reply(slide.tm_canny_outline_tuned, family)}
    dddd = slide.ddddocr_solvers()
    if dddd:
        table["public: ddddocr slide_match"] = slide_reply(
            dddd["ddddocr slide_match (edges)"], family
        )
    table["adaptive: warped outline TM (reads slide.py)"] = slide_reply(
        slide.tm_outline_warped, family
    )
    table["adaptive: piece vs its twins (reads slide.py)"] = slide_reply(slide.twin_aware, family)
    return table


def _click(lang: str, family: str, train: int) -> dict[str, Solve]:
    from bench.adversary import click
    from bench.adversary.whole import click_reply

    dddd = click.Dddd()
    return {
        "public: ddddocr det + OCR prob., turns": click_reply(dddd.probability_match, family),
        "adaptive: ddddocr, prompt slots de-turned": click_reply(dddd.slot_match, family),
    }


def _rotate(lang: str, family: str, train: int) -> dict[str, Solve]:
    from bench.adversary import rotate
    from bench.adversary.whole import rotate_reply

    return {
        "public: cv2 HoughLines horizon + brighter": rotate_reply(rotate.hough_horizon, family),
        f"adaptive: trained upright model ({train} discs)": rotate_reply(
            rotate.train_uprightness(train, 2), family
        ),
    }


def _text(lang: str, family: str, train: int) -> dict[str, Solve]:
    from bench.adversary import text
    from bench.adversary.whole import typed_reply
    from humangate.challenges.text import TextParams

    params = TextParams()
    solvers = text.ddddocr_solvers(params.alphabet)
    reads = {
        "public: ddddocr beta": solvers["ddddocr beta"],
        "public: ddddocr beta after Otsu+median": solvers["ddddocr beta after Otsu+median"],
        f"adaptive: trained on {train} local challenges": text.train_reader(train, params),
    }
    return {
        label: typed_reply(lambda p, read=read: read(text.decode(p["image"])))
        for label, read in reads.items()
    }


def _audio(lang: str, family: str, train: int) -> dict[str, Solve]:
    from bench.adversary import audio
    from bench.adversary.whole import typed_reply

    def use(solver: audio.Solver) -> Solve:
        def read(payload: JSON) -> str | None:
            x, rate = audio.decode_wav(payload["audio"])
            return solver(audio.to_8k(x, rate), payload["length"], payload["language"])

        return typed_reply(read)

    table = audio.solvers()
    out: dict[str, Solve] = {}
    if lang == "en" and "pocketsphinx en-us, digit grammar" in table:
        out["public: pocketsphinx digit grammar"] = use(table["pocketsphinx en-us, digit grammar"])
    out["adaptive: shipped clips, sliding MFCC"] = use(table["shipped clips: sliding MFCC"])
    return out
