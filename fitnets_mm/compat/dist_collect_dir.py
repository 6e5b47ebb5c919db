"""Collect distributed evaluation results in the work dir, not in ``./``.

mmengine 0.10.7's ``collect_results_cpu`` gathers the ranks' results
through files; a metric without ``collect_dir`` (MMPretrain's ``Accuracy``
cannot even take one) makes it create ``./.dist_test/`` in the current
folder, wherever the job was started, and leave it there.

:func:`patch_dist_collect_dir` wraps ``Runner.build_evaluator``: every CPU-
collected metric without a ``collect_dir`` gets ``WORK_DIR/.dist_test``
(shared by the ranks like the checkpoints; rank 0 removes it after each
collection). Metrics with their own ``collect_dir`` keep it, and nothing
changes in a run that is not distributed (one process collects nothing).
"""
import functools
import os.path as osp
from typing import Any

from .switches import announce_once

__all__ = ['COLLECT_DIR_NAME', 'patch_dist_collect_dir']

#: The folder under the work dir that results are collected in.
COLLECT_DIR_NAME = '.dist_test'


def _build_evaluator(original: Any) -> Any:

    @functools.wraps(original)
    def build_evaluator(self: Any, evaluator: Any) -> Any:
        built = original(self, evaluator)
        from mmengine.dist import get_world_size
        if get_world_size() == 1:
            return built
        for metric in getattr(built, 'metrics', []):
            if getattr(metric, 'collect_device', None) == 'cpu' and \
                    getattr(metric, 'collect_dir', '') is None:
                metric.collect_dir = osp.join(self.work_dir,
                                              COLLECT_DIR_NAME)
                announce_once('dist_collect_dir', 'distributed evaluation '
                              f'collects in {metric.collect_dir}')
        return built

    build_evaluator.__fitnets_mm_patched__ = True
    return build_evaluator


def patch_dist_collect_dir() -> None:
    """Install the wrapper (idempotent)."""
    from mmengine.runner import Runner
    if not getattr(Runner.build_evaluator, '__fitnets_mm_patched__', False):
        Runner.build_evaluator = _build_evaluator(Runner.build_evaluator)
