"""Reusable JSON Schema fragments."""
from __future__ import annotations

STR = {'type': 'string', 'maxLength': 255}
NULL_STR = {'type': ['string', 'null'], 'maxLength': 255}
TEXT = {'type': ['string', 'null']}
UUID = {'type': 'string', 'format': 'uuid', 'maxLength': 36}
NULL_UUID = {'type': ['string', 'null'], 'maxLength': 36}
BOOL = {'type': 'boolean'}
NULL_BOOL = {'type': ['boolean', 'null']}
DICT = {'type': 'object'}
NULL_DICT = {'type': ['object', 'null']}
STEPS = {'type': 'array', 'items': {'type': 'object'}}
