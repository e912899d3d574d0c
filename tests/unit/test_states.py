"""The provision state machine, checked as a table against upstream Ironic's."""
import pytest

from ironic_lite.common import exception, states

# (state, event, expected new state) — the deploy path and its failures, as Nova drives it.
UPSTREAM = [
    (states.ENROLL, 'manage', states.VERIFYING),
    (states.VERIFYING, 'done', states.MANAGEABLE),
    (states.VERIFYING, 'fail', states.ENROLL),
    (states.MANAGEABLE, 'provide', states.CLEANING),
    (states.CLEANING, 'done', states.AVAILABLE),
    (states.CLEANING, 'fail', states.CLEANFAIL),
    (states.CLEANFAIL, 'manage', states.MANAGEABLE),
    (states.AVAILABLE, 'deploy', states.DEPLOYING),
    (states.DEPLOYING, 'wait', states.DEPLOYWAIT),
    (states.DEPLOYWAIT, 'resume', states.DEPLOYING),
    (states.DEPLOYING, 'done', states.ACTIVE),
    (states.DEPLOYING, 'fail', states.DEPLOYFAIL),
    (states.DEPLOYWAIT, 'fail', states.DEPLOYFAIL),
    (states.DEPLOYWAIT, 'abort', states.DEPLOYFAIL),
    (states.DEPLOYFAIL, 'deploy', states.DEPLOYING),
    (states.DEPLOYFAIL, 'rebuild', states.DEPLOYING),
    (states.DEPLOYFAIL, 'delete', states.DELETING),
    (states.ACTIVE, 'rebuild', states.DEPLOYING),
    (states.ACTIVE, 'delete', states.DELETING),
    (states.DELETING, 'clean', states.CLEANING),
    (states.DELETING, 'error', states.ERROR),
    (states.ERROR, 'rebuild', states.DEPLOYING),
    (states.ERROR, 'delete', states.DELETING),
    (states.MANAGEABLE, 'inspect', states.INSPECTING),
    (states.INSPECTWAIT, 'abort', states.INSPECTFAIL),
    (states.MANAGEABLE, 'adopt', states.ADOPTING),
    (states.ADOPTING, 'done', states.ACTIVE),
    (states.ACTIVE, 'rescue', states.RESCUING),
    (states.RESCUE, 'unrescue', states.UNRESCUING),
    (states.UNRESCUING, 'done', states.ACTIVE),
    (states.DEPLOYWAIT, 'hold', states.DEPLOYHOLD),
    (states.DEPLOYHOLD, 'unhold', states.DEPLOYWAIT),
    (states.AVAILABLE, 'manage', states.MANAGEABLE),
    (states.MANAGEABLE, 'clean', states.CLEANING),
    (states.CLEANING, 'manage', states.MANAGEABLE),
]

INVALID = [
    (states.ENROLL, 'deploy'), (states.AVAILABLE, 'delete'), (states.ACTIVE, 'deploy'),
    (states.DEPLOYING, 'deploy'), (states.MANAGEABLE, 'deploy'), (states.ACTIVE, 'provide'),
    (states.CLEANING, 'delete'), (states.DEPLOYWAIT, 'rebuild'),
]


@pytest.mark.parametrize('state,event,new', UPSTREAM)
def test_transition(state, event, new):
    assert states.next_state(state, event)[0] == new


@pytest.mark.parametrize('state,event', INVALID)
def test_invalid_transition(state, event):
    assert not states.is_valid_event(state, event)
    with pytest.raises(exception.InvalidStateRequested):
        states.next_state(state, event)


def test_targets():
    assert states.next_state(states.AVAILABLE, 'deploy') == (states.DEPLOYING, states.ACTIVE)
    assert states.next_state(states.DEPLOYING, 'done') == (states.ACTIVE, None)
    assert states.next_state(states.ACTIVE, 'delete') == (states.DELETING, states.AVAILABLE)
    assert states.next_state(states.ENROLL, 'manage') == (states.VERIFYING, states.MANAGEABLE)


def test_every_transient_state_has_a_target_and_an_exit():
    sources = {src for src, _ in states.TRANSITIONS}
    for state in states.ALL_STATES - states.STABLE_STATES:
        assert state in states.TARGETS, state
        assert state in sources, f'{state} is a dead end'


def test_verbs_map_to_events_in_the_table():
    events = {ev for _, ev in states.TRANSITIONS}
    assert set(states.VERBS.values()) <= events
    assert states.VERBS['active'] == states.VERBS['deploy'] == 'deploy'
    assert states.VERBS['deleted'] == states.VERBS['undeploy'] == 'delete'


def test_working_states_can_fail():
    for state, event in states.WORKING_STATES_FAIL_EVENT.items():
        assert states.is_valid_event(state, event), state
