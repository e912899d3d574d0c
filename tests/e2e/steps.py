"""Steps the end-to-end tests share: what they were built from, and a deploy the way Nova's
driver does it (instance_uuid + instance_info, validate, deploy with a config drive, wait)."""
from __future__ import annotations

import dataclasses
import json
import pathlib
import uuid
from typing import Any

from ironic_lite.testing.machines import MachineLab

INSTANCE_LINE = 'IRONIC-LITE-INSTANCE'


@dataclasses.dataclass
class Built:
    """Paths of a built ramdisk (kernel, ramdisk) and/or instance image (image, build_id)."""
    kernel: str = ''
    ramdisk: str = ''
    image: str = ''
    build_id: str = ''
    dir: str = ''


def config_drive(path: pathlib.Path, instance_uuid: str) -> str:
    """A config drive directory (the CLI packs it) naming ``instance_uuid``."""
    latest = path / 'openstack' / 'latest'
    latest.mkdir(parents=True)
    (latest / 'meta_data.json').write_text(json.dumps(
        {'uuid': instance_uuid, 'name': 'e2e', 'hostname': 'e2e'}))
    return str(path)


def enroll(lab: MachineLab, name: str, deploy_interface: str, ramdisk: Built,
           **properties: Any) -> dict:
    """Enroll ``name`` with ``ramdisk`` (copied into the lab's images) as its deploy ramdisk."""
    prefix = deploy_interface
    return lab.enroll(name, deploy_interface=deploy_interface,
                      deploy_kernel=lab.image(ramdisk.kernel, f'{prefix}.vmlinuz'),
                      deploy_ramdisk=lab.image(ramdisk.ramdisk, f'{prefix}.initramfs'),
                      **properties)


def nova_deploy(lab: MachineLab, name: str, workdir: pathlib.Path, *, validate: bool = False,
                wait: int = 900, **instance_info: str) -> str:
    """Deploy ``name`` as Nova does; the instance UUID its config drive names."""
    instance_uuid = str(uuid.uuid4())
    args = ['node', 'set', name, '--instance-uuid', instance_uuid]
    for key, value in instance_info.items():
        args += ['--instance-info', f'{key}={value}']
    lab.cli(*args)
    if validate:
        validation = {v['Interface']: v['Result'] for v in json.loads(
            lab.cli('node', 'validate', name, '-f', 'json').stdout)}
        assert validation['power'] and validation['deploy'] and validation['boot'], validation
    lab.cli('node', 'deploy', name, '--config-drive',
            config_drive(workdir / f'configdrive-{name}', instance_uuid),
            '--wait', str(wait), timeout=wait + 60)
    return instance_uuid
