"""The conductor's TaskManager implements the drivers' task contract (drivers/task.py) exactly:
every member a driver may use exists, with the protocol's signature."""
from __future__ import annotations

import inspect

import pytest

from ironic_lite.conductor.task_manager import TaskManager, acquire
from ironic_lite.db import models
from ironic_lite.drivers.factory import Driver
from ironic_lite.drivers.task import Task
from ironic_lite.testing.harness import Harness

DATA = sorted(Task.__annotations__)
METHODS = sorted(name for name, value in vars(Task).items()
                 if inspect.isfunction(value) and not name.startswith('_'))
PROPERTIES = sorted(name for name, value in vars(Task).items() if isinstance(value, property))


def test_the_contract_names_what_drivers_use():
    assert {'node', 'ports', 'driver'} <= set(DATA)
    assert {'conf', 'db'} <= set(PROPERTIES)
    assert {'save', 'set_driver_internal_info', 'process_event', 'reserve_worker',
            'spawn_after'} <= set(METHODS)


@pytest.mark.parametrize('name', METHODS)
def test_task_manager_methods_match_the_contract(name):
    promised, actual = getattr(Task, name), getattr(TaskManager, name, None)
    assert actual is not None, f'TaskManager has no {name}'
    assert inspect.iscoroutinefunction(actual) == inspect.iscoroutinefunction(promised)
    assert inspect.signature(actual) == inspect.signature(promised)


@pytest.mark.parametrize('name', PROPERTIES)
def test_task_manager_properties_match_the_contract(name):
    assert isinstance(getattr(TaskManager, name, None), property), name


async def test_a_live_task_has_every_member(sqlite_url):
    h = await Harness(sqlite_url).start()
    try:
        node = await h.db.create_node({'driver': 'fake-hardware', 'provision_state': 'available'})
        async with acquire(h.env, node.id, purpose='contract') as task:
            assert isinstance(task.node, models.Node)
            assert isinstance(task.ports, list)
            assert isinstance(task.driver, Driver)
            assert task.conf is h.env.conf and task.db is h.env.db
            for name in DATA + PROPERTIES + METHODS:
                assert hasattr(task, name), name
    finally:
        await h.stop()
