"""One fake IPMI BMC: pyghmi's BMC server with chassis power and boot options.

:class:`FakeBmc` answers on a socket it is given (the fleet in ``fakebmc`` owns the sockets
and the loop), routing each client's packets to that client's session by address, so one
process can host hundreds of BMCs. Fixes over pyghmi's stock server, both needed by real
clients:

* an open-session request for any cipher suite but 3 (RAKP-HMAC-SHA1, HMAC-SHA1-96, AES) is
  answered with RMCP+ status 0x11, so pyghmi's client (which asks for suite 17 first) falls
  back to suite 3 instead of failing on a SHA-1 answer to a SHA-256 request;
* an unknown user name is answered with RAKP2 status 0x0d ("Unauthorized name") instead of
  silence, so a client fails at once instead of timing out.

The machine: power (with an optional soft power off delay, or an OS that ignores ACPI), boot
device with the persistent and UEFI flags, the 60 s boot override timeout of real BMCs (and the
command that disables it), NMI, and counters (sessions, commands, boots, power changes).
"""
from __future__ import annotations

import collections
import dataclasses
import hashlib
import logging
import socket
import struct
import threading
import time
import uuid
from typing import Any

import pyghmi.ipmi.bmc as pyghmi_bmc
import pyghmi.ipmi.command as pyghmi_command
import pyghmi.ipmi.private.constants as pyghmi_constants
import pyghmi.ipmi.private.serversession as pyghmi_serversession

LOG = logging.getLogger(__name__)

# IPMI completion code: "command not supported in present state" (e.g. reset while off).
_NOT_IN_PRESENT_STATE = 0xD5
# RMCP+ status codes (IPMI 2.0 table 13-15).
_RMCP_NO_CIPHER_SUITE_MATCH = 0x11
_RMCP_UNAUTHORIZED_NAME = 0x0D
# The only suite pyghmi's server implements: RAKP-HMAC-SHA1 / HMAC-SHA1-96 / AES-CBC-128.
_SUITE_3_ALGORITHMS = (1, 1, 1)
# Real BMCs clear a boot override that no reboot consumed after 60 s unless told not to
# (boot option parameter 3, bit 3); upstream Ironic sends that "disable boot timeout" command.
_BOOT_FLAG_TIMEOUT = 60.0


@dataclasses.dataclass
class BmcSpec:
    """One BMC of a fleet. ``port`` 0 lets the kernel pick a free port."""

    port: int = 0
    username: str = 'admin'
    password: str = 'password'
    power: str = 'off'                 # 'on' or 'off'
    boot_device: str | None = None     # pyghmi names: network, hd, optical, setup, safe, floppy
    persistent: bool = False


class _ServerSession(pyghmi_serversession.ServerSession):
    """Server side of one client session, registered with its BMC only (not process-wide)."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _ServerSession:
        return object.__new__(cls)

    def __init__(self, bmc: FakeBmc, clientaddr: Any, request: bytearray) -> None:
        # Mirrors ServerSession.__init__ except for the registration in pyghmi's
        # process-wide Session.bmc_handlers, which an in-process pyghmi client also uses.
        self.uuid = bmc.uuid
        self.currhashlib = hashlib.sha1
        self.currhashlen = 12
        self.rqaddr = pyghmi_constants.IPMI_BMC_ADDRESS
        self.authdata = bmc.authdata
        self.servermode = True
        self.ipmiversion = 2.0
        self.sequencenumber = 0
        self.sessionid = 0
        self.bmc = bmc
        self.lastpayload = None
        self.rqlun = None
        self.broken = False
        self.authtype = 6
        self.integrityalgo = 0
        self.confalgo = 0
        self.kg = bmc.kg
        self.socket = bmc.serversocket
        self.sockaddr = clientaddr
        self.pendingpayloads = collections.deque()
        self.pktqueue = collections.deque()
        self.established = False
        bmc.sessions[clientaddr] = self
        response = self.create_open_session_response(request)
        self.send_payload(response, pyghmi_constants.payload_types['rmcpplusopenresponse'],
                          retry=False)

    def create_open_session_response(self, request: bytearray) -> bytearray:
        # Algorithms proposed: authentication at byte 12, integrity 20, confidentiality 28.
        if len(request) < 32 or (request[12], request[20], request[28]) != _SUITE_3_ALGORITHMS:
            return bytearray([request[0], _RMCP_NO_CIPHER_SUITE_MATCH, 0, 0]) + request[4:8]
        return super().create_open_session_response(request)

    def _got_rakp1(self, data: bytearray) -> None:
        username = bytes(data[28:]).decode('utf-8', 'replace')
        if data[27] and self.authdata.get(username) is None:
            self.send_payload(bytearray([data[0], _RMCP_UNAUTHORIZED_NAME, 0, 0])
                              + self.clientsessionid,
                              pyghmi_constants.payload_types['rakp2'], retry=False)
            return
        super()._got_rakp1(data)

    def _got_rakp3(self, data: bytearray) -> None:
        super()._got_rakp3(data)
        if not self.established and self.ipmicallback == self.handle_client_request:
            self.established = True
            self.bmc.count('sessions')

    def close_server_session(self) -> None:
        if self.bmc.sessions.get(self.sockaddr) is self:
            del self.bmc.sessions[self.sockaddr]


class FakeBmc(pyghmi_bmc.Bmc):
    """One fake BMC: chassis power and boot options, served on the socket it is given."""

    def __init__(self, sock: socket.socket, spec: BmcSpec,
                 soft_off_delay: float | None = 0.0) -> None:
        # IpmiServer.__init__ is not called: it binds through pyghmi's shared IO thread.
        self.revision = 0
        self.deviceid = 0
        self.firmwaremajor = 1
        self.firmwareminor = 0
        self.ipmiversion = 2
        self.additionaldevices = 0
        self.mfgid = 0
        self.prodid = 0
        self.pktqueue = collections.deque()
        self.uuid = uuid.uuid4()
        self.authdata = {spec.username: spec.password}
        # Channel 1, IPMI 2.0 only, non-null user names (as IpmiServer does).
        self.authcap = struct.pack('9B', 0, 1, 0b10000000, 0b00000100, 0b00000010, 0, 0, 0, 0)
        self.kg = None
        self.timeout = 60
        self.serversocket = sock
        self.port = sock.getsockname()[1]
        self.sessions: dict[Any, _ServerSession] = {}
        self.soft_off_delay = soft_off_delay
        self._lock = threading.Lock()
        self._power_on = spec.power == 'on'
        self._soft_off_at: float | None = None
        self._boot_valid = spec.boot_device is not None
        self._boot_byte = pyghmi_command.boot_devices.get(spec.boot_device or 'default', 0)
        self._boot_flags = 0x40 if spec.persistent else 0
        self._boot_set_at = time.monotonic()
        self._valid_bit_clearing = 0
        self._counters = {'sessions': 0, 'commands': 0, 'boots': 0, 'nmi': 0,
                          'power_changes': 0}
        self._last_boot_device: str | None = None

    # -- state (shared by the loop thread and API callers, under self._lock) ------------------

    def count(self, name: str) -> None:
        with self._lock:
            self._counters[name] += 1

    def _settle(self) -> None:
        """Apply what time alone changes: a pending soft power off, a boot flag timeout."""
        now = time.monotonic()
        if self._soft_off_at is not None and now >= self._soft_off_at:
            self._power_on, self._soft_off_at = False, None
            self._counters['power_changes'] += 1
        if (self._boot_valid and not self._boot_flags & 0x40
                and not self._valid_bit_clearing & 0x08
                and now - self._boot_set_at > _BOOT_FLAG_TIMEOUT):
            self._boot_valid = False

    def _boot(self) -> None:
        """The machine (re)starts: it consumes a one-time boot override."""
        self._counters['boots'] += 1
        self._last_boot_device = self._boot_name() if self._boot_valid else None
        if self._boot_valid and not self._boot_flags & 0x40:
            self._boot_valid = False

    def _boot_name(self) -> str | None:
        name = pyghmi_command.boot_devices.get((self._boot_byte >> 2) & 0xF)
        return None if name in (None, 'default') else name

    def state(self) -> dict[str, Any]:
        with self._lock:
            self._settle()
            valid = self._boot_valid and self._boot_name() is not None
            return {'power': 'on' if self._power_on else 'off',
                    'boot_device': self._boot_name() if valid else None,
                    'persistent': bool(self._boot_flags & 0x40) if valid else False,
                    'uefi': bool(self._boot_flags & 0x20) if valid else False,
                    'boot_timeout_disabled': bool(self._valid_bit_clearing & 0x08),
                    'last_boot_device': self._last_boot_device,
                    **self._counters}

    def set_state(self, power: str | None = None, boot_device: str | None = None,
                  persistent: bool = False) -> None:
        """Change the machine behind everybody's back (test set-up)."""
        with self._lock:
            if power is not None:
                self._power_on, self._soft_off_at = power == 'on', None
            if boot_device is not None:
                self._boot_byte = pyghmi_command.boot_devices[boot_device]
                self._boot_valid = boot_device != 'default'
                self._boot_flags = 0x40 if persistent else 0
                self._boot_set_at = time.monotonic()

    # -- IPMI handlers (called from the fleet's loop thread) ----------------------------------

    def handle_raw_request(self, request: dict[str, Any], session: Any) -> None:
        self.count('commands')
        super().handle_raw_request(request, session)

    def get_power_state(self) -> str:
        with self._lock:
            self._settle()
            return 'on' if self._power_on else 'off'

    def control_chassis(self, request: dict[str, Any], session: Any) -> None:
        directive = request['data'][0] if request['data'] else None
        code = 0
        with self._lock:
            self._settle()
            was_on = self._power_on
            if directive == 0:                        # power down
                self._power_on, self._soft_off_at = False, None
            elif directive == 1:                      # power up
                if not was_on:
                    self._power_on = True
                    self._boot()
            elif directive in (2, 3):                 # power cycle, hard reset
                if was_on:
                    self._soft_off_at = None
                    self._boot()
                else:
                    code = _NOT_IN_PRESENT_STATE
            elif directive == 4:                      # diagnostic interrupt (NMI)
                if was_on:
                    self._counters['nmi'] += 1
                else:
                    code = _NOT_IN_PRESENT_STATE
            elif directive == 5:                      # ACPI soft shutdown
                # None: no OS that reacts to ACPI, so the machine just stays on.
                if was_on and self.soft_off_delay == 0:
                    self._power_on = False
                elif was_on and self.soft_off_delay is not None:
                    self._soft_off_at = time.monotonic() + self.soft_off_delay
            else:
                code = 0xCC                           # invalid data field
            if self._power_on != was_on or (directive in (2, 3) and code == 0):
                self._counters['power_changes'] += 1
            power = 'on' if self._power_on else 'off'
        LOG.info('BMC %s: chassis control %s -> code %#x, power %s', self.port, directive, code,
                 power)
        session.send_ipmi_response(code=code)

    def get_system_boot_options(self, request: dict[str, Any], session: Any) -> None:
        if request['data'][0] & 0x7F != 5:
            session.send_ipmi_response(code=0x80)     # parameter not supported
            return
        with self._lock:
            self._settle()
            flags = (0x80 | self._boot_flags) if self._boot_valid else 0
            device = self._boot_byte if self._boot_valid else 0
        session.send_ipmi_response(data=[1, 5, flags, device, 0, 0, 0])

    def set_system_boot_options(self, request: dict[str, Any], session: Any) -> None:
        data = request['data']
        param = data[0] & 0x7F if data else None
        with self._lock:
            if param == 3 and len(data) > 1:
                self._valid_bit_clearing = data[1]
            elif param == 5 and len(data) > 2:
                self._boot_valid = bool(data[1] & 0x80)
                self._boot_flags = data[1] & 0x60     # persistent, UEFI
                self._boot_byte = data[2] & 0x3C
                self._boot_set_at = time.monotonic()
            elif param not in (0, 4):
                session.send_ipmi_response(code=0x80)
                return
        session.send_ipmi_response()

    def sessionless_data(self, data: bytearray, sockaddr: Any) -> None:
        if len(data) >= 22 and data[4] == 6 and data[5] & 0x3F == 0x10:
            _ServerSession(self, sockaddr, bytearray(data[16:]))
            return
        super().sessionless_data(data, sockaddr)

    def dispatch(self, data: bytes, addr: Any) -> None:
        """Route one datagram: new logins and sessionless requests to the BMC, the rest to
        the client's session (RMCP+ packets after the open request carry no session id)."""
        if len(data) < 16 or data[0] != 6 or data[2:4] != b'\xff\x07':
            return
        packet = bytearray(data)
        if packet[4] == 6:
            ptype = packet[5] & 0x3F
            if ptype == 0x10 or (ptype == 0 and packet[6:10] == b'\0\0\0\0'):
                self.sessionless_data(packet, addr)
                return
            session = self.sessions.get(addr)
            if session is not None:
                session._handle_ipmi_packet(packet, sockaddr=addr,
                                            qent=(packet, addr, self.serversocket))
        else:  # IPMI 1.5 framing: only sessionless requests (channel auth capabilities)
            self.sessionless_data(packet, addr)
