"""Domain exceptions. Each carries the HTTP status the API answers with (``code``).

The API maps these to Ironic's error body in one place (``api/errors.py``); conductor code raises
them and RPC carries them back on calls (``allowed_remote_exmods``).
"""
from __future__ import annotations

from http import HTTPStatus


class IronicLiteException(Exception):
    """Base class: ``_msg_fmt`` is formatted with the keyword arguments."""

    _msg_fmt = 'An unknown exception occurred.'
    code = HTTPStatus.INTERNAL_SERVER_ERROR

    def __init__(self, message: str | None = None, **kwargs):
        self.kwargs = kwargs
        if 'code' in kwargs:
            self.code = kwargs['code']
        if not message:
            try:
                message = self._msg_fmt % kwargs
            except (KeyError, TypeError):
                message = self._msg_fmt
        super().__init__(message)

    def __str__(self) -> str:
        return self.args[0] if self.args else self._msg_fmt


class Invalid(IronicLiteException):
    _msg_fmt = 'Unacceptable parameters.'
    code = HTTPStatus.BAD_REQUEST


class InvalidParameterValue(Invalid):
    _msg_fmt = '%(err)s'


class MissingParameterValue(InvalidParameterValue):
    _msg_fmt = '%(err)s'


class InvalidUUID(Invalid):
    _msg_fmt = 'Expected a UUID but received %(uuid)s.'


class InvalidUuidOrName(Invalid):
    _msg_fmt = 'Expected a logical name or UUID but received %(name)s.'


class InvalidMAC(Invalid):
    _msg_fmt = 'Expected a MAC address but received %(mac)s.'


class InvalidStateRequested(Invalid):
    _msg_fmt = ('The requested action "%(action)s" can not be performed on node '
                '"%(node)s" while it is in state "%(state)s".')


class PatchError(Invalid):
    _msg_fmt = "Couldn't apply patch '%(patch)s'. Reason: %(reason)s"


class NodeInMaintenance(Invalid):
    _msg_fmt = ('The %(op)s operation can\'t be performed on node %(node)s because it is in '
                'maintenance mode.')


class NodeIsRetired(Invalid):
    _msg_fmt = ('The %(op)s operation can\'t be performed on node %(node)s because it is '
                'retired.')


class UnsupportedDriverExtension(Invalid):
    _msg_fmt = '%(extension)s is not supported by driver %(driver)s.'


class VifNotAttached(InvalidParameterValue):
    _msg_fmt = 'Unable to detach VIF %(vif)s from node %(node)s because it is not attached to it.'


class NoFreePhysicalPorts(InvalidParameterValue):
    _msg_fmt = 'Unable to attach VIF %(vif)s, not enough free physical ports.'


class NodeConsoleNotEnabled(Invalid):
    _msg_fmt = 'Console access is not enabled on node %(node)s'


class InvalidDeployKey(Invalid):
    _msg_fmt = 'Deploy key does not match.'


class NotAcceptable(IronicLiteException):
    _msg_fmt = 'Request not acceptable.'
    code = HTTPStatus.NOT_ACCEPTABLE


class MethodNotAllowed(IronicLiteException):
    _msg_fmt = 'The method is not allowed for this resource.'
    code = HTTPStatus.METHOD_NOT_ALLOWED


class NotAuthorized(IronicLiteException):
    _msg_fmt = 'Not authorized.'
    code = HTTPStatus.FORBIDDEN


class NotFound(IronicLiteException):
    _msg_fmt = 'Resource could not be found.'
    code = HTTPStatus.NOT_FOUND


class NodeNotFound(NotFound):
    _msg_fmt = 'Node %(node)s could not be found.'


class PortNotFound(NotFound):
    _msg_fmt = 'Port %(port)s could not be found.'


class DriverNotFound(NotFound):
    _msg_fmt = 'Could not find the following driver(s) or hardware type(s): %(driver_name)s.'


class InterfaceNotFoundInEntrypoint(InvalidParameterValue):
    _msg_fmt = ('Could not find the following interface in the '
                '"%(entrypoint)s" entrypoint: %(iface)s. Valid interfaces are %(valid)s.')


class NodeTraitNotFound(NotFound):
    _msg_fmt = 'Node %(node)s doesn\'t have a trait \'%(trait)s\''


class ConductorNotFound(NotFound):
    _msg_fmt = 'Conductor %(conductor)s could not be found.'


class Conflict(IronicLiteException):
    _msg_fmt = 'Conflict.'
    code = HTTPStatus.CONFLICT


class VifAlreadyAttached(Conflict):
    _msg_fmt = ('Unable to set VIF %(vif)s, it is already attached to %(object_type)s '
                '%(object_uuid)s.')


class NodeLocked(Conflict):
    _msg_fmt = ('Node %(node)s is locked by host %(host)s, please retry after the current '
                'operation is completed.')


class NodeAlreadyExists(Conflict):
    _msg_fmt = 'A node with UUID %(uuid)s already exists.'


class DuplicateName(Conflict):
    _msg_fmt = 'A node with name %(name)s already exists.'


class InstanceAssociated(Conflict):
    _msg_fmt = ('Instance %(instance_uuid)s is already associated with a node, it cannot be '
                'associated with this other node %(node)s')


class NodeAssociated(Conflict):
    """409 as upstream: the node already runs another instance."""
    _msg_fmt = 'Node %(node)s is associated with instance %(instance)s.'


class InvalidState(Conflict):
    """409 as upstream: the request is valid but not in the node's current state."""
    _msg_fmt = 'Invalid resource state.'


class NodeProtected(IronicLiteException):
    """403 as upstream: a protected node refuses undeploy, rebuild and delete."""
    _msg_fmt = 'Node %(node)s is protected and cannot be undeployed, rebuilt or deleted'
    code = HTTPStatus.FORBIDDEN


class PortAlreadyExists(Conflict):
    _msg_fmt = 'A port with UUID %(uuid)s already exists.'


class MACAlreadyExists(Conflict):
    _msg_fmt = 'A port with MAC address %(mac)s already exists.'


class NodeStateChanged(Conflict):
    """A compare-and-set on a node lost the race: someone changed it since it was read."""
    _msg_fmt = ('Node %(node)s changed while the request was processed '
                '(another request got there first); please retry.')


class ConductorAlreadyRegistered(Conflict):
    _msg_fmt = 'Conductor %(conductor)s already registered.'


class NodeNotLocked(IronicLiteException):
    _msg_fmt = 'Node %(node)s found not to be locked on release'


class RequestTooLarge(IronicLiteException):
    _msg_fmt = ('Request body is too large: at most %(limit)d bytes are accepted here, '
                '%(size)s were sent.')
    code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class RequestTimeout(IronicLiteException):
    _msg_fmt = 'The request body did not arrive within %(timeout)s seconds.'
    code = HTTPStatus.REQUEST_TIMEOUT


class NoValidHost(IronicLiteException):
    _msg_fmt = 'No valid host was found. Reason: %(reason)s'
    code = HTTPStatus.SERVICE_UNAVAILABLE


class ConductorUnavailable(IronicLiteException):
    _msg_fmt = 'The conductor service is unavailable; please retry. (%(reason)s)'
    code = HTTPStatus.SERVICE_UNAVAILABLE


class ConductorTimeout(IronicLiteException):
    _msg_fmt = 'The conductor did not answer %(method)s in time; please retry.'
    code = HTTPStatus.SERVICE_UNAVAILABLE


class ConductorError(IronicLiteException):
    """An unexpected error inside the conductor: its traceback is in the conductor's log."""
    _msg_fmt = 'Internal Server Error: the conductor failed in %(method)s; the error is logged.'
    code = HTTPStatus.INTERNAL_SERVER_ERROR


class NoFreeConductorWorker(IronicLiteException):
    _msg_fmt = 'Requested action cannot be performed due to lack of free conductor workers.'
    code = HTTPStatus.SERVICE_UNAVAILABLE


class TemporaryFailure(IronicLiteException):
    _msg_fmt = 'Resource temporarily unavailable, please retry.'
    code = HTTPStatus.SERVICE_UNAVAILABLE


class PowerStateFailure(IronicLiteException):
    _msg_fmt = 'Failed to set node power state to %(pstate)s.'


class InstanceDeployFailure(IronicLiteException):
    _msg_fmt = 'Failed to deploy instance: %(reason)s'


class InstanceUnDeployFailure(IronicLiteException):
    _msg_fmt = 'Failed to undeploy instance: %(reason)s'


class DriverLoadError(IronicLiteException):
    _msg_fmt = ('Driver, hardware type or interface %(driver)s could not be loaded. '
                'Reason: %(reason)s.')


class ConfigInvalid(IronicLiteException):
    _msg_fmt = 'Invalid configuration file. %(error_msg)s'


# --- Images: image service, master image cache, format conversion ---------------------------

class ImageRefValidationFailed(Invalid):
    """The image reference itself is unusable (bad scheme, refused file:// path, 4xx...)."""
    _msg_fmt = 'Validation of image href %(image_href)s failed, reason: %(reason)s'


class ImageNotFound(NotFound):
    _msg_fmt = 'Image %(image_id)s could not be found.'


class InvalidImage(Invalid):
    """The image content is unacceptable (unsafe qcow2, unsupported format...)."""
    _msg_fmt = 'Image %(image_href)s is unacceptable: %(reason)s'


class ImageChecksumError(Invalid):
    # 400: a wrong image_checksum or os_hash is the requester's mistake far more often
    # than a corrupt transfer (transfer errors surface as ImageDownloadFailed).
    _msg_fmt = ('The %(algo)s checksum of image %(image_href)s does not match: expected '
                '%(expected)s, got %(actual)s.')


class ImageDownloadFailed(IronicLiteException):
    _msg_fmt = 'Failed to download image %(image_href)s, reason: %(reason)s'


class ImageConvertFailed(IronicLiteException):
    _msg_fmt = 'Image %(image_href)s failed to convert to raw: %(reason)s'


class InsufficientDiskSpace(IronicLiteException):
    _msg_fmt = ('Disk volume where "%(path)s" is located does not have enough space: '
                '%(required)d bytes (%(required_mib)d MiB) required, only %(available)d '
                'bytes (%(available_mib)d MiB) available.')


# --- IPMI (ipmitool interfaces, pyghmi) ------------------------------------------------------

class IPMIFailure(IronicLiteException):
    """A BMC refused, failed or did not answer an IPMI operation (after retries)."""
    _msg_fmt = 'IPMI call to %(bmc)s failed: %(reason)s'


# --- Redfish (redfish interfaces, sushy) -----------------------------------------------------

class HardwareInspectionFailure(IronicLiteException):
    _msg_fmt = 'Failed to inspect hardware. Reason: %(error)s'


class RedfishError(IronicLiteException):
    """A BMC refused, failed or did not answer a Redfish operation (after retries)."""
    _msg_fmt = 'Redfish call to %(bmc)s failed: %(reason)s'
