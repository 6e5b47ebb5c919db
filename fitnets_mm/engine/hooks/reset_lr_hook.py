"""``--reset-lr``: resume with the config's learning rate."""
from typing import Any, Dict, List, Optional

from mmengine.hooks import Hook
from mmrazor.registry import HOOKS

__all__ = ['ResetLearningRateHook']


@HOOKS.register_module()
class ResetLearningRateHook(Hook):
    """Resume with the config's learning rate, not the checkpoint's.

    ``--resume`` restores the optimizer's learning rate from the checkpoint,
    so a run that diverged resumes with the rate that made it diverge,
    whatever the config now says. Before the state is restored
    (``after_load_checkpoint``), this rescales the saved learning rate of
    every parameter group, and the ``lr`` values of the saved parameter
    schedulers, by ``config base lr / saved base lr``: the new base rate
    takes over and the schedule keeps its place (a step decay already
    applied stays applied). Momentum, Adam's moments and all other state
    are restored as saved.
    """

    def after_load_checkpoint(self, runner: Any, checkpoint: dict) -> None:
        """Rescale the learning rates saved in ``checkpoint``.

        Args:
            runner (Runner): The runner, its optimizers built from the
                config.
            checkpoint (dict): The checkpoint about to be restored.
        """
        saved = checkpoint.get('optimizer')
        if not isinstance(saved, dict):
            return
        wrappers = runner.optim_wrapper
        if 'param_groups' in saved:
            pairs = {None: (wrappers, saved)}
        else:  # OptimWrapperDict: one state per optimizer name
            pairs = {n: (wrappers[n], state) for n, state in saved.items()}
        factors: Dict[Optional[str], List[float]] = {}
        for name, (wrapper, state) in pairs.items():
            factors[name] = []
            for live, group in zip(wrapper.param_groups,
                                   state['param_groups']):
                new = live.get('initial_lr', live['lr'])
                old = group.get('initial_lr', group['lr'])
                factor = new / old if old else 1.0
                group['lr'] = group['lr'] * factor if old else new
                if 'initial_lr' in group:
                    group['initial_lr'] = new
                factors[name].append(factor)
                runner.logger.info(
                    f'--reset-lr: {name or "optimizer"} group base lr '
                    f'{old:g} (checkpoint) -> {new:g} (config); lr now '
                    f'{group["lr"]:g}')
        schedulers = checkpoint.get('param_schedulers') or []
        groups = schedulers.items() if isinstance(schedulers, dict) else \
            [(None, schedulers)]
        for name, states in groups:
            scale = factors.get(name) or factors.get(None)
            for state in states if scale else []:
                if state.get('param_name') != 'lr':
                    continue
                for key in ('base_values', '_last_value'):
                    if len(state.get(key) or []) == len(scale):
                        state[key] = [v * f for v, f in zip(state[key],
                                                            scale)]
