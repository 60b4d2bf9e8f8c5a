"""Organizer workflows through the HTTP client: what is saved, what is refused and why."""

from __future__ import annotations

from decimal import Decimal

import factories as f
import pytest
from sqlmodel import select

from evaluation.models import Agency, AuditEvent, Campaign, Indicator, Judge, Role, Stage, StageKind
from evaluation.services.campaigns import STAGE_ORDER
from evaluation.services.indicators import IndicatorFields, create_indicator

GOOD_WEIGHTS = {
    "deployment": "0",
    "self_assessment": "20",
    "media_publicity": "10",
    "public_review": "20",
    "field_inspection": "15",
    "onsite_review": "25",
    "peer_review": "10",
}


@pytest.fixture
def organizer(db):
    organization = f.org(db)
    return f.user(db, Role.ORGANIZER, organization, username="li"), organization


@pytest.fixture
def signed_in(web, organizer):
    web.login("li")
    return web


def _plan(weights: dict, windows: dict | None = None) -> dict:
    data = {f"weight-{k}": v for k, v in weights.items()}
    for kind in STAGE_ORDER:
        data.setdefault(f"opens-{kind.value}", "")
        data.setdefault(f"closes-{kind.value}", "")
    data.update(windows or {})
    return data


def _count(db, model) -> int:
    return len(db.exec(select(model)).all())


def test_create_campaign_makes_the_seven_stages(signed_in, db, organizer):
    response = signed_in.post(
        "/admin/campaigns/new",
        {"title": "2025年度履职评议", "year": "2025", "lookback_years": "3", "status": "draft"},
    )
    assert response.status_code == 302
    campaign = db.exec(select(Campaign)).one()
    assert campaign.organization_id == organizer[1].id
    stages = db.exec(select(Stage).where(Stage.campaign_id == campaign.id)).all()
    assert sorted(s.kind.value for s in stages) == sorted(k.value for k in STAGE_ORDER)
    assert sum(s.weight for s in stages) == Decimal("100")


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("title", "", "此项为必填项"),
        ("year", "1999", "年度须在 2000 到 2100 之间"),
        ("lookback_years", "0", "回顾年限须在 1 到 10 年之间"),
        ("year", "二〇二五", "不是有效的整数"),
    ],
)
def test_campaign_form_names_the_bad_field_and_keeps_input(signed_in, db, field, value, message):
    data = {"title": "保留我输入的标题", "year": "2025", "lookback_years": "3", "status": "draft"}
    data[field] = value
    response = signed_in.post("/admin/campaigns/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    if field != "title":
        assert 'value="保留我输入的标题"' in html
    assert _count(db, Campaign) == 0


def test_duplicate_campaign_title_is_refused(signed_in, db, organizer):
    f.campaign(db, organizer[1], "同名活动")
    response = signed_in.post(
        "/admin/campaigns/new",
        {"title": "同名活动", "year": "2025", "lookback_years": "3", "status": "draft"},
    )
    assert response.status_code == 400 and "同名" in response.get_data(as_text=True)
    assert _count(db, Campaign) == 1


def test_stage_weights_totalling_99_are_refused_and_nothing_changes(signed_in, db, organizer):
    campaign = f.campaign(db, organizer[1])
    events_before = _count(db, AuditEvent)
    weights = {**GOOD_WEIGHTS, "peer_review": "9"}
    response = signed_in.post(f"/admin/campaigns/{campaign.id}/stages", _plan(weights))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "合计为 99.00" in html and "100.00" in html
    # The message sits beside the running total under the weights, which all point to it.
    after_table = html.split("</table>")[1]
    assert after_table.index('id="weight-total"') < after_table.index('id="total-error"')
    assert html.count('aria-describedby="total-error"') == len(STAGE_ORDER)
    assert 'value="9"' in html  # what the user typed is still there
    db.expire_all()
    assert f.stage(db, campaign, StageKind.PEER_REVIEW).weight == Decimal("10")
    assert _count(db, AuditEvent) == events_before


def test_stage_weights_totalling_100_are_saved(signed_in, db, organizer):
    campaign = f.campaign(db, organizer[1])
    weights = {**GOOD_WEIGHTS, "peer_review": "5", "onsite_review": "30.00"}
    response = signed_in.post(f"/admin/campaigns/{campaign.id}/stages", _plan(weights))
    assert response.status_code == 302
    db.expire_all()
    assert f.stage(db, campaign, StageKind.ONSITE_REVIEW).weight == Decimal("30")


def test_stage_weights_typed_with_a_chinese_input_method_are_saved(signed_in, db, organizer):
    # Full-width digits and the full-width point (３０．５) are what a Chinese IME types.
    campaign = f.campaign(db, organizer[1])
    weights = {**GOOD_WEIGHTS, "onsite_review": "２４．５", "peer_review": "１０．５０"}
    response = signed_in.post(f"/admin/campaigns/{campaign.id}/stages", _plan(weights))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.expire_all()
    assert f.stage(db, campaign, StageKind.ONSITE_REVIEW).weight == Decimal("24.5")
    assert f.stage(db, campaign, StageKind.PEER_REVIEW).weight == Decimal("10.5")


@pytest.mark.parametrize("typed", ["1,5", "2，5", "1,000"])
def test_a_weight_with_a_comma_is_refused_not_read_as_another_number(signed_in, db, organizer,
                                                                     typed):
    # "1,5" (a decimal comma) was read as 15, silently: a weight of 0 to 100 has no
    # thousands separator, so a comma can only be a mistake the organizer must see.
    campaign = f.campaign(db, organizer[1])
    weights = {**GOOD_WEIGHTS, "peer_review": typed}
    response = signed_in.post(f"/admin/campaigns/{campaign.id}/stages", _plan(weights))
    assert response.status_code == 400
    assert "请输入数字" in response.get_data(as_text=True)
    db.expire_all()
    assert f.stage(db, campaign, StageKind.PEER_REVIEW).weight == Decimal("10")


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"weight-onsite_review": "abc"}, "weight-onsite_review", "请输入数字"),
        (
            {"weight-onsite_review": "-5", "weight-peer_review": "40"},
            "weight-onsite_review",
            "权重必须在 0 到 100 之间",
        ),
        (
            {"weight-onsite_review": "24.999", "weight-peer_review": "10.001"},
            "weight-onsite_review",
            "最多保留两位小数",
        ),
        (
            {"weight-deployment": "5", "weight-peer_review": "5"},
            "weight-deployment",
            "部署安排阶段不计分",
        ),
        (
            {"opens-onsite_review": "2025-05-02T09:00", "closes-onsite_review": "2025-05-01T09:00"},
            "closes-onsite_review",
            "结束时间必须晚于开始时间",
        ),
        (
            {
                "closes-self_assessment": "2025-03-01T18:00",
                "opens-media_publicity": "2025-02-20T09:00",
            },
            "opens-media_publicity",
            "须在“自查自评”结束后开始",
        ),
        ({"opens-onsite_review": "2025/05/01"}, "opens-onsite_review", "时间格式应为"),
    ],
)
def test_stage_plan_errors_sit_beside_their_field(signed_in, db, organizer, change, field, message):
    campaign = f.campaign(db, organizer[1])
    data = _plan(GOOD_WEIGHTS)
    data.update(change)
    response = signed_in.post(f"/admin/campaigns/{campaign.id}/stages", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error">' in html and message in html.split(f'id="{field}-error">')[1][:200]


@pytest.mark.parametrize("typed", ["1e400", "-1e400", "1" + "0" * 60])
def test_a_huge_weight_names_its_rule_and_shows_no_absurd_total(signed_in, db, organizer, typed):
    """1e400 is a finite Decimal: the total of the plan was shown with 400 digits beside
    the field's own error. While a weight breaks its own rule, the total is not judged."""
    campaign = f.campaign(db, organizer[1])
    data = _plan(GOOD_WEIGHTS, {"weight-onsite_review": typed})
    response = signed_in.post(f"/admin/campaigns/{campaign.id}/stages", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    field_error = html.split('id="weight-onsite_review-error">')[1][:100]
    assert "权重必须在 0 到 100 之间" in field_error
    assert 'id="total-error"' not in html and "0" * 30 not in html.replace(typed, "")


def test_stage_windows_are_saved_in_local_time(signed_in, db, organizer):
    campaign = f.campaign(db, organizer[1])
    data = _plan(
        GOOD_WEIGHTS,
        {"opens-onsite_review": "2025-05-01T09:00", "closes-onsite_review": "2025-05-01T18:00"},
    )
    assert signed_in.post(f"/admin/campaigns/{campaign.id}/stages", data).status_code == 302
    db.expire_all()
    onsite = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
    assert onsite.opens_at.hour == 1  # 09:00 in Beijing is 01:00 UTC
    page = signed_in.client.get(f"/admin/campaigns/{campaign.id}/stages").get_data(as_text=True)
    assert 'value="2025-05-01T09:00"' in page


def test_agency_create_edit_and_duplicate(signed_in, db, organizer):
    assert (
        signed_in.post(
            "/admin/agencies/new", {"name": "\u3000市司法局 ", "level": "city", "region": "韶关"}
        ).status_code
        == 302
    )
    agency = db.exec(select(Agency)).one()
    assert agency.name == "市司法局"  # full-width and ASCII spaces trimmed
    response = signed_in.post("/admin/agencies/new", {"name": "市司法局", "level": "city"})
    assert response.status_code == 400 and "已有同名单位" in response.get_data(as_text=True)
    response = signed_in.post("/admin/agencies/new", {"name": "市公安局", "level": "ministry"})
    assert response.status_code == 400 and "不是有效的选择" in response.get_data(as_text=True)
    assert (
        signed_in.post(
            f"/admin/agencies/{agency.id}/edit",
            {"name": "韶关市司法局", "level": "city", "region": ""},
        ).status_code
        == 302
    )
    db.expire_all()
    assert db.get(Agency, agency.id).name == "韶关市司法局"


def test_enroll_agency_into_campaign_with_group(signed_in, db, organizer):
    campaign = f.campaign(db, organizer[1])
    agency = f.agency(db, organizer[1])
    response = signed_in.post(
        f"/admin/campaigns/{campaign.id}/agencies",
        {"agency_id": str(agency.id), "group_name": "市直组"},
    )
    assert response.status_code == 302
    page = signed_in.client.get(f"/admin/campaigns/{campaign.id}/agencies")
    assert agency.name in page.get_data(as_text=True) and "市直组" in page.get_data(as_text=True)


def test_enrolling_another_organizations_agency_is_impossible(signed_in, db, organizer):
    campaign = f.campaign(db, organizer[1])
    foreign = f.agency(db, f.org(db))
    response = signed_in.post(
        f"/admin/campaigns/{campaign.id}/agencies",
        {"agency_id": str(foreign.id), "group_name": "市直组"},
    )
    assert response.status_code == 400 and "不是有效的选择" in response.get_data(as_text=True)


def test_judge_add_with_affiliation_and_duplicate_name(signed_in, db, organizer):
    campaign = f.campaign(db, organizer[1])
    agency = f.agency(db, organizer[1])
    url = f"/admin/campaigns/{campaign.id}/judges"
    data = {
        "name": "王芳",
        "group_name": "专家",
        "title": "律师",
        "affiliation_agency_id": str(agency.id),
    }
    assert signed_in.post(url, data).status_code == 302
    judge = db.exec(select(Judge)).one()
    assert judge.affiliation_agency_id == agency.id
    response = signed_in.post(url, data)
    assert response.status_code == 400 and "同名评委" in response.get_data(as_text=True)
    response = signed_in.post(url, {**data, "name": "李四", "group_name": "外星人"})
    assert response.status_code == 400 and _count(db, Judge) == 1


def test_indicator_tree_says_which_node_is_off(signed_in, db, organizer):
    campaign = f.campaign(db, organizer[1])
    base = f"/admin/campaigns/{campaign.id}/indicators"
    assert (
        signed_in.post(
            f"{base}/new", {"code": "A", "name": "组织领导", "max_points": "60", "kind": "normal"}
        ).status_code
        == 302
    )
    parent = db.exec(select(Indicator)).one()
    signed_in.post(
        f"{base}/new?parent={parent.id}",
        {"code": "A1", "name": "责任清单", "max_points": "30", "kind": "normal"},
    )
    html = signed_in.client.get(base).get_data(as_text=True)
    assert "A 组织领导：下级指标合计 30.00 分，应为 60.00 分" in html
    assert "一级常规指标合计 60.00 分，应为 100.00 分" in html
    signed_in.post(
        f"{base}/new?parent={parent.id}",
        {"code": "A2", "name": "制度落实", "max_points": "30", "kind": "normal"},
    )
    signed_in.post(
        f"{base}/new", {"code": "B", "name": "普法实效", "max_points": "40", "kind": "normal"}
    )
    signed_in.post(
        f"{base}/new", {"code": "C", "name": "创新加分", "max_points": "5", "kind": "bonus"}
    )
    html = signed_in.client.get(base).get_data(as_text=True)
    assert "分值已平衡" in html and "应为" not in html


@pytest.mark.parametrize(
    "data, field_message",
    [
        ({"code": "A", "name": "重复编号", "max_points": "10"}, "指标编号 A 已存在"),
        ({"code": "B", "name": "零分", "max_points": "0"}, "分值须大于 0 且不超过 100"),
        ({"code": "B", "name": "三位小数", "max_points": "1.005"}, "最多保留两位小数"),
        ({"code": "B", "name": "", "max_points": "5"}, "此项为必填项"),
        ({"code": "B", "name": "非数字", "max_points": "五"}, "不是有效的小数"),
    ],
)
def test_indicator_form_rejects_bad_input(signed_in, db, organizer, data, field_message):
    campaign = f.campaign(db, organizer[1])
    create_indicator(db, campaign, IndicatorFields("A", "组织领导", Decimal("100")))
    response = signed_in.post(
        f"/admin/campaigns/{campaign.id}/indicators/new", {"kind": "normal", **data}
    )
    assert response.status_code == 400 and field_message in response.get_data(as_text=True)
    assert _count(db, Indicator) == 1


def test_child_cannot_exceed_its_parent(signed_in, db, organizer):
    campaign = f.campaign(db, organizer[1])
    parent = create_indicator(db, campaign, IndicatorFields("A", "组织领导", Decimal("10")))
    response = signed_in.post(
        f"/admin/campaigns/{campaign.id}/indicators/new?parent={parent.id}",
        {"code": "A1", "name": "太多", "max_points": "12", "kind": "normal"},
    )
    assert response.status_code == 400 and "不能超过上级指标 A 的 10.00 分" in response.get_data(
        as_text=True
    )


@pytest.mark.parametrize("parent", ["2147483648", "99999999999999999999", "0", "-1"])
def test_a_parent_id_no_indicator_can_have_is_a_404(signed_in, db, organizer, parent):
    """?parent= past the database's integer range was a 500 (an overflow in the look-up)."""
    campaign = f.campaign(db, organizer[1])
    url = f"/admin/campaigns/{campaign.id}/indicators/new?parent={parent}"
    assert signed_in.client.get(url).status_code == 404
    form = {"code": "A", "name": "甲", "max_points": "10", "kind": "normal"}
    response = signed_in.post(url, form)
    assert response.status_code == 404
    assert _count(db, Indicator) == 0


def test_reorder_and_delete_indicators(signed_in, db, organizer):
    campaign = f.campaign(db, organizer[1])
    a = create_indicator(db, campaign, IndicatorFields("A", "甲", Decimal("50")))
    b = create_indicator(db, campaign, IndicatorFields("B", "乙", Decimal("50")))
    assert signed_in.post(f"/admin/indicators/{b.id}/move", {"direction": "up"}).status_code == 302
    db.expire_all()
    assert db.get(Indicator, b.id).position == 0 and db.get(Indicator, a.id).position == 1
    create_indicator(db, campaign, IndicatorFields("A1", "甲一", Decimal("50")), a)
    response = signed_in.post(f"/admin/indicators/{a.id}/delete", {})
    assert response.status_code == 409 and "请先删除 A 的下级指标" in response.get_data(
        as_text=True
    )
    assert signed_in.post(f"/admin/indicators/{b.id}/delete", {}).status_code == 302
    assert {i.code for i in db.exec(select(Indicator)).all()} == {"A", "A1"}


def test_organizer_creates_contact_for_own_agency_only(signed_in, db, organizer):
    agency = f.agency(db, organizer[1])
    foreign = f.agency(db, f.org(db))
    data = {
        "username": "contact1",
        "display_name": "联络员",
        "password": "long enough 123",
        "role": "agency_contact",
        "organization_id": str(organizer[1].id),
    }
    response = signed_in.post("/admin/users/new", {**data, "agency_id": str(foreign.id)})
    assert response.status_code == 400
    response = signed_in.post(
        "/admin/users/new", {**data, "role": "admin", "agency_id": str(agency.id)}
    )
    assert response.status_code == 400  # not a role an organizer may hand out
    assert (
        signed_in.post("/admin/users/new", {**data, "agency_id": str(agency.id)}).status_code == 302
    )


@pytest.mark.parametrize("step, ok, message", [
    ("0.5", True, None),
    ("", True, None),
    ("0.3", False, "须是评分步长 0.3 的整数倍"),
    ("0", False, "评分步长须大于 0"),
    ("0.125", False, "最多两位小数"),
    ("1e30", False, "评分步长须大于 0 且不超过分值"),  # was a 500: quantize overflowed
])
def test_indicator_step_must_divide_the_points(signed_in, db, organizer, step, ok, message):
    campaign = f.campaign(db, organizer[1])
    response = signed_in.post(f"/admin/campaigns/{campaign.id}/indicators/new", {
        "code": "A", "name": "组织领导", "max_points": "10", "kind": "normal", "step": step})
    assert (response.status_code == 302) == ok
    if ok:
        stored = db.exec(select(Indicator)).one().step
        assert stored == (Decimal(step) if step else None)
    else:
        assert message in response.get_data(as_text=True) and _count(db, Indicator) == 0


@pytest.mark.parametrize("form, bad_field", [
    ("agency", "level"), ("judge", "group_name"), ("indicator", "max_points"),
    ("campaign", "year"), ("campaign_edit", "lookback_years"),
])
def test_every_admin_form_keeps_what_was_typed_when_it_refuses(signed_in, db, organizer,
                                                                form, bad_field):
    """The message sits beside the bad field, the other fields still hold the user's text,
    and nothing is stored."""
    campaign = f.campaign(db, organizer[1])
    url, data, model = {
        "agency": ("/admin/agencies/new",
                   {"name": "保留的单位名称", "level": "city", "region": "保留的地区"}, Agency),
        "judge": (f"/admin/campaigns/{campaign.id}/judges",
                  {"name": "保留的姓名", "group_name": "专家", "title": "保留的职务",
                   "contact": "13800000000"}, Judge),
        "indicator": (f"/admin/campaigns/{campaign.id}/indicators/new",
                      {"code": "Q7", "name": "保留的指标名称", "max_points": "10",
                       "kind": "normal"}, Indicator),
        "campaign": ("/admin/campaigns/new",
                     {"title": "保留的活动名称", "year": "2025", "lookback_years": "3",
                      "status": "draft"}, Campaign),
        "campaign_edit": (f"/admin/campaigns/{campaign.id}/edit",
                          {"title": "保留的新名称", "year": "2025", "lookback_years": "3",
                           "status": "draft"}, Campaign),
    }[form]
    data[bad_field] = {"level": "ministry", "group_name": "外星人", "max_points": "-3",
                       "year": "1999", "lookback_years": "0"}[bad_field]
    before = _count(db, model)
    events = _count(db, AuditEvent)
    response = signed_in.post(url, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{bad_field}-error"' in html  # the message is beside its field
    for name, value in data.items():
        if name != bad_field and not value.isascii():
            assert f'value="{value}"' in html, name
    assert _count(db, model) == before and _count(db, AuditEvent) == events
    db.expire_all()
    assert db.get(Campaign, campaign.id).title != "保留的新名称"


def test_enrol_form_says_when_every_agency_is_already_in(signed_in, db, organizer):
    campaign = f.campaign(db, organizer[1])
    url = f"/admin/campaigns/{campaign.id}/agencies"
    agency = f.agency(db, organizer[1])
    assert 'id="all-enrolled"' not in signed_in.client.get(url).get_data(as_text=True)
    signed_in.post(url, {"agency_id": str(agency.id), "group_name": "市直组"})
    html = signed_in.client.get(url).get_data(as_text=True)
    assert 'id="all-enrolled"' in html and 'name="agency_id"' not in html  # no empty list


def test_judges_list_in_the_customary_group_order_with_their_affiliation(signed_in, db,
                                                                         organizer):
    campaign = f.campaign(db, organizer[1])
    agency = f.agency(db, organizer[1], "市公安局")
    for name, group in [("甲", "媒体代表"), ("乙", "专家"), ("丙", "人大代表"), ("丁", "政协委员")]:
        db.add(Judge(campaign_id=campaign.id, name=name, group_name=group,
                     affiliation_agency_id=agency.id if name == "乙" else None))
    db.commit()
    html = signed_in.client.get(f"/admin/campaigns/{campaign.id}/judges").get_data(as_text=True)
    rows = html.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert [row.split("<td>")[2].split("<")[0] for row in rows] == [
        "人大代表", "政协委员", "专家", "媒体代表"]
    assert "市公安局" in rows[2]


def test_campaign_judge_and_indicator_edits_are_saved_and_audited(signed_in, db, organizer):
    campaign = f.campaign(db, organizer[1])
    judge = f.judge(db, campaign)
    node = create_indicator(db, campaign, IndicatorFields("A", "组织领导", Decimal("100")))
    edits = [
        (f"/admin/campaigns/{campaign.id}/edit",
         {"title": "改名后的活动", "year": "2026", "lookback_years": "2", "status": "active"}),
        (f"/admin/judges/{judge.id}/edit",
         {"name": "改名后的评委", "group_name": "媒体代表", "title": "", "contact": "",
          "affiliation_agency_id": "0"}),
        (f"/admin/indicators/{node.id}/edit",
         {"code": "A", "name": "改名后的指标", "max_points": "90", "kind": "normal"}),
    ]
    for url, data in edits:
        assert signed_in.post(url, data).status_code == 302, url
    db.expire_all()
    saved = db.get(Campaign, campaign.id)
    assert (saved.title, saved.year, saved.lookback_years) == ("改名后的活动", 2026, 2)
    assert (db.get(Judge, judge.id).name, db.get(Judge, judge.id).group_name) == (
        "改名后的评委", "媒体代表")
    assert db.get(Indicator, node.id).max_points == Decimal("90")
    updates = {e.object_type for e in db.exec(select(AuditEvent)) if e.action == "update"}
    assert {"campaign", "judge", "indicator"} <= updates
    # The tree now falls short of 100, and the page says so.
    html = signed_in.client.get(f"/admin/campaigns/{campaign.id}/indicators").get_data(
        as_text=True)
    assert "一级常规指标合计 90.00 分，应为 100.00 分" in html
