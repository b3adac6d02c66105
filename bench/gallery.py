"""Write sample slide challenges to docs/gallery/slide/ so a person can judge them by eye.

Each `seed-N.webp` stacks, top to bottom: the challenge as a user first sees it (the piece parked
at x = 0 on its row), then the solved state (the piece dropped at the answer). `sheet.webp` tiles
the first panels of all samples. Files are WebP at quality 92 (close to the served pixels, small
enough for the repository). Run: `.venv/bin/python -m bench.gallery [--n 6] [--out DIR]`.
"""

from __future__ import annotations

import argparse
import base64
import io
import random
from pathlib import Path

from PIL import Image

from humangate.challenges.slide import SlideParams, generate_slide

OUT = Path(__file__).resolve().parent.parent / "docs" / "gallery" / "slide"
GUTTER = 6
QUALITY = 92


def decode(data_url: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1])))


def panels(seed: int, params: SlideParams) -> tuple[Image.Image, Image.Image]:
    """(as first shown, solved) for the challenge made from `seed`."""
    challenge = generate_slide(random.Random(seed), params)
    payload = challenge.payload
    background = decode(payload["background"]).convert("RGBA")
    piece = decode(payload["piece"]).convert("RGBA")
    shown, solved = background.copy(), background.copy()
    shown.alpha_composite(piece, (0, payload["piece_y"]))
    solved.alpha_composite(piece, (challenge.answer["x"], payload["piece_y"]))
    return shown.convert("RGB"), solved.convert("RGB")


def stack(images: list[Image.Image], columns: int = 1) -> Image.Image:
    w, h = images[0].size
    rows = -(-len(images) // columns)
    size = (columns * w + (columns - 1) * GUTTER, rows * h + (rows - 1) * GUTTER)
    sheet = Image.new("RGB", size, (255, 255, 255))
    for i, image in enumerate(images):
        sheet.paste(image, ((i % columns) * (w + GUTTER), (i // columns) * (h + GUTTER)))
    return sheet


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6, help="number of samples")
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    params = SlideParams()
    firsts = []
    for seed in range(args.seed, args.seed + args.n):
        shown, solved = panels(seed, params)
        stack([shown, solved]).save(args.out / f"seed-{seed}.webp", quality=QUALITY)
        firsts.append(shown)
    stack(firsts, columns=2).save(args.out / "sheet.webp", quality=QUALITY)
    print(f"wrote {args.n} samples and sheet.webp to {args.out}")


if __name__ == "__main__":
    main()
