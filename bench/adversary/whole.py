"""The whole attack over HTTP, per kind: a solver, a post-processed bot drag, the PoW, a token.

For each kind two attackers play against a running app (bench/adversary/arena.py: default
settings and limits, a fresh network per attempt, answers sent no earlier than the trace they
claim has ended): the best public solver as it ships, and an adaptive attacker that knows the
open generator (trained or tuned only on challenges generated locally). The pointer evidence is
a public mouse-path family from bench/risk (bezier by default) with the post-processing a bot
author adds (pauses, drift, overshoot, noise: bench/risk/tricks.py). "right" is how often the
solver's answer was right (the server's verdict), "token" how often the whole attack got a pass
token. Run:

    .venv/bin/python -m bench.adversary.whole --n 150 [--kinds slide,click,rotate,text,audio]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable

from bench._machine import print_facts
from bench.adversary import slide as slide_bench
from bench.adversary.arena import JSON, Reply, Solve, drag_trace, play, pointing_trace
from bench.adversary.slide import wilson

TRACK_PX = 252.0  # the rotate handle's travel in css px for 359 degrees (a 300 px widget)


def slide_reply(solver: Callable[[slide_bench.View], float | None], family: str) -> Solve:
    def solve(payload: JSON, rng: random.Random) -> Reply | None:
        view = slide_bench.view_of(payload)
        x = solver(view)
        if x is None:
            return None
        x = round(min(max(float(x), 0.0), payload["width"] - payload["piece_width"]), 2)
        trace = drag_trace(rng, x, family)
        y0 = payload["piece_y"] + payload["piece_height"] / 2
        trajectory = [[round(px, 2), round(y0 + py, 2), t] for px, py, t in trace]
        trajectory[-1][0] = x
        return Reply({"x": x}, trajectory, trace, "mouse")

    return solve


def rotate_reply(solver: Callable[[object], float | None], family: str) -> Solve:
    from bench.adversary import rotate as rotate_bench

    def solve(payload: JSON, rng: random.Random) -> Reply | None:
        turn = solver(rotate_bench.decode(payload["image"]))
        if turn is None:
            return None
        angle = round(float(turn)) % 360
        trace = drag_trace(rng, angle * TRACK_PX / 359, family)
        trajectory = [[round(px * 359 / TRACK_PX, 2), py, t] for px, py, t in trace]
        trajectory[-1][0] = angle
        return Reply({"angle": angle}, trajectory, trace, "mouse")

    return solve


def click_reply(solver: Callable[[object], list[list[float]] | None], family: str) -> Solve:
    from bench.adversary import click as click_bench

    def solve(payload: JSON, rng: random.Random) -> Reply | None:
        points = solver(click_bench.view_of(payload))
        if points is None:
            return None
        targets = [(float(x), float(y)) for x, y in points]
        path, _ = pointing_trace(rng, targets, family)
        trajectory = [[round(x, 2), round(y, 2), t] for x, y, t in path]
        x0, y0 = path[0][0], path[0][1]
        trace = [[round(x - x0, 2), round(y - y0, 2), t] for x, y, t in path]
        answer = {"points": [[round(x, 2), round(y, 2)] for x, y in targets]}
        return Reply(answer, trajectory, trace, "mouse")

    return solve


def typed_reply(read: Callable[[JSON], str | None]) -> Solve:
    def solve(payload: JSON, rng: random.Random) -> Reply | None:
        text = read(payload)
        return None if text is None else Reply({"text": text})

    return solve


def attackers(kind: str, lang: str, family: str, train: int) -> dict[str, Solve]:
    """The named attackers of `kind`: the best public solver(s), then the adaptive one."""
    from bench.adversary import attackers as table

    return table.for_kind(kind, lang, family, train)


def run(kinds: list[str], n: int, seed: int, langs: list[str], family: str, train: int) -> None:
    print_facts()
    print(f"whole attack over HTTP: n={n} per row, seed={seed}, drag family={family} + tricks")
    print(f"{'kind':6} {'lang':4} {'attacker':44} {'right':>6} {'token':>6} {'95% Wilson CI':>16}"
          "  other outcomes")  # fmt: skip
    for kind in kinds:
        for lang in langs if kind in ("click", "audio") else langs[:1]:
            for name, solve in attackers(kind, lang, family, train).items():
                tally = play(kind, solve, n, seed, lang)
                right = tally.right
                lo, hi = wilson(tally.tokens, n)
                other = ", ".join(f"{k} {v}" for k, v in sorted(tally.errors.items()))
                print(f"{kind:6} {lang:4} {name:44} {right / n:6.1%} {tally.tokens / n:6.1%} "
                      f"{f'[{lo:.1%}, {hi:.1%}]':>16}  {other}", flush=True)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=150, help="attempts per row")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--kinds", default="slide,click,rotate,text,audio")
    parser.add_argument("--langs", default="en,zh")
    parser.add_argument("--family", default="bezier", help="bench/risk family of the drag")
    parser.add_argument("--train", type=int, default=600, help="rotate discs, text challenges")
    args = parser.parse_args(argv)
    run(args.kinds.split(","), args.n, args.seed, args.langs.split(","), args.family, args.train)


if __name__ == "__main__":
    main()
