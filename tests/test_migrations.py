"""The Alembic head matches the models, on SQLite and PostgreSQL."""

from evaluation.migrate import pending_model_changes


def test_autogenerate_finds_no_difference(app):
    # `app` runs on a database migrated with `upgrade()` to head (see conftest).
    assert pending_model_changes(app.extensions["pingyi_db"]) == []


def test_upgrade_from_empty_to_head_on_a_new_sqlite_file(tmp_path):
    from evaluation.db import make_engine
    from evaluation.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    upgrade(engine)
    assert pending_model_changes(engine) == []
    upgrade(engine)  # a second upgrade is a no-op, not an error
    engine.dispose()
