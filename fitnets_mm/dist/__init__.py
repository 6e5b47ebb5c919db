"""fitnets_mm's own distributed-run features: ranks that end with their
launcher, and process-group timeouts that end a hung collective
(:mod:`.launcher_watchdog`, installed by the ``cpu_distributed`` change of
mmengine's process-group start)."""
from .launcher_watchdog import (DEFAULT_CPU_TIMEOUT_S, dist_timeout,
                                exit_with_launcher, explain_timeouts)

__all__ = [
    'DEFAULT_CPU_TIMEOUT_S', 'dist_timeout', 'exit_with_launcher',
    'explain_timeouts'
]
