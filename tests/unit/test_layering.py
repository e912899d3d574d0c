"""The layering rules of doc/architecture.md, checked on the source itself.

Imports are read with :mod:`ast`, so every import counts: module-level, inside a function, and
under ``if TYPE_CHECKING:`` (a type-only import still ties a layer to the one it names).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = 'ironic_lite'
MAX_LINES = 500

# package of ironic_lite -> packages of ironic_lite it must never import (doc/architecture.md):
# the API reaches a conductor only through rpcapi; drivers see the task contract
# (drivers/task.py), not the conductor; common is the bottom layer, below db.
FORBIDDEN = {
    'api': ('conductor', 'drivers'),
    'rpcapi': ('api', 'conductor', 'drivers'),
    'drivers': ('api', 'rpcapi', 'conductor'),
    'db': ('api', 'rpcapi', 'conductor', 'drivers'),
    'common': ('api', 'rpcapi', 'conductor', 'drivers', 'db'),
}


def _python_files(*tops: str) -> list[Path]:
    return sorted(p for top in tops for p in (ROOT / top).rglob('*.py')
                  if '.venv' not in p.parts)


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts.pop()
    return '.'.join(parts)


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every module ``path`` imports, anywhere in it, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path, root).split('.')
    if path.name != '__init__.py':
        package.pop()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = '.'.join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ''
            found.add(module)
            # ``from ironic_lite import conductor`` imports a package, not a name
            found.update(f'{module}.{alias.name}' for alias in node.names)
    return found


def _layer(module: str) -> str | None:
    parts = module.split('.')
    return parts[1] if len(parts) > 1 and parts[0] == PACKAGE else None


def test_imported_modules_sees_every_kind_of_import(tmp_path):
    pkg = tmp_path / PACKAGE / 'drivers'
    pkg.mkdir(parents=True)
    source = pkg / 'sample.py'
    source.write_text(
        'from typing import TYPE_CHECKING\n'
        'if TYPE_CHECKING:\n'
        '    from ironic_lite.conductor.task_manager import TaskManager\n'
        'def f():\n'
        '    import ironic_lite.db.api\n'
        '    from ..common import states\n'
        '    from . import base\n')
    found = imported_modules(source, root=tmp_path)
    assert {'ironic_lite.conductor.task_manager', 'ironic_lite.db.api',
            'ironic_lite.common.states', 'ironic_lite.drivers.base'} <= found
    assert {_layer(m) for m in found} >= {'conductor', 'db', 'common', 'drivers'}


@pytest.mark.parametrize('layer', sorted(FORBIDDEN))
def test_layer_never_imports_the_layers_above_it(layer):
    wrong = []
    for path in _python_files(f'{PACKAGE}/{layer}'):
        bad = {m for m in imported_modules(path) if _layer(m) in FORBIDDEN[layer]}
        # ``from a.b import c`` yields both a.b and a.b.c: name the module once
        wrong += [f'{path.relative_to(ROOT)} imports {m}' for m in sorted(bad)
                  if m.rpartition('.')[0] not in bad]
    assert not wrong, '\n'.join(wrong)


def test_no_module_is_over_the_size_limit():
    over = [f'{path.relative_to(ROOT)}: {n} lines'
            for path in _python_files(PACKAGE, 'tests', 'bench', 'tools')
            if (n := len(path.read_text().splitlines())) > MAX_LINES]
    assert not over, f'split these modules (limit {MAX_LINES} lines):\n' + '\n'.join(over)
