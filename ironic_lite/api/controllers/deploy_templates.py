"""``/v1/deploy_templates`` (1.55): named sets of deploy steps, matched to nodes by trait.

A template's name is a trait (standard os-traits name or ``CUSTOM_…``); its steps are
``{"interface", "step", "args", "priority"}``. Deploys run the steps of the templates named by
the node's instance traits (conductor side, see doc/api-resources.md). Hidden (404) below 1.55.
"""
from __future__ import annotations

import re
from typing import Any

import os_traits
from aiohttp import web

from ironic_lite.api import keys, utils
from ironic_lite.api import microversion as mv
from ironic_lite.api.controllers import collection as col
from ironic_lite.api.route import Route
from ironic_lite.api.schemas.nodes import JSON_PATCH
from ironic_lite.api.schemas.resources import DEPLOY_TEMPLATE_CREATE
from ironic_lite.common import exception
from ironic_lite.db import models

STEP_INTERFACES = ('bios', 'deploy', 'firmware', 'management', 'power', 'raid')
_STEP_NAME = re.compile(r'^[A-Za-z0-9_]{1,255}$')
_CUSTOM_TRAIT = re.compile(r'^CUSTOM_[A-Z0-9_]+$')
_MAX_PRIORITY = 2 ** 31 - 1

SPEC = col.Spec(path='deploy_templates', key='deploy_templates',
                fields=('uuid', 'name', 'steps', 'extra', 'created_at', 'updated_at', 'links'),
                list_fields=('uuid', 'name', 'links'))
_WRITABLE = {'name', 'steps', 'extra'}


def valid_trait(name: Any) -> bool:
    return isinstance(name, str) and len(name) <= 255 and (
        bool(_CUSTOM_TRAIT.match(name)) or name in os_traits.get_traits())


def _check_step(step: Any) -> dict:
    if not isinstance(step, dict):
        raise exception.InvalidParameterValue(err=f'Deploy step {step!r} must be an object.')
    unknown = sorted(set(step) - {'interface', 'step', 'args', 'priority'})
    missing = sorted({'interface', 'step', 'args', 'priority'} - set(step))
    if unknown or missing:
        raise exception.InvalidParameterValue(
            err=f'Deploy step {step!r} must have exactly the keys interface, step, args and '
                'priority.')
    if step['interface'] not in STEP_INTERFACES:
        raise exception.InvalidParameterValue(
            err=f'Invalid deploy step interface {step["interface"]!r}; expected one of '
                f'{", ".join(STEP_INTERFACES)}.')
    if not isinstance(step['step'], str) or not _STEP_NAME.match(step['step']):
        raise exception.InvalidParameterValue(err=f'Invalid deploy step name {step["step"]!r}.')
    if not isinstance(step['args'], dict):
        raise exception.InvalidParameterValue(err='Deploy step args must be an object.')
    priority = step['priority']
    if isinstance(priority, str) and priority.isdigit():
        priority = int(priority)
    if isinstance(priority, bool) or not isinstance(priority, int) or \
            not 0 <= priority <= _MAX_PRIORITY:
        raise exception.InvalidParameterValue(
            err=f'Deploy step priority must be a non-negative integer, not {priority!r}.')
    return {**step, 'priority': priority}


def _check(values: dict) -> dict:
    if 'name' in values and not valid_trait(values['name']):
        raise exception.InvalidParameterValue(
            err=f'Deploy template name must be a valid trait (a standard trait or CUSTOM_…); '
                f'got {values["name"]!r}.')
    if 'steps' in values:
        steps = values['steps']
        if not isinstance(steps, list) or not steps:
            raise exception.InvalidParameterValue(err='steps must be a non-empty list.')
        values['steps'] = [_check_step(s) for s in steps]
        seen = set()
        for s in values['steps']:
            key = (s['interface'], s['step'])
            if key in seen:
                raise exception.InvalidParameterValue(
                    err=f'Duplicate deploy steps for {s["interface"]}.{s["step"]}. '
                        'Deploy steps from the same template must be unique.')
            seen.add(key)
    col.check_dict(values, 'extra')
    if values.get('uuid') is not None:
        utils.check_uuid(values['uuid'])
    return values


def _view(request: web.Request, tpl: models.DeployTemplate, fields=None) -> dict:
    return col.render(request, SPEC, tpl, fields)


async def _get(request: web.Request) -> models.DeployTemplate:
    return await request.app[keys.DB].get_resource(models.DeployTemplate,
                                                    request.match_info['ident'])


async def create_template(request: web.Request) -> web.Response:
    body = await utils.json_body(request)
    col.check_unknown(body, _WRITABLE | {'uuid'}, 'deploy template')
    missing = [f for f in ('name', 'steps') if body.get(f) is None]
    if missing:
        raise exception.MissingParameterValue(
            err=f'Missing mandatory field(s) for deploy template: {", ".join(missing)}')
    values = {k: v for k, v in _check(body).items() if v is not None}
    tpl = await request.app[keys.DB].create_resource(models.DeployTemplate, values)
    return col.created(request, SPEC, tpl, _view(request, tpl))


async def list_templates(request: web.Request) -> web.Response:
    fields = col.list_fields(request, SPEC, False)
    paging = col.paging(request)
    items = await request.app[keys.DB].list_resources(models.DeployTemplate, **paging)
    return col.collection(request, SPEC, items, [_view(request, t, fields) for t in items],
                          paging['limit'])


async def get_template(request: web.Request) -> web.Response:
    tpl = await _get(request)
    return web.json_response(_view(request, tpl, col.show_fields(request, SPEC)))


async def patch_template(request: web.Request) -> web.Response:
    patch = await utils.json_body(request, list)
    tpl = await _get(request)
    current = {'name': tpl.name, 'steps': tpl.steps, 'extra': tpl.extra}
    changed = col.patched(request, SPEC, patch, current, _WRITABLE, {'extra': {}})
    for name in ('name', 'steps'):
        if name in changed and changed[name] is None:
            raise exception.InvalidParameterValue(err=f'{name} can not be removed.')
    _check(changed)
    if changed:
        tpl = await request.app[keys.DB].update_resource(models.DeployTemplate, tpl.id,
                                                         changed)
    return web.json_response(_view(request, tpl))


async def delete_template(request: web.Request) -> web.Response:
    tpl = await _get(request)
    await request.app[keys.DB].destroy_resource(models.DeployTemplate, tpl.id)
    return web.Response(status=204)


# Below 1.55 upstream answers 404 to GET and 405 to the other methods.
ROUTES = [
    Route('POST', '/v1/deploy_templates', create_template, 'baremetal:deploy_template:create',
          body=DEPLOY_TEMPLATE_CREATE, since=mv.DEPLOY_TEMPLATES, older=405),
    Route('GET', '/v1/deploy_templates', list_templates, 'baremetal:deploy_template:get',
          since=mv.DEPLOY_TEMPLATES),
    Route('GET', '/v1/deploy_templates/{ident}', get_template, 'baremetal:deploy_template:get',
          since=mv.DEPLOY_TEMPLATES),
    Route('PATCH', '/v1/deploy_templates/{ident}', patch_template,
          'baremetal:deploy_template:update', body=JSON_PATCH, since=mv.DEPLOY_TEMPLATES,
          older=405),
    Route('DELETE', '/v1/deploy_templates/{ident}', delete_template,
          'baremetal:deploy_template:delete', since=mv.DEPLOY_TEMPLATES, older=405),
]
