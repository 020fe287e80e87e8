"""The one typeface of every picture and report: Noto Sans CJK, from a pip package.

The `noto-cjk-sans-otc` wheel ships the Noto Sans CJK Regular collection (SIL Open Font
License), whose faces hold Latin, Hangul and Han glyphs alike, so English, Korean and Chinese
text (and a Chinese nickname in an English report) render with no system font at all. Each
language uses the face drawn for its own conventions of Han characters.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from noto_cjk_sans_otc import FONT_FILE
from PIL import ImageFont

# Face numbers of the collection (fontTools lists them as JP, KR, SC, TC, HK, then mono).
KOREAN_FACE = 1
SIMPLIFIED_CHINESE_FACE = 2
FACES = {"ko": KOREAN_FACE, "zh_Hans": SIMPLIFIED_CHINESE_FACE}
DEFAULT_FACE = SIMPLIFIED_CHINESE_FACE


@functools.cache
def font_path() -> Path:
    """The collection file inside the installed package (a wheel installs it as a file)."""
    path = Path(str(resources.files("noto_cjk_sans_otc").joinpath(FONT_FILE)))
    if not path.is_file():
        raise FileNotFoundError(f"the font collection is missing from its package: {path}")
    return path


def face(language: str) -> int:
    return FACES.get(language, DEFAULT_FACE)


@functools.cache
def pillow_font(language: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path()), size, index=face(language))
