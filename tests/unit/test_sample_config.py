"""etc/ironic_lite/ironic_lite.conf.sample must match what oslo-config-generator produces."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_sample_config_is_up_to_date(tmp_path):
    out = tmp_path / 'sample.conf'
    generator = os.path.join(os.path.dirname(sys.executable), 'oslo-config-generator')
    subprocess.run([generator, '--config-file',
                    os.path.join(ROOT, 'tools', 'config-generator.conf'),
                    '--output-file', str(out)], check=True, capture_output=True)
    committed = os.path.join(ROOT, 'etc', 'ironic_lite', 'ironic_lite.conf.sample')
    with open(committed) as f:
        expected = f.read()
    assert out.read_text() == expected, (
        'The sample config is out of date: run `tox -e genconfig` (or '
        '`oslo-config-generator --config-file tools/config-generator.conf`) and commit it.')
