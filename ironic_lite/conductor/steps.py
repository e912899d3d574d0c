"""Which clean and deploy steps a node runs, as upstream Ironic works them out (running them
is ``step_runner.py``'s).

* A node's *driver steps* come from its interfaces (``get_clean_steps``/``get_deploy_steps``,
  declared with ``drivers.base.clean_step``/``deploy_step``); priority 0 means "only on
  request".
* **Deploy**: the driver's steps with priority > 0, plus the steps of every deploy template
  whose name is one of the node's ``instance_info['traits']``, plus the ``deploy_steps`` of
  the provision request (API 1.69, kept in ``driver_internal_info['user_deploy_steps']``
  until the deploy ends). A request step replaces the template step, and a template or request
  step the driver step, of the same interface and name (priority 0 disables it); each must
  exist on the node's interfaces, with its required arguments and no unknown ones; the core
  step ``deploy.deploy`` can only be disabled, not re-prioritised.
* **Cleaning**: automated cleaning runs the driver's steps with priority > 0; manual cleaning
  runs the user's steps in the order given, each validated against the driver's steps (the
  driver's priority and abortable flag are copied onto it).
* Order: priority, highest first; a tie goes to the interface ranked higher in
  ``INTERFACE_PRIORITY`` (upstream's table).

Errors are ``InvalidParameterValue`` with upstream's wording; the callers turn them into
``deploy failed`` / ``clean failed`` with the message as ``last_error``.
"""
from __future__ import annotations

import collections
import logging
from typing import Any

from ironic_lite.common import exception, instance_traits
from ironic_lite.conductor.step_runner import CLEANING_DISABLE_RAMDISK, USER_DEPLOY_STEPS, step_id
from ironic_lite.db import models
from ironic_lite.drivers import base

LOG = logging.getLogger(__name__)

# Tie-breaker between steps of equal priority: the higher value runs first (upstream's
# CLEANING_/DEPLOYING_INTERFACE_PRIORITY, identical for both).
INTERFACE_PRIORITY = {
    'vendor': 7,
    'power': 6,
    'management': 5,
    'firmware': 4,
    'deploy': 3,
    'bios': 2,
    'raid': 1,
}


def _sort_key(step: dict[str, Any]) -> tuple[int, int]:
    return step.get('priority') or 0, INTERFACE_PRIORITY.get(step.get('interface'), 0)


def sorted_steps(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Highest priority first; ties by interface as upstream (a stable sort otherwise)."""
    return sorted(steps, key=_sort_key, reverse=True)


def driver_steps(task, kind: str, enabled: bool = False) -> list[dict[str, Any]]:
    """The node's ``kind`` ('clean' or 'deploy') steps from all its interfaces, unsorted;
    with ``enabled``, only those with priority > 0."""
    steps: list[dict[str, Any]] = []
    for name in INTERFACE_PRIORITY:
        iface = base.get_interface(task, name)
        if iface is not None:
            steps.extend(getattr(iface, f'get_{kind}_steps')(task))
    if enabled:
        steps = [s for s in steps if s.get('priority')]
    return steps


# -- validation of user (template or manual cleaning) steps ---------------------------------
def _validate_step(user_step: dict, driver_step: dict, kind: str,
                   disable_ramdisk: bool = False) -> list[str]:
    errors = []
    argsinfo = driver_step.get('argsinfo') or {}
    args = user_step.get('args') or {}
    unexpected = sorted(set(args) - set(argsinfo))
    if unexpected:
        errors.append(f'{kind} step {user_step} has these unexpected arguments: '
                      f'{", ".join(unexpected)}')
    if kind != 'deploy' or user_step['priority'] > 0:
        missing = [name + (f' ({info["description"]})' if info.get('description') else '')
                   for name, info in argsinfo.items()
                   if info.get('required') and name not in args]
        if missing:
            errors.append(f'{kind} step {user_step} is missing these required arguments: '
                          f'{", ".join(missing)}')
        if disable_ramdisk and driver_step.get('requires_ramdisk', True):
            errors.append(f'{kind} step {user_step} requires booting a ramdisk')
    if kind == 'clean':
        # not the user's to choose: the driver's
        user_step['abortable'] = driver_step.get('abortable', False)
        user_step['priority'] = driver_step.get('priority', 0)
    elif user_step['priority'] > 0 and step_id(driver_step) == 'deploy.deploy':
        errors.append(f'deploy step {user_step["step"]} on interface {user_step["interface"]} '
                      'is a core step and cannot be overridden by user steps. It may be '
                      'disabled by setting the priority to 0')
    return errors


def validate_user_steps(task, user_steps: list[dict], kind: str, error_prefix: str = '',
                        disable_ramdisk: bool = False) -> list[dict[str, Any]]:
    """Check ``user_steps`` against the node's ``kind`` steps; return them (copies, with
    ``args`` filled in). InvalidParameterValue listing every problem. ``disable_ramdisk``:
    each step must be declared ``requires_ramdisk=False``."""
    known = {step_id(s): s for s in driver_steps(task, kind)}
    errors: list[str] = []
    result = []
    for raw in user_steps:
        user_step = {'interface': raw.get('interface'), 'step': raw.get('step'),
                     'args': dict(raw.get('args') or {})}
        if kind == 'deploy':
            user_step['priority'] = raw.get('priority', 0)
        driver_step = known.get(step_id(user_step))
        if driver_step is None:
            errors.append(f'node does not support this {kind} step: {user_step}')
            continue
        errors.extend(_validate_step(user_step, driver_step, kind, disable_ramdisk))
        result.append(user_step)
    if kind == 'deploy':
        counts = collections.Counter(step_id(s) for s in result)
        duplicates = sorted(name for name, count in counts.items() if count > 1)
        if duplicates:
            errors.append("deploy steps from all deploy templates matching this node's "
                          'instance traits cannot have the same interface and step. '
                          f'Duplicate deploy steps for {", ".join(duplicates)}')
    if errors:
        raise exception.InvalidParameterValue(err=error_prefix + '; '.join(errors))
    return result


# -- deploy -------------------------------------------------------------------------------
def validate_instance_traits(task, node_traits: list[str]) -> list[str]:
    """``instance_info['traits']``: a list of strings, each one of the node's traits."""
    return instance_traits.check(task.node.uuid, task.node.instance_info, node_traits)


async def deploy_templates(task) -> list[models.DeployTemplate]:
    """Deploy templates named like one of the node's instance traits."""
    if not (task.node.instance_info or {}).get('traits'):
        return []  # most deploys: no database round trip
    traits = validate_instance_traits(task, await task.env.db.get_node_traits(task.node.id))
    templates = []
    for name in sorted(set(traits)):
        templates.extend(await task.env.db.list_resources(models.DeployTemplate,
                                                          filters={'name': name}))
    return templates


async def validated_template_steps(task) -> list[dict[str, Any]]:
    """The steps of the node's matching deploy templates, validated against its driver."""
    templates = await deploy_templates(task)
    user_steps = [{k: step.get(k) for k in ('interface', 'step', 'args', 'priority')}
                  for tpl in templates for step in tpl.steps]
    prefix = ("Validation of deploy steps from deploy templates matching this node's "
              f'instance traits failed. Matching deploy templates: '
              f'{",".join(t.name for t in templates)}. Errors: ')
    return validate_user_steps(task, user_steps, 'deploy', error_prefix=prefix)


def validated_user_deploy_steps(task, deploy_steps: list[dict] | None = None
                                ) -> list[dict[str, Any]]:
    """The provision request's deploy steps (``deploy_steps``, else the node's stored
    ones), validated against its driver."""
    if not deploy_steps:
        deploy_steps = (task.node.driver_internal_info or {}).get(USER_DEPLOY_STEPS)
    if not deploy_steps:
        return []
    return validate_user_steps(
        task, deploy_steps, 'deploy',
        error_prefix='Validation of deploy steps from "deploy steps" argument failed. ')


async def all_deploy_steps(task) -> list[dict[str, Any]]:
    """The node's deploy, in order: enabled driver steps merged with the template steps and
    the request's steps (which win over a template step of the same name), as upstream."""
    user_steps = validated_user_deploy_steps(task)
    requested = {step_id(s) for s in user_steps}
    user_steps.extend(s for s in await validated_template_steps(task)
                      if step_id(s) not in requested)
    overridden = {step_id(s) for s in user_steps}
    steps = [s for s in driver_steps(task, 'deploy', enabled=True)
             if step_id(s) not in overridden]
    steps.extend(s for s in user_steps if s['priority'] > 0)
    return sorted_steps(steps)


# -- cleaning -----------------------------------------------------------------------------
async def set_node_cleaning_steps(task, user_steps: list[dict] | None,
                                  disable_ramdisk: bool = False) -> list[dict[str, Any]]:
    """Store the cleaning's steps in ``driver_internal_info['clean_steps']``: the user's
    (manual cleaning, validated, in their order; with ``disable_ramdisk``, API 1.70, only
    steps that need no ramdisk, the flag kept in ``cleaning_disable_ramdisk`` as upstream) or
    the driver's enabled ones (automated)."""
    info = dict(task.node.driver_internal_info)
    if user_steps is not None:
        steps = validate_user_steps(task, user_steps, 'clean',
                                    disable_ramdisk=disable_ramdisk)
        info[CLEANING_DISABLE_RAMDISK] = disable_ramdisk
    else:
        steps = sorted_steps(driver_steps(task, 'clean', enabled=True))
    LOG.debug('Clean steps of node %s: %s', task.node.uuid, steps)
    info['clean_steps'] = steps
    info.pop('clean_step_index', None)
    await task.save(clean_step={}, driver_internal_info=info)
    return steps
