"""Routes of the API resources beyond nodes and ports, registered by ``api/app.py``."""
from __future__ import annotations

from ironic_lite.api.controllers import (
    allocations,
    bios,
    chassis,
    conductors,
    deploy_templates,
    events,
    portgroups,
    volume,
)

ROUTES = (chassis.ROUTES + portgroups.ROUTES + volume.ROUTES + bios.ROUTES
          + conductors.ROUTES + allocations.ROUTES + events.ROUTES + deploy_templates.ROUTES)
