"""Excel imports: pure parsing of uploaded workbooks into rows and precise problems.

Nothing here touches Flask or the database: a workbook goes in as bytes, a `ParsedImport`
(rows to create, problems that block the import, notes that do not) comes out, as plain
dataclasses that travel as JSON from the worker process to the web process.
`evaluation.services.imports` checks the rows against the database and writes them.
"""

from evaluation.imports.model import ImportProblem, ParsedImport
from evaluation.imports.parse import KINDS, parse_workbook, parsed_from_plain

__all__ = ["KINDS", "ImportProblem", "ParsedImport", "parse_workbook", "parsed_from_plain"]
