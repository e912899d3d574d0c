"""Why a conductor put a node in maintenance (the node's ``fault``), upstream's names."""

POWER_FAILURE = 'power failure'
CLEAN_FAILURE = 'clean failure'
RESCUE_ABORT_FAILURE = 'rescue abort failure'
SERVICE_FAILURE = 'service failure'

VALID_FAULTS = (POWER_FAILURE, CLEAN_FAILURE, RESCUE_ABORT_FAILURE, SERVICE_FAILURE)
