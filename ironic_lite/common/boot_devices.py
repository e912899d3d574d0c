"""Boot device names, as upstream Ironic spells them on the wire."""
PXE = 'pxe'
DISK = 'disk'
CDROM = 'cdrom'
BIOS = 'bios'
SAFE = 'safe'
WANBOOT = 'wanboot'
ISCSIBOOT = 'iscsiboot'
FLOPPY = 'floppy'
UEFIHTTP = 'uefi-http'

ALL = (PXE, DISK, CDROM, BIOS, SAFE, WANBOOT, ISCSIBOOT, FLOPPY, UEFIHTTP)
