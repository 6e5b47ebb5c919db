"""Ranks that end with their launcher, and collectives that time out.

Two ways a multi-process job outlives its purpose, on any mmengine:

1. **Orphans.** ``torchrun`` starts the ranks as child processes. Killed
   with SIGKILL (an OOM killer, ``kill -9``, a scheduler), it cannot stop
   them: they keep training and writing checkpoints, and a resubmitted job
   gets two writers in one work dir. :func:`exit_with_launcher` asks the
   kernel to SIGKILL the rank when its parent dies (Linux
   ``prctl(PR_SET_PDEATHSIG)``), and starts a watchdog thread that polls
   the parent as well (every other OS, or a parent *thread* that ends).
   Checkpoint writes are atomic (:mod:`.atomic_checkpoint`), so the kill
   damages nothing.
2. **Hangs.** A rank that stops (SIGSTOP, a hung data loader, a dead node)
   leaves the others waiting in their next collective until the process
   group's timeout: 30 minutes for Gloo. :func:`dist_timeout` picks the
   timeout: ``env_cfg.dist_cfg.timeout`` (seconds) when the config sets
   it, else :data:`DEFAULT_CPU_TIMEOUT_S` on CPU (Gloo) and the backend's
   own default on GPUs. The waiting ranks then fail, :func:`explain_timeouts`
   adds one line saying what happened and which option to change, and the
   launcher stops the job.
"""
import ctypes
import datetime
import os
import signal
import sys
import threading
import time
from typing import Any, Optional

__all__ = [
    'DEFAULT_CPU_TIMEOUT_S', 'dist_timeout', 'exit_with_launcher',
    'explain_timeouts'
]

#: Process-group timeout on CPU when ``env_cfg.dist_cfg.timeout`` is unset.
DEFAULT_CPU_TIMEOUT_S = 120

_PR_SET_PDEATHSIG = 1
_started = []


def _watch(parent: int, interval: float) -> None:
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)


def exit_with_launcher(interval: float = 1.0) -> str:
    """End this process (SIGKILL) as soon as its parent process ends.

    Args:
        interval (float): Seconds between two checks of the watchdog
            thread. Defaults to 1.

    Returns:
        str: How: ``'prctl+watchdog'`` on Linux, ``'watchdog'`` elsewhere.
    """
    parent = os.getppid()
    how = 'watchdog'
    if sys.platform.startswith('linux'):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0,
                          0) == 0:
                how = 'prctl+watchdog'
        except (OSError, AttributeError):
            pass
    # The parent died between getppid() and prctl(). (A parent with PID 1,
    # e.g. torchrun as a container's entry point, is a live launcher.)
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
    if not _started:
        thread = threading.Thread(
            target=_watch, args=(parent, interval), daemon=True,
            name='fitnets_mm-launcher-watchdog')
        thread.start()
        _started.append(thread)
    return how


def dist_timeout(kwargs: dict, on_cpu: bool) -> Optional[datetime.timedelta]:
    """The process-group timeout to use, set into ``kwargs``.

    Args:
        kwargs (dict): ``init_process_group`` arguments; mmengine's
            ``init_dist`` has already turned ``dist_cfg.timeout`` seconds
            into a ``timedelta``.
        on_cpu (bool): Whether the group runs on CPU (Gloo).

    Returns:
        timedelta | None: The timeout, or None for the backend's default.
    """
    timeout = kwargs.get('timeout')
    if timeout is None and on_cpu:
        timeout = datetime.timedelta(seconds=DEFAULT_CPU_TIMEOUT_S)
        kwargs['timeout'] = timeout
    return timeout


_TIMEOUT_WORDS = ('timed out', 'timeout', 'connection closed by peer',
                  'connection reset by peer', 'broken pipe')


def explain_timeouts(timeout: Optional[datetime.timedelta]) -> None:
    """Add one explaining line to an uncaught collective failure.

    Installs a ``sys.excepthook`` that, for errors whose message says a
    collective timed out or lost its peer, prints what it means before the
    usual traceback.

    Args:
        timeout (timedelta, optional): The process group's timeout.
    """
    previous = sys.excepthook
    seconds = 'the default' if timeout is None else \
        f'{timeout.total_seconds():g} s'

    def explain(exc: BaseException) -> Optional[str]:
        text = str(exc).lower()
        if not any(word in text for word in _TIMEOUT_WORDS):
            return None
        rank = os.environ.get('RANK', '?')
        return (f'fitnets_mm: rank {rank} gave up waiting for the other '
                f'ranks in a collective (timeout {seconds}, '
                'env_cfg.dist_cfg.timeout): another rank stopped, hung or '
                'died. If ranks are only slow (a long download, a slow '
                'validation), raise it: --cfg-options '
                'env_cfg.dist_cfg.timeout=SECONDS.')

    def hook(exc_type: Any, exc: BaseException, tb: Any) -> None:
        line = explain(exc)
        if line:
            sys.stderr.write(line + '\n')
        previous(exc_type, exc, tb)

    sys.excepthook = hook
    # The tools end an error in one line (fitnets_mm_cli.run) without
    # reaching the excepthook: they print the explanation too.
    try:
        import fitnets_mm_cli
    except ImportError:  # pragma: no cover (installed with fitnets_mm)
        return
    fitnets_mm_cli.EXPLAINERS.append(explain)
