"""Machine-readable description of the JSON API (public: it names no secret)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from evaluation import openapi

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.build())
