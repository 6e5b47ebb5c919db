"""Command-line plumbing of fitnets_mm's tools: one-line errors, fast start.

The tools (``tools/train.py``, ``tools/test.py``, ``tools/analysis/*``)
parse their arguments and check their paths with this module before they
import torch, mmengine's runner, MMRazor or fitnets_mm (about 10 s), so
``--help`` and a mistyped path answer at once. Like
:mod:`fitnets_mm_startup`, it is outside the ``fitnets_mm`` package, whose
``__init__`` imports all of that.

:func:`run` runs a tool's ``main`` and turns an exception into one line on
standard error (``error: <what>: <message>``) and exit status 1, with a
pointer to the traceback: ``--debug`` on the command line or
``FITNETS_MM_DEBUG=1`` in the environment lets the exception through,
traceback and all.
"""
import argparse
import os
import os.path as osp
import re
import sys
from typing import Callable, List, Optional

__all__ = [
    'DEBUG_ENV', 'EXPLAINERS', 'UserError', 'add_debug_argument',
    'check_config_path', 'check_input_path', 'debug_requested', 'one_line',
    'run'
]

#: ``FITNETS_MM_DEBUG=1`` shows the traceback of a failing tool.
DEBUG_ENV = 'FITNETS_MM_DEBUG'

_ANSI = re.compile(r'\x1b\[[0-9;]*m')


class UserError(Exception):
    """A mistake in what the user asked for, reported without traceback."""


def debug_requested(argv: Optional[List[str]] = None) -> bool:
    """Whether ``--debug`` is in ``argv`` or ``FITNETS_MM_DEBUG`` is set.

    Args:
        argv (list[str], optional): The arguments. Defaults to
            ``sys.argv[1:]``.

    Returns:
        bool: True to show tracebacks.
    """
    argv = sys.argv[1:] if argv is None else argv
    value = os.environ.get(DEBUG_ENV, '').strip().lower()
    return '--debug' in argv or value not in ('', '0', 'false', 'no')


def add_debug_argument(parser: argparse.ArgumentParser) -> None:
    """Add the tools' ``--debug`` flag (show the traceback of an error).

    Args:
        parser (argparse.ArgumentParser): A tool's parser.
    """
    parser.add_argument(
        '--debug',
        action='store_true',
        help=f'show the traceback of an error (or set {DEBUG_ENV}=1)')


def one_line(error: BaseException) -> str:
    """The exception as one line: its type (unless a :class:`UserError`)
    and its message, lines joined, colour codes removed.

    Args:
        error (BaseException): The exception.

    Returns:
        str: E.g. ``"FileNotFoundError: [Errno 2] No such file ..."``.
    """
    text = _ANSI.sub('', str(error)).strip()
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(
            error.args[0], str):
        text = error.args[0]  # str(KeyError) adds quotes
    text = ' '.join(part.strip() for part in text.splitlines()
                    if part.strip())
    if isinstance(error, UserError):
        return text
    name = type(error).__name__
    return f'{name}: {text}' if text else name


def check_config_path(path: str) -> str:
    """Refuse a config path that is not a file, before the heavy imports.

    ``scope::path`` configs (``fitnets_mm::fitnets/...``) are left to
    mmengine.

    Args:
        path (str): The path given on the command line.

    Returns:
        str: ``path``.

    Raises:
        UserError: It is not a file; the message says that relative paths
            are read from the current folder, and names it.
    """
    if '::' in path or osp.isfile(path):
        return path
    return _missing('config', path)


def check_input_path(path: str, what: str) -> str:
    """Refuse a local input path that does not exist (URLs pass).

    Args:
        path (str): The path given on the command line.
        what (str): What it is, for the message (e.g. ``'checkpoint'``).

    Returns:
        str: ``path``.

    Raises:
        UserError: A local path that does not exist.
    """
    if '://' in path or osp.exists(path):
        return path
    return _missing(what, path)


def _missing(what: str, path: str) -> str:
    where = ('' if osp.isabs(path) else
             f'; relative paths are read from the current folder, '
             f'{os.getcwd()}')
    raise UserError(f'{what} file {path!r} does not exist{where}')


#: Functions that turn an error into one explaining line (or None), e.g. a
#: collective timeout (:mod:`fitnets_mm.dist.launcher_watchdog`); printed
#: before the error's own line.
EXPLAINERS: List[Callable[[BaseException], Optional[str]]] = []


def run(main: Callable[[], object], training: bool = False) -> None:
    """Run a tool's ``main``; report a failure in one line.

    Ctrl-C ends the process with one line and status 130
    (:func:`fitnets_mm.engine.runner.sigint.one_line_on_sigint`, loaded on
    its own: it imports nothing heavy).

    Args:
        main (Callable): The tool's entry point.
        training (bool): Whether the tool trains: its Ctrl-C line then says
            how to resume. Defaults to False.

    Raises:
        SystemExit: Status 1 after a reported error, 130 after Ctrl-C.
    """
    debug = debug_requested()
    try:
        if debug:
            main()
        else:
            from fitnets_mm_startup import feature_module
            sigint = feature_module('engine.runner.sigint')
            advice = sigint.RESUME_ADVICE if training else ''
            with sigint.one_line_on_sigint(advice=advice):
                main()
    except KeyboardInterrupt:
        if debug:
            raise
        print('interrupted', file=sys.stderr)
        raise SystemExit(130)
    except Exception as error:  # noqa: B902 (every failure gets one line)
        if debug:
            raise
        sys.stderr.flush()
        for explain in EXPLAINERS:
            line = explain(error)
            if line:
                print(line, file=sys.stderr)
        print(f'error: {one_line(error)} (run with --debug or '
              f'{DEBUG_ENV}=1 for the traceback)', file=sys.stderr)
        raise SystemExit(1)
