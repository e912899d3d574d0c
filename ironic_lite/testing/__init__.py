"""Test helpers shipped with ironic_lite: real backing services, daemon processes, harnesses.

Used by the project's own tests and benchmarks, and usable by anyone testing against
ironic_lite (e.g. a CI job that needs a throw-away conductor).
"""
