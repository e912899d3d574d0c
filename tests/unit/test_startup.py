"""Start-up error lines: option values as written, secrets and passwords never shown."""
from __future__ import annotations

import pytest
from oslo_config import cfg

from ironic_lite.cmd import startup


def _conf(tmp_path, text: str) -> cfg.ConfigOpts:
    path = tmp_path / 'x.conf'
    path.write_text(text)
    conf = cfg.ConfigOpts()
    conf.register_opts([cfg.IntOpt('workers', min=1), cfg.IntOpt('api_key')], group='svc')
    conf.register_opt(cfg.BoolOpt('flag'))
    conf(['--config-file', str(path)])
    return conf


def test_the_value_as_written_and_the_reason(tmp_path):
    conf = _conf(tmp_path, '[DEFAULT]\nflag = maybe\n')
    with pytest.raises(startup.StartupError) as e:
        startup.check_options(conf)
    assert str(e.value) == ('[DEFAULT]flag = maybe: Unexpected boolean value '
                            "'maybe'")


def test_a_value_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv('OS_SVC__WORKERS', '0')
    conf = _conf(tmp_path, '[svc]\nworkers = 4\n')
    with pytest.raises(startup.StartupError) as e:
        startup.check_options(conf)
    assert str(e.value) == '[svc]workers = 0: Should be greater than or equal to 1'


def test_a_secret_looking_option_is_not_shown(tmp_path):
    conf = _conf(tmp_path, '[svc]\napi_key = hunter2\n')
    with pytest.raises(startup.StartupError) as e:
        startup.check_options(conf)
    assert 'hunter2' not in str(e.value)
    assert str(e.value).startswith('[svc]api_key = ***: ')


@pytest.mark.parametrize('url,shown', [
    ('postgresql+psycopg2://ironic:s3cret@127.0.0.1/ironic',
     'postgresql+psycopg2://ironic:***@127.0.0.1/ironic'),
    ('rabbit://a:pw1@h1:5672,b:pw2@h2:5672/vhost', 'rabbit://a:***@h1:5672,b:***@h2:5672/vhost'),
    ('mysql+pymysql://root@127.0.0.1/test', 'mysql+pymysql://root@127.0.0.1/test'),
    ('sqlite:////var/lib/ironic_lite/x.sqlite', 'sqlite:////var/lib/ironic_lite/x.sqlite'),
])
def test_masked_url(url, shown):
    assert startup.masked_url(url) == shown
