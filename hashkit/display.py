"""How a chapter shows a table on its page: whole cells, no row numbers, numbers to a few digits.

pandas' plain HTML cuts text cells at 50 characters and prints the row index; a reader of a
deviations or claims table needs every word and no 0, 1, 2 column.
"""

from __future__ import annotations

import pandas as pd
from pandas.io.formats.style import Styler


def readable(table: pd.DataFrame, digits: int = 4) -> Styler:
    """``table`` styled for the page: no index, text wrapped and left-aligned, floats to ``digits``, a
    missing value as a dash."""
    return (table.style.hide(axis="index").format(precision=digits, na_rep="—")
            .set_properties(**{"text-align": "left", "white-space": "normal"}))
