"""The 公示 (results announcement) text, in the wording organizers use, from frozen results.

Generated when a version is composed; the organizer edits it before publishing, and the text
is kept with the version.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from evaluation.clock import LOCAL_TZ
from evaluation.services.results_freeze import FrozenView

ORDINALS = "一二三四五六七八九十"
DEFAULT_APPEAL_DAYS = 7


def _ordinal(index: int) -> str:
    return ORDINALS[index] if index < len(ORDINALS) else str(index + 1)


def _date(moment: datetime) -> str:
    local = moment.astimezone(LOCAL_TZ)
    return f"{local.year}年{local.month}月{local.day}日"


def announcement_text(view: FrozenView, *, starts: datetime,
                      appeal_days: int = DEFAULT_APPEAL_DAYS) -> str:
    data = view.data
    campaign = data["campaign"]
    stage_names = "、".join(stage["name"] for stage in view.stages)
    lines = [
        f"关于{campaign['title']}结果的公示",
        "",
        f"根据年度普法工作安排，{campaign['organization']}组织开展了{campaign['title']}。"
        f"经{stage_names}等环节，按照既定计分规则综合计分，形成评议结果。"
        "现将评议结果予以公示：",
        "",
    ]
    for index, (group, members) in enumerate(view.by_group()):
        lines.append(f"{_ordinal(index)}、{group}（共 {len(members)} 个单位）")
        for member in members:
            tied = "（并列）" if member["shared"] else ""
            grade = f"，{member['grade']}" if member["grade"] else ""
            lines.append(f"  第{member['rank']}名{tied} {member['name']}："
                         f"{member['total']} 分{grade}")
        lines.append("")
    ends = starts + timedelta(days=appeal_days)
    lines += [
        f"公示期为 {appeal_days} 天（{_date(starts)}至{_date(ends)}）。"
        "被评议单位对评议结果有异议的，请在公示期内通过评议平台提交书面申诉，"
        "说明理由并附相关材料；逾期不予受理。",
        f"评分规则指纹（SHA-256）：{view.fingerprint}",
        "",
        campaign["organization"],
        _date(starts),
    ]
    return "\n".join(lines)
