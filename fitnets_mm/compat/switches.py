"""Turn compatibility fixes off, and say once when one takes effect.

``FITNETS_MM_COMPAT_OFF`` names fixes (modules of :mod:`fitnets_mm.compat`)
to leave out, comma-separated, e.g.
``FITNETS_MM_COMPAT_OFF=atomic_checkpoint,dist_collect_dir``; ``all`` leaves
out every fix (then MMRazor does not import on torch 2.x). Unknown names
are ignored with one warning line on stderr. A fix that is on
announces itself in the log the first time it changes what mmengine or
MMRazor does (:func:`announce_once`), so a run's log says which of them
acted.

The switch and the record of announcements live in :mod:`fitnets_mm_startup`
(outside the package, so that the interpreter-start hook can use them
without importing fitnets_mm); this module is the package's view of them.
"""
from typing import Tuple

import fitnets_mm_startup
from fitnets_mm_startup import ENV_VAR, FIX_NAMES

__all__ = ['ENV_VAR', 'OPTIONAL_FIXES', 'announce_once', 'enabled']

#: The fixes that ``FITNETS_MM_COMPAT_OFF`` can turn off.
OPTIONAL_FIXES: Tuple[str, ...] = FIX_NAMES


def enabled(fix: str) -> bool:
    """Whether ``fix`` is on (not named in ``FITNETS_MM_COMPAT_OFF``).

    Args:
        fix (str): One of :data:`OPTIONAL_FIXES`.

    Returns:
        bool: False if the variable names ``fix`` or ``all``.

    Raises:
        ValueError: ``fix`` is not a known fix (a name in the variable that
            is not one is ignored with one warning line).
    """
    return fitnets_mm_startup.fix_enabled(fix)


def announce_once(fix: str, what: str) -> None:
    """Log, once per process, that ``fix`` changed what mmengine does.

    Args:
        fix (str): The fix (a module of :mod:`fitnets_mm.compat`).
        what (str): What it did, in a sentence.
    """
    fitnets_mm_startup.announce(fix, what)
