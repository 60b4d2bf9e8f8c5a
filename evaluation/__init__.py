"""pingyi's Flask application: `create_app` assembles it (see evaluation.factory).

Kept import-light on purpose: `pingyi serve` must let gevent patch the standard library
before Flask and the database drivers are imported.
"""


def create_app(test_config: dict | None = None):
    from evaluation.factory import create_app as assemble

    return assemble(test_config)
