"""``instance_info['traits']``: the traits a deploy asks for must all be node traits.

One check, used by the API before it accepts a deploy or rebuild (400, the node stays where
it is, as upstream's ``do_node_deploy`` answers) and by the conductor (``validate`` reports
the deploy interface as failed; deploy templates are chosen by these traits).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ironic_lite.common import exception


def check(node_uuid: str, instance_info: dict[str, Any] | None,
          node_traits: Iterable[str]) -> list[str]:
    """The instance traits, or InvalidParameterValue with upstream's message."""
    traits = (instance_info or {}).get('traits')
    if not traits:
        return []
    if not isinstance(traits, list) or not all(isinstance(t, str) for t in traits):
        raise exception.InvalidParameterValue(
            err=f'Error parsing traits from Node {node_uuid} instance_info field. A list of '
                'strings is expected.')
    missing = sorted(set(traits) - set(node_traits))
    if missing:
        raise exception.InvalidParameterValue(
            err='Cannot specify instance traits that are not also set on the node. Node '
                f'{node_uuid} is missing traits {", ".join(missing)}')
    return traits
