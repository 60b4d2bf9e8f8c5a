"""Demo data for 部署安排, 自查自评 and 回避登记 of the city campaign.

Most agencies submitted and were accepted; some were returned with comments (the demo
contact `sifaju`'s among them, reopened so it can be revised live); one was resubmitted
and waits for review; a few never submitted. Some contacts have read the notice; a judge
and an inspector have declared conflicts. Deterministic: its own seeded generator.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from evaluation.clock import LOCAL_TZ
from evaluation.models import (
    Agency,
    Campaign,
    CampaignAgency,
    CampaignNotice,
    ConflictDeclaration,
    EvidenceFile,
    Indicator,
    Judge,
    NoticeAttachment,
    NoticeReceipt,
    ReviewComment,
    ReviewDecision,
    Role,
    SelfScore,
    StoredFile,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
    User,
)
from evaluation.models.base import utcnow
from evaluation.services.file_store import write_blob
from evaluation.services.self_assessment import leaf_indicators

SEED = 2025
NOTICE_TITLE = "关于开展2024年度国家机关“谁执法谁普法”履职评议工作的通知"
NOTICE_BODY = """各参评单位：

为深入落实国家机关“谁执法谁普法”普法责任制，经市委全面依法治市委员会守法普法协调小组研究，
决定开展 **2024 年度履职评议**。现将有关事项通知如下。

## 一、评议对象

市直各单位、中省驻韶单位、各县（市、区）人民政府，分 **市直组** 和 **县区组** 排名。

## 二、评议方式

1. 自查自评：各单位对照指标体系逐项自评，撰写履职报告，上传佐证材料；
2. 媒体公示、社会评议、实地考察、现场评议、互评，具体时间见下方日程。

## 三、工作要求

- 各单位确定一名联络员，使用评议办发送的邀请链接设置密码；
- 佐证材料须真实、完整，每个文件不超过 10 MB；
- 逾期未提交的，按未完成自查自评处理。

联系人：市普法办 黄科长，电话 0751-8888888。
"""
MISSING = 4  # agencies of 市直组 that never submit
RETURNED = ("市司法局", "市交通运输局", "市水务局")
RESUBMITTED = "市生态环境局"
PENDING_REVIEW = ("市商务局", "市审计局")
READERS = 18  # contacts who opened the notice
PDF_BYTES = b"%PDF-1.4\n% demo\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
COMMENTS = [
    "佐证材料仅有会议通知，缺少落实情况的记录，请补充。",
    "自评分偏高：年度计划未见领导班子审议记录。",
    "请补充以案释法典型案例的具体名称和发布渠道。",
]


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2025, 1, 16, hour, 0, tzinfo=LOCAL_TZ) + timedelta(days=day)


def _report(agency: Agency, rng: random.Random) -> str:
    events, cases, views = rng.randint(20, 80), rng.randint(5, 30), rng.randint(2, 40)
    return (
        f"# {agency.name}2024年度“谁执法谁普法”履职报告\n\n"
        "## 一、组织领导\n\n"
        f"{agency.name}党组将普法工作纳入年度重点工作，制定普法责任清单，"
        "明确分管领导和责任科室。\n\n"
        "## 二、主要做法\n\n"
        f"- 全年开展主题普法活动 **{events} 场**；\n"
        f"- 发布以案释法典型案例 {cases} 个；\n"
        f"- 新媒体普法作品累计阅读 {views} 万人次。\n\n"
        "## 三、存在问题和下一步打算\n\n"
        "基层执法人员普法能力仍需提升，下一步将完善执法过程中的实时普法机制。\n"
    )


def _points(node: Indicator, rng: random.Random) -> Decimal:
    share = Decimal(rng.choice([70, 80, 85, 90, 95, 100])) / 100
    # Whole points, stored with the column's two decimals like a mark typed into the form.
    return (node.max_points * share).quantize(Decimal("1")).quantize(Decimal("0.01"))


def load_self_assessment_demo(session: Session, campaign: Campaign, root: Path | None) -> None:
    rng = random.Random(SEED)
    enrolled = session.exec(
        select(Agency, CampaignAgency)
        .join(CampaignAgency, CampaignAgency.agency_id == Agency.id)
        .where(CampaignAgency.campaign_id == campaign.id)
        .order_by(CampaignAgency.group_name, CampaignAgency.position)
    ).all()
    agencies = [agency for agency, _entry in enrolled]
    organizer = session.exec(select(User).where(User.username == "organizer")).one()
    contacts = _contacts(session, agencies)
    notice = _notice(session, campaign, organizer, root)
    _receipts(session, notice, agencies, contacts, rng)
    leaves = leaf_indicators(
        list(session.exec(select(Indicator).where(Indicator.campaign_id == campaign.id)))
    )
    city_group = [a for a, entry in enrolled if entry.group_name == "市直组"]
    named = {*RETURNED, RESUBMITTED, *PENDING_REVIEW}
    never = [a for a in reversed(city_group) if a.name not in named][:MISSING]
    missing = {a.id for a in never}
    for agency in agencies:
        if agency.id in missing:
            continue
        _submission(session, campaign, agency, contacts[agency.id], organizer, leaves, root, rng)
    _conflicts(session, campaign, organizer, agencies)
    session.commit()


def _contacts(session: Session, agencies: list[Agency]) -> dict[int, User]:
    found = {
        u.agency_id: u for u in session.exec(select(User).where(User.role == Role.AGENCY_CONTACT))
    }
    shared_hash = generate_password_hash("demo-contact-no-login-" + str(SEED))
    for number, agency in enumerate(agencies, start=1):
        if agency.id not in found:
            user = User(
                username=f"lly{number:02d}",
                display_name=f"{agency.name}联络员",
                role=Role.AGENCY_CONTACT,
                organization_id=agency.organization_id,
                agency_id=agency.id,
                password_hash=shared_hash,
            )
            session.add(user)
            found[agency.id] = user
    session.flush()
    return found


def _stored(session: Session, root: Path | None, name: str, user: User) -> StoredFile | None:
    if root is None:
        return None  # no instance folder to write blobs to: the demo goes without files
    data = PDF_BYTES + name.encode("utf-8")
    stored = StoredFile(
        sha256=write_blob(root, data),
        size_bytes=len(data),
        media_type="application/pdf",
        original_name=name,
        uploaded_by=user.id,
    )
    session.add(stored)
    session.flush()
    return stored


def _notice(session, campaign, organizer, root) -> CampaignNotice:
    notice = CampaignNotice(
        campaign_id=campaign.id,
        title=NOTICE_TITLE,
        body_md=NOTICE_BODY,
        published_at=_at(-8),
        updated_at=_at(-8),
    )
    session.add(notice)
    session.flush()
    stored = _stored(session, root, "2024年度履职评议实施方案.pdf", organizer)
    if stored:
        session.add(NoticeAttachment(notice_id=notice.id, file_id=stored.id))
    return notice


def _receipts(session, notice, agencies, contacts, rng) -> None:
    readers = [a for a in agencies if a.name == "市司法局"]
    readers += rng.sample([a for a in agencies if a.name != "市司法局"], READERS - 1)
    for hours, agency in enumerate(readers):
        contact = contacts[agency.id]
        session.add(
            NoticeReceipt(
                notice_id=notice.id,
                user_id=contact.id,
                agency_id=agency.id,
                read_at=_at(-8) + timedelta(hours=2 + hours * 3),
            )
        )


def _snapshot(leaves, scores: dict[int, SelfScore], files: list[StoredFile]) -> tuple[str, str]:
    rows = [
        {
            "indicator_id": n.id,
            "code": n.code,
            "name": n.name,
            "max_points": str(n.max_points),
            "points": str(scores[n.id].points) if n.id in scores else None,
            "explanation": scores[n.id].explanation if n.id in scores else "",
        }
        for n in leaves
    ]
    file_rows = [
        {"file_id": f.id, "name": f.original_name, "size_bytes": f.size_bytes, "sha256": f.sha256}
        for f in files
    ]
    return json.dumps(rows, ensure_ascii=False), json.dumps(file_rows, ensure_ascii=False)


def _submission(session, campaign, agency, contact, organizer, leaves, root, rng) -> None:
    report = _report(agency, rng)
    submission = Submission(campaign_id=campaign.id, agency_id=agency.id, report_md=report)
    session.add(submission)
    session.flush()
    scores = {}
    for node in leaves:
        if node.kind.value != "normal" and rng.random() < 0.6:
            continue  # most agencies claim no bonus
        scores[node.id] = SelfScore(
            submission_id=submission.id,
            indicator_id=node.id,
            points=_points(node, rng),
            explanation=f"详见佐证材料 {node.code}。",
        )
    session.add_all(scores.values())
    files = [
        f
        for f in (
            _stored(session, root, f"{agency.name}普法责任清单.pdf", contact),
            _stored(session, root, f"{agency.name}普法活动台账.pdf", contact),
        )
        if f
    ]
    session.add_all(EvidenceFile(submission_id=submission.id, file_id=f.id) for f in files)
    submitted_day = rng.randint(5, 25)
    scores_json, files_json = _snapshot(leaves, scores, files)
    first = SubmissionVersion(
        submission_id=submission.id,
        number=1,
        report_md=report,
        scores_json=scores_json,
        files_json=files_json,
        submitted_by=contact.id,
        submitted_at=_at(submitted_day, 16),
    )
    session.add(first)
    session.flush()
    submission.version_count = 1
    if agency.name in PENDING_REVIEW:
        submission.status = SubmissionStatus.SUBMITTED
        return
    if agency.name in RETURNED or agency.name == RESUBMITTED:
        _return(session, submission, first, organizer, leaves, rng, submitted_day)
        if agency.name == RESUBMITTED:
            _resubmit(session, submission, first, contact, scores, leaves, files, submitted_day)
        return
    first.decision, first.reviewed_by = ReviewDecision.ACCEPTED, organizer.id
    first.reviewed_at = _at(submitted_day + 2)
    submission.status = SubmissionStatus.ACCEPTED


def _return(session, submission, version, organizer, leaves, rng, day) -> None:
    version.decision, version.reviewed_by = ReviewDecision.RETURNED, organizer.id
    version.reviewed_at = _at(day + 1)
    version.review_note = "材料总体完整，以下指标请补充后重新提交。"
    for node, comment in zip(rng.sample(leaves[:10], 2), COMMENTS, strict=False):
        session.add(ReviewComment(version_id=version.id, indicator_id=node.id, comment=comment))
    submission.status = SubmissionStatus.RETURNED
    # Reopened into the future, so the demo contact can revise it while clicking through.
    submission.reopened_until = utcnow() + timedelta(days=30)


def _resubmit(session, submission, first, contact, scores, leaves, files, day) -> None:
    revised = first.report_md.replace(
        "## 三、存在问题",
        "## 补充说明\n\n已补充年度普法计划审议记录和以案释法案例清单。\n\n## 三、存在问题",
    )
    lowered = next(iter(scores.values()))
    lowered.points = max(Decimal("0"), lowered.points - 1)
    lowered.explanation = "根据评议办意见调整，附会议纪要。"
    scores_json, files_json = _snapshot(leaves, scores, files)
    session.add(
        SubmissionVersion(
            submission_id=submission.id,
            number=2,
            report_md=revised,
            scores_json=scores_json,
            files_json=files_json,
            submitted_by=contact.id,
            submitted_at=_at(day + 4, 11),
        )
    )
    submission.report_md = revised
    submission.version_count = 2
    submission.status = SubmissionStatus.SUBMITTED
    submission.reopened_until = None


def _conflicts(session, campaign, organizer, agencies) -> None:
    by_name = {a.name: a for a in agencies}
    judge = session.exec(
        select(Judge).where(Judge.campaign_id == campaign.id, Judge.name == "郑晓明")
    ).first()
    if judge and "市中级人民法院" in by_name:
        session.add(
            ConflictDeclaration(
                campaign_id=campaign.id,
                agency_id=by_name["市中级人民法院"].id,
                judge_id=judge.id,
                reason="本人所在律师事务所2024年代理该院审理的多起案件，申请回避。",
                recorded_by=organizer.id,
                declared_at=_at(-2),
            )
        )
    inspector = session.exec(select(User).where(User.username == "inspector")).first()
    if inspector and "市教育局" in by_name:
        session.add(
            ConflictDeclaration(
                campaign_id=campaign.id,
                agency_id=by_name["市教育局"].id,
                inspector_id=inspector.id,
                reason="配偶在市教育局任职。",
                recorded_by=inspector.id,
                declared_at=_at(-1),
            )
        )
    for judge in session.exec(select(Judge).where(Judge.campaign_id == campaign.id)):
        if not judge.contact:
            judge.contact = f"1380751{judge.id:04d}"
            session.add(judge)
