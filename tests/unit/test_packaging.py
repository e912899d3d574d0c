"""Packaging: every directory of the package is a package, so ``pip install`` installs it all.

setuptools warns ("Package … is absent from the `packages` configuration") for each directory
pbr's package discovery skips — the ones without ``__init__.py`` — and a later setuptools stops
installing them. Building a wheel here would need the network (build isolation), so the cause is
checked instead: no directory of files in ``ironic_lite/`` lacks an ``__init__.py``.
"""
from __future__ import annotations

import configparser
import os

import ironic_lite

ROOT = os.path.dirname(ironic_lite.__file__)
SETUP_CFG = os.path.join(os.path.dirname(ROOT), 'setup.cfg')


def test_every_directory_of_the_package_is_a_package():
    missing = []
    for dirpath, dirnames, filenames in os.walk(ROOT):
        dirnames[:] = [d for d in dirnames if d != '__pycache__']
        if filenames and '__init__.py' not in filenames:
            missing.append(os.path.relpath(dirpath, os.path.dirname(ROOT)))
    assert missing == []


def test_no_license_classifier_and_a_simple_layout_for_editable_installs():
    """setuptools warns about license classifiers (an SPDX ``license`` is set instead), and
    about editable installs of a flat layout unless the package root is given."""
    cfg = configparser.ConfigParser()
    cfg.read(SETUP_CFG)
    assert 'License ::' not in cfg['metadata'].get('classifier', '')
    assert cfg['metadata']['license'] == 'Apache-2.0'
    assert cfg['files']['packages_root'] == '.'
