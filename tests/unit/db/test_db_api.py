"""The database layer on SQLite, PostgreSQL and MariaDB: CRUD, compare-and-set, locks."""
from __future__ import annotations

import threading

import pytest

from ironic_lite.common import exception
from ironic_lite.db import migration


def _node(conn, **kw):
    values = {'driver': 'fake-hardware', 'provision_state': 'available'}
    values.update(kw)
    return conn.create_node(values)


def test_schema_at_head(conn):
    assert migration.version(conn) is not None


def test_node_crud_and_json_fields(conn):
    node = _node(conn, name='n-1', driver_info={'ipmi_address': '10.0.0.1', 'nested': [1, 2]})
    assert conn.get_node(node.uuid).id == node.id
    assert conn.get_node('n-1').uuid == node.uuid
    assert conn.get_node(node.id).driver_info == {'ipmi_address': '10.0.0.1', 'nested': [1, 2]}
    assert conn.get_node(node.id).instance_info == {}
    updated = conn.update_node(node.id, {'extra': {'a': 'b'}, 'maintenance': True})
    assert updated.extra == {'a': 'b'} and updated.maintenance is True
    conn.destroy_node(node.id)
    with pytest.raises(exception.NodeNotFound):
        conn.get_node(node.uuid)


def test_unique_constraints(conn):
    node = _node(conn, name='same', instance_uuid='1be26c0b-03f2-4d2e-ae87-c02d7f33c123')
    with pytest.raises(exception.DuplicateName):
        _node(conn, name='same')
    with pytest.raises(exception.NodeAlreadyExists):
        _node(conn, uuid=node.uuid)
    with pytest.raises(exception.InstanceAssociated):
        _node(conn, instance_uuid='1be26c0b-03f2-4d2e-ae87-c02d7f33c123')
    other = _node(conn)
    with pytest.raises(exception.DuplicateName):
        conn.update_node(other.id, {'name': 'same'})


def test_compare_and_set(conn):
    node = _node(conn)
    conn.update_node(node.id, {'intent': 'deploy'}, expected={'intent': None,
                                                              'provision_state': 'available'})
    with pytest.raises(exception.NodeStateChanged):
        conn.update_node(node.id, {'intent': 'manage'}, expected={'intent': None})
    with pytest.raises(exception.NodeNotFound):
        conn.update_node(node.id + 1000, {'intent': None}, expected={'intent': 'deploy'})
    # a dict column can be part of the expectation (used by PATCH against lost updates)
    conn.update_node(node.id, {'extra': {'x': 1}})
    conn.update_node(node.id, {'extra': {'x': 2}}, expected={'extra': {'x': 1}})
    with pytest.raises(exception.NodeStateChanged):
        conn.update_node(node.id, {'extra': {'x': 3}}, expected={'extra': {'x': 1}})


def test_reserve_and_release(conn):
    node = _node(conn)
    assert conn.reserve_node('host-a', node.id).reservation == 'host-a'
    with pytest.raises(exception.NodeLocked) as err:
        conn.reserve_node('host-b', node.id)
    assert 'host-a' in str(err.value)
    with pytest.raises(exception.NodeNotLocked):
        conn.release_node('host-b', node.id)
    with pytest.raises(exception.NodeLocked):
        conn.destroy_node(node.id)
    conn.release_node('host-a', node.id)
    assert conn.get_node(node.id).reservation is None
    with pytest.raises(exception.NodeNotFound):
        conn.reserve_node('host-a', node.id + 1000)


def test_reserve_with_ports_by_uuid_or_name(conn):
    node = _node(conn, name='named')
    other = _node(conn)
    for mac in ('52:54:00:00:00:02', '52:54:00:00:00:01'):
        conn.create_port({'address': mac, 'node_id': node.id})
    conn.create_port({'address': '52:54:00:00:00:03', 'node_id': other.id})
    locked, ports = conn.reserve_node_with_ports('host-a', node.uuid)
    assert locked.reservation == 'host-a'
    assert [p.address for p in ports] == ['52:54:00:00:00:02', '52:54:00:00:00:01']
    with pytest.raises(exception.NodeLocked):
        conn.reserve_node_with_ports('host-b', 'named')
    shown, ports = conn.get_node_with_ports('named')
    assert shown.reservation == 'host-a' and len(ports) == 2
    with pytest.raises(exception.NodeNotFound):
        conn.reserve_node_with_ports('host-a', 'no-such-node')
    with pytest.raises(exception.NodeNotFound):
        conn.get_node_with_ports('no-such-node')


def test_concurrent_reservations_have_exactly_one_winner(conn):
    node = _node(conn)
    winners, errors = [], []
    barrier = threading.Barrier(12)

    def claim(i):
        barrier.wait()
        try:
            conn.reserve_node(f'host-{i}', node.id)
            winners.append(i)
        except exception.NodeLocked:
            pass
        except Exception as e:  # noqa: BLE001 - any other error is a failure of the test
            errors.append(e)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(winners) == 1
    assert conn.get_node(node.id).reservation == f'host-{winners[0]}'


def test_clear_reservations_for_conductor(conn):
    a, b, c = _node(conn), _node(conn), _node(conn)
    conn.reserve_node('dead', a.id)
    conn.reserve_node('dead', b.id)
    conn.reserve_node('alive', c.id)
    assert conn.clear_node_reservations_for_conductor('dead') == 2
    assert conn.get_node(a.id).reservation is None
    assert conn.get_node(c.id).reservation == 'alive'


def test_list_filters_sorting_and_pagination(conn):
    nodes = [_node(conn, name=f'n{i}', provision_state='available' if i % 2 else 'enroll')
             for i in range(7)]
    assert [n.uuid for n in conn.list_nodes()] == [n.uuid for n in nodes]
    page1 = conn.list_nodes(limit=3)
    page2 = conn.list_nodes(limit=3, marker=page1[-1].uuid)
    assert [n.name for n in page1 + page2] == ['n0', 'n1', 'n2', 'n3', 'n4', 'n5']
    assert {n.name for n in conn.list_nodes({'provision_state': 'available'})} == \
        {'n1', 'n3', 'n5'}
    desc = conn.list_nodes(sort_key='name', sort_dir='desc', limit=2)
    assert [n.name for n in desc] == ['n6', 'n5']
    after = conn.list_nodes(sort_key='name', sort_dir='desc', limit=2, marker=desc[-1].uuid)
    assert [n.name for n in after] == ['n4', 'n3']
    conn.reserve_node('h', nodes[0].id)
    assert [n.name for n in conn.list_nodes({'reserved': True})] == ['n0']
    with pytest.raises(exception.InvalidParameterValue):
        conn.list_nodes(sort_key='driver_info')
    with pytest.raises(exception.NodeNotFound):
        conn.list_nodes(marker='00000000-0000-0000-0000-000000000000')


def test_ports(conn):
    node = _node(conn)
    port = conn.create_port({'address': '52:54:00:00:00:01', 'node_id': node.id})
    assert conn.get_port(port.uuid).address == '52:54:00:00:00:01'
    with pytest.raises(exception.MACAlreadyExists):
        conn.create_port({'address': '52:54:00:00:00:01', 'node_id': node.id})
    assert [p.uuid for p in conn.get_ports_by_addresses(['52:54:00:00:00:01', 'x'])] == \
        [port.uuid]
    conn.update_port(port.id, {'extra': {'k': 'v'}})
    assert conn.list_ports(node_id=node.id)[0].extra == {'k': 'v'}
    conn.destroy_node(node.id)  # ports go with their node
    with pytest.raises(exception.PortNotFound):
        conn.get_port(port.uuid)


def test_conductor_registration_and_liveness(conn):
    conn.register_conductor('c1', ['fake-hardware'], '', {'fake-hardware': {}})
    conn.register_conductor('c1', ['fake-hardware', 'ipmi'], 'rack1', {})  # restart
    live = conn.get_online_conductors(60)
    assert [(c.hostname, c.drivers, c.conductor_group) for c in live] == \
        [('c1', ['fake-hardware', 'ipmi'], 'rack1')]
    conn.unregister_conductor('c1')
    assert conn.get_online_conductors(60) == []
    conn.touch_conductor('c1')
    assert len(conn.get_online_conductors(60)) == 1
    with pytest.raises(exception.ConductorNotFound):
        conn.touch_conductor('nope')
