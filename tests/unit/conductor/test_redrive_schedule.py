"""The re-drive of accepted requests runs on a period derived from intent_redrive_after."""
from __future__ import annotations

import pytest
from oslo_config import fixture as config_fixture

from ironic_lite.conductor.service import redrive_schedule
from ironic_lite.conf import CONF


@pytest.fixture
def conf():
    fixture = config_fixture.Config(CONF)
    fixture.setUp()
    try:
        yield fixture
    finally:
        fixture.cleanUp()


@pytest.mark.parametrize('after,period,min_age', [(30, 5, 25), (600, 100, 500), (3, 1, 2),
                                                  (1, 1, 0)])
def test_every_request_is_started_by_the_time_it_is_intent_redrive_after_old(
        conf, after, period, min_age):
    conf.config(intent_redrive_after=after, check_provision_state_interval=3600,
                group='conductor')
    assert redrive_schedule(CONF) == (period, min_age)
    # a request just younger than min_age is picked by the pass after, at the latest
    assert min_age + period <= after
