"""What the app tests share."""

from __future__ import annotations

import re
from typing import Any


def marked(table: Any) -> set[tuple[int, str]]:
    """(row, column name) of the cells an AppTest dataframe marks as the best of their column (green)."""
    columns = list(table.value.columns)
    css = table.proto.arrow_data.styler.styles
    return {(int(r), columns[int(c)]) for r, c in re.findall(r"_row(\d+)_col(\d+)", css)}
