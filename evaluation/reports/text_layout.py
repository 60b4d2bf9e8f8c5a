"""Text laid out, measured and its glyphs kept, once per process, for the caching renderer
of raster.py (PNG) and for TextToPath (SVG outlines).

- A string's layout (face, glyph, x, y) composed from the face's character map and advances
  when every pair of neighbouring characters was found to compose exactly as raqm shapes
  them (see laid_out), and its extent taken from that layout (see layout_extent) instead of
  FreeType laying it out again.
- A text's glyph bitmaps pasted into one image (see text_image), for the renderer to keep.
- Text._get_layout kept by the caching renderer (see _text_layout), with the font heights it
  reads computed here (see font_height_metrics).
- An SVG's glyph outlines, layouts and extents kept (see _glyphs_with_font, _svg_extent);
  install() puts these in matplotlib's place.
"""

from __future__ import annotations

import math
import os
import re
from itertools import pairwise

import numpy as np
from matplotlib.font_manager import fontManager, get_font
from matplotlib.ft2font import LoadFlags
from matplotlib.text import Text
from matplotlib.textpath import TextToPath

CACHE_LIMIT = 50_000    # entries of each cache (a full export: ~10,000 glyphs; ~25 MB at most)
# at most CACHE_LIMIT characters, and pairs of them for each face, size and context
_CHARACTERS: dict[tuple, int] = {}   # (face, character): its glyph in the face's map
_PAIRS: dict[tuple, dict] = {}   # (face, size, dpi, flags, Chinese?): {pair: composes exactly}
# strings laid out without shaping when their pairs compose exactly (laid_out): digits,
# signs, spaces, CJK ideographs and full-width brackets, comma and colon
_COMPOSABLE = re.compile(r"[0-9.,:%/+\- \u00d7\u4e00-\u9fff\uff08\uff09\uff0c\uff1a]+")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_GLYPH_PATHS: dict[str, tuple] = {}  # an SVG glyph's name (face, glyph): its outline
_SVG_LAYOUTS: dict[tuple, tuple] = {}  # (face, string): its glyphs, unhinted (TextToPath)
_SVG_METRICS: dict[tuple, tuple] = {}  # (string, FontProperties' hash): its extent in an SVG
_SVG_GLYPH_METRICS: dict[tuple, tuple] = {}  # (face, glyph): unhinted advance, y extent


def _forget_fonts() -> None:
    """In a forked child: drop the FreeType faces these caches hold (keyed by face), as
    raster._forget_fonts does its own: a face reads its font file through a descriptor whose
    offset a forked child shares with its parent and siblings. Extents and outlines hold no
    face and stay."""
    _CHARACTERS.clear()
    _PAIRS.clear()
    _SVG_LAYOUTS.clear()
    _SVG_GLYPH_METRICS.clear()


os.register_at_fork(after_in_child=_forget_fonts)


def layout_extent(items, metrics) -> tuple[float, float, float]:
    """What FT2Font.set_text + get_width_height + get_descent give for a laid-out string
    (items: face, glyph, x, y), in pixels: its width is where the pen ends (the last
    glyph's position and advance), its height and descent those of the union of its
    glyphs' boxes, in FreeType's 26.6 fixed point; metrics(face, glyph) gives a glyph's
    advance, bottom and top. tests/test_report_charts.py compares the two on thousands
    of strings, hinted (PNG) and not (SVG)."""
    if not items:
        return 0.0, 0.0, 0.0
    low, high = math.inf, -math.inf
    for font, glyph, _x, y in items:
        _advance, bottom, top = metrics(font, glyph)
        up = round(y * 64)
        low, high = min(low, bottom + up), max(high, top + up)
    font, glyph, x, _y = items[-1]
    end = round(x * 64) + metrics(font, glyph)[0]
    return end / 64, (high - low) / 64, -low / 64


def laid_out(font, s: str, key: tuple, shaped, advance) -> tuple:
    """The string's layout as raqm gives it (shaped(): (face, glyph, x, y) items), composed
    without shaping when it can be: a string of digits, a few signs, spaces and Chinese
    characters whose every pair of neighbours was found, in strings shaped before (same
    face, size and hinting: `key`, and context: with or without a Chinese character, which
    sets the script of the digits and signs around it), to lay out as composed: each
    character's glyph from the face's character map at the sum of the advances before it
    (advance(face, glyph), 26.6), no kerning, ligature or other glyph. Shaped strings
    teach their pairs: composed too and compared. A new string (an agency's total, rank,
    score; a campaign page's names) was ~0.2-0.4 ms of FreeType, composed ~0.02 ms."""
    pairs = None
    if _COMPOSABLE.fullmatch(s) and all(_character_glyph(font, c) for c in s):
        pairs = list(pairwise(s)) or [(s,)]         # a lone character: itself
        checked = _PAIRS.setdefault((*key, bool(_CHINESE.search(s))), {})
        if all(checked.get(pair) for pair in pairs):
            return _composed(font, s, advance)
    layout = shaped()
    if pairs is not None:
        same = _composed(font, s, advance) == layout
        if len(checked) + len(pairs) > CACHE_LIMIT:    # a long-lived worker's many names
            checked.clear()
        for pair in pairs:
            checked.setdefault(pair, same)     # a pair found wrong once stays wrong
    return layout


def _composed(font, s: str, advance) -> tuple:
    items, pen = [], 0
    for c in s:
        glyph = _character_glyph(font, c)
        items.append((font, glyph, pen / 64, 0.0))
        pen += advance(font, glyph)
    return tuple(items)


def _character_glyph(font, character: str) -> int:
    key = (font, character)
    found = _CHARACTERS.get(key)
    if found is None:
        found = font.get_char_index(ord(character))
        remember(_CHARACTERS, key, found, CACHE_LIMIT)
    return found


def warn_of_missing_glyphs(font, s: str, flags) -> None:
    """matplotlib's warning of a character no face has, given where savefig gives it
    (measuring the text with set_text), for a string the face lacks a character of."""
    if any(font.get_char_index(ord(c)) == 0 for c in set(s)):
        font.set_text(s, 0.0, flags=flags)


OVERLAPPING = "overlapping"      # a text whose glyphs share pixels: drawn glyph by glyph


def text_image(glyphs: list, places: list, across0: int, up0: int):
    """A text's glyph bitmaps pasted into one image, as (buffer, left, top) from the whole
    pixel (across0, up0) (26.6, multiples of 64); None if it has no pixel, OVERLAPPING if
    two glyphs cover the same pixel. Blending one image is blending its glyphs one after
    the other when no pixel is covered twice: Agg leaves a pixel of coverage 0 as it was.
    One draw_text_image call a text instead of one a glyph (each converts the gc anew),
    and a text drawn again at the same fractions of a pixel (a title, an axis label, a
    judge's name) is one kept image."""
    boxes = [(left + ((across - across0) >> 6), top + ((up - up0) >> 6), buffer)
             for (buffer, left, top), (across, up) in zip(glyphs, places, strict=True)
             if buffer.size]
    if not boxes:
        return None
    left = min(box_left for box_left, _top, _buffer in boxes)
    top = max(box_top for _left, box_top, _buffer in boxes)
    right = max(box_left + buffer.shape[1] for box_left, _top, buffer in boxes)
    bottom = min(box_top - buffer.shape[0] for _left, box_top, buffer in boxes)
    image = np.zeros((top - bottom, right - left), np.uint8)
    for box_left, box_top, buffer in boxes:
        rows, columns = buffer.shape
        region = image[top - box_top:top - box_top + rows,
                       box_left - left:box_left - left + columns]
        if np.minimum(region, buffer).any():
            return OVERLAPPING
        np.maximum(region, buffer, out=region)
    return image, left, top


def font_height_metrics(prop, dpi: float) -> tuple:
    """Text._get_layout's (matplotlib 3.11) font ascent, descent and line gap, the same
    arithmetic in the same order."""
    font = get_font(fontManager._find_fonts_by_props(prop))
    for table_name, linegap_key, ascent_key, descent_key in (
            ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
            ("hhea", "lineGap", "ascent", "descent")):
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
        scale = 1 / units_per_em * prop.get_size_in_points() * dpi / 72
        return table[ascent_key] * scale, -table[descent_key] * scale, table[linegap_key] * scale
    return None, None, None


_plain_text_layout = Text._get_layout


def _text_layout(text: Text, renderer):
    """Text._get_layout, kept by the caching renderer (any other renderer: computed as
    ever). Wrapped text is laid out by where it is, so never kept."""
    layouts = getattr(renderer, "text_layouts", None)
    if layouts is None:
        return _plain_text_layout(text, renderer)
    renderer.text_dpi = text.get_figure(root=True).dpi     # for _get_font_height_metrics
    if text.get_wrap() or text.get_usetex():
        return _plain_text_layout(text, renderer)
    try:
        key = (text.get_text(), tuple(text.get_fontproperties().__dict__.items()),
               text._parse_math, text._linespacing, text._get_multialignment(),
               text.get_rotation(), text.get_horizontalalignment(),
               text.get_verticalalignment(), text.get_rotation_mode(),
               text.get_figure(root=True).dpi)
        found = layouts.get(key)
    except TypeError:      # a property that cannot be a key: computed as ever
        return _plain_text_layout(text, renderer)
    if found is None:
        found = _plain_text_layout(text, renderer)
        remember(layouts, key, found)
    bbox, lines, corner = found
    return bbox.frozen(), list(lines), corner     # callers get their own copies


_plain_glyphs_with_font = TextToPath.get_glyphs_with_font


def _glyphs_with_font(self, font, s, glyph_map=None, return_new_glyphs_only=False, *,
                      features=None, language=None):
    """TextToPath.get_glyphs_with_font (SVG text as outlines), each glyph's outline loaded
    from the font once per process instead of for every character of every file: the
    campaign pages' SVGs repeat the same characters (~900 glyphs a page). The outline of a
    glyph name (face, glyph index) is always the same: TextToPath sizes its faces to
    FONT_SCALE, unhinted; the file written is byte for byte the same."""
    if glyph_map is None:
        glyph_map = {}
    glyph_map_new = {} if return_new_glyphs_only else glyph_map
    items = _svg_layout(self, font, s, features, language)
    for name, _x, _y, face, glyph in items:
        if name not in glyph_map:
            outline = _GLYPH_PATHS.get(name)
            if outline is None:
                face.load_glyph(glyph, flags=LoadFlags.NO_HINTING)
                outline = face.get_path()
                remember(_GLYPH_PATHS, name, outline)
            glyph_map_new[name] = outline
    return [(name, x, y, 1.0) for name, x, y, _face, _glyph in items], glyph_map_new, []


def _svg_layout(self, font, s: str, features, language) -> tuple:
    """The string's glyphs as TextToPath lays them out (unhinted, its faces at FONT_SCALE),
    as (glyph name, x, y, face, glyph), kept by face and string: a page's row names are
    measured and drawn on both its pages."""
    key = (font, s, features, language)
    items = _SVG_LAYOUTS.get(key)
    if items is None:
        def shaped():
            return tuple((item.ft_object, item.glyph_index, item.x, item.y)
                         for item in font._layout(s, LoadFlags.NO_HINTING, features=features,
                                                  language=language))
        glyphs = shaped() if features or language else laid_out(
            font, s, (font, "svg"), shaped,
            lambda face, glyph: _svg_glyph_metrics(self, face, glyph)[0])
        items = tuple((self._get_glyph_repr(face, glyph), x, y, face, glyph)
                      for face, glyph, x, y in glyphs)
        remember(_SVG_LAYOUTS, key, items)
    return items


def _svg_glyph_metrics(self, face, glyph) -> tuple[int, int, int]:
    """A glyph's unhinted advance, bottom and top at TextToPath's FONT_SCALE (26.6)."""
    key = (face, glyph)
    found = _SVG_GLYPH_METRICS.get(key)
    if found is None:
        face.set_size(self.FONT_SCALE, self.DPI)
        loaded = face.load_glyph(glyph, LoadFlags.NO_HINTING)
        found = (loaded.horiAdvance, loaded.bbox[1], loaded.bbox[3])
        remember(_SVG_GLYPH_METRICS, key, found)
    return found


_plain_svg_extent = TextToPath.get_text_width_height_descent


def _svg_extent(self, s, prop, ismath):
    """TextToPath.get_text_width_height_descent (what an SVG measures a text by), kept by
    string and font properties (their hash holds the size) when plain text, and taken
    from the layout the SVG draws the text with (FreeType's set_text would lay it out and
    load its glyphs again): the same arithmetic, scaled from FONT_SCALE."""
    if ismath:
        return _plain_svg_extent(self, s, prop, ismath)
    key = (s, hash(prop))
    found = _SVG_METRICS.get(key)
    if found is None:
        font = self._get_font(prop)      # at FONT_SCALE
        warn_of_missing_glyphs(font, s, LoadFlags.NO_HINTING)
        width, height, descent = layout_extent(
            [(face, glyph, x, y) for _name, x, y, face, glyph in _svg_layout(
                self, font, s, None, None)],
            lambda face, glyph: _svg_glyph_metrics(self, face, glyph))
        scale = prop.get_size_in_points() / self.FONT_SCALE
        found = (width * scale, height * scale, descent * scale)
        remember(_SVG_METRICS, key, found)
    return found


def install() -> None:
    """Let caching renderers keep text layouts, and SVG text outlines be loaded once
    (idempotent; other renderers' drawings are not affected)."""
    Text._get_layout = _text_layout
    TextToPath.get_glyphs_with_font = _glyphs_with_font
    TextToPath.get_text_width_height_descent = _svg_extent


def remember(cache: dict, key, value, limit: int = CACHE_LIMIT) -> None:
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
