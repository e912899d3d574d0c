"""The task contract: exactly what a driver may use of the task it is given.

Every driver operation receives a task: one unit of work on one node, holding that node's lock.
The conductor's ``TaskManager`` (``conductor/task_manager.py``) implements this protocol; drivers
and ``common/`` type their ``task`` parameters with :class:`Task` and never import the
conductor, not even for types (``tests/unit/test_layering.py`` checks it). Anything a driver
needs of a task and that is not below goes here first, so the seam stays written down.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # pragma: no cover
    from oslo_config import cfg

    from ironic_lite.db import models
    from ironic_lite.db.aio import AsyncConnection
    from ironic_lite.drivers.factory import Driver

# A function run in a worker as ``fn(task, *args, **kwargs)``, still holding the node's lock.
WorkerFn = Callable[..., Awaitable[None]]


class Task(Protocol):
    """One unit of work on one node, under that node's lock (exclusive unless shared)."""

    node: models.Node
    """The node, as last read or written by this task (``save`` refreshes it)."""

    ports: list[models.Port]
    """The node's ports, read with the lock."""

    driver: Driver
    """The node's interface implementations (``task.driver.power``, ``.boot``, ``.deploy``…)."""

    @property
    def conf(self) -> cfg.ConfigOpts:
        """The conductor's configuration."""

    @property
    def db(self) -> AsyncConnection:
        """The database, for the rows a driver owns beyond the node (portgroups, BIOS
        settings…). Writes to the node itself go through :meth:`save`."""

    async def save(self, **values: Any) -> models.Node:
        """Write fields of the node, only while this task still holds its exclusive lock."""

    async def set_driver_internal_info(self, **items: Any) -> None:
        """Set keys of the node's ``driver_internal_info``; a ``None`` value removes the key."""

    async def process_event(self, event: str, *, callback: WorkerFn | None = None,
                            call_args: tuple = (), extra: dict[str, Any] | None = None) -> None:
        """Move the node through the provision state machine, writing ``extra`` with it; with
        ``callback``, run ``callback(task, *call_args)`` in a worker afterwards."""

    async def resume_steps(self) -> None:
        """The step that went on outside the conductor (e.g. ``deploy.deploy`` waiting for its
        ramdisk) is done: resume the node and run the rest of its steps."""

    async def fail_steps(self, reason: str) -> None:
        """Fail the node's step operation (deploy, cleaning) with ``reason``: the one failure
        path of step operations."""

    def reserve_worker(self) -> None:
        """Reserve a worker before changing any state (``NoFreeConductorWorker`` when full)."""

    def spawn_after(self, fn: WorkerFn, *args: Any, **kwargs: Any) -> None:
        """Run ``fn(task, *args, **kwargs)`` in a worker once the current request's handling
        ends, keeping the lock until it returns."""
