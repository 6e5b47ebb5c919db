"""mmengine's ``compile=`` option trains both FitNets stages: the truncated
stage 1 (hooks that raise StopForward) and the recorders of stage 2 run
under torch.compile (TorchDynamo) with the same losses as without it."""
from typing import Any, List

import pytest
import torch
from mmengine.hooks import Hook

from utils import toy_models as tm


class LossHook(Hook):
    """Record the stage and the loss of every training iteration."""

    def __init__(self) -> None:
        self.seen: List[Any] = []

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.seen.append((runner.model.stage,
                          float(outputs['loss'].detach())))


def _train(work_dir: str, compile_cfg=None) -> List[Any]:
    hook = LossHook()
    kwargs = dict(work_dir=work_dir, hint_epochs=1, kd_epochs=1,
                  custom_hooks=[hook])
    if compile_cfg is not None:
        kwargs['cfg'] = dict(compile=compile_cfg)
    runner = tm.build_runner(**kwargs)
    try:
        runner.train()
        compiled = getattr(runner.model.train_step, '_torchdynamo_orig_'
                           'callable', None) is not None
    finally:
        tm.reset_runner_state()
    return hook.seen, compiled


#: The backends tested: TorchDynamo alone (eager), and inductor (generated
#: C++ on the CPU) with the option the README gives for CPUs: inductor's own
#: channels_last layout optimisation corrupts the heap in the backward of
#: the CPU convolutions on torch 2.14.1 (the process aborts).
BACKENDS = [
    pytest.param(dict(backend='eager'), 1e-5, id='eager'),
    pytest.param(dict(backend='inductor',
                      options=dict(layout_optimization=False)),
                 1e-4, id='inductor'),
]


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize('compile_cfg, rel', BACKENDS)
def test_compile_trains_both_stages_with_the_same_losses(
        tmp_path, compile_cfg: dict, rel: float) -> None:
    import torch._dynamo
    torch._dynamo.reset()
    with tm.one_thread():
        eager, was_compiled = _train(str(tmp_path / 'eager'))
        assert not was_compiled
        compiled, was_compiled = _train(str(tmp_path / 'compiled'),
                                        compile_cfg)
    torch._dynamo.reset()
    assert was_compiled
    assert [s for s, _ in compiled] == ['hint', 'hint', 'kd', 'kd']
    assert [s for s, _ in eager] == [s for s, _ in compiled]
    for (_, a), (_, b) in zip(eager, compiled):
        assert a == pytest.approx(b, rel=rel)
