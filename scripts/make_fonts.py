"""Make the vendored font subsets in humangate/challenges/fonts/ (a one-off, not run at run time).

Sources are Debian 12 packages: `fonts-dejavu-core` and `fonts-dejavu-extra` (DejaVu, Bitstream
Vera licence with public-domain DejaVu changes) for the Latin faces, and `fonts-noto-cjk` (Noto
Sans/Serif CJK, SIL OFL 1.1) for the CJK faces. Each font is cut down with fontTools to the
characters the challenges draw (see humangate/challenges/_glyphs.py), hinting dropped (glyphs are
drawn large and anti-aliased), and its licence text is copied next to it.

Run once, after `apt-get install fonts-dejavu-core fonts-dejavu-extra fonts-noto-cjk` and
`.venv/bin/pip install fonttools`: `.venv/bin/python scripts/make_fonts.py`. fontTools is not a
run-time dependency.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from humangate.challenges._glyphs import (  # noqa: E402
    CJK_COMMON,
    CJK_FONTS,
    FONT_DIR,
    LATIN_FONTS,
    LATIN_SAFE,
    LATIN_SUBSET,
    PROMPT_FONT,
)

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
NOTO = Path("/usr/share/fonts/opentype/noto")
NOTO_SOURCES = {  # output name -> (collection, face name inside it)
    CJK_FONTS[0]: ("NotoSansCJK-Bold.ttc", "Noto Sans CJK SC Bold"),
    CJK_FONTS[1]: ("NotoSerifCJK-Bold.ttc", "Noto Serif CJK SC Bold"),
    PROMPT_FONT: ("NotoSansCJK-Regular.ttc", "Noto Sans CJK SC"),
}
LICENCES = {  # licence file -> (a source font, Debian copyright file, licence paragraph)
    "LICENSE-DejaVu.txt": (
        DEJAVU / LATIN_FONTS[0],
        "/usr/share/doc/fonts-dejavu-core/copyright",
        "bitstream-vera",
    ),
    "LICENSE-NotoCJK-OFL.txt": (
        NOTO / "NotoSansCJK-Bold.ttc",
        "/usr/share/doc/fonts-noto-cjk/copyright",
        "SIL-1.1",
    ),
}


def _options() -> subset.Options:
    options = subset.Options()
    options.hinting = False
    options.layout_features = []  # single glyphs, never shaped runs
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]  # keep copyright and licence records
    options.notdef_outline = True
    options.drop_tables += ["vhea", "vmtx", "VORG", "DSIG", "FFTM", "BASE", "GPOS", "GSUB", "GDEF"]
    return options


def _cut(font: TTFont, text: str, out: Path) -> None:
    subsetter = subset.Subsetter(_options())
    subsetter.populate(text=text)
    subsetter.subset(font)
    font.recalcTimestamp = False  # the same sources give the same bytes
    font.save(out)


def _noto_face(collection: str, name: str) -> TTFont:
    for face in TTCollection(NOTO / collection).fonts:
        if face["name"].getDebugName(4) in (name, f"{name} Regular"):
            return face
    raise SystemExit(f"{name} not found in {collection}")


def _licence_text(source: Path, copyright_file: str, short: str) -> str:
    """The font's own copyright notice, then the licence paragraph `License: short` of a Debian
    machine-readable copyright file."""
    face = TTCollection(source).fonts[0] if source.suffix == ".ttc" else TTFont(source)
    notice = face["name"].getDebugName(0)
    text = Path(copyright_file).read_text()
    match = re.search(rf"^License: {re.escape(short)}\n((?: .*\n?)+)", text, re.MULTILINE)
    if not match:
        raise SystemExit(f"no licence {short} in {copyright_file}")
    lines = [line[1:] for line in match.group(1).splitlines()]
    body = "\n".join("" if line == "." else line for line in lines).strip()
    return f"{notice}\n\n{body}\n"


def main() -> None:
    FONT_DIR.mkdir(parents=True, exist_ok=True)
    assert set(LATIN_SAFE) <= set(LATIN_SUBSET)
    for name in LATIN_FONTS:
        _cut(TTFont(DEJAVU / name), LATIN_SUBSET, FONT_DIR / name)
    cjk_text = CJK_COMMON + LATIN_SUBSET
    for name, (collection, face) in NOTO_SOURCES.items():
        _cut(_noto_face(collection, face), cjk_text, FONT_DIR / name)
    for name, (source, copyright_file, short) in LICENCES.items():
        (FONT_DIR / name).write_text(_licence_text(source, copyright_file, short))
    total = 0
    for path in sorted(FONT_DIR.iterdir()):
        total += path.stat().st_size
        print(f"{path.stat().st_size:9,d}  {path.name}")
    print(f"{total:9,d}  total")


if __name__ == "__main__":
    main()
