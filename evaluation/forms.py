"""WTForms: field formats here; business rules in the services (their errors are put
back beside the field they name)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from evaluation.models import AgencyLevel, CampaignStatus, IndicatorKind
from evaluation.services.errors import ValidationFailed
from evaluation.spreadsheet_text import typed_text

REQUIRED = _l("此项为必填项。")


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def enum_options(enum_cls) -> list[SelectChoice]:
    return options((member.value, _l(member.label)) for member in enum_cls)


def strip(value):
    # Full-width spaces (U+3000) come with pasted Chinese text; strip them too. Text copied
    # out of Word brings \x07 and \x0b, which no export or chart can show.
    if not isinstance(value, str):
        return value
    return typed_text(value).strip("\u3000").strip()


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), filters=[strip], validators=[DataRequired(REQUIRED)])
    password = PasswordField(_l("密码"), validators=[DataRequired(REQUIRED)])


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("验证码"),
        filters=[strip],
        validators=[DataRequired(REQUIRED), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "autofocus": True},
    )


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(REQUIRED)])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(REQUIRED)])
    confirm = PasswordField(
        _l("确认新密码"),
        validators=[
            DataRequired(REQUIRED),
            EqualTo("new_password", _l("两次输入的新密码不一致。")),
        ],
    )


class CampaignForm(FlaskForm):
    title = StringField(
        _l("活动名称"), filters=[strip], validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    year = IntegerField(
        _l("评议年度"),
        validators=[
            InputRequired(REQUIRED),
            NumberRange(2000, 2100, _l("年度须在 2000 到 2100 之间。")),
        ],
    )
    lookback_years = IntegerField(
        _l("回顾年限（年）"),
        default=3,
        validators=[
            InputRequired(REQUIRED),
            NumberRange(1, 10, _l("回顾年限须在 1 到 10 年之间。")),
        ],
    )
    status = SelectField(_l("状态"), choices=enum_options(CampaignStatus), default="draft")


class AgencyForm(FlaskForm):
    name = StringField(
        _l("单位名称"), filters=[strip], validators=[DataRequired(REQUIRED), Length(max=100)]
    )
    level = SelectField(_l("单位类别"), choices=enum_options(AgencyLevel))
    region = StringField(_l("所在地区"), filters=[strip], validators=[Length(max=50)])


class EnrollForm(FlaskForm):
    agency_id = SelectField(_l("被评议单位"), coerce=int)
    group_name = StringField(
        _l("分组"),
        filters=[strip],
        default="市直组",
        validators=[DataRequired(REQUIRED), Length(max=50)],
    )


class JudgeForm(FlaskForm):
    name = StringField(
        _l("姓名"), filters=[strip], validators=[DataRequired(REQUIRED), Length(max=50)]
    )
    group_name = SelectField(_l("评委类别"))
    title = StringField(_l("职务/身份"), filters=[strip], validators=[Length(max=100)])
    contact = StringField(_l("联系方式"), filters=[strip], validators=[Length(max=100)])
    affiliation_agency_id = SelectField(_l("所属单位（用于回避）"), coerce=int, default=0)


class IndicatorForm(FlaskForm):
    code = StringField(
        _l("指标编号"), filters=[strip], validators=[DataRequired(REQUIRED), Length(max=20)]
    )
    name = StringField(
        _l("指标名称"), filters=[strip], validators=[DataRequired(REQUIRED), Length(max=200)]
    )
    max_points = DecimalField(_l("分值"), places=None, validators=[InputRequired(REQUIRED)])
    kind = SelectField(_l("类型"), choices=enum_options(IndicatorKind))
    step = DecimalField(_l("评分步长（可选）"), places=None, validators=[Optional()])


class CsrfOnlyForm(FlaskForm):
    """For POST-only buttons (logout, move, delete) and hand-laid forms: CSRF and nothing else."""


def attach_errors(form: FlaskForm, failure: ValidationFailed) -> dict[str, str]:
    """Put service errors beside their fields; return those that name no field of the form."""
    leftover = {}
    for name, message in failure.errors.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors), message]
        else:
            leftover[name] = message
    return leftover
