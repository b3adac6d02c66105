"""Write sample rotate challenges to docs/gallery/rotate/ so a person can judge them by eye.

Each `seed-N.webp` shows, left to right: the disc as a user first sees it, then the solved state
(turned clockwise by the answer). `sheet.webp` tiles the first panels of all samples, so a
reviewer can check that up is obvious at a glance. WebP at quality 92 on white.
Run: `.venv/bin/python -m bench.gallery_rotate [--n 8] [--level 2] [--out DIR]`.
"""

from __future__ import annotations

import argparse
import base64
import io
import random
from pathlib import Path

from PIL import Image

from bench.gallery import GUTTER, QUALITY, stack
from humangate.challenges.rotate import RotateParams, generate_rotate

OUT = Path(__file__).resolve().parent.parent / "docs" / "gallery" / "rotate"


def on_white(data_url: str) -> Image.Image:
    disc = Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGBA")
    canvas = Image.new("RGBA", disc.size, (255, 255, 255, 255))
    canvas.alpha_composite(disc)
    return canvas


def panels(seed: int, params: RotateParams) -> tuple[Image.Image, Image.Image]:
    """(as first shown, solved) for the challenge made from `seed`."""
    challenge = generate_rotate(random.Random(seed), params)
    shown = on_white(challenge.payload["image"])
    # PIL turns counter-clockwise for positive angles; the answer is a clockwise turn.
    solved = shown.rotate(-challenge.answer["angle"], fillcolor=(255, 255, 255, 255))
    return shown.convert("RGB"), solved.convert("RGB")


def side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    w, h = left.size
    pair = Image.new("RGB", (2 * w + GUTTER, h), (255, 255, 255))
    pair.paste(left, (0, 0))
    pair.paste(right, (w + GUTTER, 0))
    return pair


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8, help="number of samples")
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    parser.add_argument("--level", type=int, default=RotateParams().level, choices=range(5))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    params = RotateParams(level=args.level)
    firsts = []
    for seed in range(args.seed, args.seed + args.n):
        shown, solved = panels(seed, params)
        side_by_side(shown, solved).save(args.out / f"seed-{seed}.webp", quality=QUALITY)
        firsts.append(shown)
    stack(firsts, columns=4).save(args.out / "sheet.webp", quality=QUALITY)
    print(f"wrote {args.n} samples and sheet.webp to {args.out}")


if __name__ == "__main__":
    main()
