"""Request helpers shared by the controllers: body, query parameters, links, lookups."""
from __future__ import annotations

import asyncio
import json
import math
import re
import urllib.parse
from typing import Any

import jsonpatch
import jsonpointer
import tenacity
from aiohttp import web
from oslo_utils import strutils, uuidutils

from ironic_lite.api import keys
from ironic_lite.api import microversion as mv
from ironic_lite.common import exception, image_service, instance_traits, lock_wait


def version(request: web.Request) -> mv.Version:
    return request[keys.API_VERSION]


class _BadValue(ValueError):
    """A value JSON can carry that no database stores the same way (the message says why)."""


def _reject_constant(name: str) -> None:
    raise ValueError(f'{name} is not valid JSON')


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):   # 1e400: Python reads inf, which JSON cannot carry back
        raise _BadValue(f'the number {text[:40]} is out of range')
    return value


def _int64(text: str) -> int:
    value = int(text)
    if not _INT_MIN <= value <= _INT_MAX:
        shown = text if len(text) <= 40 else text[:40] + '...'
        raise _BadValue(f'the integer {shown} is out of range (64-bit signed integers)')
    return value


_INT_MIN, _INT_MAX = -2 ** 63, 2 ** 63 - 1
# Bodies bigger than this are parsed in a worker thread, never on the event loop.
THREAD_PARSE_BYTES = 64 * 1024


def check_text(value: str, where: str) -> None:
    """Refuse what SQLite (lone UTF-16 surrogates) or PostgreSQL (NUL) cannot store, so every
    database answers the same 400 instead of some a 500."""
    if '\x00' in value:
        raise _BadValue(f'{where} contains a NUL character (\\u0000)')
    try:
        value.encode('utf-8')
    except UnicodeEncodeError:
        raise _BadValue(f'{where} contains a lone UTF-16 surrogate, which is not valid '
                        'Unicode') from None


def check_url(request: web.Request) -> None:
    """The same rules for the decoded path and query of every request (a node named by
    ``%00`` is a 400 on every database, not a 500 on PostgreSQL)."""
    try:
        check_text(request.path, 'the URL path')
        for name, value in request.query.items():
            check_text(name, 'a query parameter name')
            check_text(value, f'the query parameter "{name}"')
    except _BadValue as e:
        raise exception.InvalidParameterValue(err=f'Invalid request: {e}.') from None


def _check_strings(value: Any, path: str) -> None:
    if isinstance(value, str):
        check_text(value, f'the value at "{path or "/"}"')
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, f'a key in "{path or "/"}"')
            _check_strings(item, f'{path}/{key}')
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_strings(item, f'{path}/{i}')


def parse_json(raw: bytes) -> Any:
    """Strict JSON, the same on every database: no NaN/Infinity, finite numbers, 64-bit
    integers, strings without NUL or lone surrogates (only ``\\u`` escapes can make those:
    raw bytes must be valid UTF-8 and JSON forbids raw control characters)."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float,
                          parse_int=_int64)
        if b'\\u' in raw:
            _check_strings(body, '')
    except _BadValue as e:
        raise exception.InvalidParameterValue(err=f'Invalid value in request body: {e}.') \
            from None
    except (ValueError, UnicodeDecodeError) as e:
        raise exception.InvalidParameterValue(err=f'Malformed JSON in request body: {e}') \
            from None
    except RecursionError:
        raise exception.InvalidParameterValue(
            err='Malformed JSON in request body: nested too deeply.') from None
    return body


async def read_body(request: web.Request) -> bytes:
    """The request's body, if it arrives within ``[api]client_body_timeout`` (else 408)."""
    timeout = request.app[keys.CONF].api.client_body_timeout
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise exception.RequestTimeout(timeout=timeout) from None


def big_body(request: web.Request) -> bool:
    """Whether the body read is big enough to be worked on in a thread, off the loop."""
    return request.get(keys.BODY_SIZE, 0) > THREAD_PARSE_BYTES


async def json_body(request: web.Request, kind: type = dict) -> Any:
    """The request's JSON body — the one place request bodies are read and parsed."""
    if keys.JSON_BODY in request:
        body = request[keys.JSON_BODY]
    else:
        raw = await read_body(request)
        if not raw:
            raise exception.InvalidParameterValue(
                err='The request body is empty; JSON expected.')
        if len(raw) > THREAD_PARSE_BYTES:
            body = await asyncio.to_thread(parse_json, raw)
        else:
            body = parse_json(raw)
        request[keys.JSON_BODY] = body
        request[keys.BODY_SIZE] = len(raw)
    if not isinstance(body, kind):
        raise exception.InvalidParameterValue(
            err=f'The request body must be a JSON {"object" if kind is dict else "list"}.')
    return body


def base_url(request: web.Request) -> str:
    public = request.app[keys.CONF].api.public_endpoint
    if public:
        return public.rstrip('/')
    return f'{request.scheme}://{request.host}'


def links(request: web.Request, resource: str, ident: str) -> list[dict]:
    base = base_url(request)
    return [{'href': f'{base}/v1/{resource}/{ident}', 'rel': 'self'},
            {'href': f'{base}/{resource}/{ident}', 'rel': 'bookmark'}]


def get_bool(request: web.Request, name: str) -> bool | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return strutils.bool_from_string(raw, strict=True)
    except ValueError:
        raise exception.InvalidParameterValue(
            err=f'Invalid value for {name}: {raw!r}; expected a boolean.') from None


def get_limit(request: web.Request) -> int:
    max_limit = request.app[keys.CONF].api.max_limit
    raw = request.query.get('limit')
    if raw is None:
        return max_limit
    try:
        limit = int(raw)
    except ValueError:
        raise exception.InvalidParameterValue(
            err=f'Invalid limit {raw!r}: must be a positive integer.') from None
    if limit < 0:
        raise exception.InvalidParameterValue(err='Limit must be positive')
    return min(limit, max_limit) if limit else max_limit


def get_sort(request: web.Request) -> tuple[str, str]:
    sort_dir = request.query.get('sort_dir', 'asc')
    if sort_dir not in ('asc', 'desc'):
        raise exception.InvalidParameterValue(
            err=f'Invalid sort direction: {sort_dir}. Acceptable values are "asc" or "desc"')
    return request.query.get('sort_key', 'id'), sort_dir


def get_marker(request: web.Request) -> str | None:
    marker = request.query.get('marker')
    if marker is not None and not uuidutils.is_uuid_like(marker):
        raise exception.InvalidUUID(uuid=marker)
    return marker


def get_fields(request: web.Request, allowed_fields: set[str],
               known_fields: set[str] | tuple = ()) -> list[str] | None:
    """``fields=``: 400 for a field that does not exist, 406 for one newer than the
    negotiated version (``known_fields`` minus ``allowed_fields``), as upstream."""
    raw = request.query.get('fields')
    if raw is None:
        return None
    if version(request) < mv.FIELDS_PARAM:
        raise exception.NotAcceptable('The fields parameter requires API version 1.8.')
    fields = [f.strip() for f in raw.split(',') if f.strip()]
    unknown = sorted(set(fields) - allowed_fields - set(known_fields))
    if unknown:
        raise exception.InvalidParameterValue(
            err=f'Field(s) "{", ".join(unknown)}" are not valid')
    too_new = sorted(set(fields) - allowed_fields)
    if too_new:
        raise exception.NotAcceptable(
            f'Field(s) "{", ".join(too_new)}" are not available in API version '
            f'{mv.fmt(version(request))}.')
    return fields


def next_link(request: web.Request, items: list, limit: int,
              marker: str | None) -> str | None:
    """The URL of the next page of the collection being listed (same path and filters)."""
    if not items or len(items) < limit or marker is None:
        return None
    query = dict(request.query)
    query['limit'] = str(limit)
    query['marker'] = marker
    path = request.path.rstrip('/')
    return f'{base_url(request)}{path}?{urllib.parse.urlencode(query)}'


def check_uuid(value: Any, what: str = 'uuid') -> str:
    if not isinstance(value, str) or not uuidutils.is_uuid_like(value):
        raise exception.InvalidUUID(uuid=value)
    return value


_MAC_RE = re.compile(r'[0-9a-f]{2}(:[0-9a-f]{2}){5}')


def is_mac(value: Any) -> bool:
    return isinstance(value, str) and bool(_MAC_RE.fullmatch(value.lower()))


def check_mac(value: Any) -> str:
    if not is_mac(value):
        raise exception.InvalidMAC(mac=value)
    return value.lower()


PATCH_OPS = ('add', 'replace', 'remove')


def patch_fields(patch: list) -> list[str]:
    """Check the shape of a JSON patch as upstream does (``add``/``replace``/``remove`` of a
    ``/path``); return the top-level field each operation touches."""
    fields = []
    for op in patch:
        if not isinstance(op, dict):
            raise exception.PatchError(patch=op, reason='each operation must be an object')
        if op.get('op') not in PATCH_OPS:
            raise exception.PatchError(
                patch=op, reason=f'"op" must be one of {", ".join(PATCH_OPS)}')
        path = op.get('path')
        if not isinstance(path, str) or not path.startswith('/') or len(path) < 2:
            raise exception.PatchError(
                patch=op, reason='"path" must be a JSON pointer such as "/extra/key"')
        if op['op'] != 'remove' and 'value' not in op:
            raise exception.PatchError(patch=op, reason=f'"value" is required for {op["op"]}')
        fields.append(path[1:].split('/')[0].replace('~1', '/').replace('~0', '~'))
    return fields


def apply_patch(doc: dict, patch: list) -> dict:
    try:
        return jsonpatch.apply_patch(doc, patch)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, TypeError,
            ValueError, KeyError, IndexError) as e:
        raise exception.PatchError(patch=patch, reason=str(e) or e.__class__.__name__) \
            from None


# RFC 3986 unreserved characters, as upstream Ironic's logical names.
_NAME_RE = re.compile(r'[A-Za-z0-9._~-]+')


def check_name(value: Any) -> str | None:
    if value is None:
        return None
    if (not isinstance(value, str) or len(value) > 255 or uuidutils.is_uuid_like(value)
            or not _NAME_RE.fullmatch(value)):
        raise exception.InvalidParameterValue(
            err=f'Cannot use {value!r} as a node name: expected 1-255 characters of letters, '
                'digits, "-", ".", "_" or "~" that is not a UUID.')
    return value


async def get_node(request: web.Request, ident: str | None = None,
                   with_related: bool = False, with_traits: bool = False):
    """The node named in the path; with ``with_related``, ``(node, {chassis_uuid,
    allocation_uuid[, traits]})`` loaded together."""
    ident = ident or request.match_info['node_ident']
    if version(request) < mv.NODE_FIELD_VERSIONS['name'] and \
            not uuidutils.is_uuid_like(ident):
        raise exception.InvalidUUID(uuid=ident)
    db = request.app[keys.DB]
    if with_related:
        return await db.get_node_with_related(ident, with_traits=with_traits)
    return await db.get_node(ident)


def shows_secrets(request: web.Request, rule: str) -> bool:
    """Whether the caller may see unmasked secrets under the policy ``rule``
    (``show_password``, ``show_instance_secrets``; by default nobody may)."""
    check = request.get(keys.SECRETS_CHECK)
    return bool(check and check(rule))


async def check_provision_request(request: web.Request, node, event: str) -> None:
    """What upstream's conductor validates before it answers a provision request and the
    node's own data can tell, refused before the request is accepted (400, the node stays
    where it is): a deploy or rebuild whose ``instance_info['traits']`` are not all node
    traits (``do_node_deploy``) or whose ``file://`` image is outside
    ``[conductor]file_url_allowed_paths``, inspection of a ``no-inspect`` node
    (``inspect_hardware``)."""
    if event in ('deploy', 'rebuild'):  # 400 before anything starts for file:///etc/shadow
        image_service.check_file_source((node.instance_info or {}).get('image_source'),
                                        request.app[keys.CONF])
    if event == 'inspect' and node.inspect_interface == 'no-inspect':
        raise exception.UnsupportedDriverExtension(driver=node.driver, extension='inspect')
    if event in ('deploy', 'rebuild') and (node.instance_info or {}).get('traits'):
        instance_traits.check(node.uuid, node.instance_info,
                              await request.app[keys.DB].get_node_traits(node.id))


async def wait_unlocked(request: web.Request, node: Any, pending_intent: bool = True) -> Any:
    """A node whose lock is about to be released (a worker finishing) is waited for with the
    same bounded retries a conductor uses for its locks (``common/lock_wait``); then the
    last read is returned, busy or not.
    With ``pending_intent``, an accepted request not yet started counts as a lock too."""
    db = request.app[keys.DB]

    def busy(node: Any) -> bool:
        return bool(node.reservation or (pending_intent and node.intent))

    waited = False

    async def current() -> Any:
        nonlocal node, waited
        if waited:   # after a wait: the node as it is now
            node = await db.get_node(node.id)
        waited = True
        return node

    retrying = lock_wait.retrying(request.app[keys.CONF], tenacity.retry_if_result(busy))
    return await retrying(current)   # still busy after the retries: the last read


async def settled_node(request: web.Request, node: Any) -> Any:
    """The node once the request running on it (lock or accepted intent) ended, within the
    lock-retry policy, as upstream's conductor waits for a node's lock before it checks a
    request against it; 409 while it is still busy."""
    node = await wait_unlocked(request, node)
    if node.reservation:
        raise exception.NodeLocked(node=node.uuid, host=node.reservation)
    if node.intent:
        raise exception.Conflict(
            f'Node {node.uuid} has an accepted request ({node.intent}) that is being started; '
            'please retry once it is processed.')
    return node
