#!/usr/bin/env python3
"""Compact comparison of an interleaved run (bench/interleave.sh) from bench/results/*.json:
ironic_lite's own benchmark (bench_spine.py, aio and split), the peer's bench_ironic.py against
ironic_lite's all-in-one (lite_rN) and against upstream Ironic's all-in-one (peer_rN), with
ratios lite/peer for the same client in the same round.

    summarize_results.py [RESULTS_DIR]
"""
import glob
import json
import os
import sys

d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), 'results')


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except OSError:
        return None


def bi(p):
    """Figures of one bench_ironic.py JSON."""
    if p is None:
        return None
    mem = {m['label']: m for m in p.get('memory', [])}
    n = p['nodes']
    return {
        'calib': f"{p.get('calib_start_s')}/{p.get('calib_end_s')}",
        'creates/s': p['a_create_sequential']['req_per_s'],
        'manage accept s': p['b_manage']['fire_s'],
        'provide accept s': p['b_provide']['fire_s'],
        'deploy accept s': p['b_deploy']['fire_s'],
        'deploy req/s': round(n / p['b_deploy']['fire_s'], 1),
        'deploy PUT p50 ms': p['b_deploy']['put_latency']['p50_ms'],
        'deploy all active s': p['b_deploy']['total_until_all_done_s'],
        'enroll->active s': p['b_enroll_to_active_total_s'],
        'detail p50 ms': p['c_detail']['latency']['p50_ms'],
        'GET node req/s': p['c_rps']['rps'],
        'GET node p50 ms': p['c_rps']['latency']['p50_ms'],
        'RSS idle MiB': mem['idle-before']['total_rss_mib'],
        'RSS after-deploy MiB': mem['after-deploy']['total_rss_mib'],
        'RSS after-bench MiB': mem['after-benchmark']['total_rss_mib'],
        'PSS after-deploy MiB': mem['after-deploy']['total_pss_mib'],
        'server CPU s': mem['after-benchmark']['server_cpu_s'],
    }


def tot(m):
    return m['sum'] if 'sum' in m else next(iter(m.values()))


LOWER = ('accept', 'active', 'ms', 'MiB', 'CPU')
rounds = sorted({os.path.basename(f).split('_r')[1].split('.')[0].split('_')[0]
                 for f in glob.glob(os.path.join(d, '*_r*.json'))})
for r in rounds:
    lite, peer = bi(load(f'{d}/lite_r{r}.json')), bi(load(f'{d}/peer_r{r}.json'))
    spine = load(f'{d}/spine_r{r}.json')
    print(f'== round {r}: bench_ironic.py (same client, 8 threads) vs ironic_lite aio and '
          f'upstream Ironic 39 aio')
    if lite and peer:
        print(f'{"metric":24s} {"ironic_lite":>12s} {"upstream":>10s} {"ratio":>14s}')
        for k in lite:
            a, b = lite[k], peer[k]
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a and b:
                lower = any(w in k for w in LOWER)
                rt = f'{b / a:.1f}x smaller' if lower else f'{a / b:.1f}x'
            else:
                rt = ''
            print(f'{k:24s} {a!s:>12s} {b!s:>10s} {rt:>14s}')
    if spine:
        print(f'-- bench_spine.py (asyncio client, 8 concurrent) calib '
              f'{spine["calib_start_s"]}/{spine["calib_end_s"]}')
        for res in spine['results']:
            m_i, m_d = res['mem_idle_before'], res['mem_after_deploy']
            print(f'  {res["mode"]:5s} creates/s {res["create"]["per_s"]}, deploy accept '
                  f'{res["deploy"]["accept_s"]} s ({res["deploy"]["req_per_s"]}/s), all active '
                  f'{res["deploy"]["until_all_active_s"]} s, manage+provide '
                  f'{res["manage"]["all_done_s"]}+{res["provide"]["all_done_s"]} s, GET '
                  f'{res["get_node"]["rps"]} req/s, detail p50 '
                  f'{res["detail"]["latency"]["p50_ms"]} ms, RSS idle {tot(m_i)["rss_mib"]} / '
                  f'after-deploy {tot(m_d)["rss_mib"]} MiB'
                  + (f' (api {m_d["api"]["rss_mib"]} + conductor '
                     f'{m_d["conductor"]["rss_mib"]})' if 'sum' in m_d else ''))
    print()
