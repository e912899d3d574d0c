"""Policy: oslo.policy rules with upstream Ironic's names and defaults, and their enforcement.

Personas as upstream: system-scoped admin/member/reader, and project-scoped users acting on
nodes their project owns (``owner``) or leases (``lessee``). Every route declares its rule
(``rule`` of its :class:`~ironic_lite.api.route.Route`); :func:`create_middleware` applies it
to each request.
Node-bound rules are checked against the node's ``owner``/``lessee`` (the middleware reads the
node): a caller who may not even see the node gets 404, one who may see it but not act 403.
List endpoints are narrowed to the caller's project by the controllers (:func:`list_project`).

With ``noauth`` and ``http_basic`` every caller is admin and no rule is checked (as upstream).
Operators override rules in ``[oslo_policy]policy_file`` (``policy.yaml``);
``oslopolicy-sample-generator --namespace ironic_lite`` prints the defaults.
"""
from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from oslo_config import cfg
from oslo_policy import opts as policy_opts
from oslo_policy import policy

from ironic_lite.api import auth, context, keys, policy_filter, route, utils
from ironic_lite.api.policy_rules import GENERIC_RULES, RULES, SCOPES
from ironic_lite.common import exception
from ironic_lite.db import models

# A rule that also grants a request its main rule denies.
ALTERNATIVES = {'baremetal:node:delete': 'baremetal:node:delete:self_owned_node',
                'baremetal:node:create': 'baremetal:node:create:self_owned_node'}
# PATCH /v1/nodes/{}: the rule each top-level field needs (others: baremetal:node:update).
PATCH_FIELD_RULES = {
    **{f: f'baremetal:node:update:{f}' for f in (
        'driver_info', 'properties', 'chassis_uuid', 'instance_uuid', 'lessee', 'owner',
        'network_data', 'conductor_group', 'name')},
    'retired': 'baremetal:node:update:retired',
    'retired_reason': 'baremetal:node:update:retired',
    'driver': 'baremetal:node:update:driver_interfaces',
    **{f'{i}_interface': 'baremetal:node:update:driver_interfaces' for i in (
        'bios', 'boot', 'console', 'deploy', 'firmware', 'inspect', 'management', 'network',
        'power', 'raid', 'rescue', 'storage', 'vendor')},
    'extra': 'baremetal:node:update_extra',
    'instance_info': 'baremetal:node:update_instance_info',
}

def list_rules() -> list[policy.RuleDefault]:
    """Every rule with its default (entry point ``oslo.policy.policies: ironic_lite``)."""
    from ironic_lite.api.route_table import ROUTES  # the controllers import this module

    operations: dict[str, list[dict[str, str]]] = {}
    for declared in ROUTES:
        operation = {'path': declared.template[3:] or '/', 'method': declared.method}
        if operation not in operations.setdefault(declared.rule, []):
            operations[declared.rule].append(operation)
    rules: list[policy.RuleDefault] = list(GENERIC_RULES)
    for name, (check, description) in RULES.items():
        ops = operations.get(name) or (
            [{'path': '/nodes/{}', 'method': 'GET'}] if name.startswith('baremetal:node:get:')
            else [{'path': '/', 'method': 'GET'}])
        rules.append(policy.DocumentedRuleDefault(
            name=name, check_str=check or '@', description=description, operations=ops,
            scope_types=SCOPES))
    return rules


def get_enforcer(conf: cfg.ConfigOpts | None = None) -> policy.Enforcer:
    """A policy enforcer with the defaults registered; ``[oslo_policy]`` options as upstream
    (``policy.yaml``, new defaults and scope enforcement on). Entry point
    ``oslo.policy.enforcer: ironic_lite``."""
    conf = conf if conf is not None else cfg.CONF
    policy_opts.set_defaults(conf, 'policy.yaml')
    try:
        policy_opts.set_defaults(conf, enforce_scope=True, enforce_new_defaults=True)
    except cfg.NoSuchOptError:  # pragma: no cover - older oslo.policy
        pass
    enforcer = policy.Enforcer(conf)
    enforcer.register_defaults(list_rules())
    return enforcer


# ---- enforcement -------------------------------------------------------------------------
LIST_PROJECT = web.RequestKey('list_project', object)
CREATE_OWNER = web.RequestKey('create_owner', object)
# List rules whose controllers narrow the list to ``list_project`` for a caller without the
# matching ``list_all`` (nodes, ports and portgroups: the project owns or leases the node;
# allocations: the project owns the allocation), and the query parameter naming the owner a
# caller asks for: asking for another project's records is 403, as upstream's
# check_list_policy.
NARROWED_LISTS: dict[str, str | None] = {
    'baremetal:node:list': 'project', 'baremetal:port:list': None,
    'baremetal:portgroup:list': None, 'baremetal:volume:list': None,
    'baremetal:allocation:list': 'owner'}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_owner(request: web.Request) -> str | None:
    """The owner a node created by this request must have (``create:self_owned_node``: the
    caller's project), or None when the caller may create any node."""
    value = request.get(CREATE_OWNER)
    return value if isinstance(value, str) else None


def list_project(request: web.Request) -> str | None:
    """The project a list must be narrowed to (see :data:`NARROWED_LISTS`), or None for
    all."""
    value = request.get(LIST_PROJECT)
    return value if isinstance(value, str) else None


_VOLUME_MODELS = {'connectors': models.VolumeConnector, 'targets': models.VolumeTarget}
# POST bodies that name the node the new record belongs to.
_CREATE_ON_NODE = {'/v1/ports', '/v1/portgroups', '/v1/volume/{}'}


async def _target(request: web.Request, route_template: str) -> dict[str, Any]:
    """What the rules are checked against: the owner and lessee of the node the request is
    about (directly, or through its port, portgroup, volume record or allocation), and an
    allocation's owner. A record that does not exist gives no target: the controller then
    answers 404 to whoever may read such records."""
    db = request.app[keys.DB]
    parts = request.path.split('/')
    node_ref: Any = None
    target: dict[str, Any] = {}
    try:
        if route_template.startswith('/v1/nodes/{}'):
            node_ref = parts[3]
        elif route_template.startswith('/v1/ports/{}'):
            node_ref = (await db.get_port(parts[3])).node_id
        elif route_template.startswith('/v1/portgroups/{}'):
            node_ref = (await db.get_resource(models.Portgroup, parts[3])).node_id
        elif route_template.startswith('/v1/volume/{}/{}') and parts[3] in _VOLUME_MODELS:
            node_ref = (await db.get_resource(_VOLUME_MODELS[parts[3]], parts[4])).node_id
        elif route_template.startswith('/v1/allocations/{}'):
            alloc = await db.get_resource(models.Allocation, parts[3])
            target['allocation.owner'] = alloc.owner
            node_ref = alloc.node_id
        elif request.method == 'POST' and route_template in _CREATE_ON_NODE:
            body = await utils.json_body(request)
            node_ref = body.get('node_uuid') if isinstance(body.get('node_uuid'), str) \
                else None
        if node_ref is None:
            return target
        node = await (utils.get_node(request, node_ref) if isinstance(node_ref, str)
                      else db.get_node(node_ref))
    except (exception.NotFound, exception.Invalid):
        if route_template.startswith('/v1/nodes/{}'):
            raise  # 404 (or 400 for a bad identifier) whoever asks, as before
        return target
    target.update({'node.owner': node.owner, 'node.lessee': node.lessee,
                   'node.uuid': node.uuid})
    return target


async def _rules(request: web.Request, rule: str) -> list[str]:
    """Every rule the request needs: a node PATCH needs the rule of each field it touches
    (as upstream); a malformed patch is left to the schema check."""
    if rule != 'baremetal:node:update':
        return [rule]
    try:
        patch = await utils.json_body(request, list)
    except exception.Invalid:
        return [rule]
    rules = []
    for op in patch:
        path = op.get('path') if isinstance(op, dict) else None
        if not isinstance(path, str):
            continue
        field = path.lstrip('/').split('/')[0]
        if field == 'automated_clean' and op.get('value') is False:
            rules.append('baremetal:node:disable_cleaning')
        rules.append(PATCH_FIELD_RULES.get(field, rule))
    return list(dict.fromkeys(rules)) or [rule]


def _hidden(request: web.Request, route_template: str, target: dict[str, Any]) -> None:
    """A caller who may not even see the node gets 404, as if it did not exist."""
    parts = request.path.split('/')
    if route_template.startswith('/v1/nodes/{}'):
        raise exception.NodeNotFound(node=parts[3])
    if route_template in _CREATE_ON_NODE:
        raise exception.NodeNotFound(node=target['node.uuid'])
    ident = parts[4] if route_template.startswith('/v1/volume/{}/{}') else parts[3]
    raise exception.NotFound(f'{parts[2].rstrip("s")} {ident} could not be found.')


def _forbidden(rule: str) -> exception.NotAuthorized:
    return exception.NotAuthorized(f'Access was denied to the following resource: {rule}')


class SecretsPolicy:
    """Answers of the ``show_password`` / ``show_instance_secrets`` rules, remembered per
    caller identity for ``ttl`` seconds.

    Nearly every node shown asks them, and an oslo.policy ``enforce`` re-checks the policy
    files each time: that was a third of a ``GET /v1/nodes/{id}``'s CPU. A changed policy
    file is seen within ``ttl`` seconds.
    """

    def __init__(self, enforcer: policy.Enforcer, ttl: float = 5.0):
        self._enforcer = enforcer
        self._ttl = ttl
        self._answers: dict[tuple[str, str], tuple[float, bool]] = {}

    def for_caller(self, ctx: context.RequestContext) -> Callable[[str], bool]:
        creds: dict[str, Any] | None = None
        key: str | None = None

        def check(rule: str) -> bool:
            nonlocal creds, key
            if creds is None:
                creds = ctx.to_policy_values()
                key = json.dumps(creds, sort_keys=True, default=str)
            now = time.monotonic()
            cached = self._answers.get((rule, key))
            if cached is not None and cached[0] > now:
                return cached[1]
            answer = bool(self._enforcer.enforce(rule, {}, creds))
            if len(self._answers) > 4096:  # many distinct callers: start over
                self._answers.clear()
            self._answers[(rule, key)] = (now + self._ttl, answer)
            return answer
        return check


def create_middleware(conf: cfg.ConfigOpts):
    enforcer = get_enforcer(conf)
    secrets = SecretsPolicy(enforcer)

    def allowed(rule: str, target: dict, ctx: context.RequestContext) -> bool:
        return enforcer.enforce(rule, target, ctx.to_policy_values())

    @web.middleware
    async def policy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        ctx = context.get(request)
        request[keys.SECRETS_CHECK] = secrets.for_caller(ctx)
        declared = route.of(request)
        if ctx.is_admin or declared is None or auth.is_public(request.path):
            return await handler(request)
        route_template = declared.template
        rule = declared.rule
        target = await _target(request, route_template)
        for needed in await _rules(request, rule):
            if allowed(needed, target, ctx):
                continue
            if needed in ALTERNATIVES and allowed(ALTERNATIVES[needed], target, ctx):
                if needed == 'baremetal:node:create':
                    if not ctx.project_id:
                        raise _forbidden(needed)
                    request[CREATE_OWNER] = ctx.project_id
                continue
            if 'node.uuid' in target and not allowed('baremetal:node:get', target, ctx):
                _hidden(request, route_template, target)
            raise _forbidden(needed)
        kind = rule.rsplit(':', 1)[0]
        if rule.endswith(':list') and not allowed(f'{kind}:list_all', {}, ctx):
            # narrowed to the caller's project; a list that cannot be narrowed is refused
            # rather than show other projects' records
            if not ctx.project_id or rule not in NARROWED_LISTS:
                raise _forbidden(f'{kind}:list_all')
            param = NARROWED_LISTS[rule]
            if param and request.query.get(param) not in (None, '', ctx.project_id):
                raise _forbidden(f'{kind}:list_all')
            request[LIST_PROJECT] = ctx.project_id
        response = await handler(request)
        if (request.method, route_template) in policy_filter.NODE_READS:
            response = await policy_filter.redact_nodes(
                request, response, lambda name, tgt: allowed(name, tgt, ctx))
        return response

    return policy_middleware
