"""Reading a CSV import into rows, the cell parsers, and the shapes every import returns."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO

from django.core.exceptions import ValidationError

from patients.models import Sex

MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
FIRST_DATA_ROW = 2  # the header is row 1, as in a spreadsheet
FILE = 0  # the row number of an error about the file as a whole

_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}
_SEX_ALIASES = {"f": Sex.FEMALE, "m": Sex.MALE, "o": Sex.OTHER, "u": Sex.UNKNOWN}
_FORBIDDEN_PREFIX = "practice"


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem: ``row`` 0 is the file as a whole; ``column`` "" is the whole row."""

    row: int
    column: str
    message: str


@dataclass(frozen=True, slots=True)
class RowPlan:
    """What the commit would do with one row: ``create``, ``update`` or ``skip``."""

    row: int
    mrn: str
    action: str
    summary: str


@dataclass(frozen=True, slots=True)
class ImportPreview:
    rows: list[RowPlan]
    errors: list[RowError]
    warnings: list[RowError]

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int
    updated: int
    skipped: int = 0


class CellError(Exception):
    """A cell that cannot be read; the caller adds the row and column."""


def parse_date(value: str) -> date:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(value, pattern).date()  # noqa: DTZ007  (a date, no time)
        except ValueError:
            continue
    raise CellError(f"“{value}” is not a date (use YYYY-MM-DD or MM/DD/YYYY).")


def parse_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CellError(f"“{value}” is not yes or no.")


def parse_sex(value: str) -> str:
    lowered = value.lower()
    if lowered in Sex.values:
        return lowered
    if lowered in _SEX_ALIASES:
        return _SEX_ALIASES[lowered]
    raise CellError(f"“{value}” is not one of female, male, other, unknown.")


def parse_codes(value: str, normalise: Callable[[str], str]) -> list[str]:
    codes: list[str] = []
    problems: list[str] = []
    for raw in value.split(";"):
        if not raw.strip():
            continue
        try:
            code = normalise(raw)
        except ValidationError as exc:
            problems.append(exc.messages[0])
            continue
        if code not in codes:
            codes.append(code)
    if problems:
        raise CellError(" ".join(problems))
    return codes


@dataclass
class Table:
    """The header, the non-empty rows as ``(row number, {column: stripped cell})``, errors."""

    header: list[str]
    rows: list[tuple[int, dict[str, str]]]
    errors: list[RowError]


def _header_name(raw: str) -> str:
    return "_".join(raw.strip().lower().split())


def _decode(file: IO[bytes] | IO[str]) -> str:
    """The file's text; ``CellError`` when too large or not UTF-8."""
    if hasattr(file, "seek"):
        file.seek(0)
    content = file.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise CellError("The file is larger than 5 MB.")
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CellError("The file is not UTF-8 text.") from exc


def read_table(
    file: IO[bytes] | IO[str], *, required: tuple[str, ...], optional: tuple[str, ...]
) -> Table:
    """Decode, check the header, and split into ``(row number, {column: stripped cell})``."""
    try:
        records = csv.reader(io.StringIO(_decode(file), newline=""))
        header = [_header_name(name) for name in next(records)]
    except CellError as exc:
        return Table([], [], [RowError(FILE, "", str(exc))])
    except StopIteration:
        return Table([], [], [RowError(FILE, "", "The file is empty.")])
    except csv.Error as exc:
        return Table([], [], [RowError(FILE, "", f"The file is not CSV: {exc}.")])
    errors = header_errors(header, required=required, optional=optional)
    if errors:
        return Table(header, [], errors)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for number, cells in enumerate(records, start=FIRST_DATA_ROW):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == MAX_ROWS:
                errors.append(RowError(FILE, "", f"The file has more than {MAX_ROWS} rows."))
                break
            if len(cells) != len(header):
                message = f"The row has {len(cells)} cells; the header has {len(header)}."
                errors.append(RowError(number, "", message))
                continue
            rows.append((number, dict(zip(header, (c.strip() for c in cells), strict=True))))
    except csv.Error as exc:
        errors.append(RowError(FILE, "", f"The file is not valid CSV: {exc}."))
    if not rows and not errors:
        errors.append(RowError(FILE, "", "The file has a header but no rows."))
    return Table(header, rows, errors)


def header_errors(
    header: list[str], *, required: tuple[str, ...], optional: tuple[str, ...]
) -> list[RowError]:
    errors = [
        RowError(
            FILE,
            name,
            f"The file has a “{name}” column. An import always goes to the practice you are "
            "signed in to, never to one a file names: remove the column.",
        )
        for name in header
        if name.startswith(_FORBIDDEN_PREFIX)
    ]
    known = set(required) | set(optional)
    unknown = [
        name for name in header if name not in known and not name.startswith(_FORBIDDEN_PREFIX)
    ]
    if unknown:
        errors.append(
            RowError(
                FILE,
                ", ".join(unknown),
                f"Unknown column(s): {', '.join(unknown)}. Known columns: "
                f"{', '.join((*required, *optional))}.",
            )
        )
    duplicated = sorted({name for name in header if header.count(name) > 1})
    if duplicated:
        errors.append(RowError(FILE, ", ".join(duplicated), "A column appears twice."))
    missing = [name for name in required if name not in header]
    if missing:
        errors.append(
            RowError(FILE, ", ".join(missing), f"Missing column(s): {', '.join(missing)}.")
        )
    return errors


def by_row(errors: list[RowError]) -> list[RowError]:
    """File errors first, then by row; a row's errors keep their column order."""
    return sorted(errors, key=lambda error: error.row)


def file_name(file: IO[bytes] | IO[str]) -> str:
    return str(getattr(file, "name", "") or "")
