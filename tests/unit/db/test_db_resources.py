"""The resource tables on SQLite, PostgreSQL and MariaDB: migrations match the models, unique
constraints map to the right 409s, node-owned rows go with their node, paging."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ironic_lite.common import exception
from ironic_lite.common import resource_errors as errors
from ironic_lite.db import models


def _node(conn, **kw):
    return conn.create_node({'driver': 'fake-hardware', 'provision_state': 'available', **kw})


def test_migrations_match_models(conn):
    with conn.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), models.Base.metadata)
    tables = {'chassis', 'portgroups', 'volume_connectors', 'volume_targets', 'bios_settings',
              'allocations', 'deploy_templates'}
    mine = [d for d in diff if any(t in repr(d) for t in tables)]
    assert mine == []


def test_duplicates_are_conflicts(conn):
    node = _node(conn)
    conn.create_resource(models.Portgroup, {'node_id': node.id, 'name': 'pg',
                                            'address': '52:54:00:00:00:01'})
    with pytest.raises(errors.PortgroupDuplicateName):
        conn.create_resource(models.Portgroup, {'node_id': node.id, 'name': 'pg'})
    with pytest.raises(errors.PortgroupMACAlreadyExists):
        conn.create_resource(models.Portgroup, {'node_id': node.id,
                                                'address': '52:54:00:00:00:01'})
    conn.create_resource(models.VolumeConnector, {'node_id': node.id, 'type': 'iqn',
                                                  'connector_id': 'iqn.x'})
    with pytest.raises(errors.VolumeConnectorTypeAndIdAlreadyExists):
        conn.create_resource(models.VolumeConnector, {'node_id': node.id, 'type': 'iqn',
                                                      'connector_id': 'iqn.x'})
    target = {'node_id': node.id, 'volume_type': 'iscsi', 'boot_index': 0, 'volume_id': 'v'}
    conn.create_resource(models.VolumeTarget, target)
    with pytest.raises(errors.VolumeTargetBootIndexAlreadyExists):
        conn.create_resource(models.VolumeTarget, target)
    conn.create_resource(models.Allocation, {'state': 'active', 'node_id': node.id,
                                             'name': 'a'})
    with pytest.raises(errors.NodeAlreadyAllocated):
        conn.create_resource(models.Allocation, {'state': 'active', 'node_id': node.id})
    with pytest.raises(errors.AllocationDuplicateName):
        conn.create_resource(models.Allocation, {'state': 'allocating', 'name': 'a'})
    with pytest.raises(exception.Conflict):
        conn.create_resource(models.DeployTemplate, {'name': 'CUSTOM_X', 'steps': []})
        conn.create_resource(models.DeployTemplate, {'name': 'CUSTOM_X', 'steps': []})


def test_node_owned_rows_go_with_the_node(conn):
    node, other = _node(conn), _node(conn)
    for n in (node, other):
        conn.create_resource(models.Portgroup, {'node_id': n.id})
        conn.create_resource(models.VolumeTarget, {'node_id': n.id, 'volume_type': 'iscsi',
                                                   'boot_index': 0, 'volume_id': 'v'})
        conn.create_resource(models.Allocation, {'node_id': n.id, 'state': 'active'})
        conn.set_bios_settings(n.id, {'a': '1'})
    conn.destroy_node(node.id)
    for model in (models.Portgroup, models.VolumeTarget, models.Allocation):
        assert [r.node_id for r in conn.list_resources(model)] == [other.id]
    assert conn.list_bios_settings(node.id) == []
    assert [s.name for s in conn.list_bios_settings(other.id)] == ['a']


def test_paging_and_candidates(conn):
    made = [conn.create_resource(models.Chassis, {'description': f'c{i}'}) for i in range(5)]
    page = conn.list_resources(models.Chassis, limit=2, sort_key='description',
                               sort_dir='desc')
    assert [c.description for c in page] == ['c4', 'c3']
    rest = conn.list_resources(models.Chassis, marker=page[-1].uuid, sort_key='description',
                               sort_dir='desc')
    assert [c.description for c in rest] == ['c2', 'c1', 'c0']
    node = _node(conn, chassis_id=made[0].id, resource_class='rc')
    with pytest.raises(errors.ChassisNotEmpty):
        conn.destroy_chassis(made[0].id)
    _node(conn, resource_class='rc', maintenance=True)
    _node(conn, resource_class='other')
    assert [n.id for n in conn.allocation_candidates('rc', None, None)] == [node.id]
    conn.create_resource(models.Allocation, {'node_id': node.id, 'state': 'active'})
    assert conn.allocation_candidates('rc', None, None) == []
