"""Write sample text and click challenges to docs/gallery/{text,click}/ to judge them by eye.

text: `level-L.webp` tiles seeds 1-6 at level L (0..4), each sample as served, with its answer
printed under it; `sheet.webp` is the default level. click: `SCRIPT-seed-N.webp` shows the
prompt above the scene as served, then the same scene with the answer's click circles numbered
in order; `sheet.webp` tiles the first panels of the symbol samples (the default script). WebP
at quality 92. Run:
`.venv/bin/python -m bench.gallery_kinds [--n 6]`.
"""

from __future__ import annotations

import argparse
import base64
import io
import random
from pathlib import Path

from PIL import Image, ImageDraw

from bench.gallery import stack
from humangate.challenges.click import ClickParams, generate_click
from humangate.challenges.text import TextParams, generate_text

DOCS = Path(__file__).resolve().parent.parent / "docs" / "gallery"
QUALITY = 92


def decode(data_url: str) -> Image.Image:
    raw = base64.b64decode(data_url.split(",", 1)[1])
    return Image.open(io.BytesIO(raw)).convert("RGB")


def text_sample(seed: int, level: int) -> Image.Image:
    challenge = generate_text(random.Random(seed), TextParams(level=level))
    picture = decode(challenge.payload["image"])
    panel = Image.new("RGB", (picture.width, picture.height + 14), (255, 255, 255))
    panel.paste(picture)
    ImageDraw.Draw(panel).text((2, picture.height + 1), challenge.answer["text"], fill=(0, 0, 0))
    return panel


def click_panels(seed: int, script: str) -> tuple[Image.Image, Image.Image]:
    """(as served: prompt above scene, solved: the same with numbered click circles)."""
    challenge = generate_click(random.Random(seed), ClickParams(script=script))  # type: ignore[arg-type]
    scene, prompt = decode(challenge.payload["image"]), decode(challenge.payload["prompt_image"])
    shown = Image.new("RGB", (scene.width, prompt.height + 4 + scene.height), (255, 255, 255))
    shown.paste(prompt)
    shown.paste(scene, (0, prompt.height + 4))
    solved = shown.copy()
    draw = ImageDraw.Draw(solved)
    r = challenge.answer["radius"]
    for k, (x, y) in enumerate(challenge.answer["points"], 1):
        y += prompt.height + 4
        draw.ellipse((x - r, y - r, x + r, y + r), outline=(255, 0, 0), width=2)
        draw.text((x + r - 4, y - r - 4), str(k), fill=(255, 0, 0))
    return shown, solved


def write_text(n: int, seed: int) -> None:
    out = DOCS / "text"
    out.mkdir(parents=True, exist_ok=True)
    for level in range(5):
        samples = [text_sample(s, level) for s in range(seed, seed + n)]
        sheet = stack(samples, columns=2)
        sheet.save(out / f"level-{level}.webp", quality=QUALITY)
        if level == TextParams().level:
            sheet.save(out / "sheet.webp", quality=QUALITY)


def write_click(n: int, seed: int) -> None:
    out = DOCS / "click"
    out.mkdir(parents=True, exist_ok=True)
    firsts = []
    for script in ("symbols", "cjk", "latin", "mixed"):
        for s in range(seed, seed + (n if script == "symbols" else 2)):
            shown, solved = click_panels(s, script)
            stack([shown, solved]).save(out / f"{script}-seed-{s}.webp", quality=QUALITY)
            if script == "symbols":
                firsts.append(shown)
    stack(firsts, columns=2).save(out / "sheet.webp", quality=QUALITY)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=6, help="samples per sheet")
    parser.add_argument("--seed", type=int, default=1, help="first seed")
    args = parser.parse_args(argv)
    write_text(args.n, args.seed)
    write_click(args.n, args.seed)
    print(f"wrote text and click samples to {DOCS}")


if __name__ == "__main__":
    main()
