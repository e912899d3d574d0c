"""Tools shipped with ironic_lite (test doubles an operator or CI can run, e.g. the fake BMC)."""
