"""The real Ironic clients pointed at a harness's API: openstacksdk (the library of Nova's
Ironic driver and Metal3-style tools) and python-ironicclient (the ``openstack baremetal``
CLI's library), both without authentication. They are synchronous: call them in a thread
(``asyncio.to_thread``) while the event loop serves them."""


def openstacksdk(url: str):
    """An openstacksdk connection that ignores clouds.yaml and ``OS_*`` variables."""
    import openstack
    return openstack.connect(auth_type='none', baremetal_endpoint_override=url,
                             load_yaml_config=False, load_envvars=False)


def ironicclient(url: str, version: str = 'latest'):
    """A python-ironicclient v1 client speaking API ``version``."""
    from ironicclient import client as ironic_client
    return ironic_client.get_client(1, endpoint=url, auth_type='none',
                                    os_ironic_api_version=version)


def poll(fetch, done, timeout: float = 30.0, interval: float = 0.05):
    """Call ``fetch()`` until ``done(result)`` holds, as a client polls an asynchronous action
    (Nova polls ``console_enabled`` after ``PUT …/states/console``); fails at the deadline."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        result = fetch()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f'still {result!r} after {timeout} s')
        time.sleep(interval)
