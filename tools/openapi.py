#!/usr/bin/env python3
"""Write the OpenAPI 3 description of the ironic_lite API (what ``GET /v1/openapi.json``
serves) to a file or stdout, without starting a server or touching a database.

    .venv/bin/python tools/openapi.py [-o doc/openapi.json] [--config-file FILE]
"""
from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-o', '--output', help='file to write (default: stdout)')
    parser.add_argument('--config-file', action='append', default=[],
                        help='ironic_lite configuration (auth strategy and policy matter)')
    args = parser.parse_args(argv)

    from ironic_lite.api import openapi
    from ironic_lite.api.app import create_app
    from ironic_lite.conf import CONF

    CONF([], project='ironic_lite', default_config_files=args.config_file)
    app = create_app(CONF, None, None)  # routes only: no database or RPC is used
    text = json.dumps(openapi.build(app), indent=2, sort_keys=False) + '\n'
    if args.output:
        with open(args.output, 'w') as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
