"""Charts: the bundled CJK font draws every label, files are valid, the cache keys on revision."""

from __future__ import annotations

import dataclasses
import io
import logging
import re
import warnings
import xml.etree.ElementTree as ElementTree

import pytest
from PIL import Image

from evaluation.reports import chart_cache, charts
from evaluation.reports.fonts import CJK_FAMILY, cjk_font_path, use_cjk_font
from evaluation.reports.sample import sample_composed


@pytest.fixture(scope="module")
def composed():
    return sample_composed(agencies=8, judges=9, indicators=10)


@pytest.fixture
def strict_fonts(caplog):
    """A missing glyph (matplotlib warns) or a font fallback (findfont logs) fails the test."""
    caplog.set_level(logging.WARNING, logger="matplotlib.font_manager")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    fallbacks = [r.getMessage() for r in caplog.records if "findfont" in r.getMessage()]
    assert fallbacks == []


def test_the_cjk_font_is_the_installed_noto_face(strict_fonts):
    from matplotlib import font_manager, ft2font

    assert use_cjk_font() == CJK_FAMILY
    found = font_manager.findfont(font_manager.FontProperties(family=CJK_FAMILY),
                                  fallback_to_default=False)
    assert found == cjk_font_path()
    face = ft2font.FT2Font(cjk_font_path(), face_index=2)
    assert face.family_name == "Noto Sans CJK SC"
    # every character of the labels has a glyph in it (index 0 is the "missing" box)
    text = ("评议总分排名得分构成一级指标评委打分历年"
            "市财政局人力资源和社会保障乳源瑶族自治县优秀良好合格")
    assert all(face.get_char_index(ord(ch)) for ch in text)


@pytest.mark.parametrize("kind", ["ranking-0", "breakdown-1", "radar", "marks", "trend"])
def test_every_kind_of_chart_draws_without_fallback(composed, strict_fonts, kind):
    name = kind if "-" in kind else f"{kind}-{composed.result.agencies[0].agency}"
    png = charts.render(composed, name, "png")
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.format == "PNG" and image.size[0] > 400
    svg = charts.render(composed, name, "svg")
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    assert b"<text" not in svg          # text is drawn as outlines: no font needed to view


def test_labels_use_the_cjk_font(composed, strict_fonts):
    figure = charts.draw(composed, "ranking-0")
    labels = charts.row_labels(figure)
    figure.canvas.draw()
    names = {composed.agencies[a.agency].name for a in composed.result.agencies}
    assert any(name in label.get_text() for label in labels for name in names)
    assert {label.get_fontname() for label in labels} == {CJK_FAMILY}


def test_a_shared_rank_is_marked_in_the_row_labels(composed):
    # The announcement, workbook and pages say 并列 for a shared rank; the chart showed "1"
    # twice with nothing to tell a tie from a mistake.
    first, second, *rest = composed.result.agencies
    tied = [dataclasses.replace(a, ranked=dataclasses.replace(a.ranked, rank=1, shared=True))
            for a in (first, second)]
    result = dataclasses.replace(composed.result, agencies=(*tied, *rest))
    tied_composed = dataclasses.replace(composed, result=result)
    for kind in ("ranking-0", "breakdown-0"):
        texts = [t.get_text() for t in charts.row_labels(charts.draw(tied_composed, kind))]
        assert texts[0].startswith("1（并列）") and texts[1].startswith("1（并列）")
        assert "并列" not in texts[2]


def test_large_groups_are_drawn_in_pages():
    composed = sample_composed(agencies=100, judges=5, indicators=10)   # 62 + 38 agencies
    names = charts.campaign_chart_names(composed)
    assert names == ["ranking-0", "ranking-1", "ranking-2", "breakdown-0", "breakdown-1",
                     "breakdown-2"]
    assert charts.chart_title(composed, "ranking-1") == "市直组总分排名（第 41–62 名）"
    assert charts.chart_title(composed, "breakdown-2") == "县区组得分构成"
    figure = charts.draw(composed, "ranking-1")
    assert len(charts.row_labels(figure)) == 22
    assert [len(bars.get_paths()) for bars in figure.axes[0].collections] == [22]


def test_chart_names_are_checked(composed):
    assert charts.is_chart(composed, "ranking-1")
    assert not charts.is_chart(composed, "ranking-7")          # only two groups
    assert not charts.is_chart(composed, "radar-99999")
    assert not charts.is_chart(composed, "../../etc/passwd")
    with pytest.raises(KeyError):
        charts.draw(composed, "trend-424242")


def test_cache_by_revision(composed, tmp_path, monkeypatch):
    first = chart_cache.chart(tmp_path, composed, "ranking-0", "png")
    assert first.parts[-3:] == (str(composed.campaign_id), f"r{composed.revision}",
                                "ranking-0.png")
    calls = []
    monkeypatch.setattr(charts, "render_many", lambda composed, name, fmts: calls.append(
        name) or {fmt: b"new" for fmt in fmts})
    assert chart_cache.chart(tmp_path, composed, "ranking-0", "png") == first   # a cache hit
    assert calls == []
    newer = sample_composed(agencies=8, judges=9, indicators=10, revision=composed.revision + 1)
    assert chart_cache.chart(tmp_path, newer, "ranking-0", "png").read_bytes() == b"new"
    assert len(calls) == 1
    chart_cache.prune_other_revisions(tmp_path, newer)     # the old revision's files go
    assert not first.exists()
    assert chart_cache.cached_path(tmp_path, newer, "ranking-0", "png").exists()


def test_render_all_in_a_pool_and_zip(composed, tmp_path):
    first = composed.result.agencies[0].agency
    items = [item for item in charts.all_chart_items(composed)
             if item[0].split("-")[0] not in ("radar", "marks", "trend")
             or item[0].endswith(f"-{first}")]
    assert len(items) == 4 * 2 + 3          # campaign charts in PNG and SVG, agency's in PNG
    seen = []
    paths = chart_cache.render_all(tmp_path, composed, items, workers=2,
                                   progress=lambda done, total: seen.append((done, total)))
    assert len(paths) == len(items) and all(path.stat().st_size for path in paths)
    assert seen[-1] == (len(paths), len(paths))
    archive = chart_cache.zip_charts(paths, composed)
    import zipfile

    listed = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert "png/ranking-0 市直组总分排名.png" in listed
    assert len(listed) == len(paths)


def test_a_refilled_figure_draws_what_a_new_one_does(composed):
    """Agency charts refill the previous agency's figure: nothing of it may show through."""
    first, second = (a.agency for a in composed.result.agencies[:2])
    for kind in ("radar", "marks", "trend"):
        charts._KEPT_FIGURES.clear()
        new = charts.render(composed, f"{kind}-{first}", "png")
        assert charts.render(composed, f"{kind}-{second}", "png") != new
        assert charts.render(composed, f"{kind}-{first}", "png") == new


def test_chart_processes_are_never_forked_from_a_gevent_patched_process(monkeypatch):
    from gevent import monkey

    assert chart_cache._context().get_start_method() == "fork"     # the job worker
    monkeypatch.setattr(monkey, "is_module_patched", lambda name: True)
    assert chart_cache._context().get_start_method() == "spawn"    # the serving process


def _pixels(png: bytes):
    import numpy as np

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(int)


def _savefig_png(figure) -> bytes:
    """The ordinary path: a new plain Agg canvas and savefig, as charts were written before."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=charts.DPI)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["ranking-0", "breakdown-1", "radar", "marks", "trend"])
def test_the_fast_png_is_what_savefig_draws_pixel_for_pixel(composed, kind):
    """raster.png (kept canvas, cached layouts and glyphs, RGB at level 1) may not change a
    pixel: for a first chart, and for later agencies drawn into the refilled figure with the
    caches warm, each against a new figure saved by savefig."""
    from evaluation.reports import raster

    use_cjk_font()
    agencies = [a.agency for a in composed.result.agencies[:4]]
    names = [kind] if "-" in kind else [f"{kind}-{agency}" for agency in agencies]
    for name in names:
        fast = charts.render(composed, name, "png")
        image = Image.open(io.BytesIO(fast))
        assert image.mode == "RGB"                   # opaque: no alpha channel to write
        assert round(image.info["dpi"][0]) == charts.DPI and "Software" not in image.info
        charts._KEPT_FIGURES.clear()           # a figure of its own, never drawn fast
        reference = _savefig_png(charts.draw(composed, name))
        charts._KEPT_FIGURES.clear()
        expected = _pixels(reference)
        assert (expected[..., 3] == 255).all()
        assert (_pixels(fast) == expected).all(), name
    assert raster._GLYPHS and raster._LAYOUTS


def test_the_fast_path_draws_with_the_cjk_font_and_warns_of_a_missing_glyph(strict_fonts):
    """The caching renderer lays text out with the bundled face, and a glyph missing from
    it still fails (matplotlib's warning, an error under strict_fonts) on the fast path."""
    from matplotlib.figure import Figure

    from evaluation.reports import raster

    use_cjk_font()
    figure = Figure(figsize=(3, 1), dpi=charts.DPI)
    label = figure.text(0.1, 0.5, "乳源瑶族自治县 优秀")
    canvas = raster.canvas(figure)
    canvas.draw()
    assert isinstance(canvas.renderer, raster.CachingRenderer)
    laid = [items for key, items in raster._LAYOUTS.items() if key[-1] == label.get_text()]
    assert laid and {font.family_name for font, *_ in laid[0]} == {CJK_FAMILY}
    figure.text(0.1, 0.2, "缺字\ue000")        # private use: no glyph in the face
    with pytest.raises(UserWarning, match="missing from font"):
        canvas.draw()
    with pytest.raises(UserWarning, match="missing from font"):   # and through charts
        raster.png(_figure_with_title("评议\U0001F600"), charts.DPI)


def _figure_with_title(title: str):
    figure = charts._figure(3, 1)
    figure.suptitle(title)
    return figure


def test_agency_charts_drawn_over_kept_backdrops_are_savefig_pixel_for_pixel():
    """Many agencies in a row, as an export draws them: the axes, grid and tick labels of a
    chart are drawn once per key and pasted (raster.Backdrop), the rest drawn over them; every
    PNG is still what savefig draws of the same chart built anew."""
    from evaluation.reports import raster

    composed = sample_composed(agencies=40, judges=9, indicators=10)
    use_cjk_font()
    charts._KEPT_FIGURES.clear()
    agencies = [a.agency for a in composed.result.agencies[:12]]
    for kind in ("radar", "marks", "trend"):
        for agency in agencies:
            name = f"{kind}-{agency}"
            fast = charts.render(composed, name, "png")
            kept = dict(charts._KEPT_FIGURES)
            charts._KEPT_FIGURES.clear()
            expected = _pixels(_savefig_png(charts.draw(composed, name)))
            charts._KEPT_FIGURES.clear()
            charts._KEPT_FIGURES.update(kept)
            assert (_pixels(fast) == expected).all(), name
        figure = next(f for key, f in charts._KEPT_FIGURES.items() if key[0] == kind)
        drawn = len(agencies) * len(getattr(figure, raster.BACKDROPS))
        assert 0 < len(figure.canvas.backdrops) < drawn     # some drawn, most pasted


def test_kept_annotations_left_over_are_hidden_and_the_chart_is_savefigs():
    """A kept figure's annotations (dropped marks and their judges, a trend's totals) are
    refilled, and those a chart does not need (the agency before had more dropped marks
    or years) hidden: the PNG is still savefig's of the same chart built anew."""
    composed = sample_composed(agencies=4, judges=9, indicators=10)
    use_cjk_font()
    charts._KEPT_FIGURES.clear()
    for kind, style in (("marks", {"fontsize": 7, "color": charts.DROPPED}),
                        ("trend", {"fontsize": 7})):
        name = f"{kind}-{composed.result.agencies[0].agency}"
        for axes in charts.draw(composed, name).axes:    # six notes a panel before
            charts._annotate(axes, [(f"{n}", (axes.get_xlim()[0], 0), (0, 8), "left")
                                    for n in range(6)], **style)
        fast = charts.render(composed, name, "png")
        hidden = [t for axes in charts.draw(composed, name).axes for t in axes.texts
                  if t.get_gid() == charts.POOL_GID and not t.get_visible()]
        assert hidden, kind
        kept = dict(charts._KEPT_FIGURES)
        charts._KEPT_FIGURES.clear()
        expected = _pixels(_savefig_png(charts.draw(composed, name)))
        charts._KEPT_FIGURES.update(kept)
        assert (_pixels(fast) == expected).all(), name


def test_a_full_backdrop_store_is_emptied_without_losing_a_chart(monkeypatch):
    """A canvas keeps at most BACKDROP_LIMIT backdrops; when a chart's new bands would
    overflow it, it is emptied before the chart is drawn, so the chart's other bands (kept a
    moment ago) are drawn again, not looked for and missed."""
    from evaluation.reports import raster

    monkeypatch.setattr(raster, "BACKDROP_LIMIT", 3)
    composed = sample_composed(agencies=12, judges=9, indicators=10)
    use_cjk_font()
    charts._KEPT_FIGURES.clear()
    for agency in composed.result.agencies:
        name = f"marks-{agency.agency}"
        fast = charts.render(composed, name, "png")
        kept = dict(charts._KEPT_FIGURES)
        for figure in kept.values():
            size = len(figure.canvas.backdrops)
            assert size <= max(3, len(getattr(figure, raster.BACKDROPS)))
        charts._KEPT_FIGURES.clear()
        expected = _pixels(_savefig_png(charts.draw(composed, name)))
        charts._KEPT_FIGURES.clear()
        charts._KEPT_FIGURES.update(kept)
        assert (_pixels(fast) == expected).all(), name


def _fonts_held_after_fork() -> list[int]:
    from evaluation.reports import raster, text_layout

    return [len(raster._FONTS), len(raster._LAYOUTS), len(raster._GLYPHS),
            len(raster._GLYPH_METRICS), len(text_layout._CHARACTERS), len(text_layout._PAIRS),
            len(text_layout._SVG_LAYOUTS), len(text_layout._SVG_GLYPH_METRICS)]


def test_a_forked_chart_worker_opens_fonts_of_its_own():
    """The chart pool's workers are forked from a process that may have drawn charts (the
    job worker draws ahead): FreeType faces read their font file through a descriptor whose
    offset a forked child shares with its parent and siblings, so workers drawing at once
    with inherited faces read each other's bytes ("FT_Load_Glyph ... broken file", an export
    that failed now and then). A forked process starts with no face of its parent's."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from evaluation.reports import raster, text_layout

    composed = sample_composed(agencies=2, judges=5, indicators=10)
    use_cjk_font()
    charts.render_many(composed, "ranking-0", ("png", "svg"))
    assert raster._FONTS and raster._LAYOUTS and raster._GLYPHS and raster._GLYPH_METRICS
    assert text_layout._CHARACTERS and text_layout._PAIRS and text_layout._SVG_LAYOUTS and \
        text_layout._SVG_GLYPH_METRICS
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        assert pool.submit(_fonts_held_after_fork).result() == [0] * 8


def test_text_extents_from_the_drawn_layout_are_freetypes():
    """The caching renderer (and an SVG's TextToPath) measures a text from the layout it
    draws it with (glyph positions, advances and boxes) instead of FreeType laying it out
    again: the same width, height and descent as RendererAgg's (TextToPath's), for strings
    of the charts' characters, Latin kerning pairs, spaces and punctuation at several sizes,
    and after rotated text was drawn (a face keeps the transform a glyph was drawn with)."""
    import random

    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    from evaluation.reports import raster, text_layout

    use_cjk_font()
    caching, plain = raster.CachingRenderer(300, 200, charts.DPI), RendererAgg(300, 200, charts.DPI)
    text_to_path = TextToPath()
    gc = caching.new_gc()
    characters = "0123456789.%/ -+:（）：，×—第名年优秀良好合格组织领导普法以案得分个计入回避AVWTo"
    pick = random.Random(6)
    for number in range(1500):
        text = "".join(pick.choice(characters) for _ in range(pick.randint(0, 14)))
        prop = FontProperties(size=pick.choice([7, 8, 9, 10, 11, 12.5]))
        if number % 20 == 0:      # drawn first, turned and at a fraction of a pixel
            caching.draw_text(gc, 40.3, 60.7, text, prop, pick.choice([30, 90]))
        assert caching.get_text_width_height_descent(text, prop, False) == \
            plain.get_text_width_height_descent(text, prop, False), (text, prop.get_size())
        # what an SVG measures a text by (TextToPath: unhinted, at FONT_SCALE)
        assert text_layout._svg_extent(text_to_path, text, prop, False) == \
            text_layout._plain_svg_extent(text_to_path, text, prop, False), text


def test_texts_drawn_from_kept_text_images_are_agg_pixel_for_pixel():
    """The caching renderer pastes a text's glyphs as one image, kept by glyphs, size,
    angle and each glyph's place from the first one's whole pixel: texts drawn again at
    other places (whole pixels apart, or other fractions of a pixel), turned, in other
    colours and alphas, over each other, are what RendererAgg draws, pixel for pixel; a kept
    image is never another string's."""
    import random

    import numpy as np
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    from evaluation.reports import raster

    use_cjk_font()
    raster._TEXT_IMAGES.clear()
    caching, plain = raster.CachingRenderer(320, 240, charts.DPI), RendererAgg(320, 240, charts.DPI)
    pick = random.Random(11)
    strings = ["89.72", "89.27", "第26名 良好", "市财政局（第3分局）", "Ay/Vo", "i.l", "得分 57.81"]
    for number in range(300):
        text, size = pick.choice(strings), pick.choice([7, 8, 11])
        x = pick.choice([40, 40.25, 41, 117.6]) + pick.choice([0, 50, 100])
        y = pick.choice([30, 30.5, 31.75]) + pick.choice([0, 60, 120])
        angle = pick.choice([0, 0, 0, 90, 30])
        colour, alpha = pick.choice(["#d62728", "#1f6fb4", "k"]), pick.choice([1.0, 0.6])
        for renderer in (caching, plain):
            gc = renderer.new_gc()
            gc.set_foreground(colour)
            gc.set_alpha(alpha)
            renderer.draw_text(gc, x, y, text, FontProperties(size=size), angle)
            gc.restore()
        assert (np.asarray(caching.buffer_rgba()) == np.asarray(plain.buffer_rgba())).all(), \
            (number, text, size, x, y, angle)
    images = list(raster._TEXT_IMAGES.values())
    assert sum(isinstance(image, tuple) for image in images) > 20   # drawn from kept images


def test_strings_laid_out_without_shaping_are_raqms_layouts(monkeypatch):
    """Strings of digits, signs, spaces and Chinese characters are laid out from the face's
    character map and advances once each pair they hold was found to compose exactly in a
    string shaped before: glyphs, faces and positions are those matplotlib's layout (raqm)
    gives, hinted (PNG) and not (an SVG's outlines), with and without Chinese characters
    around the digits, at several sizes. A pair that shaping changes (Latin kerning, let
    in here for the test) is shaped ever after."""
    import random

    from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
    from matplotlib.font_manager import FontProperties
    from matplotlib.ft2font import LoadFlags
    from matplotlib.textpath import TextToPath

    from evaluation.reports import raster, text_layout

    use_cjk_font()
    flags, text_to_path = get_hinting_flag(), TextToPath()
    caching, plain = raster.CachingRenderer(300, 200, charts.DPI), RendererAgg(300, 200, charts.DPI)
    monkeypatch.setattr(text_layout, "_COMPOSABLE",
                        re.compile(text_layout._COMPOSABLE.pattern + "|[AVTo.]+"))
    characters = "0123456789.%/ -+:,×（），：第名年优秀良好合格组织领导得分个计入回避"
    pick = random.Random(8)
    strings = ["AV", "To.", "V.", *("".join(pick.choice(characters) for _ in range(
        pick.randint(1, 12))) for _ in range(800))]
    for text in strings:
        prop = FontProperties(size=pick.choice([7, 8, 9, 11]))
        shaped = tuple((item.ft_object, item.glyph_index, item.x, item.y) for item in
                       plain._prepare_font(prop)._layout(text, flags=flags))
        assert caching._glyph_run(prop, text, flags) == shaped, (text, prop.get_size())
        face = text_to_path._get_font(prop)      # an SVG's outlines: unhinted
        shaped = tuple((text_to_path._get_glyph_repr(item.ft_object, item.glyph_index),
                        item.x, item.y, item.ft_object, item.glyph_index)
                       for item in face._layout(text, LoadFlags.NO_HINTING))
        assert text_layout._svg_layout(text_to_path, face, text, None, None) == shaped, text
    checked = {pair: same for pairs in text_layout._PAIRS.values()
               for pair, same in pairs.items()}
    assert checked[("A", "V")] is False and sum(checked.values()) > 100


def test_character_and_pair_caches_are_bounded_and_layouts_stay_raqms(monkeypatch):
    """A long-lived job worker lays out the names of campaign after campaign: the kept
    characters and pairs of characters are at most CACHE_LIMIT (a full cache emptied), and
    a string laid out after that is still the layout raqm gives."""
    import random

    from matplotlib.backends.backend_agg import RendererAgg, get_hinting_flag
    from matplotlib.font_manager import FontProperties

    from evaluation.reports import raster, text_layout

    use_cjk_font()
    monkeypatch.setattr(text_layout, "CACHE_LIMIT", 60)
    text_layout._PAIRS.clear()
    text_layout._CHARACTERS.clear()
    flags, prop = get_hinting_flag(), FontProperties(size=9)
    caching, plain = raster.CachingRenderer(300, 200, charts.DPI), RendererAgg(300, 200, charts.DPI)
    pick = random.Random(3)
    characters = [chr(code) for code in range(0x4e00, 0x4e00 + 300)] + list("0123456789.")
    for _string in range(300):
        text = "".join(pick.choice(characters) for _ in range(pick.randint(2, 8)))
        shaped = tuple((item.ft_object, item.glyph_index, item.x, item.y) for item in
                       plain._prepare_font(prop)._layout(text, flags=flags))
        assert caching._glyph_run(prop, text, flags) == shaped, text
        assert len(text_layout._CHARACTERS) <= 60
        assert all(len(pairs) <= 60 for pairs in text_layout._PAIRS.values())
    assert text_layout._PAIRS and text_layout._CHARACTERS


def test_text_layouts_with_kept_font_heights_are_matplotlibs():
    """Text._get_layout asks the caching renderer for the font's ascent, descent and line
    gap (kept per font and resolution) instead of reading the font's tables for each new
    text: the layouts (box, lines, corner) are those laid out with a plain Agg renderer,
    for one and several lines, fixed line spacing and several sizes and resolutions."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure

    from evaluation.reports import raster, text_layout

    use_cjk_font()
    raster.install()
    for dpi in (72, charts.DPI, 200):
        figure = Figure(figsize=(4, 3), dpi=dpi)
        caching, plain = raster.CachingRenderer(400, 300, dpi), RendererAgg(400, 300, dpi)
        for size, text, spacing in ((7, "89.72", None), (11, "市财政局\n一级指标得分率", None),
                                    (8, "组织领导\n12.5/20", 1.6), (12.5, "Ay\n第3名\n优秀", None)):
            label = figure.text(0.2, 0.4, text, fontsize=size, linespacing=spacing,
                                rotation=30 if size == 8 else 0)
            kept, laid = label._get_layout(caching), text_layout._plain_text_layout(label, plain)
            assert kept[0].bounds == laid[0].bounds and kept[1:] == laid[1:], (dpi, text)
    assert raster._HEIGHTS


def test_the_same_text_at_another_angle_or_alignment_is_laid_out_anew():
    """A kept layout is found by everything that places the text, not by its string alone:
    one caching renderer lays out the same label at several angles and alignments, and each
    layout is the one a plain Agg renderer lays out."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.figure import Figure

    from evaluation.reports import raster, text_layout

    use_cjk_font()
    raster.install()
    figure = Figure(figsize=(4, 3), dpi=charts.DPI)
    caching = raster.CachingRenderer(400, 300, charts.DPI)
    plain = RendererAgg(400, 300, charts.DPI)
    for rotation, align in ((0, "left"), (30, "left"), (90, "left"), (90, "right"),
                            (0, "center")):
        label = figure.text(0.2, 0.4, "第3名\n89.72", fontsize=9, rotation=rotation,
                            horizontalalignment=align)
        kept, laid = label._get_layout(caching), text_layout._plain_text_layout(label, plain)
        assert kept[0].bounds == laid[0].bounds and kept[1:] == laid[1:], (rotation, align)
    assert len(caching.text_layouts) == 5


def test_svg_outlines_kept_across_files_write_the_same_file(monkeypatch):
    """SVG text is written as glyph outlines, each loaded from the font once per process
    (text_layout._glyphs_with_font): a page drawn after others, from kept outlines, is byte for
    byte the file matplotlib writes loading every outline."""
    from matplotlib.textpath import TextToPath

    from evaluation.reports import raster, text_layout

    composed = sample_composed(agencies=90, judges=5, indicators=10)
    use_cjk_font()
    charts.render(composed, "ranking-0", "svg")              # outlines kept from this page
    assert text_layout._GLYPH_PATHS
    kept = charts.render(composed, "breakdown-1", "svg")
    monkeypatch.setattr(raster, "install", lambda: None)
    monkeypatch.setattr(TextToPath, "get_glyphs_with_font", text_layout._plain_glyphs_with_font)
    plain = charts.render(composed, "breakdown-1", "svg")
    assert kept == plain and b"<use " in kept and b"<text" not in kept


def _split_figure(cut: float):
    """A figure whose band is split at `cut` (figure width): its y axis' backdrop left of
    it, its x axis' right of it (see _split), to draw with limits set by _split."""
    figure = charts._figure(4, 2)
    axes = figure.add_subplot()
    figure.subplots_adjust(left=0.3, right=0.95)
    axes.set_yticks([0.5], ["名称"])
    axes.plot([0, 100], [0.2, 0.8])
    figure.cut = cut
    return figure


def _split(figure, limits: tuple):
    """The figure's x limits set, and its backdrops keyed by the limits they depend on."""
    from evaluation.reports import raster

    axes = figure.axes[0]
    axes.set_xlim(*limits)
    setattr(figure, raster.BACKDROPS, [
        raster.Backdrop(("y", axes.get_ylim()), (axes.yaxis,), 0.0, 1.0, 0.0, figure.cut),
        raster.Backdrop(("x", limits), (axes.patch, axes.xaxis), 0.0, 1.0, figure.cut, 1.0)])
    return figure


def test_a_band_split_in_two_keeps_each_half_apart_and_draws_savefigs_pixels():
    """A band cut where its y axis ends and its x axis begins: each half kept by its own
    key (new x limits draw the x axis only) and pasted beside the other; every PNG is what
    savefig draws."""
    from evaluation.reports import raster

    use_cjk_font()
    cut = 0.3 + 2 / (4 * charts.DPI)
    figure = _split_figure(cut)
    for limits in ((9, 21), (29, 41), (9, 21)):
        fast = raster.png(_split(figure, limits), charts.DPI)
        expected = _savefig_png(_split(_split_figure(cut), limits))
        assert (_pixels(fast) == _pixels(expected)).all(), limits
    assert not figure.canvas.spilling
    assert sorted(key for key, _bounds in figure.canvas.backdrops) == [
        ("x", (9, 21)), ("x", (29, 41)), ("y", figure.axes[0].get_ylim())]    # one y half


def test_a_half_band_drawing_outside_its_half_is_drawn_with_the_whole_band():
    """A cut through the x axis' tick labels: the x half draws left of it, so pasting the
    halves apart could miss or misorder those pixels; the band is then kept whole (by both
    keys) and the PNG is still savefig's, drawn and pasted."""
    from evaluation.reports import raster

    use_cjk_font()
    figure = _split(_split_figure(0.6), (9, 21))
    fast = raster.png(figure, charts.DPI)
    assert figure.canvas.spilling == {("x", (9, 21))}
    assert (("y", figure.axes[0].get_ylim()), ("x", (9, 21))) in {
        key for key, _bounds in figure.canvas.backdrops}
    assert (_pixels(fast) == _pixels(_savefig_png(_split(_split_figure(0.6), (9, 21))))).all()
    assert (_pixels(raster.png(figure, charts.DPI)) == _pixels(fast)).all()   # pasted


def test_backdrops_must_cover_the_figure():
    from evaluation.reports import raster

    use_cjk_font()
    figure = charts._figure(3, 2)
    axes = figure.add_subplot()
    setattr(figure, raster.BACKDROPS, [raster.Backdrop("top", (axes.patch,), 0.5, 1.0)])
    with pytest.raises(ValueError, match="cover"):
        raster.png(figure, charts.DPI)


def test_marks_limits_are_few_and_hold_every_mark():
    """The marks chart's limits lie a mark beyond multiples of 5 (one backdrop per limits,
    so a few hundred for 1,600 panels), around every mark given."""
    from evaluation.reports.panels import agency_panels

    composed = sample_composed(agencies=8, judges=9, indicators=10)
    for agency in composed.result.agencies:
        figure = charts.draw(composed, f"marks-{agency.agency}")
        for axes, panel in zip(figure.axes, agency_panels(agency), strict=True):
            low, high = axes.get_xlim()
            marks = [float(m) for _, m in panel.result.given() if m is not None]
            assert (low + 1) % 5 == 0 and (high - 1) % 5 == 0
            assert low < min(marks) and max(marks) < high and high - low <= max(
                marks) - min(marks) + 12


@pytest.mark.parametrize("marks", [["100"], ["95", "95", "95"], ["0"]])
def test_marks_axis_is_at_least_a_step_wide(marks):
    """Marks all on one multiple of 5 (a lone 100 by the organizer) once gave an axis of
    99-101 ticked in quarters; it spans a step, within the scale."""
    from decimal import Decimal

    from evaluation.reports.panels import AgencyPanel
    from scoring import PanelRule

    use_cjk_font()
    composed = sample_composed(agencies=2, judges=9, indicators=4)
    result = PanelRule(drop_high=0, drop_low=0).apply(
        [(judge, Decimal(mark)) for judge, mark in enumerate(marks, start=1)])
    figure = charts._marks_figure(1)
    charts._panel_strip(composed, figure.axes[0], AgencyPanel("onsite_review", None, result))
    low, high = figure.axes[0].get_xlim()
    value = float(marks[0])
    assert high - low == charts.MARK_STEP + 2 and low < value < high
    assert high == max(value, charts.MARK_STEP) + 1


@pytest.mark.parametrize("size", [(1, 1), (3, 7), (638, 880)])
def test_png_rows_are_the_rgb_of_each_pixel(size):
    import numpy as np

    from evaluation.reports import raster

    height, width = size
    rgba = np.random.default_rng(7).integers(0, 256, (height, width, 4), np.uint8)
    rows = raster._rgb_rows(rgba, height, width)
    assert (rows[:, 0] == 0).all()
    assert (rows[:, 1:].reshape(height, width, 3) == rgba[..., :3]).all()


@pytest.mark.parametrize("size", [(1, 1), (3, 7), (638, 880)])
def test_a_png_deflated_by_isal_reads_back_as_the_image(size):
    """encode_png deflates with ISA-L, not zlib: any PNG reader (Pillow's zlib here) reads
    back each pixel's RGB and the resolution."""
    import numpy as np

    from evaluation.reports import raster

    height, width = size
    rgba = np.random.default_rng(9).integers(0, 256, (height, width, 4), np.uint8)
    rgba[height // 2:] = 255          # a white half, as charts have
    image = Image.open(io.BytesIO(raster.encode_png(rgba, charts.DPI)))
    assert image.mode == "RGB" and image.size == (width, height)
    assert (np.asarray(image) == rgba[..., :3]).all()
    assert round(image.info["dpi"][0]) == charts.DPI


def _title_rows(png: bytes) -> tuple[list[tuple[int, int]], int]:
    """The runs of pixel rows with ink across the middle half, above the plot's top spine
    (the first row dark over much of the middle third), and the spine's row."""
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    pixels = image.load()
    middle = range(width // 4, 3 * width // 4)

    def dark(y, x_range, level):
        return sum(pixels[x, y] < level for x in x_range)

    spine = next(y for y in range(height) if dark(y, range(width // 3, 2 * width // 3), 100)
                 > width // 4)
    runs, start = [], None
    for y in range(spine + 1):
        inked = y < spine and dark(y, middle, 160) > 0
        if inked and start is None:
            start = y
        elif not inked and start is not None:
            runs.append((start, y - 1))
            start = None
    return runs, spine


@pytest.mark.parametrize("kind", ["ranking-0", "breakdown-0", "trend"])
def test_a_two_line_title_has_room_between_its_lines_and_above_the_plot(composed, kind):
    """Seen on the demo campaign: the title's two lines touched each other and sat 7 px
    over the plot's frame."""
    name = kind if "-" in kind else f"{kind}-{composed.result.agencies[0].agency}"
    runs, spine = _title_rows(charts.render(composed, name, "png"))
    assert len(runs) == 2, runs                  # two lines, apart
    (_top, first_end), (second_start, second_end) = runs
    assert second_start - first_end > 4, runs
    assert spine - second_end > 12, (runs, spine)


def test_a_dropped_marks_long_name_stays_inside_the_figure(monkeypatch):
    """In peer review the dropped marks are named by agencies ("市城市管理和综合执法局"):
    beside the highest mark, at the axis' right end, the name ran off the figure."""
    from decimal import Decimal

    from evaluation.reports.panels import AgencyPanel
    from scoring import PanelRule

    use_cjk_font()
    composed = sample_composed(agencies=2, judges=9, indicators=4)
    monkeypatch.setattr(charts, "judge_name",
                        lambda _composed, _stage, judge: f"{judge}号市城市管理和综合执法局")
    result = PanelRule(drop_high=1, drop_low=1).apply(
        [(judge, Decimal(mark)) for judge, mark in enumerate(
            ["99", "88", "87.5", "90", "86", "91", "89", "92", "80"], start=1)])
    figure = charts._marks_figure(1)
    charts._panel_strip(composed, figure.axes[0], AgencyPanel("onsite_review", None, result))
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(figure).get_renderer()
    frame = figure.bbox
    names = [text for text in figure.axes[0].texts
             if text.get_visible() and "执法局" in text.get_text()]
    assert sorted(text.get_text() for text in names) == [
        "1号市城市管理和综合执法局", "9号市城市管理和综合执法局"]
    for text in names:
        extent = text.get_window_extent(renderer)
        assert frame.x0 <= extent.x0 and extent.x1 <= frame.x1, (text.get_text(), extent)
