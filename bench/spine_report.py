"""The table ``bench_spine.py`` prints: ironic_lite's figures against upstream Ironic's from
the issue, and optionally against a peer run of ``bench_ironic.py`` made in the same window
(``bench/interleave.sh`` prints it again from the JSON files of each round).
"""
from __future__ import annotations

import json

# Upstream OpenStack Ironic 39.0.0 on this machine (issue 2, item 14 and
# /work/shared/peer-ironic/results/SUMMARY.txt): fake-hardware, SQLite, 8 client threads.
UPSTREAM = {
    'create_per_s': (17.0, 27.0),
    'deploy_accept_s': (53.0, 77.0),            # 200 deploy requests accepted
    'deploy_req_per_s': (200 / 77.0, 200 / 53.0),  # ~2.6-3.8/s ("~3/s")
    'get_node_rps': (44.0, 100.0),
    'rss_aio_mib': (290.0, 345.0),
    'rss_split_mib': (520.0, 600.0),
}
TARGETS = {'create_per_s': 10, 'deploy_req_per_s': 10, 'get_node_rps': 5, 'rss': 1 / 3}


# ------------------------------------------------------------------------------ report
def peer_figures(path):
    """Reference figures from a bench_ironic.py JSON (a peer run in the same time window)."""
    with open(path) as f:
        p = json.load(f)
    mem = {m['label']: m for m in p.get('memory', [])}
    out = {'source': path}
    if 'a_create_sequential' in p:
        out['create_per_s'] = p['a_create_sequential']['req_per_s']
    if 'b_deploy' in p:
        out['deploy_accept_s'] = p['b_deploy']['fire_s']
        out['deploy_req_per_s'] = round(args_nodes(p) / p['b_deploy']['fire_s'], 2)
        out['deploy_all_active_s'] = p['b_deploy']['total_until_all_done_s']
    if 'c_rps' in p:
        out['get_node_rps'] = p['c_rps']['rps']
    if 'c_detail' in p:
        out['detail_p50_ms'] = p['c_detail']['latency']['p50_ms']
    for label in ('idle-before', 'after-deploy'):
        if label in mem:
            out[f'rss_{label}'] = mem[label]['total_rss_mib']
    return out


def args_nodes(p):
    return p.get('nodes') or 200


def ratio(ours, theirs, lower_is_better=False):
    if not ours or not theirs:
        return '-'
    if isinstance(theirs, tuple):
        lo, hi = theirs
        if lower_is_better:
            return f'{lo / ours:.1f}-{hi / ours:.1f}x smaller'
        return f'{ours / hi:.1f}-{ours / lo:.1f}x'
    if lower_is_better:
        return f'{theirs / ours:.1f}x smaller'
    return f'{ours / theirs:.1f}x'


def rng(t, fmt='{:.0f}'):
    return f'{fmt.format(t[0])}-{fmt.format(t[1])}'


def report(results, peer=None):
    """One table: a column per mode, each cell 'value (ratio vs upstream)'; optionally a peer
    column (bench_ironic.py run against upstream in the same time window) with ratios."""
    nodes = results[0]['nodes']
    head = ['metric'] + [f'ironic_lite {r["mode"]} (x upstream)' for r in results] + [
        'upstream 39 (issue)']
    if peer is not None:
        head += ['peer run'] + [f'{r["mode"]} / peer' for r in results]
    rows = []

    def val(getter, r):
        try:
            return getter(r)
        except (KeyError, TypeError, StopIteration):
            return None

    def row(name, getter, up=None, lower=False, peer_key=None, up_split=None, fmt='{:.0f}'):
        cells = [name]
        for r in results:
            v = val(getter, r)
            ref = up_split if (up_split and r['mode'] == 'split') else up
            cell = '-' if v is None else str(v)
            if v is not None and ref and isinstance(v, (int, float)):
                cell += f' ({ratio(v, ref, lower)})'
            cells.append(cell)
        ref_txt = ''
        if up:
            ref_txt = rng(up, fmt) + (f' (split {rng(up_split, fmt)})' if up_split else '')
        cells.append(ref_txt or '-')
        if peer is not None:
            pv = peer.get(peer_key) if peer_key else None
            cells.append('-' if pv is None else str(pv))
            for r in results:
                v = val(getter, r)
                # the peer run is an all-in-one: its memory is no reference for split mode
                same_kind = not (r['mode'] == 'split' and peer_key and
                                 peer_key.startswith('rss'))
                cells.append(ratio(v, pv, lower)
                             if (pv and same_kind and isinstance(v, (int, float))) else '-')
        rows.append(cells)

    def mem(key, field):
        def get(r):
            m = r[key]
            return m['sum'][field] if 'sum' in m else next(iter(m.values()))[field]
        return get

    row('process start (s)', lambda r: r['start_s'])
    row('creates/s (sequential)', lambda r: r['create']['per_s'], UPSTREAM['create_per_s'],
        peer_key='create_per_s')
    row('create p50 latency (ms)', lambda r: r['create']['latency']['p50_ms'])
    row('manage+provide, all available (s)',
        lambda r: round(r['manage']['all_done_s'] + r['provide']['all_done_s'], 2))
    row(f'deploy: {nodes} requests accepted (s)', lambda r: r['deploy']['accept_s'],
        UPSTREAM['deploy_accept_s'] if nodes == 200 else None, lower=True,
        peer_key='deploy_accept_s' if nodes == 200 else None)
    row('deploy requests/s (8 clients)', lambda r: r['deploy']['req_per_s'],
        UPSTREAM['deploy_req_per_s'], peer_key='deploy_req_per_s', fmt='{:.1f}')
    row('deploy PUT p50/p95 (ms)', lambda r: f"{r['deploy']['latency']['p50_ms']}/"
        f"{r['deploy']['latency']['p95_ms']}")
    row('deploy: until all active (s)', lambda r: r['deploy']['until_all_active_s'],
        peer_key='deploy_all_active_s' if nodes == 200 else None, lower=True)
    row('GET /v1/nodes/detail p50 (ms)', lambda r: r['detail']['latency']['p50_ms'],
        peer_key='detail_p50_ms', lower=True)
    row('GET /v1/nodes/{uuid} req/s (8 clients)', lambda r: r['get_node']['rps'],
        UPSTREAM['get_node_rps'], peer_key='get_node_rps')
    row('GET node p50/p95 (ms)', lambda r: f"{r['get_node']['latency']['p50_ms']}/"
        f"{r['get_node']['latency']['p95_ms']}")
    for stage, key in (('idle-before', 'mem_idle_before'), ('after-deploy', 'mem_after_deploy'),
                       ('after-benchmark', 'mem_after_benchmark')):
        up = UPSTREAM['rss_aio_mib'] if stage != 'after-benchmark' else None
        row(f'RSS {stage}, all processes (MiB)', mem(key, 'rss_mib'), up, lower=True,
            up_split=UPSTREAM['rss_split_mib'] if up else None, peer_key=f'rss_{stage}')
        row(f'PSS {stage}, all processes (MiB)', mem(key, 'pss_mib'))
        if any('sum' in r.get(key, {}) for r in results):
            for proc in ('api', 'conductor'):
                row(f'  RSS {stage}: {proc} (MiB)',
                    lambda r, proc=proc, key=key: r[key][proc]['rss_mib'])
    row('server CPU used, whole run (s)', mem('mem_after_benchmark', 'cpu_s'))

    widths = [max(len(str(r_[i])) for r_ in rows + [head]) for i in range(len(head))]
    line = lambda cells: '  '.join(  # noqa: E731
        str(c).ljust(w) for c, w in zip(cells, widths, strict=True))
    print()
    print(line(head))
    print(line(['-' * w for w in widths]))
    for r in rows:
        print(line(r))
    print(f'upstream: OpenStack Ironic 39.0.0 on this machine (fake-hardware, SQLite, 8 client '
          f'threads); targets >= {TARGETS["create_per_s"]}x creates and deploys, '
          f'>= {TARGETS["get_node_rps"]}x GET, <= 1/3 memory (RSS ratio >= 3x smaller).')
    if peer is not None:
        print(f'peer run: {peer["source"]}')
    for r in results:
        if r.get('http_errors'):
            print(f'[{r["mode"]}] HTTP errors: {r["http_errors"]}')
            for s in r.get('http_error_samples', [])[:5]:
                print('   ', json.dumps(s)[:800])
