"""The servers ``bench_spine.py`` measures, and their memory: ironic_lite all-in-one, or API +
conductor over a fresh RabbitMQ vhost (started from this checkout, stopped on every exit), the
RSS/PSS/CPU of each process tree from /proc, and the CPU-speed probe the reports start with.
"""
from __future__ import annotations

import os
import subprocess
import time

from ironic_lite.conf.default import EMBEDDED_DRIVER_DEFAULTS
from ironic_lite.testing import processes, services

API_READY = 'ironic_lite API ready on http://'
START_TIMEOUT = 90.0    # seconds: cap on a daemon start


def calib():
    """CPU-speed probe, identical to bench_ironic.py's: a 5M-step pure-Python loop."""
    t = time.perf_counter()
    x = 0
    for i in range(5_000_000):
        x += i
    return round(time.perf_counter() - t, 3)


def proc_tree(root):
    parent = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open(f'/proc/{d}/stat') as f:
                    parent[int(d)] = int(f.read().rsplit(')', 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    out, todo = [], [root]
    while todo and len(out) < 1000:
        p = todo.pop(0)
        if p in out or p not in parent:
            continue
        out.append(p)
        todo.extend(sorted(c for c, pp in parent.items() if pp == p))
    return out


def mem_of_pid(pid):
    d = {'pid': pid}
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith(('VmRSS', 'VmHWM', 'Threads')):
                    k, v = line.split(':', 1)
                    d[k] = int(v.split()[0])
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
            d['cpu_s'] = round((int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK'), 2)
    except OSError as e:
        d['error'] = str(e)
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                if line.startswith('Pss:'):
                    d['Pss'] = int(line.split()[1])
    except OSError:
        pass
    return d


def memory(daemons):
    """{name: {rss_mib, pss_mib, hwm_mib, threads, cpu_s}} for each daemon (process tree)."""
    out = {}
    for name, daemon in daemons.items():
        procs = [mem_of_pid(p) for p in proc_tree(daemon.pid)]
        pss = [p['Pss'] for p in procs if 'Pss' in p]
        out[name] = {
            'pid': daemon.pid, 'processes': len(procs),
            'rss_mib': round(sum(p.get('VmRSS', 0) for p in procs) / 1024, 1),
            'hwm_mib': round(sum(p.get('VmHWM', 0) for p in procs) / 1024, 1),
            'pss_mib': round(sum(pss) / 1024, 1) if pss else None,
            'threads': sum(p.get('Threads', 0) for p in procs),
            'cpu_s': round(sum(p.get('cpu_s', 0) for p in procs), 2)}
    if len(out) > 1:
        vals = list(out.values())
        out['sum'] = {'rss_mib': round(sum(v['rss_mib'] for v in vals), 1),
                      'hwm_mib': round(sum(v['hwm_mib'] for v in vals), 1),
                      'pss_mib': (round(sum(v['pss_mib'] for v in vals), 1)
                                  if all(v['pss_mib'] is not None for v in vals) else None),
                      'threads': sum(v['threads'] for v in vals),
                      'cpu_s': round(sum(v['cpu_s'] for v in vals), 2)}
    return out


def fmt_mem(m):
    def one(v):
        pss = f", PSS {v['pss_mib']:.1f}" if v.get('pss_mib') is not None else ''
        return (f"RSS {v['rss_mib']:.1f} MiB{pss} (peak {v['hwm_mib']:.1f}), "
                f"{v['threads']} threads, cpu {v['cpu_s']:.1f} s")
    return '; '.join(f'{k}: {one(v)}' for k, v in m.items())


# ------------------------------------------------------------------------------ servers
class Cluster:
    """ironic_lite all-in-one, or API + conductor over a fresh RabbitMQ vhost."""

    def __init__(self, mode, workdir, extra_conf=None):
        self.mode = mode
        self.workdir = workdir
        self.port = services.free_port()
        self.url = f'http://127.0.0.1:{self.port}'
        self.db_url = f'sqlite:///{os.path.join(workdir, "ironic_lite.sqlite")}'
        self.extra = extra_conf or {}
        self.daemons = {}
        self._delete_vhost = None
        self.transport_url = None
        self.start_s = None

    def _config(self, host):
        conf = {'DEFAULT': {'host': host, 'state_path': self.workdir,
                            **EMBEDDED_DRIVER_DEFAULTS},
                'api': {'host_ip': '127.0.0.1', 'port': self.port},
                'database': {'connection': self.db_url}}
        if self.mode == 'aio':
            conf['DEFAULT']['rpc_transport'] = 'none'
        else:
            conf['DEFAULT']['rpc_transport'] = 'oslo'
            conf['DEFAULT']['transport_url'] = self.transport_url
        for section, options in self.extra.items():
            conf.setdefault(section, {}).update(options)
        return conf

    def start(self):
        t0 = time.perf_counter()
        if self.mode == 'aio':
            d = processes.Daemon('ironic-lite', self._config('bench-aio'), API_READY,
                                 workdir=self.workdir, name='aio')
            self.daemons['aio'] = d
            d.start(START_TIMEOUT)
        else:
            if not services.rabbit_available():
                raise RuntimeError('split mode needs RabbitMQ on 127.0.0.1:5672 and rabbitmqctl')
            self.transport_url, self._delete_vhost = services.fresh_rabbit_vhost()
            path = processes.write_config(os.path.join(self.workdir, 'dbsync.conf'),
                                          self._config('bench-dbsync'))
            subprocess.run([processes.console_script('ironic-lite-dbsync'), '--config-file',
                            path, 'upgrade'], check=True, capture_output=True, text=True,
                           timeout=120)
            cond = processes.Daemon('ironic-lite-conductor', self._config('bench-conductor'),
                                    'ironic_lite conductor bench-conductor ready',
                                    workdir=self.workdir, name='conductor')
            self.daemons['conductor'] = cond
            cond.start(START_TIMEOUT)
            api = processes.Daemon('ironic-lite-api', self._config('bench-api'), API_READY,
                                   workdir=self.workdir, name='api')
            self.daemons['api'] = api
            api.start(START_TIMEOUT)
            self.daemons = {'api': api, 'conductor': cond}
        self.start_s = round(time.perf_counter() - t0, 2)
        return self

    def check_alive(self):
        dead = [n for n, d in self.daemons.items() if d.proc and d.proc.poll() is not None]
        if dead:
            raise RuntimeError(f'process(es) exited: {dead}\n{self.logs()}')

    def logs(self, n=40):
        return '\n'.join(f'--- {name} ({d.log_path})\n{d.log_tail(n)}'
                         for name, d in self.daemons.items())

    def stop(self):
        codes = {}
        for name in ('api', 'aio', 'conductor'):
            d = self.daemons.get(name)
            if d is not None:
                try:
                    codes[name] = d.stop(grace=30)
                except Exception as e:  # noqa: BLE001 - keep stopping the others
                    codes[name] = repr(e)
        if self._delete_vhost is not None:
            self._delete_vhost()
            self._delete_vhost = None
        return codes
