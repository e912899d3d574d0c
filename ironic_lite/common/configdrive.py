"""Config drives given as JSON (API 1.56): build the ISO 9660 image cloud-init reads.

From 1.56 a deploy or rebuild may carry ``configdrive`` as an object with ``meta_data``,
``network_data``, ``user_data`` and (1.59) ``vendor_data``. Deploy ramdisks and the deploy
interfaces expect what older clients send: a base64-encoded gzipped ISO 9660 image labelled
``config-2`` with ``openstack/<version>/meta_data.json`` and friends. The conductor builds that
image here (pure Python, pycdlib — no genisoimage binary), as upstream's conductor does.
Building is CPU and memory work: call it through ``asyncio.to_thread``.
"""
from __future__ import annotations

import base64
import gzip
import io
import json
from typing import Any

LABEL = 'config-2'
# The metadata versions written, as upstream's builder (openstacksdk) writes them.
VERSIONS = ('2012-08-10', 'latest')


def _files(node_uuid: str, node_name: str | None, drive: dict[str, Any]) -> dict[str, bytes]:
    meta_data = dict(drive.get('meta_data') or {})
    meta_data.setdefault('uuid', node_uuid)
    if node_name:
        meta_data.setdefault('name', node_name)
    files = {'meta_data.json': json.dumps(meta_data).encode()}
    if drive.get('network_data'):
        files['network_data.json'] = json.dumps(drive['network_data']).encode()
    if drive.get('vendor_data'):
        files['vendor_data2.json'] = json.dumps(drive['vendor_data']).encode()
    user_data = drive.get('user_data')
    if isinstance(user_data, (dict, list)):
        files['user_data'] = json.dumps(user_data).encode()
    elif user_data:
        files['user_data'] = str(user_data).encode()
    return files


def _iso_name(name: str) -> str:
    """An ISO 9660 level-3 name (the Rock Ridge and Joliet names keep the real one)."""
    return ''.join(c if c.isalnum() else '_' for c in name.upper())


def build_iso(node_uuid: str, node_name: str | None, drive: dict[str, Any]) -> bytes:
    """The raw ISO 9660 image (Rock Ridge + Joliet, volume label ``config-2``)."""
    import pycdlib  # only JSON configdrives need it; most deploys never load it

    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, joliet=3, rock_ridge='1.09', vol_ident=LABEL)
    try:
        iso.add_directory('/OPENSTACK', rr_name='openstack', joliet_path='/openstack')
        files = _files(node_uuid, node_name, drive)
        for version in VERSIONS:
            vdir = f'/OPENSTACK/{_iso_name(version)}'
            iso.add_directory(vdir, rr_name=version, joliet_path=f'/openstack/{version}')
            for name, data in files.items():
                iso.add_fp(io.BytesIO(data), len(data), f'{vdir}/{_iso_name(name)};1',
                           rr_name=name, joliet_path=f'/openstack/{version}/{name}')
        out = io.BytesIO()
        iso.write_fp(out)
        return out.getvalue()
    finally:
        iso.close()


def build(node_uuid: str, node_name: str | None, drive: dict[str, Any]) -> str:
    """What a string configdrive is: the ISO, gzipped, base64-encoded."""
    return base64.b64encode(gzip.compress(build_iso(node_uuid, node_name, drive))).decode()
