"""The ini examples in README.md and doc/*.md work when copied into a config file.

oslo.config keeps an inline ``# comment`` as part of the value (a copied ``connection = … #
…`` line broke dbsync), so examples put comments on lines of their own; and every value of an
ironic_lite option in an example converts to the option's type.
"""
from __future__ import annotations

import glob
import os
import re

import pytest
from oslo_config import cfg

from ironic_lite.conf import opts

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
DOCS = [os.path.join(ROOT, 'README.md'), *sorted(glob.glob(os.path.join(ROOT, 'doc', '*.md')))]
OPTIONS = {(group, opt.dest): opt for group, group_opts in opts.list_opts()
           for opt in group_opts}


def _ini_blocks():
    for path in DOCS:
        with open(path) as f:
            text = f.read()
        for number, match in enumerate(re.finditer(r'```ini\n(.*?)```', text, re.S)):
            yield pytest.param(match.group(1), id=f'{os.path.basename(path)}-{number}')


@pytest.mark.parametrize('block', list(_ini_blocks()))
def test_ini_example_has_no_inline_comment_and_valid_values(tmp_path, block):
    path = tmp_path / 'example.conf'
    path.write_text(block)
    sections: dict = {}
    cfg.ConfigParser(str(path), sections).parse()
    for group, values in sections.items():
        for name, (value, *_) in values.items():
            assert not re.search(r'\s#', value), f'[{group}]{name} = {value!r}'
            opt = OPTIONS.get((group, name))
            if opt is not None:
                opt.type(value)  # raises for a value the daemon would refuse


def test_the_docs_have_ini_examples():
    assert len(list(_ini_blocks())) >= 5
