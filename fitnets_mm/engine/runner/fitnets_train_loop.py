"""The two-stage epoch loop of FitNets: ``hint_epochs`` then ``kd_epochs``."""
import copy
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmengine.runner import EpochBasedTrainLoop
from mmrazor.registry import LOOPS
from torch.utils.data import DataLoader

from ..hooks import FiniteLossGuardHook, FiniteWeightsGuardHook, HintStageHook

__all__ = ['FitNetsTrainLoop']

#: Hooks every run of this loop has, added where the config has none (a
#: config that restates ``custom_hooks`` cannot drop them); the last only
#: with a stage 1.
REQUIRED_HOOKS = (FiniteLossGuardHook, FiniteWeightsGuardHook, HintStageHook)


@LOOPS.register_module()
class FitNetsTrainLoop(EpochBasedTrainLoop):
    """Run FitNets' stage 1 for ``hint_epochs``, then stage 2 for
    ``kd_epochs``, in one run.

    The stage of every epoch follows from its index alone, so a run resumed
    anywhere continues in the right stage. The switch is logged, and the loss
    names show the stage (``hint.loss_ht`` in stage 1, ``student.loss`` and
    ``distill.*`` in stage 2).

    Parameter schedulers may carry ``stage='hint'`` or ``stage='kd'``: their
    ``begin``/``end`` are then counted from the start of that stage (``end``
    defaults to the stage's end), so they follow ``hint_epochs`` and
    ``kd_epochs`` when either is changed with ``--cfg-options``.
    Schedulers of a stage of length 0 are dropped.

    Optimizers: with one optimizer wrapper, both stages share it and, by
    default (``fresh_kd_optimizer=True``), its state (momentum, running
    averages) is cleared when stage 2 begins, as in the paper, whose stage
    2 is a new run. With ``optim_wrapper`` built by
    :class:`StageOptimWrapperConstructor` (keys ``hint`` and ``kd``), each
    stage steps its own optimizer. Either way the state follows from the
    epoch index, so resuming is exact.

    Every run gets the hooks in :data:`REQUIRED_HOOKS` (the finite-loss
    and finite-weights guards, and with a stage 1 :class:`HintStageHook`):
    those the config does not register are added, and the log says which.

    Note:
        mmengine's ``ConstantLR`` (and ``ConstantMomentum``) with ``end=e``
        lifts its factor at step ``e - 1``, so it would leave the stage's
        last epoch unscaled. For these the resolved ``end`` is one step
        past the stage-relative ``end``: the factor holds for the whole
        ``[begin, end)`` and is lifted at the first step after it.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The training dataloader.
        hint_epochs (int | list[int]): Epochs of stage 1 (hint training); 0
            for plain KD. A list, one entry per hint pair, trains the hints
            one after another, block by block (the authors' form; see
            :class:`StageOneForward`) for that many epochs each; an int trains
            all pairs jointly.
        kd_epochs (int): Epochs of stage 2 (knowledge distillation).
        val_begin (int): The epoch that begins validating. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1.
        dynamic_intervals (list[tuple[int, int]], optional): As in
            :class:`EpochBasedTrainLoop`. Defaults to None.
        fresh_kd_optimizer (bool): Clear the optimizer state at the first
            epoch of stage 2. Defaults to True.
        max_epochs (int, optional): Accepted only if it equals
            ``hint_epochs + kd_epochs`` (the run's length); a config written
            for ``EpochBasedTrainLoop`` may keep it. Defaults to None.
    """

    def __init__(self,
                 runner: Any,
                 dataloader: Union[DataLoader, Dict],
                 hint_epochs: int,
                 kd_epochs: int,
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None,
                 fresh_kd_optimizer: bool = True,
                 max_epochs: Optional[int] = None) -> None:
        self.hint_block_epochs: Optional[List[int]] = None
        if isinstance(hint_epochs, (list, tuple)):
            self.hint_block_epochs = self._check_blocks(hint_epochs, runner)
            hint_epochs = sum(self.hint_block_epochs)
        for name, value in (('hint_epochs', hint_epochs),
                            ('kd_epochs', kd_epochs)):
            if not isinstance(value, int) or isinstance(value, bool) or \
                    value < 0:
                raise ValueError(f'`{name}` must be an int >= 0, but got '
                                 f'{value!r}.')
        if hint_epochs + kd_epochs == 0:
            raise ValueError('`hint_epochs` and `kd_epochs` are both 0; '
                             'expected at least one epoch to train.')
        if max_epochs is not None and max_epochs != hint_epochs + kd_epochs:
            raise ValueError(
                f'`train_cfg.max_epochs={max_epochs!r}` does not fit a '
                'FitNets run, whose length is hint_epochs + kd_epochs = '
                f'{hint_epochs} + {kd_epochs} = {hint_epochs + kd_epochs}; '
                'remove max_epochs, or set hint_epochs and kd_epochs.')
        algorithm = self._algorithm_of(runner.model)
        if not hasattr(algorithm, 'set_stage'):
            raise TypeError(
                'FitNetsTrainLoop trains a FitNetsDistill model, but got '
                f'{type(algorithm).__name__}.')
        if hint_epochs > 0 and not algorithm.hint_pairs:
            raise ValueError(
                f'`hint_epochs={hint_epochs}` but the model has no hint '
                'pairs; give `model.hints` or set `hint_epochs=0`.')
        self.hint_epochs = hint_epochs
        #: The configured stage-1 length; ``hint_epochs`` may end earlier
        #: (:meth:`end_hint_stage`).
        self.hint_epochs_cap = hint_epochs
        self.kd_epochs = kd_epochs
        self.has_kd_schedulers = False
        self.fresh_kd_optimizer = fresh_kd_optimizer
        super().__init__(runner, dataloader, hint_epochs + kd_epochs,
                         val_begin, val_interval, dynamic_intervals)
        runner.param_schedulers = self._resolve_stage_schedulers(
            runner.param_schedulers)
        self._logged_stage: Optional[str] = None
        self._add_required_hooks(runner)

    def _add_required_hooks(self, runner: Any) -> None:
        """Register each of :data:`REQUIRED_HOOKS` the runner lacks."""
        needed = REQUIRED_HOOKS if self.hint_epochs else REQUIRED_HOOKS[:2]
        added = [hook for hook in needed
                 if not any(isinstance(h, hook) for h in runner.hooks)]
        for hook in added:
            runner.register_hook(hook())
        if added:
            runner.logger.info(
                'FitNetsTrainLoop added '
                f'{", ".join(h.__name__ for h in added)} (every '
                f'{self.method_name()} run has them; the config did not '
                'register them).')

    def method_name(self) -> str:
        """``'FitNets'``, ``'FSP'`` or ``'FitNets+FSP'``: what stage 1
        trains."""
        algorithm = self._algorithm_of(self.runner.model)
        fsp = bool(getattr(algorithm, 'fsp_pairs', None))
        hints = bool(getattr(algorithm, 'fitnets_hints',
                             getattr(algorithm, 'hint_pairs', None)))
        return 'FSP' if fsp and not hints else \
            'FitNets+FSP' if fsp else 'FitNets'

    def stage_label(self, stage: str) -> str:
        """How the log names ``stage``, e.g. ``'FitNets stage 1 (hint)'``,
        ``'FSP stage 1 (fsp)'``, ``'FSP stage 2 (task loss)'``."""
        algorithm = self._algorithm_of(self.runner.model)
        method = self.method_name()
        if stage == 'hint':
            kind = {'FSP': 'fsp', 'FitNets+FSP': 'hint+fsp'}.get(method,
                                                                 'hint')
            return f'{method} stage 1 ({kind})'
        distiller = getattr(algorithm, 'distiller', None)
        kd = len(getattr(distiller, 'distill_losses', None) or ()) > 0
        return f'{method} stage 2 ({"kd" if kd else "task loss"})'

    def _check_blocks(self, blocks: Sequence[int], runner: Any) -> List[int]:
        """Check ``hint_epochs`` given per hint pair (sequential hints)."""
        pairs = getattr(self._algorithm_of(runner.model), 'hint_pairs', [])
        if len(blocks) != len(pairs) or not all(
                isinstance(b, int) and not isinstance(b, bool) and b >= 1
                for b in blocks):
            raise ValueError(
                '`hint_epochs` as a list trains the hints one after another '
                'and needs one int >= 1 per hint pair; the model has '
                f'{len(pairs)} hint pairs, but got {list(blocks)}.')
        return list(blocks)

    def hint_block_of(self, epoch: int) -> Optional[int]:
        """The hint pair trained alone in the 0-based ``epoch``; None when
        the hints are trained jointly or in stage 2."""
        if self.hint_block_epochs is None or epoch >= self.hint_epochs:
            return None
        end = 0
        for index, length in enumerate(self.hint_block_epochs):
            end += length
            if epoch < end:
                return index
        return None

    @staticmethod
    def _algorithm_of(model: Any) -> Any:
        return model.module if is_model_wrapper(model) else model

    def stage_of(self, epoch: int) -> str:
        """The stage of the 0-based ``epoch``."""
        return 'hint' if epoch < self.hint_epochs else 'kd'

    def stage_span(self, stage: str) -> Tuple[int, int]:
        """``(begin, end)`` epochs of ``stage``."""
        if stage == 'hint':
            return 0, self.hint_epochs
        return self.hint_epochs, self.hint_epochs + self.kd_epochs

    def _resolve_stage_schedulers(self, schedulers: Any) -> Any:
        """Turn stage-relative scheduler configs into absolute ones."""
        if schedulers is None:
            return None
        if isinstance(schedulers, dict) and 'type' not in schedulers:
            # One list of schedulers per optimizer.
            return {k: self._resolve_stage_schedulers(v)
                    for k, v in schedulers.items()}
        single = isinstance(schedulers, dict)
        items: Sequence = [schedulers] if single else schedulers
        resolved = []
        for cfg in items:
            if not isinstance(cfg, dict) or 'stage' not in cfg:
                resolved.append(cfg)
                continue
            cfg = copy.deepcopy(dict(cfg))
            stage = cfg.pop('stage')
            if stage not in ('hint', 'kd'):
                raise ValueError(
                    f"A param_scheduler's `stage` must be 'hint' or 'kd', but "
                    f'got {stage!r} in {cfg}.')
            begin, end = self.stage_span(stage)
            if begin == end:
                continue
            self.has_kd_schedulers |= stage == 'kd'
            scale = 1 if cfg.get('by_epoch', True) else len(self.dataloader)
            length = (end - begin) * scale
            rel_begin = cfg.get('begin', 0)
            rel_end = min(cfg.get('end', length), length)
            if not 0 <= rel_begin < rel_end:
                raise ValueError(
                    f'The {stage!r} scheduler {cfg} spans [{rel_begin}, '
                    f'{rel_end}) within its stage; expected 0 <= begin < end '
                    f'<= {length}.')
            cfg['begin'] = begin * scale + rel_begin
            cfg['end'] = begin * scale + rel_end
            if self._lifts_before_end(cfg.get('type')):
                cfg['end'] += 1
            resolved.append(cfg)
        return resolved

    @staticmethod
    def _lifts_before_end(scheduler_type: Any) -> bool:
        """Whether a scheduler restores the value at ``end - 1``."""
        name = scheduler_type if isinstance(scheduler_type, str) else \
            getattr(scheduler_type, '__name__', '')
        return name.rpartition('.')[2] in ('ConstantLR', 'ConstantMomentum',
                                           'ConstantParamScheduler')

    def end_hint_stage(self, hint_epochs: int) -> None:
        """End stage 1 after ``hint_epochs`` epochs (early stopping);
        stage 2 keeps its ``kd_epochs``, so the run gets shorter.

        Called by :class:`HintValidationHook` when its ``patience`` runs out,
        and again when such a run is resumed, so the stage of every epoch
        still follows from its index.

        Raises:
            ValueError: ``hint_epochs`` is not in ``[1, hint_epochs_cap]``,
                the hints are sequential, or a parameter scheduler counts
                from the start of stage 2 (its epochs are already fixed).
        """
        if not 1 <= hint_epochs <= self.hint_epochs_cap:
            raise ValueError(
                f'Stage 1 can end after 1 to {self.hint_epochs_cap} epochs '
                f'(train_cfg.hint_epochs), but got {hint_epochs}.')
        if self.hint_block_epochs is not None:
            raise ValueError(
                'Stage 1 cannot end early with sequential hints '
                f'(hint_epochs={self.hint_block_epochs}); give hint_epochs '
                'as one int.')
        if self.has_kd_schedulers:
            raise ValueError(
                "Stage 1 cannot end early with a stage='kd' parameter "
                'scheduler, whose epochs are fixed from the configured '
                f'hint_epochs={self.hint_epochs_cap}; use by-epoch hooks '
                'with stage_relative=True or no stage-2 scheduler.')
        self.hint_epochs = hint_epochs
        self._max_epochs = hint_epochs + self.kd_epochs
        self._max_iters = self._max_epochs * len(self.dataloader)

    def optim_wrapper_of(self, stage: str) -> OptimWrapper:
        """The optimizer wrapper that ``stage`` steps."""
        wrapper = self.runner.optim_wrapper
        if not isinstance(wrapper, OptimWrapperDict):
            return wrapper
        if stage not in wrapper:
            raise KeyError(
                f'The optimizer wrappers are {list(wrapper.keys())}, but '
                f'FitNetsTrainLoop needs one per stage, named {stage!r}; '
                'build them with StageOptimWrapperConstructor.')
        return wrapper[stage]

    def run_epoch(self) -> None:
        """Set the epoch's stage on the model, then train one epoch."""
        stage = self.stage_of(self._epoch)
        algorithm = self._algorithm_of(self.runner.model)
        algorithm.set_stage(stage)
        block = self.hint_block_of(self._epoch)
        if self.hint_block_epochs is not None:
            algorithm.set_hint_block(block)
            if block is not None and (self._epoch == 0 or self.hint_block_of(
                    self._epoch - 1) != block or self._logged_stage is None):
                if self._logged_stage is not None:
                    self._forget_stage_logs()
                pair = algorithm.hint_pairs[block]
                self.runner.logger.info(
                    f'Sequential hints: block {block + 1} of '
                    f'{len(self.hint_block_epochs)} (hint pair '
                    f'{pair["student"]} -> {pair["teacher"]}) from epoch '
                    f'{self._epoch + 1}.')
        if stage == 'kd' and self._epoch == self.hint_epochs and \
                self.hint_epochs > 0 and self.fresh_kd_optimizer:
            # The state at this point is a function of the epoch index: a
            # run resumed here clears it as the unbroken run does.
            self.optim_wrapper_of('kd').optimizer.state.clear()
            self.runner.logger.info(
                'Stage 2 starts from a fresh optimizer state '
                '(fresh_kd_optimizer=True).')
        if stage != self._logged_stage:
            # A switch, or a resumed run whose restored message hub may hold
            # the other stage's smoothed losses.
            if self._logged_stage is not None or self._epoch > 0:
                self._forget_stage_logs()
            begin, end = self.stage_span(stage)
            # a run resumed inside a stage says so: "from epoch e" would
            # read as the stage's first epoch
            where = 'from' if self._epoch == begin else 'resumed at'
            self.runner.logger.info(
                f'{self.stage_label(stage)} {where} epoch {self._epoch + 1}: '
                f'stage epochs {begin + 1}-{end} of {self._max_epochs}.')
            self._logged_stage = stage
        super().run_epoch()

    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Train one batch with the optimizer wrapper of the epoch's stage."""
        self.runner.call_hook(
            'before_train_iter', batch_idx=idx, data_batch=data_batch)
        outputs = self.runner.model.train_step(
            data_batch,
            optim_wrapper=self.optim_wrapper_of(self.stage_of(self._epoch)))
        self.runner.call_hook(
            'after_train_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
        self._iter += 1

    def _forget_stage_logs(self) -> None:
        """Drop the smoothed training losses of the finished stage.

        The logger averages ``train/*`` scalars over a window of iterations;
        without this, the first lines of stage 2 would still show
        ``hint.loss_ht`` and a total ``loss`` mixed with stage-1 values.
        """
        scalars = self.runner.message_hub.log_scalars
        for key in [k for k in scalars
                    if k.startswith('train/') and 'loss' in k]:
            scalars.pop(key)
