"""Reports drawn from a campaign's ComposedResults: workbook, charts, result sheets.

Builders read only `evaluation.services.results_data.ComposedResults` (plain data): no
database, no Flask, so the heavy ones run in the job worker process (see report_jobs).
"""
