"""The one runner of a node's steps — deploy and clean today, service next — and the one way
such an operation fails.

Which steps run is worked out by ``conductor/steps.py``; they are stored in
``driver_internal_info['<kind>_steps']`` and run here in order, the running one shown in
``node.<kind>_step`` and its position in ``<kind>_step_index``:

* a step returning None is done; the next one runs;
* a step returning its kind's wait state (``wait call-back`` for deploy steps) goes on outside
  the conductor: the node waits, and the driver later calls ``task.resume_steps()``
  (:func:`resume`), which runs the steps after it;
* a step raising, or returning anything else, fails the operation through :func:`fail`;
* after the last step the node moves on (``done``; ``manage`` for manual cleaning) with the
  step fields cleared.

:func:`fail` is the only failure path of a step operation, whoever notices the failure (the
runner, a deploy interface through ``task.fail_steps(reason)``, a ramdisk callback, the
callback timeout): ``last_error``, the failure state, the step fields cleared, then what the
kind does after a failure (a failed deploy powers the machine off and removes its boot files).

Each kind is one :class:`StepKind` in ``KINDS``. Servicing (``servicing``/``service wait``)
becomes one more entry once the node has a ``service_step`` field.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ironic_lite.common import exception, faults, states
from ironic_lite.conductor import utils
from ironic_lite.drivers import base

LOG = logging.getLogger(__name__)


# driver_internal_info key of a provision request's deploy steps (API 1.69; upstream's name),
# kept from the request until the deploy ends (upstream's wipe_deploy_internal_info)
USER_DEPLOY_STEPS = 'user_deploy_steps'
# ... and of manual cleaning's disable_ramdisk (API 1.70), until the cleaning ends
CLEANING_DISABLE_RAMDISK = 'cleaning_disable_ramdisk'


def step_id(step: dict[str, Any]) -> str:
    """``<interface>.<step>``, how upstream names a step in messages."""
    return f"{step.get('interface')}.{step.get('step')}"


@dataclasses.dataclass(frozen=True)
class StepKind:
    """What differs between deploy, clean (and service) steps; the rest is the runner's."""
    name: str                     # 'deploy': execute_deploy_step, 'deploy_step', ...
    states: frozenset[str]        # provision states of a node in this kind of operation
    running_state: str
    # what a step returns to go on asynchronously; None: no step of this kind may
    wait_state: str | None
    # the event ending the operation once its last step is done
    done_event: Callable[[Any], str]
    # last_error of a step that raised / returned something unexpected (upstream's wording)
    step_error: Callable[[Any, dict, BaseException], str]
    bad_result: Callable[[Any, dict, Any], str]
    # extra node fields when a step itself failed (not when the operation failed around it)
    step_failure_values: Callable[[Any, str], dict[str, Any]]
    # best-effort work after the failure is recorded
    after_failure: Callable[[Any], Awaitable[None]] | None = None
    # driver_internal_info keys of the request that the operation's end forgets too
    request_keys: tuple[str, ...] = ()

    @property
    def step_field(self) -> str:
        return f'{self.name}_step'

    @property
    def info_keys(self) -> tuple[str, str]:
        """driver_internal_info keys: the operation's steps and the running one's index."""
        return f'{self.name}_steps', f'{self.name}_step_index'


# -- deploy ---------------------------------------------------------------------------------
async def power_off_after_failure(task) -> None:
    """As upstream, a failed deploy leaves the machine off (seen on a qemu machine: it kept
    running its ramdisk); ``[deploy]power_off_after_deploy_failure``. Best effort: a BMC error
    is logged, the deploy already failed."""
    if not task.conf.deploy.power_off_after_deploy_failure:
        return
    try:
        await task.driver.power.set_power_state(task, states.POWER_OFF)
        await task.save(power_state=states.POWER_OFF, target_power_state=None)
    except Exception as e:
        LOG.warning('Node %s: powering off after the failed deploy failed: %s',
                    task.node.uuid, e)


async def clean_up_deploy(task) -> None:
    """Best effort: a failed or aborted deploy must not leave boot files or DHCP entries."""
    try:
        await task.driver.deploy.clean_up(task)
    except Exception:
        LOG.exception('Clean up after the failed deploy of node %s failed', task.node.uuid)


async def _after_deploy_failure(task) -> None:
    await power_off_after_failure(task)
    await clean_up_deploy(task)


def _clean_done_event(task) -> str:
    # manual cleaning (its target is manageable, as upstream tells them apart) and a retired
    # node (API 1.61, never made available again) end in manageable
    manual = task.node.target_provision_state == states.MANAGEABLE
    return 'manage' if manual or task.node.retired else 'done'


KINDS: dict[str, StepKind] = {
    'deploy': StepKind(
        name='deploy',
        states=frozenset({states.DEPLOYING, states.DEPLOYWAIT, states.DEPLOYFAIL,
                          states.DEPLOYHOLD}),
        running_state=states.DEPLOYING,
        wait_state=states.DEPLOYWAIT,
        done_event=lambda task: 'done',
        step_error=lambda task, step, e: (f'Deploy step {step_id(step)} failed: '
                                          f'{e or e.__class__.__name__}'),
        bad_result=lambda task, step, result: (f'Deploy step {step_id(step)} returned an '
                                               f'unexpected value: {result!r}'),
        step_failure_values=lambda task, message: {},
        after_failure=_after_deploy_failure,
        request_keys=(USER_DEPLOY_STEPS,)),
    'clean': StepKind(
        name='clean',
        states=frozenset({states.CLEANING, states.CLEANWAIT, states.CLEANFAIL,
                          states.CLEANHOLD}),
        running_state=states.CLEANING,
        # no clean step goes on asynchronously yet (no driver resumes cleaning): any result
        # but None is a driver bug
        wait_state=None,
        done_event=_clean_done_event,
        step_error=lambda task, step, e: (f'Node {task.node.uuid} failed step {step}: '
                                          f'{e or e.__class__.__name__}'),
        bad_result=lambda task, step, result: (f'While executing step {step} on node '
                                               f'{task.node.uuid}, step returned invalid '
                                               f'value: {result!r}'),
        # as upstream, a failed clean step puts the node in maintenance
        step_failure_values=lambda task, message: {
            'maintenance': True, 'fault': faults.CLEAN_FAILURE,
            'maintenance_reason': task.node.maintenance_reason or message},
        request_keys=(CLEANING_DISABLE_RAMDISK,)),
}


def kind_of(node: Any) -> StepKind | None:
    """The kind of step operation the node's provision state belongs to, if any."""
    return next((k for k in KINDS.values() if node.provision_state in k.states), None)


def step_clearing_values(node: Any, kinds: tuple[str, ...] = tuple(KINDS)) -> dict[str, Any]:
    """Node field values that forget the steps of ``kinds`` (all by default): no step stays
    shown as running once its operation ended, succeeded, failed or was cut short."""
    keys = {key for name in kinds for key in (*KINDS[name].info_keys,
                                              *KINDS[name].request_keys)}
    info = {k: v for k, v in (node.driver_internal_info or {}).items() if k not in keys}
    return {**{KINDS[name].step_field: {} for name in kinds}, 'driver_internal_info': info}


# -- the runner -----------------------------------------------------------------------------
async def run(task, kind_name: str, start: int = 0,
              new_steps: list[dict[str, Any]] | None = None) -> None:
    """Run the node's ``kind_name`` steps from index ``start`` on, then end the operation.

    Under the node's exclusive lock, with the node in the kind's running state. ``new_steps``
    starts an operation whose steps are not stored yet: they are, with the first step's save
    (one write fewer).
    """
    kind = KINDS[kind_name]
    steps_key, index_key = kind.info_keys
    steps = list(new_steps if new_steps is not None
                 else (task.node.driver_internal_info or {}).get(steps_key) or [])
    for index in range(start, len(steps)):
        step = steps[index]
        info = dict(task.node.driver_internal_info)
        if new_steps is not None:
            info[steps_key] = steps
        info[index_key] = index
        await task.save(**{kind.step_field: step, 'driver_internal_info': info})
        LOG.info('Node %s: executing %s step %s', task.node.uuid, kind.name, step_id(step))
        try:
            result = await base.execute_step(task, step, kind.name)
        except Exception as e:
            if not isinstance(e, exception.IronicLiteException):
                LOG.exception('Unexpected error in %s step %s of node %s', kind.name,
                              step_id(step), task.node.uuid)
            await fail(task, kind.step_error(task, step, e), step_failed=True)
            return
        if result is not None and result == kind.wait_state:
            LOG.info('Node %s: %s step %s goes on asynchronously', task.node.uuid, kind.name,
                     step_id(step))
            if task.node.provision_state != kind.wait_state:
                await task.process_event('wait')
            return
        if result is not None:
            await fail(task, kind.bad_result(task, step, result), step_failed=True)
            return
        if task.node.provision_state != kind.running_state:
            # the step's interface ended the operation itself (e.g. failed it)
            return
    await finish(task, kind)


async def finish(task, kind: StepKind) -> None:
    """All steps done: the operation's done event, its step fields cleared."""
    await task.process_event(kind.done_event(task),
                             extra=step_clearing_values(task.node, (kind.name,)))


async def resume(task) -> None:
    """``task.resume_steps()``: the step that went on outside the conductor is done; resume
    the node from its wait state and run the steps after it (or end the operation).

    Under the node's exclusive lock, the node in the kind's wait or running state.
    """
    kind = kind_of(task.node)
    if kind is None:
        raise exception.InvalidStateRequested(action='resume steps', node=task.node.uuid,
                                              state=task.node.provision_state)
    if task.node.provision_state == kind.wait_state:
        await task.process_event('resume')
    steps_key, index_key = kind.info_keys
    info = task.node.driver_internal_info or {}
    index = info.get(index_key)
    if index is None or not info.get(steps_key):
        # started without steps (e.g. before an upgrade): nothing else to run
        await finish(task, kind)
        return
    await run(task, kind.name, index + 1)


async def fail(task, message: str, *, step_failed: bool = False) -> None:
    """``task.fail_steps(reason)``: fail the node's step operation with ``message`` as its
    last_error — the failure state (or only the error when the node can no longer fail, e.g.
    an aborted deploy), its steps cleared, then the kind's best-effort clean-up.

    ``step_failed``: a step itself failed (cleaning then puts the node in maintenance).
    """
    kind = kind_of(task.node)
    values: dict[str, Any] = {'target_power_state': None}
    if kind is None:
        LOG.warning('Node %s fails in "%s", which is no step operation\'s state',
                    task.node.uuid, task.node.provision_state)
        values.update(step_clearing_values(task.node))
    else:
        values.update(step_clearing_values(task.node, (kind.name,)))
        if step_failed:
            values.update(kind.step_failure_values(task, message))
    await utils.fail_task(task, 'fail', message, **values)
    if kind is not None and kind.after_failure is not None:
        await kind.after_failure(task)
