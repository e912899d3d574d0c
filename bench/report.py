"""Output shared by the benchmark scripts: the markdown tables that README.md quotes, and the
figures file written when ``--json`` is given."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any


def print_markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """One markdown table on stdout, after a blank line."""
    print('\n| ' + ' | '.join(header) + ' |')
    print('|' + ' --- |' * len(header))
    for row in rows:
        print('| ' + ' | '.join(str(cell) for cell in row) + ' |')


def write_json(path: str | None, figures: Any) -> None:
    """Write ``figures`` to ``path`` (nothing without a path)."""
    if path:
        with open(path, 'w') as f:
            json.dump(figures, f, indent=1)
