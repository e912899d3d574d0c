"""The route declaration (``api/route.py``): what each attribute makes the API answer."""
from __future__ import annotations

import pytest

from ironic_lite.api import route_table
from ironic_lite.api.route import BY_HANDLER, BodyFields, Route, template
from ironic_lite.common import exception

_SCHEMA = {'type': 'object', 'required': ['target'],
           'properties': {'target': {'enum': ['old', 'new']}, 'early': {}, 'late': {},
                          'future': {}}}
_FIELDS = BodyFields(noun='test', verbs={'new': (1, 20)},
                     fields={'late': (1, 30), 'future': None})


async def _handler(request):  # pragma: no cover - never called
    raise AssertionError


def _route(**facts) -> Route:
    return Route('PUT', '/v1/things/{ident}/', _handler, 'rule', **facts)


def test_template_and_key_are_computed_once():
    declared = _route()
    assert declared.template == '/v1/things/{}'
    assert declared.key == ('PUT', '/v1/things/{}')
    assert template('/') == '/'


@pytest.mark.parametrize('older, error', [(404, exception.NotFound),
                                          (405, exception.MethodNotAllowed)])
def test_older_versions_get_the_declared_answer(older, error):
    declared = _route(since=(1, 10), older=older)
    with pytest.raises(error, match='needs 1.10'):
        declared.check_version((1, 9))
    declared.check_version((1, 10))


def test_by_handler_leaves_older_versions_to_the_handler_and_skips_the_body():
    declared = _route(body=_SCHEMA, since=(1, 10), older=BY_HANDLER)
    declared.check_version((1, 1))
    assert declared.body_schema((1, 9)) is None
    assert declared.body_schema((1, 10)) is _SCHEMA


def test_body_fields_in_upstreams_order():
    declared = _route(body=_SCHEMA, body_fields=_FIELDS)
    assert declared.verb_names == {'old', 'new'}
    assert declared.known_fields == {'target', 'early', 'late'}   # 'future' is not served
    declared.check_body_fields({'target': 'old', 'early': 1}, (1, 1))
    with pytest.raises(exception.InvalidParameterValue, match='not a valid test state'):
        declared.check_body_fields({'target': 'newer', 'bogus': 1, 'late': 1}, (1, 19))
    with pytest.raises(exception.InvalidParameterValue, match='Unknown field.*bogus'):
        declared.check_body_fields({'target': 'new', 'bogus': 1, 'late': 1}, (1, 19))
    # a verb newer than the request: 406, as upstream (check_allow_management_verbs)
    with pytest.raises(exception.NotAcceptable, match='"new" requires API version 1.20'):
        declared.check_body_fields({'target': 'new', 'late': 1}, (1, 19))
    with pytest.raises(exception.InvalidParameterValue, match='Unknown field.*bogus'):
        declared.check_body_fields({'target': 'new', 'bogus': 1, 'late': 1}, (1, 20))
    with pytest.raises(exception.InvalidParameterValue, match='Unknown field.*future'):
        declared.check_body_fields({'target': 'new', 'future': 1}, (1, 68))
    with pytest.raises(exception.NotAcceptable, match='requires API version 1.30'):
        declared.check_body_fields({'target': 'new', 'late': 1}, (1, 29))
    declared.check_body_fields({'target': 'new', 'late': 1}, (1, 30))


def test_every_route_is_declared_once_with_a_known_rule():
    from ironic_lite.api.policy_rules import RULES
    assert len(route_table.BY_KEY) == len(route_table.ROUTES)
    assert {declared.rule for declared in route_table.ROUTES} <= set(RULES)
    provision = route_table.BY_KEY[('PUT', '/v1/nodes/{}/states/provision')]
    assert 'runbook' in provision.body['properties']
    assert 'runbook' not in provision.known_fields
