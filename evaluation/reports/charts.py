"""Charts of a campaign's results (matplotlib, Agg): what each chart shows, by name.

Campaign charts, per agency group and page of at most PAGE agencies (a readable bar chart,
and a draw time that does not grow with the square of the group): `ranking-N` (totals in
rank order, coloured by grade) and `breakdown-N` (each total stacked from its weighted stage
scores and bonus), N counting the pages of all groups in ranking order.
Agency charts: `radar-ID` (first-level indicators, % of their maximum), `marks-ID` (every
judge's mark per panel, dropped marks in red) and `trend-ID` (totals over the years).
Every figure drawn comes from the ComposedResults: charts show, they never score.
"""

from __future__ import annotations

import io
import math
import re
from itertools import pairwise

from evaluation.reports.fonts import use_cjk_font
from evaluation.reports.panels import agency_panels
from evaluation.reports.texts import display_width, grade_names, judge_name
from evaluation.services.results_data import ComposedResults
from scoring import stage_name

FORMATS = ("png", "svg")
AGENCY_FORMATS = ("png",)   # per-agency charts: PNG only, SVG on the campaign charts
AGENCY_KINDS = ("radar", "marks", "trend")
PAGE = 40
BAR_HEIGHT = 0.7
BAR_MARGIN = 0.3     # above the first bar and below the last, in rows
NAME = re.compile(r"(ranking|breakdown)-(\d{1,4})|(radar|marks|trend)-(\d{1,12})")
GRADE_COLOURS = ["#2e7d32", "#1f6fb4", "#e0a100", "#c62828"]
STAGE_COLOURS = ["#4e79a7", "#59a14f", "#f28e2b", "#76b7b2", "#b07aa1", "#9c755f"]
KEPT, DROPPED = "#1f6fb4", "#d62728"
MARK_STEP = 5        # the marks chart's limits, see _panel_strip
AXIS_CUT = 2         # pixels right of a marks panel's left edge: its y axis' backdrop ends
DPI = 110
# A title at a fixed height: left to matplotlib, every draw measures all tick labels of the
# axes to lift the title over any at the top (none of these charts has any there), ~15% of
# a chart's time.
FIXED = 1.0
# Two-line titles (campaign or agency, then what the chart shows). At matplotlib's 1.2 line
# spacing and 6-point pad the two lines of CJK text nearly touched each other and sat 7 px
# above the plot; these give both room, and the figures keep TITLE_ROOM inches above
# the plot for it.
TITLE_SIZE = 11
TITLE_SPACING = 1.4
TITLE_PAD = 12       # points between the title's last line and the plot
TITLE_ROOM = 0.85    # inches above an axes titled with _axes_title


def groups(composed: ComposedResults) -> list[str]:
    """Agency groups in ranking order (one campaign chart each)."""
    return list(dict.fromkeys(a.group or "全部单位" for a in composed.result.agencies))


def pages(composed: ComposedResults) -> list[tuple[str, list, bool]]:
    """(group, its agencies on this page, whether the group has several pages)."""
    found = []
    for group in groups(composed):
        members = [a for a in composed.result.agencies if (a.group or "全部单位") == group]
        chunks = [members[i:i + PAGE] for i in range(0, len(members), PAGE)]
        found += [(group, chunk, len(chunks) > 1) for chunk in chunks]
    return found


def campaign_chart_names(composed: ComposedResults) -> list[str]:
    count = len(pages(composed))
    return [f"{kind}-{i}" for kind in ("ranking", "breakdown") for i in range(count)]


def agency_chart_names(composed: ComposedResults, agency_id: int) -> list[str]:
    return [f"{kind}-{agency_id}" for kind in AGENCY_KINDS]


def all_chart_items(composed: ComposedResults) -> list[tuple[str, str]]:
    """Every chart of an export as (name, format)."""
    return [(name, fmt) for name in campaign_chart_names(composed) for fmt in FORMATS] + [
        (name, fmt) for agency in composed.result.agencies
        for name in agency_chart_names(composed, agency.agency) for fmt in AGENCY_FORMATS]


def is_chart(composed: ComposedResults, name: str) -> bool:
    match = NAME.fullmatch(name or "")
    if match is None:
        return False
    if match.group(1):
        return int(match.group(2)) < len(pages(composed))
    return int(match.group(4)) in composed.result.by_agency


def chart_title(composed: ComposedResults, name: str) -> str:
    kind, number = name.split("-")
    if kind in ("ranking", "breakdown"):
        return _page_title(composed, int(number), "总分排名" if kind == "ranking" else "得分构成")
    agency = composed.agencies[int(number)].name
    return f"{agency} {({'radar': '一级指标得分', 'marks': '评委打分', 'trend': '历年得分'})[kind]}"


def _page_title(composed: ComposedResults, number: int, what: str) -> str:
    group, members, paged = pages(composed)[number]
    if not paged:
        return f"{group}{what}"
    first, last = (a.ranked.rank if a.ranked else "" for a in (members[0], members[-1]))
    return f"{group}{what}（第 {first}–{last} 名）"


def render(composed: ComposedResults, name: str, fmt: str) -> bytes:
    """The chart `name` as PNG or SVG bytes."""
    return render_many(composed, name, (fmt,))[fmt]


def render_many(composed: ComposedResults, name: str, fmts) -> dict[str, bytes]:
    """The chart `name` in each format of `fmts`, from one drawing of the figure (building
    it costs as much as saving it once)."""
    if any(fmt not in FORMATS for fmt in fmts):
        raise ValueError(f"unknown chart format in {fmts!r}")
    raster = load_drawing()
    figure = draw(composed, name)
    files = {}
    for fmt in fmts:
        if fmt == "png":     # savefig's pixels, without its set-up, from cached glyphs
            files[fmt] = raster.png(figure, DPI)
            continue
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, dpi=DPI, metadata=_metadata(fmt))
        files[fmt] = buffer.getvalue()
    return files


def load_drawing():
    """Import and set up what drawing a chart needs (matplotlib, its figure and polar axes,
    the CJK font, raster.py's caching), once per process; returns the raster module.
    A process that forks chart workers calls it first, so that they inherit it all: in each
    worker it is ~0.4 s of CPU, paid by both workers of every pool."""
    from matplotlib import figure  # noqa: F401 - imported to be inherited
    from matplotlib.projections import polar  # noqa: F401 - imported to be inherited

    from evaluation.reports import raster  # matplotlib: only where charts are drawn

    use_cjk_font()
    raster.install()
    return raster


def _metadata(fmt: str) -> dict:
    # No creation date: the same results give the same file (raster.png writes none).
    return {"Date": None, "Creator": None}


def draw(composed: ComposedResults, name: str):
    match = NAME.fullmatch(name)
    if match is None or not is_chart(composed, name):
        raise KeyError(name)
    kind, number = name.split("-")
    if kind in ("ranking", "breakdown"):
        members = pages(composed)[int(number)][1]
        title = chart_title(composed, name)
        return (ranking_chart if kind == "ranking" else breakdown_chart)(composed, title, members)
    agency = composed.result.by_agency[int(number)]
    return {"radar": radar_chart, "marks": marks_chart, "trend": trend_chart}[kind](
        composed, agency)


def _figure(width: float, height: float, **options):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, **options)


# Agency charts share their layout: the figure and axes of one agency's chart are kept and
# refilled for the next (per process), instead of built anew. Building axes and their ticks
# is about a third of such a chart's time, and 400 agencies have 1,200 of them. So a process
# draws one chart at a time (the chart pool's processes, the job worker, a test), never
# from several threads; `draw` hands out a kept figure until the next chart of its kind.
_KEPT_FIGURES: dict[tuple, object] = {}
FIXED_GID = "kept-artist"    # a data artist of a kept figure refilled, not removed
POOL_GID = "kept-annotation"  # an annotation of a kept figure, refilled or hidden (_annotate)


def _refilled(key: tuple, build, relim: bool = False):
    """(figure, True) built by `build()` the first time; then (the same figure, False) with
    every data artist removed (but those with the gid FIXED_GID, which the chart refills) and
    the data limits reset if `relim` (a chart that sets its limits by hand need not),
    ready to draw the next agency."""
    figure = _KEPT_FIGURES.get(key)
    if figure is None:
        figure = _KEPT_FIGURES[key] = build()
        return figure, True
    for axes in figure.axes:
        for artist in [*axes.lines, *axes.collections, *axes.patches, *axes.texts]:
            if artist.get_gid() not in (FIXED_GID, POOL_GID):
                artist.remove()
        if relim:
            axes.relim()
    return figure, False


def _backdrops(figure, *backdrops: tuple) -> None:
    """Name the parts of a kept figure that the next agency's chart draws alike, as
    (key: what they depend on, artists[, band low, high]): drawn once per key and pasted
    (raster.Backdrop); savefig ignores them and draws everything."""
    from evaluation.reports.raster import BACKDROPS, Backdrop

    setattr(figure, BACKDROPS, [Backdrop(*backdrop) for backdrop in backdrops])


def _annotate(axes, notes: list, **style) -> None:
    """Annotations of a kept figure's axes, one per (text, point, offset, alignment) of
    `notes`, in `style` (given when one is made: all annotations of the axes share it):
    the axes' kept annotations refilled in order, more made when needed, those left over
    hidden. Making an annotation (a Text, its font properties and transforms) cost more
    than drawing it; a refilled one draws the same (tests compare kept figures with new
    ones, pixel for pixel)."""
    kept = [text for text in axes.texts if text.get_gid() == POOL_GID]
    for text, point, offset, side in notes[len(kept):]:
        kept.append(axes.annotate(text, point, xytext=offset, textcoords="offset points",
                                  ha=side, annotation_clip=False, gid=POOL_GID, **style))
    for annotation, (text, point, offset, side) in zip(kept, notes, strict=False):
        annotation.set_text(text)
        annotation.xy = point
        if annotation.get_position() != offset:
            annotation.set_position(offset)
        annotation.set_horizontalalignment(side)
        annotation.set_visible(True)
    for annotation in kept[len(notes):]:
        annotation.set_visible(False)


def _grade_colour(composed: ComposedResults, grade: str | None) -> str:
    names = grade_names(composed.policy)
    if grade not in names:
        return "#7f7f7f"
    index = names.index(grade)
    return GRADE_COLOURS[-1] if index == len(names) - 1 else GRADE_COLOURS[min(index, 2)]


def _bar_labels(composed: ComposedResults, members) -> list[str]:
    # A shared rank says so, as the announcement, workbook and pages do: "1" twice read
    # as a mistake.
    return [f"{_rank_text(a.ranked)}  {composed.agencies[a.agency].name}" for a in members]


def _rank_text(ranked) -> str:
    if ranked is None:
        return ""
    return f"{ranked.rank}（并列）" if ranked.shared else str(ranked.rank)


def _axes_title(axes, title: str) -> None:
    axes.set_title(title, fontsize=TITLE_SIZE, y=FIXED, pad=TITLE_PAD,
                   linespacing=TITLE_SPACING)


def _figure_title(figure, title: str, top: float) -> None:
    """A title over the whole figure, its first line `top` inches below the edge."""
    figure.suptitle(title, fontsize=TITLE_SIZE, y=1 - top / figure.get_figheight(),
                    linespacing=TITLE_SPACING)


def _bar_figure(composed: ComposedResults, members, bottom: float = 0.55):
    """A figure for horizontal bars with room for the longest label, laid out by hand:
    constrained layout draws every label twice more, the costliest part of a bar chart."""
    height = 0.5 + TITLE_ROOM + bottom + 0.28 * len(members)
    figure = _figure(9, height)
    labels = _bar_labels(composed, members)
    label_inches = max(map(display_width, labels), default=4) * 0.5 * 10 / 72 + 0.25
    figure.subplots_adjust(left=min(0.5, label_inches / 9), right=0.97,
                           top=1 - TITLE_ROOM / height, bottom=bottom / height)
    return figure, labels


def ranking_chart(composed: ComposedResults, title: str, members):
    figure, labels = _bar_figure(composed, members)
    axes = figure.add_subplot()
    totals = [float(a.total) for a in members]
    colours = [_grade_colour(composed, a.graded.grade if a.graded else None) for a in members]
    _bars(axes, [0.0] * len(members), totals, colours)
    _bar_rows(axes, labels)
    low = max(0.0, math.floor(min(totals, default=0) / 10) * 10 - 10)
    axes.set_xlim(low, max(100.0, max(totals, default=100) + 3))
    for position, agency in enumerate(members):
        grade = f"  {agency.graded.grade}" if agency.graded else ""
        axes.text(float(agency.total) + 0.3, position, f"{agency.total:.2f}{grade}",
                  va="center", fontsize=8)
    axes.set_xlabel("总分")
    _axes_title(axes, f"{composed.title}\n{title}")
    _grade_legend(composed, axes)
    axes.grid(axis="x", alpha=0.3)
    return figure


def _bars(axes, lefts, widths, colours, label: str | None = None):
    """Horizontal bars, one per row from the top, as one collection: `barh` adds a Rectangle
    artist per bar and recomputes the data limits for each (a third of a 40-bar chart's
    drawing time, six times over in a stacked one); the limits here are set by hand."""
    from matplotlib.collections import PolyCollection

    half = BAR_HEIGHT / 2
    boxes = [[(left, row - half), (left + width, row - half), (left + width, row + half),
              (left, row + half)] for row, (left, width) in enumerate(zip(lefts, widths,
                                                                          strict=True))]
    bars = PolyCollection(boxes, facecolors=colours, edgecolors="none", label=label)
    axes.add_collection(bars, autolim=False)
    return bars


def _bar_rows(axes, labels: list[str]) -> None:
    """Rows from the top, each named left of the axes. The names are plain texts, not tick
    labels: 40 ticks are 40 Tick objects built and deep-copied and every label's extent
    measured again on each draw, the costliest part of the chart after the text itself."""
    from matplotlib.transforms import blended_transform_factory

    axes.set_ylim(len(labels) - 0.5 + BAR_MARGIN, -0.5 - BAR_MARGIN)
    axes.set_yticks([])
    _no_axis_labels(axes.yaxis)
    place = blended_transform_factory(axes.transAxes, axes.transData)
    for row, label in enumerate(labels):
        axes.text(-0.01, row, label, transform=place, ha="right", va="center", fontsize=10,
                  gid="row-label")


def row_labels(figure) -> list:
    """The row names of a bar chart (tests read them)."""
    return [t for t in figure.axes[0].texts if t.get_gid() == "row-label"]


def _grade_legend(composed: ComposedResults, axes) -> None:
    from matplotlib.patches import Patch

    names = grade_names(composed.policy)
    if names:
        axes.legend(handles=[Patch(color=_grade_colour(composed, g), label=g) for g in names],
                    loc="lower right", fontsize=8, framealpha=0.9)


def breakdown_chart(composed: ComposedResults, title: str, members):
    figure, labels = _bar_figure(composed, members, bottom=0.85)
    axes = figure.add_subplot()
    positions = list(range(len(members)))
    left = [0.0] * len(members)
    specs = composed.policy.composition.stages
    for colour, spec in zip(STAGE_COLOURS * 2, specs, strict=False):
        values = []
        for agency in members:
            part = next((p for p in agency.composition.parts if p.code == spec.code), None)
            values.append(float(part.product) if part else 0.0)
        _bars(axes, left, values, colour, label=f"{stage_name(spec.code)}（{spec.weight:f}%）")
        left = [a + b for a, b in zip(left, values, strict=True)]
    bonus = [float(a.composition.bonus) for a in members]
    if any(bonus):
        _bars(axes, left, bonus, "#edc948", label="加分")
    for position, agency in zip(positions, members, strict=True):
        deduction = f"（扣 {agency.composition.deduction:f}）" if agency.composition.deduction \
            else ""
        axes.text(float(agency.composition.weighted_sum + agency.composition.bonus) + 0.5,
                  position, f"{agency.total:.2f}{deduction}", va="center", fontsize=8)
    _bar_rows(axes, labels)
    axes.set_xlim(0, 112)
    axes.set_xlabel("加权得分")
    _axes_title(axes, f"{composed.title}\n{title}")
    figure.legend(*axes.get_legend_handles_labels(), loc="lower center", ncol=6,
                  fontsize=8, frameon=False)
    return figure


def radar_chart(composed: ComposedResults, agency):
    scores = composed.indicator_scores.get(agency.agency, ())
    title = f"{composed.agencies[agency.agency].name}\n一级指标得分率"
    if len(scores) < 3:   # a radar needs three axes; fewer read better as plain numbers
        figure = _figure(5, 4.6)
        axes = figure.add_subplot()
        figure.subplots_adjust(top=1 - TITLE_ROOM / 4.6)
        axes.axis("off")
        lines = [f"{s.name}：{s.score:f} / {_points(s.max_points)}" for s in scores] or [
            "暂无指标得分"]
        axes.text(0.5, 0.5, "\n".join(lines), ha="center", va="center", fontsize=11)
        _axes_title(axes, title)
        return figure
    figure, _new = _refilled(("radar", len(scores)), lambda: _radar_figure(len(scores)),
                             relim=True)
    axes = figure.axes[0]
    angles = _radar_angles(len(scores))
    shares = [float(s.score / s.max_points * 100) if s.max_points else 0.0 for s in scores]
    outline, area = _radar_shape(axes)
    outline.set_data(angles + angles[:1], shares + shares[:1])
    area.set_xy(list(zip(angles + angles[:1], shares + shares[:1], strict=True)))
    for label, s in zip(radar_labels(figure), scores, strict=True):
        label.set_text(f"{s.name}\n{s.score:f}/{_points(s.max_points)}")
    # a figure title above the labels: the axes title sits where the top label is drawn
    _figure_title(figure, title, top=0.1)
    # the grid, rings and their labels: under the data (set_axisbelow), the same for
    # every agency with this many indicators
    _backdrops(figure, (("radar", len(scores)), (axes.patch, axes.xaxis, axes.yaxis)))
    return figure


def radar_labels(figure) -> list:
    """The radar's indicator names and scores, one per spoke (tests read them)."""
    return [t for t in figure.axes[0].texts if t.get_gid() == FIXED_GID]


def _radar_shape(axes) -> tuple:
    """The radar's kept outline (a line) and area (a translucent polygon under it), made
    once per figure (_radar_figure) and refilled: making them was a third of the chart's
    setting up."""
    return axes.lines[0], axes.patches[0]


def _radar_angles(count: int) -> list[float]:
    return [2 * math.pi * i / count for i in range(count)]


def _radar_figure(count: int):
    """The radar's axes, grid, rings and their labels: the same for every agency with
    `count` first-level indicators, so set once (setting ticks builds Tick objects).
    The spokes' labels (an agency's scores) are texts where the empty tick labels are,
    so the axis draws the same for every agency."""
    figure = _figure(5, 4.6)
    axes = figure.add_subplot(projection="polar")
    figure.subplots_adjust(left=0.12, right=0.88, top=0.76, bottom=0.08)
    axes.set_axisbelow(True)       # grid under the data: one backdrop for every agency
    axes.set_xticks(_radar_angles(count), [""] * count, fontsize=8)
    axes.tick_params(axis="x", pad=8)
    axes.set_ylim(0, 100)
    axes.set_yticks([20, 40, 60, 80, 100], ["20%", "40%", "60%", "80%", "100%"], fontsize=7)
    axes.plot([0, 0], [0, 0], color=KEPT, linewidth=2, gid=FIXED_GID)    # _radar_shape
    axes.fill([0, 0, 0], [0, 0, 0], color=KEPT, alpha=0.25, gid=FIXED_GID)
    _no_axis_labels(axes.xaxis, axes.yaxis)
    axes.xaxis._update_ticks()     # places each tick's label (a ThetaTick pads it outwards)
    for tick in axes.xaxis.get_major_ticks()[:count]:
        place = tick.label1
        axes.text(*place.get_position(), "", transform=place.get_transform(),
                  ha=place.get_horizontalalignment(), va=place.get_verticalalignment(),
                  rotation=place.get_rotation(), rotation_mode=place.get_rotation_mode(),
                  fontproperties=place.get_fontproperties(), gid=FIXED_GID)
    return figure


def _no_axis_labels(*axes) -> None:
    """Axes without an axis label: matplotlib still measures every tick label on each draw
    to move the (empty) label clear of them, unless the label has a fixed place."""
    for axis in axes:
        axis.set_label_coords(0.5, 0.5)


def _points(value) -> str:
    """A maximum as written in the indicator system: 40, not 40.00 (the database's scale)."""
    return f"{value.normalize():f}"


def marks_chart(composed: ComposedResults, agency):
    panels = list(agency_panels(agency))
    name = composed.agencies[agency.agency].name
    if not panels:
        figure = _figure(8, 2.35)
        axes = figure.add_subplot()
        axes.axis("off")
        axes.text(0.5, 0.5, "暂无评委打分", ha="center", va="center")
        return figure
    figure, _new = _refilled(("marks", len(panels)), lambda: _marks_figure(len(panels)))
    for axes, panel in zip(figure.axes, panels, strict=True):
        _panel_strip(composed, axes, panel)
    # the agency's name a line of its own, as on its radar and trend: laid out once for all three
    _figure_title(figure, f"{name}\n评委打分（虚线为得分，红色 × 为去掉的最高分、最低分）",
                  top=0.12)
    # each panel's axes, ticks and their labels (zorder 1.5, before its data): a band of the
    # figure each, cut halfway between panels, where neither draws; and each band cut
    # where its y axis (the panel's name, at its place within the y limits) ends and its
    # x axis (the marks' scale) begins, a little right of the axes' left edge: the same
    # x axis for every panel with these x limits (a multiple of MARK_STEP), the same name
    # for every agency with as many equal marks, each drawn once (the pair was drawn for
    # nearly one chart in three)
    boxes = [axes.get_position() for axes in figure.axes]
    cuts = [1.0, *((upper.y0 + lower.y1) / 2 for upper, lower in pairwise(boxes)), 0.0]
    split = boxes[0].x0 + AXIS_CUT / (figure.get_figwidth() * figure.dpi)
    _backdrops(figure, *(part for axes, panel, (high, low) in zip(
        figure.axes, panels, pairwise(cuts), strict=True) for part in (
        (("marks-y", panel.label, axes.get_ylim()), (axes.yaxis,), low, high, 0.0, split),
        (("marks-x", axes.get_xlim()), (axes.patch, axes.xaxis), low, high, split, 1.0))))
    return figure


def _marks_figure(count: int):
    figure = _figure(8, 1.5 + 1.15 * count)
    figure.subplots(count, 1, squeeze=False)
    for axes in figure.axes:
        axes.tick_params(axis="x", labelsize=8)
        for side in ("top", "right", "left"):
            axes.spines[side].set_visible(False)
        _no_axis_labels(axes.xaxis, axes.yaxis)
        # the marks of every agency as two lines of markers made once per panel and refilled
        # (a scatter call is a tenth of the chart's time, and a scatter collection measures
        # its marker's outline on every draw): first, so drawn before the names at a zorder
        # (a filled disc: an edge of its own would double the alpha along it)
        axes.plot([], [], linestyle="none", marker="o", markersize=math.sqrt(30) + 1.5,
                  markeredgewidth=0, color=KEPT, alpha=0.7, zorder=3, label="计入",
                  gid=FIXED_GID)
        axes.plot([], [], linestyle="none", marker="x", markersize=math.sqrt(60),
                  markeredgewidth=2, color=DROPPED, zorder=4, label="去掉", gid=FIXED_GID)
        axes.axvline(0, color="#333333", linewidth=1, linestyle="--", gid=FIXED_GID)
        for side in ("left", "right"):
            axes.set_title("", fontsize=8, loc=side, y=FIXED)
    figure.subplots_adjust(left=0.2, right=0.97, top=1 - 0.85 / figure.get_figheight(),
                           bottom=0.35 / figure.get_figheight() + 0.05, hspace=0.9)
    return figure


_SIDE = {True: "left", False: "right"}  # a text right of its point starts there ("left")


def _panel_strip(composed: ComposedResults, axes, panel) -> None:
    result = panel.result
    fate = result.fate()
    # equal marks are stacked a little apart, so a kept 97 is not hidden by a dropped 97
    seen: dict[float, int] = {}
    points = []
    for judge, mark in result.given():
        if mark is None:
            continue
        x = float(mark)
        y = 0.35 * seen.get(x, 0)
        seen[x] = seen.get(x, 0) + 1
        points.append((x, y, fate[judge], judge_name(composed, panel.stage, judge)))
    kept = [(x, y) for x, y, what, _ in points if what == "kept"]
    dropped = [(x, y, who) for x, y, what, who in points if what != "kept"]
    kept_marks, dropped_marks, base = axes.lines[:3]
    kept_marks.set_data([x for x, _ in kept], [y for _, y in kept])
    dropped_marks.set_data([x for x, *_ in dropped], [y for _, y, _ in dropped])
    values = [float(m) for _, m in result.given() if m is not None] or [0.0]
    # Two texts per dropped mark, each drawn often (a mark, a name), not one new string per
    # agency (laying out a new string is the costliest part of a chart). The name runs
    # towards the middle: right of a low mark, left of a high one, whose long name (an
    # agency's, in peer review) ran off the figure's right edge; the mark the other way.
    middle = (min(values) + max(values)) / 2
    notes = []
    for x, y, who in dropped:
        away = -1.5 if x > middle else 1.5   # the name's offset, in points
        notes += [(f"{x:g}", (x, y), (-away, 7), _SIDE[-away > 0]),
                  (who, (x, y), (away, 7), _SIDE[away > 0])]
    _annotate(axes, notes, fontsize=7, color=DROPPED)
    base.set_xdata([float(result.base)] * 2)      # the panel's score, dashed
    # limits a mark beyond multiples of MARK_STEP: 84-101 for marks of 86.5-100, so a few
    # hundred different axes for 1,600 panels, each drawn once (a backdrop); at least one
    # step wide: marks all on one multiple (a lone 100) get 94-101, not 99-101 in quarters,
    # and a lone 0 gets -1-6 (no negative marks). Set only when they change (setting them
    # runs the axis' callbacks).
    low = math.floor(min(values) / MARK_STEP) * MARK_STEP
    high = math.ceil(max(values) / MARK_STEP) * MARK_STEP
    if high - low < MARK_STEP:
        low, high = (high - MARK_STEP, high) if high >= MARK_STEP else (low, low + MARK_STEP)
    limits = ((low - 1, high + 1), (-0.8, 0.8 + 0.35 * max(seen.values(), default=1)))
    if (axes.get_xlim(), axes.get_ylim()) != limits:
        axes.set_xlim(*limits[0])
        axes.set_ylim(*limits[1])
    if getattr(axes.yaxis.get_major_formatter(), "seq", None) != [panel.label]:
        # what set_yticks set (a FixedFormatter); its tick labels would be made to compare
        axes.set_yticks([0], [panel.label], fontsize=9)
    recused = len(result.recused)
    counted, score = _panel_titles(axes)
    counted.set_text(f"{result.count} 个计入" + (f"，{recused} 人回避" if recused else ""))
    score.set_text(f"得分 {result.value:f}")


def _panel_titles(axes) -> tuple:
    """A marks panel's two titles (count left, score right), styled once (_marks_figure):
    set_title restyles the title each time."""
    return axes._left_title, axes._right_title



def trend_chart(composed: ComposedResults, agency):
    figure, _new = _refilled(("trend",), _trend_figure, relim=True)
    axes = figure.axes[0]
    points = [(p.year, p.total, p.rank, p.grade)
              for p in composed.history.get(agency.agency, ())]
    points.append((composed.year, agency.total, agency.ranked.rank if agency.ranked else None,
                   agency.graded.grade if agency.graded else None))
    points.sort(key=lambda point: point[0])
    years = [year for year, *_ in points]
    totals = [float(total) for _, total, *_ in points]
    axes.plot(years, totals, marker="o", color=KEPT, linewidth=2)
    # every point is inside the limits set below: no need for matplotlib to check it
    _annotate(axes, [(f"{total:.2f}" + (f"\n第{rank}名" if rank else "") +
                      (f" {grade}" if grade else ""), (year, float(total)), (0, 8), "center")
                     for year, total, rank, grade in points], fontsize=7)
    if list(axes.get_xticks()) != years:     # the same years for nearly every agency
        axes.set_xticks(years, [f"{year}年" for year in years], fontsize=8)
    low = min(totals)
    axes.set_ylim(max(0.0, math.floor(low / 10) * 10 - 10), 105)
    _axes_title(axes, f"{composed.agencies[agency.agency].name}\n历年得分")
    # the grid, ticks and their labels: drawn before the line (zorder 1.5 < 2), the same
    # for every agency with these years and limits (the lower limit is a multiple of 10)
    _backdrops(figure, (("trend", tuple(years), axes.get_xlim(), axes.get_ylim()),
                        (axes.patch, axes.xaxis, axes.yaxis)))
    return figure


def _trend_figure():
    height = 3.0 + TITLE_ROOM
    figure = _figure(6, height)
    axes = figure.add_subplot()
    axes.set_ylabel("总分")
    axes.margins(x=0.12)
    axes.grid(alpha=0.3)
    _no_axis_labels(axes.xaxis)
    figure.subplots_adjust(left=0.12, right=0.95, top=1 - TITLE_ROOM / height,
                           bottom=0.4 / height)
    return figure
