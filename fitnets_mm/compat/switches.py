"""Turn compatibility fixes off, and say once when one takes effect.

``FITNETS_MM_COMPAT_OFF`` names fixes (modules of :mod:`fitnets_mm.compat`)
that :func:`fitnets_mm.compat.apply_all` leaves out, comma-separated, e.g.
``FITNETS_MM_COMPAT_OFF=atomic_checkpoint,dist_collect_dir``; ``all`` leaves
out every fix but ``mmrazor_import`` (without which MMRazor does not import
on torch 2.x). A fix that is on announces itself in the log the first time
it changes what mmengine does (:func:`announce_once`), so a run's log says
which of them acted.
"""
import os
from typing import Set

from mmengine.logging import print_log

__all__ = ['OPTIONAL_FIXES', 'announce_once', 'enabled']

#: The fixes that ``FITNETS_MM_COMPAT_OFF`` can turn off.
OPTIONAL_FIXES = ('safe_checkpoint', 'atomic_checkpoint', 'cpu_distributed',
                  'dist_collect_dir', 'dataset_download', 'mmcls_rename')

_announced: Set[str] = set()


def enabled(fix: str) -> bool:
    """Whether ``fix`` is on (not named in ``FITNETS_MM_COMPAT_OFF``).

    Args:
        fix (str): One of :data:`OPTIONAL_FIXES`.

    Raises:
        ValueError: The variable names an unknown fix.
    """
    names = {n.strip() for n in os.environ.get(
        'FITNETS_MM_COMPAT_OFF', '').split(',') if n.strip()}
    unknown = names - set(OPTIONAL_FIXES) - {'all'}
    if unknown:
        raise ValueError(
            f'FITNETS_MM_COMPAT_OFF names unknown fixes {sorted(unknown)}; '
            f'expected some of {list(OPTIONAL_FIXES)} or "all".')
    return fix not in names and 'all' not in names


def announce_once(fix: str, what: str) -> None:
    """Log, once per process, that ``fix`` changed what mmengine does.

    Args:
        fix (str): The fix (a module of :mod:`fitnets_mm.compat`).
        what (str): What it did, in a sentence.
    """
    if fix in _announced:
        return
    _announced.add(fix)
    print_log(f'fitnets_mm.compat.{fix}: {what} (turn off with '
              f'FITNETS_MM_COMPAT_OFF={fix}).', logger='current')
