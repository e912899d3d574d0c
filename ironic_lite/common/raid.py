"""RAID configurations (``target_raid_config``): the levels and logical disk properties."""

RAID_LEVELS = ('0', '1', '2', '5', '6', '1+0', '5+0', '6+0', 'JBOD')
# The keys a logical disk of a RAID configuration may have (upstream's RAID schema), described:
# GET /v1/drivers/{driver}/raid/logical_disk_properties. Every RAID interface here takes them.
LOGICAL_DISK_PROPERTIES = {
    'raid_level': f'RAID level of the logical disk, one of {", ".join(RAID_LEVELS)}. '
                  'Required.',
    'size_gb': 'Size of the logical disk in GiB (an integer), or "MAX" for the rest of the '
               'available space. Required.',
    'volume_name': 'Name of the volume; generated when not given. Optional.',
    'is_root_volume': 'Whether the instance is deployed on this logical disk (default '
                      'false). Optional.',
    'share_physical_disks': 'Whether other logical disks may use the same physical disks '
                            '(default false). Optional.',
    'disk_type': 'Preferred kind of physical disk: "hdd" or "ssd"; any when not given. '
                 'Optional.',
    'interface_type': 'Preferred physical disk interface: "sata", "scsi" or "sas"; any when '
                      'not given. Optional.',
    'number_of_physical_disks': 'How many physical disks to use; the least the RAID level '
                                'needs when not given. Optional.',
    'controller': 'RAID controller to use; chosen by the driver when not given. Optional.',
    'physical_disks': 'Physical disks to use; chosen by the driver when not given. '
                      'Optional.',
}
