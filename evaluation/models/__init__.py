"""All tables, importable from one place (Alembic and the services import from here)."""

from evaluation.models.accounts import Organization, OrganizationKind, Role, User
from evaluation.models.audit import AuditEvent
from evaluation.models.campaign import (
    Agency,
    AgencyLevel,
    Campaign,
    CampaignAgency,
    CampaignStatus,
    Stage,
    StageKind,
    StageStatus,
)
from evaluation.models.judging import (
    AccessToken,
    InspectionAssignment,
    Judge,
    Score,
    ScoreStatus,
    TokenKind,
)
from evaluation.models.live import (
    AudienceVote,
    BroadcastMode,
    LiveSeat,
    LiveSession,
    LiveSlot,
    LiveSubmission,
    PanelMember,
    Satisfaction,
    Segment,
    VoidDecision,
    VoidRequest,
)
from evaluation.models.results import (
    Appeal,
    AppealStatus,
    CampaignPolicy,
    ResultsVersion,
    VersionStatus,
)
from evaluation.models.rubric import Indicator, IndicatorKind

__all__ = [
    "Appeal",
    "AppealStatus",
    "CampaignPolicy",
    "ResultsVersion",
    "VersionStatus",
    "AccessToken",
    "BroadcastMode",
    "LiveSeat",
    "LiveSession",
    "LiveSlot",
    "LiveSubmission",
    "AudienceVote",
    "PanelMember",
    "Satisfaction",
    "Segment",
    "VoidDecision",
    "VoidRequest",
    "Agency",
    "AgencyLevel",
    "AuditEvent",
    "Campaign",
    "CampaignAgency",
    "CampaignStatus",
    "Indicator",
    "IndicatorKind",
    "InspectionAssignment",
    "Judge",
    "Organization",
    "OrganizationKind",
    "Role",
    "Score",
    "ScoreStatus",
    "Stage",
    "StageKind",
    "StageStatus",
    "TokenKind",
    "User",
]
