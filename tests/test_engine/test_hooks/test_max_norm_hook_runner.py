"""``MaxNormHook`` in a plain mmengine run (``mmengine.testing``'s
``RunnerTestCase``: its toy model, data and epoch-based config)."""
from typing import List

import torch
from mmengine.hooks import Hook
from mmengine.testing import RunnerTestCase

import fitnets_mm  # noqa: F401  (registers mmrazor.MaxNormHook)

MAX_NORM = 0.05


class RecordNorms(Hook):
    """Records the largest row norm of ``linear1`` after every iteration."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.norms: List[float] = []

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        weight = runner.model.linear1.weight
        self.norms.append(float(weight.detach().norm(dim=1).max()))


class TestMaxNormHookInARunner(RunnerTestCase):

    def _train(self, constrained: bool) -> RecordNorms:
        cfg = self.epoch_based_cfg.copy()
        cfg.optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.5))
        hooks = [dict(type='mmrazor.MaxNormHook',
                      rules=[dict(modules='linear1', max_norm=MAX_NORM)])]
        cfg.custom_hooks = hooks if constrained else []
        runner = self.build_runner(cfg)
        record = RecordNorms()
        runner.register_hook(record)
        torch.manual_seed(0)
        runner.train()
        self.linear2 = runner.model.linear2.weight.detach().clone()
        return record

    def test_rows_of_the_selected_layer_stay_within_max_norm(self) -> None:
        free = self._train(constrained=False)
        self.assertGreater(min(free.norms), MAX_NORM)
        constrained = self._train(constrained=True)
        self.assertEqual(len(constrained.norms), len(free.norms))
        self.assertLessEqual(max(constrained.norms), MAX_NORM * (1 + 1e-5))
        # a layer no rule selects is left free
        self.assertGreater(float(self.linear2.norm(dim=1).max()), MAX_NORM)
