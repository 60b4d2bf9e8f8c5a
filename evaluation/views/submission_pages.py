"""Pieces the agency's and the organizer's self-assessment pages share."""

from __future__ import annotations

import json

from flask import render_template

from evaluation.db import get_session
from evaluation.models import Submission, SubmissionVersion
from evaluation.services.markdown_text import render_markdown
from evaluation.services.self_assessment import (
    comments_by_indicator,
    evidence_files,
    versions_of,
)


def submission_file_ids(db, submission: Submission) -> set[int]:
    """Files of the current draft and of every submitted version of this submission."""
    ids = {f.id for _row, f in evidence_files(db, submission.id)}
    for version in versions_of(db, submission.id):
        ids |= {row["file_id"] for row in json.loads(version.files_json)}
    return ids


def render_version(campaign, submission: Submission, found: SubmissionVersion, for_agency: bool):
    db = get_session()
    return render_template(
        "self_assessment/version.html",
        campaign=campaign,
        submission=submission,
        version=found,
        report=render_markdown(found.report_md),
        scores=json.loads(found.scores_json),
        files=json.loads(found.files_json),
        comments=comments_by_indicator(db, found.id),
        for_agency=for_agency,
    )
