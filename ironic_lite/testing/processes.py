"""Run ironic_lite daemons as real subprocesses for tests and benchmarks.

``Daemon`` starts a console script with a generated config file, waits (with a deadline, no
fixed sleeps) for its ready line on stdout, and stops it with SIGTERM (SIGKILL after a grace
period) — or ``kill()`` to simulate a crash.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence


def write_config(path: str, sections: Mapping[str, Mapping[str, object]]) -> str:
    with open(path, 'w') as f:
        for section, options in sections.items():
            f.write(f'[{section}]\n')
            for key, value in options.items():
                if isinstance(value, bool):
                    value = str(value).lower()
                elif isinstance(value, (list, tuple)):
                    value = ','.join(str(v) for v in value)
                f.write(f'{key} = {value}\n')
            f.write('\n')
    return path


def console_script(name: str) -> str:
    """Path of one of the project's console scripts in the running interpreter's env."""
    candidate = os.path.join(os.path.dirname(sys.executable), name)
    return candidate if os.path.exists(candidate) else name


class Daemon:
    def __init__(self, command: str, config: Mapping[str, Mapping[str, object]],
                 ready_text: str, workdir: str | None = None, name: str | None = None,
                 prefix: Sequence[str] = ()):
        self.command = command
        self.prefix = list(prefix)     # e.g. ``ip netns exec NAME``
        self.name = name or command
        self.workdir = workdir or tempfile.mkdtemp(prefix='ironic_lite_')
        self.config_path = write_config(os.path.join(self.workdir, f'{self.name}.conf'),
                                        config)
        self.ready_text = ready_text
        self.log_path = os.path.join(self.workdir, f'{self.name}.log')
        self.proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._lines: list[str] = []

    def start(self, timeout: float = 60) -> Daemon:
        self._ready.clear()
        self._lines = []
        log = open(self.log_path, 'a')  # noqa: SIM115 - closed by the reader thread
        self.proc = subprocess.Popen(
            [*self.prefix, console_script(self.command), '--config-file', self.config_path],
            stdout=subprocess.PIPE, stderr=log, text=True, cwd=self.workdir,
            start_new_session=True)
        threading.Thread(target=self._read, args=(self.proc, log), daemon=True).start()
        if not self._ready.wait(timeout) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError(f'{self.name} did not become ready in {timeout}s; '
                               f'log:\n{self.log_tail()}')
        return self

    def _read(self, proc: subprocess.Popen, log) -> None:
        for line in proc.stdout:
            self._lines.append(line)
            log.write(line)
            log.flush()
            if self.ready_text in line:
                self._ready.set()
        log.close()

    def log_tail(self, n: int = 60) -> str:
        try:
            with open(self.log_path) as f:
                return ''.join(f.readlines()[-n:])
        except OSError:
            return ''

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def kill(self) -> None:
        """SIGKILL: a crash, no clean-up."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, grace: float = 30) -> int | None:
        if self.proc is None:
            return None
        return terminate(self.proc, grace)


def terminate(proc: subprocess.Popen, grace: float = 30) -> int | None:
    """Stop ``proc`` if it still runs: SIGTERM, SIGKILL after ``grace`` seconds. Returns its
    exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


def wait_for(predicate, timeout: float = 30, interval: float = 0.05, what: str = 'condition'):
    """Poll ``predicate`` until it returns a truthy value, or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f'timed out after {timeout}s waiting for {what}; last value: {last!r}')
