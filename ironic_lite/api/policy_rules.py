"""Policy rule defaults: upstream Ironic's rule names, personas and check strings.

Registered by ``api/policy.py`` (which also maps routes to these rules and enforces them).
"""
from __future__ import annotations

from oslo_policy import policy

# --- personas (check strings as upstream Ironic's secure RBAC defaults) ---------------------
SYSTEM_ADMIN = 'role:admin and system_scope:all'
SYSTEM_MEMBER = '(role:member and system_scope:all) or rule:service_role'
SYSTEM_READER = ('(role:reader and system_scope:all) or (role:service and system_scope:all) '
                 'or rule:service_role')
SYSTEM_SERVICE = 'role:service and system_scope:all'
PROJECT_SERVICE = 'role:service and project_id:%(node.owner)s'
PROJECT_ADMIN = 'role:admin and project_id:%(node.owner)s'
PROJECT_MEMBER = ('role:member and '
                  '(project_id:%(node.owner)s or project_id:%(node.lessee)s)')
PROJECT_READER = ('role:reader and '
                  '(project_id:%(node.owner)s or project_id:%(node.lessee)s)')
OWNER_ADMIN = 'role:admin and project_id:%(node.owner)s'
OWNER_MANAGER = 'role:manager and project_id:%(node.owner)s'
OWNER_MEMBER = 'role:member and project_id:%(node.owner)s'
OWNER_READER = 'role:reader and project_id:%(node.owner)s'
LESSEE_ADMIN = 'role:admin and project_id:%(node.lessee)s'
LESSEE_MANAGER = 'role:manager and project_id:%(node.lessee)s'


def _any(*checks: str) -> str:
    return ' or '.join(f'({c})' for c in checks)


SYSTEM_OR_PROJECT_MEMBER = _any(SYSTEM_MEMBER, PROJECT_MEMBER, SYSTEM_SERVICE)
SYSTEM_OR_PROJECT_READER = _any(SYSTEM_READER, PROJECT_READER, PROJECT_SERVICE)
SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN = _any(
    SYSTEM_MEMBER, SYSTEM_SERVICE, OWNER_MEMBER, LESSEE_ADMIN, LESSEE_MANAGER, PROJECT_SERVICE)
SYSTEM_ADMIN_OR_OWNER_ADMIN = _any(SYSTEM_ADMIN, SYSTEM_SERVICE, OWNER_ADMIN, OWNER_MANAGER,
                                   PROJECT_SERVICE)
SYSTEM_MEMBER_OR_OWNER_ADMIN = _any(SYSTEM_MEMBER, SYSTEM_SERVICE, OWNER_ADMIN, OWNER_MANAGER,
                                    PROJECT_SERVICE)
SYSTEM_MEMBER_OR_OWNER_MEMBER = _any(SYSTEM_MEMBER, SYSTEM_SERVICE, OWNER_MEMBER,
                                     PROJECT_SERVICE)
SYSTEM_OR_OWNER_READER = _any(SYSTEM_READER, SYSTEM_SERVICE, OWNER_READER, PROJECT_SERVICE)
SYSTEM_MEMBER_OR_OWNER_LESSEE_ADMIN = _any(
    SYSTEM_MEMBER, SYSTEM_SERVICE, OWNER_ADMIN, OWNER_MANAGER, LESSEE_ADMIN, LESSEE_MANAGER,
    PROJECT_SERVICE)
API_READER = '(role:reader) or (role:service)'
ALLOCATION_MEMBER = _any(SYSTEM_MEMBER, 'role:member and project_id:%(allocation.owner)s')
ALLOCATION_READER = _any(SYSTEM_READER, 'role:reader and project_id:%(allocation.owner)s')
ALLOCATION_CREATOR = _any(SYSTEM_MEMBER, 'role:member')

SCOPES = ['system', 'project']

# name -> (check string, description); each route declares the rule that guards it
# (api/route_table.py gathers them).
RULES: dict[str, tuple[str, str]] = {
    'baremetal:node:create': (_any(SYSTEM_ADMIN, SYSTEM_SERVICE), 'Create Node records'),
    'baremetal:node:create:self_owned_node': ('(role:admin) or (role:service)',
                                              'Create node records which will be tracked as '
                                              'owned by the associated user project'),
    'baremetal:node:list': (API_READER, 'Retrieve multiple Node records, filtered by the '
                                        "caller's project (owner or lessee)"),
    'baremetal:node:list_all': (SYSTEM_READER, 'Retrieve multiple Node records'),
    'baremetal:node:get': (SYSTEM_OR_PROJECT_READER, 'Retrieve a single Node record'),
    'baremetal:node:get:filter_threshold': (SYSTEM_READER,
                                            'Callers below it get node fields filtered '
                                            'by the baremetal:node:get:<field> rules'),
    'baremetal:node:get:last_error': (SYSTEM_OR_OWNER_READER,
                                      'Governs if the node last_error field is masked'),
    'baremetal:node:get:reservation': (SYSTEM_OR_OWNER_READER,
                                       'Governs if the node reservation field is masked'),
    'baremetal:node:get:driver_internal_info': (SYSTEM_OR_OWNER_READER,
                                                'Governs if the node driver_internal_info '
                                                'field is masked'),
    'baremetal:node:get:driver_info': (SYSTEM_OR_OWNER_READER,
                                       'Governs if the node driver_info field is masked'),
    'baremetal:node:update': (SYSTEM_OR_PROJECT_MEMBER, 'Generalized update of node records'),
    'baremetal:node:update:driver_info': (SYSTEM_MEMBER_OR_OWNER_MEMBER,
                                          'Update the node driver_info field'),
    'baremetal:node:update:properties': (SYSTEM_MEMBER_OR_OWNER_MEMBER,
                                         'Update the node properties field'),
    'baremetal:node:update:chassis_uuid': (SYSTEM_ADMIN, 'Update the node chassis_uuid field'),
    'baremetal:node:update:instance_uuid': (SYSTEM_MEMBER_OR_OWNER_MEMBER,
                                            'Update the node instance_uuid field'),
    'baremetal:node:update:lessee': (SYSTEM_MEMBER_OR_OWNER_MEMBER,
                                     'Update the node lessee field'),
    'baremetal:node:update:owner': (SYSTEM_MEMBER, 'Update the node owner field'),
    'baremetal:node:update:driver_interfaces': (SYSTEM_MEMBER_OR_OWNER_ADMIN,
                                                'Update the node driver and interfaces'),
    'baremetal:node:update:network_data': (SYSTEM_MEMBER_OR_OWNER_MEMBER,
                                           'Update the node network_data field'),
    'baremetal:node:update:conductor_group': (SYSTEM_MEMBER,
                                              'Update the node conductor_group field'),
    'baremetal:node:update:name': (SYSTEM_MEMBER_OR_OWNER_MEMBER, 'Update the node name'),
    'baremetal:node:update:retired': (SYSTEM_MEMBER_OR_OWNER_MEMBER,
                                      'Update the node retired and retired_reason fields'),
    'baremetal:node:update_extra': (SYSTEM_OR_PROJECT_MEMBER, 'Update Node extra field'),
    'baremetal:node:update_instance_info': (SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
                                            'Update Node instance_info field'),
    'baremetal:node:disable_cleaning': (SYSTEM_ADMIN, 'Disable Node disk cleaning'),
    'baremetal:node:delete': (SYSTEM_ADMIN, 'Delete Node records'),
    'baremetal:node:delete:self_owned_node': (PROJECT_ADMIN, 'Delete node records which are '
                                                             'associated with the requesting '
                                                             'project'),
    'baremetal:node:validate': (SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
                                'Request active validation of Nodes'),
    'baremetal:node:set_maintenance': (SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
                                       'Set maintenance flag, taking a Node out of service'),
    'baremetal:node:clear_maintenance': (SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
                                         'Clear maintenance flag, placing the Node into '
                                         'service again'),
    'baremetal:node:get_boot_device': (SYSTEM_MEMBER_OR_OWNER_ADMIN,
                                       'Retrieve Node boot device metadata'),
    'baremetal:node:set_boot_device': (SYSTEM_MEMBER_OR_OWNER_ADMIN, 'Change Node boot device'),
    'baremetal:node:get_indicator_state': (SYSTEM_OR_PROJECT_READER,
                                           'Retrieve Node indicators and their states'),
    'baremetal:node:set_indicator_state': (SYSTEM_MEMBER_OR_OWNER_MEMBER,
                                           'Change Node indicator state'),
    'baremetal:node:inject_nmi': (SYSTEM_MEMBER_OR_OWNER_ADMIN, 'Inject NMI for a node'),
    'baremetal:node:get_states': (SYSTEM_OR_PROJECT_READER,
                                  'View Node power and provision state'),
    'baremetal:node:set_power_state': (SYSTEM_OR_PROJECT_MEMBER, 'Change Node power status'),
    'baremetal:node:set_boot_mode': (SYSTEM_OR_PROJECT_MEMBER, 'Change Node boot mode'),
    'baremetal:node:set_secure_boot': (SYSTEM_OR_PROJECT_MEMBER,
                                       'Change Node secure boot state'),
    'baremetal:node:set_provision_state': (SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
                                           'Change Node provision status'),
    'baremetal:node:set_raid_state': (SYSTEM_MEMBER_OR_OWNER_MEMBER, 'Change Node RAID status'),
    'baremetal:node:get_console': (SYSTEM_MEMBER_OR_OWNER_MEMBER,
                                   'Get Node console connection information'),
    'baremetal:node:set_console_state': (SYSTEM_MEMBER_OR_OWNER_MEMBER,
                                         'Change Node console status'),
    'baremetal:node:vif:list': (SYSTEM_OR_PROJECT_READER, 'List VIFs attached to node'),
    'baremetal:node:vif:attach': (SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
                                  'Attach a VIF to a node'),
    'baremetal:node:vif:detach': (SYSTEM_OR_OWNER_MEMBER_AND_LESSEE_ADMIN,
                                  'Detach a VIF from a node'),
    'baremetal:node:traits:list': (SYSTEM_OR_PROJECT_READER, 'List node traits'),
    'baremetal:node:traits:set': (SYSTEM_MEMBER_OR_OWNER_ADMIN,
                                  'Add a trait to, or replace all traits of, a node'),
    'baremetal:node:traits:delete': (SYSTEM_MEMBER_OR_OWNER_ADMIN,
                                     'Remove one or all traits from a node'),
    'baremetal:node:bios:get': (SYSTEM_OR_PROJECT_READER, 'Retrieve Node BIOS information'),
    'baremetal:node:vendor_passthru': (SYSTEM_ADMIN, 'Access vendor-specific Node functions'),
    'baremetal:node:history:get': (SYSTEM_OR_OWNER_READER, 'Retrieve node history records'),
    'baremetal:node:ipa_heartbeat': ('', 'Receive heartbeats from IPA ramdisk (public)'),
    'baremetal:driver:ipa_lookup': ('', 'Access IPA ramdisk functions (public)'),
    'baremetal:port:get': (SYSTEM_OR_PROJECT_READER, 'Retrieve Port records'),
    'baremetal:port:list': (API_READER, 'Retrieve multiple Port records, filtered by owner'),
    'baremetal:port:list_all': (SYSTEM_READER, 'Retrieve multiple Port records'),
    'baremetal:port:create': (SYSTEM_ADMIN_OR_OWNER_ADMIN, 'Create Port records'),
    'baremetal:port:delete': (SYSTEM_ADMIN_OR_OWNER_ADMIN, 'Delete Port records'),
    'baremetal:port:update': (SYSTEM_MEMBER_OR_OWNER_ADMIN, 'Update Port records'),
    'baremetal:portgroup:get': (SYSTEM_OR_PROJECT_READER, 'Retrieve Portgroup records'),
    'baremetal:portgroup:list': (API_READER, 'Retrieve multiple Portgroup records'),
    'baremetal:portgroup:list_all': (SYSTEM_READER, 'Retrieve all Portgroup records'),
    'baremetal:portgroup:create': (SYSTEM_ADMIN_OR_OWNER_ADMIN, 'Create Portgroup records'),
    'baremetal:portgroup:delete': (SYSTEM_ADMIN_OR_OWNER_ADMIN, 'Delete Portgroup records'),
    'baremetal:portgroup:update': (SYSTEM_MEMBER_OR_OWNER_ADMIN, 'Update Portgroup records'),
    'baremetal:chassis:get': (SYSTEM_READER, 'Retrieve Chassis records'),
    'baremetal:chassis:create': (SYSTEM_ADMIN, 'Create Chassis records'),
    'baremetal:chassis:delete': (SYSTEM_ADMIN, 'Delete Chassis records'),
    'baremetal:chassis:update': (SYSTEM_ADMIN, 'Update Chassis records'),
    'baremetal:driver:get': (SYSTEM_READER, 'View list of available drivers'),
    'baremetal:driver:get_properties': (SYSTEM_READER, 'View driver-specific properties'),
    'baremetal:driver:get_raid_logical_disk_properties': (
        SYSTEM_READER, 'View driver-specific RAID metadata'),
    'baremetal:driver:vendor_passthru': (SYSTEM_ADMIN,
                                         'Access vendor-specific Driver functions'),
    'baremetal:volume:get': (SYSTEM_OR_PROJECT_READER, 'Retrieve Volume connector and target '
                                                       'records'),
    'baremetal:volume:list_all': (SYSTEM_READER, 'Retrieve all Volume connector and target '
                                                 'records'),
    'baremetal:volume:list': (API_READER, 'Retrieve a list of Volume connector and target '
                                          'records, filtered by their node\'s owner'),
    'baremetal:volume:create': (SYSTEM_MEMBER_OR_OWNER_LESSEE_ADMIN,
                                'Create Volume connector and target records'),
    'baremetal:volume:delete': (SYSTEM_MEMBER_OR_OWNER_LESSEE_ADMIN,
                                'Delete Volume connector and target records'),
    'baremetal:volume:update': (SYSTEM_MEMBER_OR_OWNER_LESSEE_ADMIN,
                                'Update Volume connector and target records'),
    'baremetal:conductor:get': (SYSTEM_READER, 'Retrieve Conductor records'),
    'baremetal:allocation:get': (ALLOCATION_READER, 'Retrieve Allocation records'),
    'baremetal:allocation:list': (API_READER, 'Retrieve multiple Allocation records, filtered '
                                              'by owner'),
    'baremetal:allocation:list_all': (SYSTEM_READER, 'Retrieve multiple Allocation records'),
    'baremetal:allocation:create': (ALLOCATION_CREATOR, 'Create Allocation records'),
    'baremetal:allocation:delete': (ALLOCATION_MEMBER, 'Delete Allocation records'),
    'baremetal:allocation:update': (ALLOCATION_MEMBER, 'Change name and extra fields of an '
                                                       'allocation'),
    'baremetal:events:post': (SYSTEM_ADMIN, 'Post events'),
    'baremetal:deploy_template:get': (SYSTEM_READER, 'Retrieve Deploy Template records'),
    'baremetal:deploy_template:create': (SYSTEM_ADMIN, 'Create Deploy Template records'),
    'baremetal:deploy_template:delete': (SYSTEM_ADMIN, 'Delete Deploy Template records'),
    'baremetal:deploy_template:update': (SYSTEM_ADMIN, 'Update Deploy Template records'),
    'baremetal:api:openapi': ('', 'View the OpenAPI description of this API (public)'),
}

GENERIC_RULES = [
    policy.RuleDefault('service_role', 'role:service and project_name:service',
                       description='Match the service role used by other services (Nova, '
                                   'inspector) in the service project.'),
    policy.RuleDefault('public_api', 'is_public_api:True',
                       description='Internal flag for public API routes'),
    policy.RuleDefault('show_password', '!',
                       description='Show or mask secrets within node driver information in '
                                   'API responses'),
    policy.RuleDefault('show_instance_secrets', '!',
                       description='Show or mask secrets within instance information in API '
                                   'responses'),
]
