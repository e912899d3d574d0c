"""The bash ramdisk's way to the API, for ``bench_e2e.py``: a reverse proxy that forwards every
request to ironic_lite's API, except that, while ``--baseline-flag`` exists, a
``pass_deploy_info`` is held: ``qemu-img convert`` writes the image to the iSCSI target that
POST names — the machine's own, exported by its deploy ramdisk, which waits for the answer —
the time goes to ``--result`` (JSON), then the POST is forwarded and the conductor writes the
same image to the same target. Runs inside the lab's network namespace.

    e2e_callback_proxy.py --listen ADDR --port P --api URL --image RAW --baseline-flag F --result F
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import time

from aiohttp import ClientSession, web

_HOP = {'host', 'content-length', 'content-encoding', 'transfer-encoding', 'connection'}


async def _baseline(args: argparse.Namespace, body: bytes) -> None:
    data = json.loads(body)
    target = f"iscsi://{data['address']}:{data.get('port') or 3260}/{data['iqn']}/1"
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        'qemu-img', 'convert', '-n', '-S', '0', '-t', 'writeback', '-f', 'raw', '-O', 'raw',
        args.image, target, stderr=asyncio.subprocess.PIPE)
    _, err = await proc.communicate()
    result = {'seconds': time.monotonic() - started, 'bytes': os.path.getsize(args.image),
              'target': target, 'returncode': proc.returncode, 'stderr': err.decode()[-500:]}
    with open(args.result, 'w') as f:
        json.dump(result, f)
    os.unlink(args.baseline_flag)     # once


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ('--listen', '--api', '--image', '--baseline-flag', '--result'):
        parser.add_argument(name, required=True)
    parser.add_argument('--port', type=int, required=True)
    args = parser.parse_args()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        if request.path.endswith('/vendor_passthru/pass_deploy_info') \
                and os.path.exists(args.baseline_flag):
            await _baseline(args, body)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with request.app['session'].request(
                request.method, args.api + request.path_qs, headers=headers,
                data=body) as resp:
            return web.Response(status=resp.status, body=await resp.read(),
                                headers={k: v for k, v in resp.headers.items()
                                         if k.lower() not in _HOP})

    async def session(app: web.Application):
        app['session'] = ClientSession()
        yield
        await app['session'].close()

    app = web.Application()
    app.cleanup_ctx.append(session)
    app.router.add_route('*', '/{tail:.*}', forward)
    web.run_app(app, host=args.listen, port=args.port, print=None)


if __name__ == '__main__':
    main()
