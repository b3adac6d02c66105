"""Private glyph helpers for the `text` and `click` challenges: vendored fonts, character sets,
cached glyph masks and small NumPy compositing tools.

Fonts ship inside the package (see fonts/README.md; scripts/make_fonts.py makes the subsets), so
rendering never depends on the host's fonts. Glyph masks are cached by (character, font, size):
the cache only saves FreeType work and holds nothing drawn from a challenge's randomness.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path(__file__).resolve().parent / "fonts"

# No pair a person could mix up, even turned or warped: 0/O/Q, 1/I/L, 2/Z, 4/A, 5/S, 6/G/b, 8/B,
# 9/g/q, U/V and their lower cases are out (answers are case-insensitive).
LATIN_SAFE = "ACDEFHJKMNPRTWXY37"
LATIN_SUBSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

# ~400 frequent, neutral simplified characters of four or more strokes; one of every pair that
# differs only by a small part (e.g. 钢/铜, 县/具, 和/知, 去/云) was dropped.
CJK_COMMON = (
    "水火石云雨雪风花草树林森叶竹米麦豆瓜果茶海河湖江泉波浪沙岛岸星月阳光空气冰霜电虹"
    "春夏秋冬季晨晚夜早时岁牛羊鱼鸟虎龙兔猫狗鸡鸭鹅熊鹿象蛇虫蜂蝶燕鹰猴狼蛙虾蟹贝头手"
    "足眼耳鼻嘴牙舌心脸身发眉指肩腿脚家窗房屋床桌灯碗杯盘瓶箱衣裤鞋帽伞画书纸笔墨琴棋"
    "球车船桥路街城村楼塔店站饭面肉蛋汤糖盐油奶菜饼粥红黄蓝绿紫灰金银青橙粉走跑跳游看"
    "听说读写唱吃睡笑拿放打开关买送给拉推坐想爱学教问答知认记忘等追赶借还换选洗穿戴骑"
    "扫种多少高低长短新旧快慢好美甜香明亮暗热冷暖凉轻重远近宽窄深浅软硬静安乐我你她们"
    "的是在有这到从对为以能要可都就很最更再每些点起过得把让叫外前后西南北中边方名音色"
    "形声数年周期国省市校班级课题文语英物理地表格线条片张本支双件份友事作品业医药济科"
    "技网机器福寿喜财宝珠梦诗歌舞戏剧钢铁丝棉针鼓铃烛帆笛意思情感觉具质温度速状颜位距"
    "原漠洋泊流峡谷平丘陵信息消报告视影节演观道公院行超酒宾馆码港傍昨词句段落朝彩"
)

# Pictograms for click scenes that OCR cannot read: solid shapes that stay distinct when turned,
# hatched and outlined (no mirror pairs, no thin line art, no arrows, no two alike when turned),
# and none that public OCR (ddddocr) reads as one same character in more than 3 of 10 drawings
# (sun, gear, radiation, moon, king, scissors, command key and yin-yang were, so they are out).
SYMBOLS = "☁☂★☎☘☠♛♝♜♞♠♣♥♦♫⚑⚓⚜✈✌✚✿❄"
SYMBOL_FONTS = ("DejaVuSans-Bold.symbols.ttf",)

# Latin subsets (A-Z, a-z, 0-9) of DejaVu; varied widths and serifs.
LATIN_FONTS = (
    "DejaVuSans-Bold.ttf",
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerifCondensed-Bold.ttf",
    "DejaVuSansMono-Bold.ttf",
)
# CJK subsets (CJK_COMMON + A-Z + 0-9) of Noto CJK SC: bold faces for scenes, regular for prompts.
CJK_FONTS = ("NotoSansCJKsc-Bold.subset.otf", "NotoSerifCJKsc-Bold.subset.otf")
PROMPT_FONT = "NotoSansCJKsc-Regular.subset.otf"


@lru_cache(maxsize=256)
def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), size)


@lru_cache(maxsize=8192)
def glyph(char: str, name: str, size: int) -> np.ndarray:
    """The anti-aliased coverage of `char` (uint8, read-only), cropped to its ink plus 1 px."""
    face = font(name, size)
    left, top, right, bottom = face.getbbox(char)
    # FreeType boxes are whole pixels; Pillow types them as floats.
    image = Image.new("L", (int(right - left) + 2, int(bottom - top) + 2))
    ImageDraw.Draw(image).text((1 - left, 1 - top), char, font=face, fill=255)
    mask = np.asarray(image)
    mask.setflags(write=False)
    return mask


def has_glyph(char: str, name: str) -> bool:
    """Whether the font draws `char` with ink of its own (not blank, not the .notdef box)."""
    mask, missing = glyph(char, name, 32), glyph("\ue000", name, 32)  # a private-use point
    return bool(mask.any()) and (mask.shape != missing.shape or bool((mask != missing).any()))


def hatch(mask: np.ndarray, depth: float, angle: float, period: float,
          phase: float) -> np.ndarray:  # fmt: skip
    """`mask` with parallel stripes taken out of its ink: `depth` 0 leaves it solid, 1 clears
    the stripes' centres; stripes run at `angle` radians, `period` px apart."""
    h, w = mask.shape
    along = np.arange(w, dtype=np.float32) * np.float32(math.cos(angle))
    down = np.arange(h, dtype=np.float32) * np.float32(math.sin(angle))
    freq = np.float32(2 * math.pi / period)
    wave = np.sin((along[None, :] + down[:, None]) * freq + np.float32(phase))
    keep = np.float32(1 - depth / 2) + np.float32(depth / 2) * wave
    hatched: np.ndarray = (mask * keep).astype(np.uint8)
    return hatched


def transform(mask: np.ndarray, angle: float, scale_x: float = 1.0, scale_y: float = 1.0,
              shear: float = 0.0) -> np.ndarray:  # fmt: skip
    """`mask` turned by `angle` degrees (clockwise on screen), scaled and sheared about its centre,
    on a canvas just large enough to hold it (bilinear, uint8). An (h, w, 2) mask turns both
    layers in one pass."""
    h, w = mask.shape[:2]
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)
    # forward matrix: rotate @ shear @ scale
    a, b = cos * scale_x, (cos * shear - sin) * scale_y
    c, d = sin * scale_x, (sin * shear + cos) * scale_y
    corners = [(x - w / 2, y - h / 2) for x in (0, w) for y in (0, h)]
    xs = [a * x + b * y for x, y in corners]
    ys = [c * x + d * y for x, y in corners]
    out_w, out_h = math.ceil(max(xs) - min(xs)) + 2, math.ceil(max(ys) - min(ys)) + 2
    det = a * d - b * c
    ia, ib, ic, id_ = d / det, -b / det, -c / det, a / det  # inverse: output -> input
    ox, oy = out_w / 2, out_h / 2
    coeffs = (ia, ib, w / 2 - ia * ox - ib * oy, ic, id_, h / 2 - ic * ox - id_ * oy)
    image = Image.fromarray(mask, "LA" if mask.ndim == 3 else "L").transform(
        (out_w, out_h), Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR
    )
    return np.asarray(image)


def paste_labelled(cover: np.ndarray, labels: np.ndarray, mask: np.ndarray, x: int, y: int,
                   label: int) -> None:  # fmt: skip
    """Union `mask` into `cover` with its top-left at (x, y), clipped, and write `label` into
    `labels` wherever the mask is now the strongest layer (so each pixel knows its glyph)."""
    h, w = mask.shape
    y0, x0 = max(0, y), max(0, x)
    y1, x1 = min(cover.shape[0], y + h), min(cover.shape[1], x + w)
    if y1 > y0 and x1 > x0:
        region, part = cover[y0:y1, x0:x1], mask[y0 - y : y1 - y, x0 - x : x1 - x]
        above = part > region
        labels[y0:y1, x0:x1][above] = label
        region[above] = part[above]


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Grey dilation by a (2r+1) square, as r rounds of 8-neighbour maxima (uint8 in, uint8 out)
    on a canvas grown by `radius` on every side."""
    h, w = mask.shape
    out = np.zeros((h + 2 * radius, w + 2 * radius), dtype=mask.dtype)
    out[radius : radius + h, radius : radius + w] = mask
    for _ in range(radius):
        step = out.copy()
        np.maximum(step[1:], out[:-1], out=step[1:])
        np.maximum(step[:-1], out[1:], out=step[:-1])
        wide = step.copy()
        np.maximum(wide[:, 1:], step[:, :-1], out=wide[:, 1:])
        np.maximum(wide[:, :-1], step[:, 1:], out=wide[:, :-1])
        out = wide
    return out


def badge(draw: ImageDraw.ImageDraw, label: str, corner: tuple[int, int], radius: int,
          paper: tuple[int, int, int]) -> None:  # fmt: skip
    """`label` in dark ink on a round badge of `paper` colour with its top-left at `corner`."""
    x, y = corner
    draw.ellipse((x, y, x + 2 * radius, y + 2 * radius), fill=paper, outline=(20, 20, 20))
    face = font(LATIN_FONTS[0], 13)
    draw.text((x + radius, y + radius + 0.5), label, font=face, fill=(15, 15, 15), anchor="mm")
