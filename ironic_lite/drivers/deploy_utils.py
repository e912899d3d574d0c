"""Utilities shared by deploy interfaces.

A deploy interface reaches the conductor's step runner only through its task: when the core
step ``deploy.deploy`` returned ``states.DEPLOYWAIT`` (the node waits in ``wait call-back`` for
its ramdisk), the interface later calls ``task.resume_steps()`` once the instance is in place
(the steps after ``deploy.deploy`` run, then the node goes ``active``), or
``task.fail_steps(reason)`` when the deploy failed.
"""
from __future__ import annotations

from ironic_lite.common import states


async def resume_and_finish_deploy(task) -> None:
    """A ramdisk called back and the image is in place: boot the instance, run the remaining
    deploy steps, go active (``wait call-back`` → ``deploying`` → ``active``).
    """
    if task.node.provision_state == states.DEPLOYWAIT:
        await task.process_event('resume')
    await task.driver.boot.prepare_instance(task)
    await task.resume_steps()
