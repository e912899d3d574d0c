"""Every route the API serves, gathered from the controllers' declarations
(:class:`~ironic_lite.api.route.Route`), and the tables derived from them once, at import.

``api/app.py`` registers :data:`ROUTES`; the policy, schema and version middlewares find a
request's declaration with :func:`ironic_lite.api.route.of`; ``api/policy.py`` documents
each rule's operations from :data:`ROUTES`; ``api/openapi.py`` describes them.
"""
from __future__ import annotations

from ironic_lite.api import openapi
from ironic_lite.api.controllers import (
    allocations,
    bios,
    chassis,
    conductors,
    deploy_templates,
    drivers,
    events,
    node_actions,
    node_console,
    node_management,
    node_raid,
    node_traits,
    node_vifs,
    nodes,
    portgroups,
    ports,
    ramdisk,
    root,
    volume,
)
from ironic_lite.api.route import Route

ROUTES: tuple[Route, ...] = tuple(
    root.ROUTES + nodes.ROUTES + node_actions.ROUTES + ports.ROUTES + drivers.ROUTES
    + node_management.ROUTES + node_console.ROUTES + node_traits.ROUTES + node_vifs.ROUTES
    + node_raid.ROUTES
    + chassis.ROUTES + portgroups.ROUTES + volume.ROUTES + bios.ROUTES + conductors.ROUTES
    + allocations.ROUTES + events.ROUTES + deploy_templates.ROUTES
    + ramdisk.ROUTES + openapi.ROUTES)
# (method, path with "{}" per parameter) -> its declaration
BY_KEY: dict[tuple[str, str], Route] = {route.key: route for route in ROUTES}
if len(BY_KEY) != len(ROUTES):
    raise RuntimeError('a route is declared twice')
