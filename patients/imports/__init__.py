"""CSV imports: the patient panel (``panel``) and billed encounters (``encounters``).

Every import has two steps with the same input: ``*_preview`` parses the whole file and reports
*every* problem (row number, column, message) without writing anything; ``*_commit`` parses it
again and writes all of it in one transaction, or nothing at all if any row has an error, then
writes one audit row. Files are UTF-8 (a byte-order mark is fine), comma-separated, with a
header row; header names are matched case-insensitively, spaces read as underscores. Row numbers
are spreadsheet rows: the header is row 1. Dates are ``YYYY-MM-DD`` or ``MM/DD/YYYY``; yes/no
cells take ``yes``/``no``, ``y``/``n``, ``true``/``false`` or ``1``/``0``. Lists inside a cell
are separated by ``;``. At most 5,000 rows and 5 MB.

**The practice is never read from the file.** A file with a ``practice`` column (or any column
whose name starts with ``practice``) is refused as a whole: it was exported for some practice,
and the only practice an import writes to is the one the user is signed in to. Refusing, rather
than ignoring the column, makes a file meant for another practice impossible to load by mistake.
Unknown columns are refused too, so a misspelt header is caught instead of silently dropped.

``table`` reads a file into rows and holds the shapes both imports return (``ImportPreview``,
``ImportResult``, ``RowError``, ``RowPlan``). Import from the submodule.
"""
