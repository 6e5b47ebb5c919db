"""Ctrl-C ends a run with one line per process, not a traceback each.

SIGINT to a 2-rank run reaches ``torchrun``, which passes it on to every
rank; each printed its ``KeyboardInterrupt`` traceback (about 40 lines,
from wherever it was: a collective, a checkpoint save, the config's
``pretty_text``) and torchrun its ``SignalException`` (about 30 lines).

:func:`one_line_on_sigint` wraps a process's main function: a
``KeyboardInterrupt`` becomes one line saying which rank stopped where and
how to continue, and exit status 130 (128 + SIGINT), as a shell reports an
interrupted command. Checkpoints are written atomically
(:mod:`fitnets_mm.fileio.atomic_checkpoint`), so the interrupted run
resumes from its last one.
"""
import contextlib
import os
import signal
import sys
from typing import Iterator

__all__ = [
    'INTERRUPTED_EXIT_STATUS', 'RESUME_ADVICE', 'one_line_on_sigint',
    'where_stopped'
]

#: How an interrupted training continues.
RESUME_ADVICE = ('to continue from the last checkpoint, run the same command '
                 'with --resume')
#: 128 + SIGINT, the status a shell gives an interrupted command.
INTERRUPTED_EXIT_STATUS = 128 + int(signal.SIGINT)


def where_stopped() -> str:
    """``' in epoch E (1-based) after I iterations'`` from mmengine's
    message hub, or ``''`` before training started."""
    try:
        from mmengine.logging import MessageHub
        hub = MessageHub.get_current_instance()
        epoch, it = hub.get_info('epoch'), hub.get_info('iter')
    except Exception:  # noqa: BLE001  (no hub yet)
        return ''
    if epoch is None or it is None:
        return ''
    return f' in epoch {epoch + 1} after {it} iterations'


def _caused_by_sigint(err: BaseException) -> bool:
    """Whether ``err`` is a ``KeyboardInterrupt``, or was raised while one
    was handled: mmengine's ``Config.pretty_text`` (run for every
    checkpoint) turns any exception, Ctrl-C included, into a
    ``SyntaxError``."""
    seen = 0
    while err is not None and seen < 20:
        if isinstance(err, KeyboardInterrupt):
            return True
        if isinstance(err, SystemExit):
            return False
        err = err.__cause__ or err.__context__
        seen += 1
    return False


@contextlib.contextmanager
def one_line_on_sigint(what: str = 'rank',
                       advice: str = RESUME_ADVICE) -> Iterator[None]:
    """End the process with one line and status 130 on Ctrl-C.

    Args:
        what (str): How the line names this process: ``'rank'`` (its
            ``RANK``, 0 without a launcher) or e.g. ``'torchrun'``.
            Defaults to ``'rank'``.
        advice (str): Ends the line (``''``: none). Defaults to
            :data:`RESUME_ADVICE`, for training.
    """
    try:
        yield
    except BaseException as err:  # noqa: B902
        if not _caused_by_sigint(err):
            raise
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # one line, once
        name = f'rank {os.environ.get("RANK", "0")}' if what == 'rank' \
            else what
        sys.stdout.flush()
        sys.stderr.write(
            f'fitnets_mm: {name} stopped by SIGINT (Ctrl-C){where_stopped()}'
            f'{"; " + advice if advice else ""}\n')
        sys.stderr.flush()
        sys.exit(INTERRUPTED_EXIT_STATUS)
