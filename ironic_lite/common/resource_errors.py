"""Exceptions of the API resources beyond nodes and ports (chassis, portgroups, volume
connectors and targets, BIOS settings, conductors, allocations, deploy templates).

They derive from :mod:`ironic_lite.common.exception`'s bases, so the API maps them to HTTP
(404/409/400) like every other domain error; the messages follow upstream Ironic's.
"""
from __future__ import annotations

from ironic_lite.common.exception import Conflict, Invalid, InvalidStateRequested, NotFound


class ChassisNotFound(NotFound):
    _msg_fmt = 'Chassis %(chassis)s could not be found.'


class ChassisAlreadyExists(Conflict):
    _msg_fmt = 'A chassis with UUID %(uuid)s already exists.'


class ChassisNotEmpty(Invalid):
    _msg_fmt = 'Cannot complete the requested action because chassis %(chassis)s contains nodes.'


class PortgroupNotFound(NotFound):
    _msg_fmt = 'Portgroup %(portgroup)s could not be found.'


class PortgroupAlreadyExists(Conflict):
    _msg_fmt = 'A portgroup with UUID %(uuid)s already exists.'


class PortgroupDuplicateName(Conflict):
    _msg_fmt = 'A portgroup with name %(name)s already exists.'


class PortgroupMACAlreadyExists(Conflict):
    _msg_fmt = 'A portgroup with MAC address %(mac)s already exists.'


class PortgroupNotEmpty(Invalid):
    _msg_fmt = ('Cannot complete the requested action because portgroup %(portgroup)s '
                'contains ports.')


class VolumeConnectorNotFound(NotFound):
    _msg_fmt = 'Volume connector %(connector)s could not be found.'


class VolumeConnectorAlreadyExists(Conflict):
    _msg_fmt = 'A volume connector with UUID %(uuid)s already exists.'


class VolumeConnectorTypeAndIdAlreadyExists(Conflict):
    _msg_fmt = ('A volume connector with type %(type)s and connector ID %(connector_id)s '
                'already exists.')


class VolumeTargetNotFound(NotFound):
    _msg_fmt = 'Volume target %(target)s could not be found.'


class VolumeTargetAlreadyExists(Conflict):
    _msg_fmt = 'A volume target with UUID %(uuid)s already exists.'


class VolumeTargetBootIndexAlreadyExists(Conflict):
    _msg_fmt = ('A volume target with boot index \'%(boot_index)s\' for the same node '
                'already exists.')


class BIOSSettingNotFound(NotFound):
    _msg_fmt = 'Node %(node)s doesn\'t have a BIOS setting \'%(name)s\''


class AllocationNotFound(NotFound):
    _msg_fmt = 'Allocation %(allocation)s could not be found.'


class AllocationAlreadyExists(Conflict):
    _msg_fmt = 'An allocation with UUID %(uuid)s already exists.'


class AllocationDuplicateName(Conflict):
    _msg_fmt = 'An allocation with name %(name)s already exists.'


class NodeAlreadyAllocated(Conflict):
    _msg_fmt = 'Node %(node)s already has an allocation.'


class InvalidState(Conflict):
    _msg_fmt = 'Invalid resource state.'


class DeployTemplateNotFound(NotFound):
    _msg_fmt = 'Deploy template %(template)s could not be found.'


class DeployTemplateAlreadyExists(Conflict):
    _msg_fmt = 'A deploy template with UUID %(uuid)s already exists.'


class DeployTemplateDuplicateName(Conflict):
    _msg_fmt = 'A deploy template with name %(name)s already exists.'


class NodeNotPoweredOff(InvalidStateRequested):
    _msg_fmt = ('The requested action "%(action)s" can not be performed on node "%(node)s" '
                'while it is in state "%(state)s".')
