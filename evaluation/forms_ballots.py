"""Forms of the organizer's public-review (社会评议) and publicity (媒体公示) pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from evaluation.forms import REQUIRED, enum_options, options, strip
from evaluation.models import BallotKind, IdentityMode
from evaluation.services.vote_codes import MAX_BATCH

WHOLE = _l("请填写整数。")


class BallotSettingsForm(FlaskForm):
    identity_mode = SelectField(_l("身份验证方式"), choices=enum_options(IdentityMode))
    ballot_kind = SelectField(_l("选票形式"), choices=enum_options(BallotKind))
    burst_limit = IntegerField(_l("同一网络窗口内最多选票数"), validators=[InputRequired(WHOLE)])
    burst_window_seconds = IntegerField(_l("统计窗口（秒）"), validators=[InputRequired(WHOLE)])
    min_fill_seconds = IntegerField(_l("最短填写用时（秒）"), validators=[InputRequired(WHOLE)])


class IssueCodesForm(FlaskForm):
    count = IntegerField(
        _l("生成数量"),
        validators=[
            InputRequired(WHOLE),
            NumberRange(1, MAX_BATCH, _l("每批可生成 1 到 %(max)s 个投票码。")),
        ],
        default=100,
    )
    output = SelectField(
        _l("输出方式"),
        choices=options(
            (("print", _l("打印页面")), ("xlsx", _l("Excel 文件 (.xlsx)")), ("csv", _l("CSV 文件")))
        ),
    )


class DecisionForm(FlaskForm):
    decision = SelectField(
        _l("处理结果"), choices=options((("accept", _l("计入（有效）")), ("reject", _l("作废"))))
    )
    reason = StringField(
        _l("理由"), filters=[strip], validators=[DataRequired(REQUIRED), Length(max=300)]
    )


class ModerationForm(FlaskForm):
    decision = SelectField(
        _l("处理结果"), choices=options((("approve", _l("公开")), ("hide", _l("隐藏"))))
    )
    reason = StringField(_l("理由（隐藏时必填）"), filters=[strip], validators=[Length(max=300)])


class OutletForm(FlaskForm):
    outlet = StringField(_l("媒体名称"), filters=[strip], validators=[Length(max=100)])
    published_on = DateField(_l("发布日期"), validators=[Optional()])
    link = StringField(_l("链接"), filters=[strip], validators=[Length(max=300)])


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("答复内容"), filters=[strip], validators=[Length(max=1000)])
