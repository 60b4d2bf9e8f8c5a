"""Stage kind codes shared with the web app, and their Chinese names for explanations."""

STAGE_NAMES = {
    "self_assessment": "自查自评",
    "media_publicity": "媒体公示",
    "public_review": "社会评议",
    "field_inspection": "实地考察",
    "onsite_review": "现场评议",
    "peer_review": "互评",
}


def stage_name(code: str) -> str:
    return STAGE_NAMES.get(code, code)
