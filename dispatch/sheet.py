"""Tables written for people to open in a spreadsheet (CSV, XLSX): every writer goes through write_table, so no
cell that came from a user or a file can turn into a live formula (OWASP "CSV Injection")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from geo.errors import InvalidInput

# a spreadsheet reads a text cell starting with one of these as a formula (OWASP's list)
_FORMULA_START = re.compile(r"[=+\-@\t\r]")
# ... but a plain number such as -118.5 is a number, not a formula, and stays as it is
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def formula_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell (and column name) a spreadsheet would take for a formula starts with a
    single quote, which makes it text; numbers, and text that is a plain number, are left alone."""
    out = df.copy()
    out.columns = [_quoted(c) if isinstance(c, str) else c for c in df.columns]
    for k in range(out.shape[1]):
        dtype = out.dtypes.iloc[k]
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            continue  # numbers (a negative one is not a formula), booleans and times hold no text
        values = out.iloc[:, k].to_numpy(dtype=object, copy=True)
        at = np.flatnonzero([isinstance(v, str) for v in values])
        text = pd.Series(values[at], dtype=object)
        danger = (text.str.match(_FORMULA_START.pattern) & ~text.str.fullmatch(_PLAIN_NUMBER.pattern)).to_numpy()
        if danger.any():
            values[at[danger]] = "'" + values[at[danger]]
            out.isetitem(k, values)
    return out


def _quoted(text: str) -> str:
    return "'" + text if _FORMULA_START.match(text) and not _PLAIN_NUMBER.fullmatch(text) else text


def write_table(df: pd.DataFrame, path: Path, fmt: str, sheet: str = "data") -> None:
    """Write `df` as CSV (UTF-8 with a byte-order mark; dangerous cells quoted, see formula_safe) or XLSX (text
    written as text cells)."""
    if fmt == "csv":
        # CRLF line ends (RFC 4180) also make the writer quote a cell holding a bare CR, which would otherwise
        # end the row early for every reader. The BOM is how Excel knows the file is UTF-8: without it Excel on
        # a Chinese Windows reads it as GBK and shows every Chinese name garbled.
        formula_safe(df).to_csv(path, index=False, lineterminator="\r\n", encoding="utf-8-sig")
    elif fmt == "xlsx":
        _write_xlsx(df, path, sheet)
    else:
        raise InvalidInput(f"unknown table format {fmt!r}; use csv or xlsx")


def _write_xlsx(df: pd.DataFrame, path: Path, sheet: str) -> None:
    # write-only: rows stream to the file instead of building every cell object first
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            # XML 1.0 cannot hold most control characters; one stored earlier must not make the export fail
            c = WriteOnlyCell(ws, value=ILLEGAL_CHARACTERS_RE.sub("\ufffd", value))
            c.data_type = "s"  # a string cell, whatever it starts with: never evaluated as a formula
            return c
        if value is None or (isinstance(value, float) and value != value):  # NaN: an empty cell
            return None
        return value

    ws.append([cell(str(c)) for c in df.columns])
    for row in df.itertuples(index=False, name=None):
        ws.append([cell(v) for v in row])
    wb.save(path)
