"""What committing an import does with each Excel row, shared by the kinds of import.

Reviews append to a `Review` (problems, notes, an action per Excel row); writers only
add ORM objects and flush (the caller commits once), so the audit hook logs every row
in the same transaction.
"""

from __future__ import annotations

from sqlmodel import Session

from evaluation.imports.cells import name_key
from evaluation.models import Agency
from evaluation.services.agencies import organization_agencies

# What committing does with an Excel row.
CREATE, CREATE_AND_ENROLL, ENROLL, SKIP = "create", "create_and_enroll", "enroll", "skip"


def agencies_by_name(session: Session, organization_id: int) -> dict[str, Agency]:
    """The organization's agencies by name_key: 市司法局(普法科) finds 市司法局（普法科）."""
    return {name_key(a.name): a for a in organization_agencies(session, organization_id)}
