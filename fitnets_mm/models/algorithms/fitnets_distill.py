"""FitNetsDistill: the two-stage training of FitNets (Algorithm 1)."""
import contextlib
import copy
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import _load_checkpoint, load_checkpoint
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import nn

from ...compat.downloads import DownloadError
from ...compat.safe_checkpoint import CorruptCheckpointError
from ..connectors import HintRegressor
from ..utils import FeatureRecorder, get_module, tensor_shape
from ..utils.teacher_output_cache import run_teacher
from .hint_blocks import HintBlocks
from .preprocessor_check import check_data_preprocessors

__all__ = ['FitNetsDistill', 'NonFiniteLossError']

STAGES = ('hint', 'kd')

#: mmengine's default: a checkpoint saved from a DDP-wrapped teacher loads.
REVISE_KEYS = [(r'^module\.', '')]


class NonFiniteLossError(FloatingPointError):
    """A loss became NaN or infinite during training."""


@MODELS.register_module()
class FitNetsDistill(SingleTeacherDistill):
    """FitNets (Romero et al., ICLR 2015): hint training, then KD.

    Two stages share one model (Algorithm 1 of the paper):

    * ``'hint'``: the student up to its guided layer(s) and one
      :class:`HintRegressor` per pair are trained on the hint loss
      ``L_HT = 1/2 ||u_h(x) - r(v_g(x))||^2`` alone. Both forwards stop at the
      deepest guided/hint layer, so nothing after them is computed, and the
      student's later parameters receive no gradient.
    * ``'kd'``: the whole student is trained on its task loss plus the
      distiller's losses (by default the paper's ``lambda * H(P_T^tau,
      P_S^tau)``), exactly as MMRazor's :class:`SingleTeacherDistill`. The
      regressors are not used.

    The stage is set by :class:`FitNetsTrainLoop` from ``hint_epochs`` and
    ``kd_epochs``; :meth:`set_stage` sets it by hand.

    Channels and sizes of the regressors are measured by one probe forward
    of both networks on ``input_shape`` at build time, so a config names the
    layers only.

    Args:
        architecture (dict | BaseModel): The student.
        teacher (dict | BaseModel): The teacher, e.g.
            ``dict(cfg_path='mmpretrain::resnet/resnet34_8xb16_cifar10.py')``.
        distiller (dict): The stage-2 distiller, an MMRazor
            ``ConfigurableDistiller`` config (recorders, KD losses, mappings).
        hints (Sequence[dict]): Hint pairs, each
            ``dict(student='backbone.layer2', teacher='backbone.layer2')`` with
            optional ``regressor`` (:class:`HintRegressor` arguments) and
            ``loss`` (a loss config, default ``dict(type='HintLoss')``).
            May be empty for plain KD. Defaults to ().
        input_shape (Sequence[int]): Shape of one input (C, H, W) for the
            probe forward. Defaults to (3, 224, 224).
        teacher_ckpt (str, optional): Teacher checkpoint (path or URL); its
            keys must match the teacher exactly. Defaults to None.
        **kwargs: Other arguments of :class:`SingleTeacherDistill`, e.g.
            ``data_preprocessor`` (None: the student's, as in MMRazor).

    Raises:
        DataPreprocessorMismatch: The teacher's own data preprocessor
            normalises its inputs and the algorithm's (which prepares the
            batches of both networks) does not, or normalises otherwise;
            the message names both and the config key to set.
    """

    def __init__(self,
                 architecture: Any,
                 teacher: Any,
                 distiller: Dict,
                 hints: Sequence[Dict] = (),
                 input_shape: Sequence[int] = (3, 224, 224),
                 teacher_ckpt: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(
            architecture=architecture,
            teacher=teacher,
            distiller=distiller,
            teacher_ckpt=None,
            **kwargs)
        check_data_preprocessors(
            self.data_preprocessor,
            getattr(self.teacher, 'data_preprocessor', None),
            source='`model.data_preprocessor`'
            if kwargs.get('data_preprocessor') is not None else
            "the student's (`model.architecture.data_preprocessor`, used "
            'because `model.data_preprocessor` is None)')
        self.input_shape = tuple(int(s) for s in input_shape)
        if teacher_ckpt:
            self._load_teacher(teacher_ckpt)
        self.hint_pairs = self._check_hints(hints)
        self.regressors = nn.ModuleList()
        self.hint_losses = nn.ModuleList()
        self._build_hint_modules()
        self._stage = 'hint' if self.hint_pairs else 'kd'
        # Recorders that end each forward at the deepest hint/guided layer.
        self._guided_recorder = FeatureRecorder(
            self.student, [p['student'] for p in self.hint_pairs], stop=True)
        self._hint_recorder = FeatureRecorder(
            self.teacher, [p['teacher'] for p in self.hint_pairs], stop=True)
        # Sequential hints: the pair trained alone (None: all jointly).
        self._hint_blocks = HintBlocks(self.student, self.teacher,
                                       self.hint_pairs)
        self._hint_block: Optional[int] = None

    # ------------------------------------------------------------ building
    def _load_teacher(self, filename: str) -> None:
        """Load ``teacher_ckpt`` with mmengine's strict ``load_checkpoint``.

        mmengine strips a ``module.`` prefix (``revise_keys``), reads
        ``state_dict`` out of a runner checkpoint and refuses any missing,
        unexpected or misshapen key; its error is replaced by one that lists
        them (see :meth:`_teacher_mismatch`).

        Note:
            mmengine raises on a mismatch on rank 0 only (other ranks get a
            partly loaded teacher, and end with the launcher when rank 0
            fails), and it does not count a missing BN
            ``num_batches_tracked`` as a mismatch.
        """
        try:
            load_checkpoint(self.teacher, filename, map_location='cpu',
                            strict=True, revise_keys=REVISE_KEYS)
        except FileNotFoundError:
            raise FileNotFoundError(
                f'teacher_ckpt {filename!r} does not exist; expected a '
                'checkpoint path or URL of the teacher.') from None
        except DownloadError as err:
            raise DownloadError(
                f'teacher_ckpt: {err}, or use a local copy: --cfg-options '
                'model.teacher_ckpt=PATH') from None
        except CorruptCheckpointError:
            raise  # names the file and what is wrong with it
        except (RuntimeError, AttributeError):
            # mmengine's strict mismatch, or a state dict that is no dict.
            report = self._teacher_mismatch(filename)
            if report is None:
                raise
            raise report from None
        # Keep the loaded weights through ``init_weights``.
        self.teacher._is_init = True

    def _teacher_mismatch(self, filename: str) -> Optional[Exception]:
        """Why ``teacher_ckpt`` does not fit the teacher, or None if it
        does: missing, unexpected and misshapen keys after mmengine's key
        revision, by mmengine's rules."""
        checkpoint = _load_checkpoint(filename, map_location='cpu')
        state = checkpoint.get('state_dict', checkpoint) \
            if isinstance(checkpoint, dict) else checkpoint
        if not isinstance(state, dict):
            return TypeError(f'teacher_ckpt {filename!r} holds a '
                             f'{type(state).__name__}, expected a state '
                             'dict.')
        for pattern, replacement in REVISE_KEYS:
            state = {re.sub(pattern, replacement, k): v
                     for k, v in state.items()}
        own = self.teacher.state_dict()
        missing = sorted(k for k in set(own) - set(state)
                         if 'num_batches_tracked' not in k)
        unexpected = sorted(set(state) - set(own))
        wrong = sorted(k for k in set(own) & set(state)
                       if tuple(own[k].shape) != tuple(state[k].shape))
        if not (missing or unexpected or wrong):
            return None
        return KeyError(
            f'teacher_ckpt {filename!r} does not fit the teacher '
            f'{type(self.teacher).__name__}: missing keys {missing[:10]}'
            f'{" ..." if len(missing) > 10 else ""} ({len(missing)}), '
            f'unexpected keys {unexpected[:10]}'
            f'{" ..." if len(unexpected) > 10 else ""} '
            f'({len(unexpected)}), shape mismatches '
            + ', '.join(f'{k}: checkpoint {tuple(state[k].shape)} vs '
                        f'teacher {tuple(own[k].shape)}'
                        for k in wrong[:10]) + '.')

    def _check_hints(self, hints: Sequence[Dict]) -> List[Dict]:
        if isinstance(hints, dict):
            hints = [hints]
        pairs = []
        for i, hint in enumerate(hints):
            if not isinstance(hint, dict) or not {'student', 'teacher'} <= \
                    set(hint):
                raise ValueError(
                    f'hints[{i}] must be a dict with keys "student" and '
                    f'"teacher" (module paths), but got {hint!r}.')
            unknown = set(hint) - {'student', 'teacher', 'regressor', 'loss'}
            if unknown:
                raise ValueError(
                    f'hints[{i}] has unknown keys {sorted(unknown)}; '
                    'expected student, teacher, regressor, loss.')
            get_module(self.student, hint['student'],
                       f'hints[{i}] student (guided) layer')
            get_module(self.teacher, hint['teacher'],
                       f'hints[{i}] teacher (hint) layer')
            pairs.append(dict(hint))
        return pairs

    @torch.no_grad()
    def _probe(self) -> Tuple[Dict[str, torch.Size], Dict[str, torch.Size],
                              Any, Any]:
        """One forward of each network on zeros of ``input_shape``."""
        x = torch.zeros((1, ) + self.input_shape)
        outputs = []
        for model, key in ((self.student, 'student'),
                           (self.teacher, 'teacher')):
            was_training = model.training
            model.eval()
            recorder = FeatureRecorder(
                model, [p[key] for p in self.hint_pairs],
                role=f'{key} layer')
            logits = []

            def forward() -> None:
                try:
                    logits.append(model(x, mode='tensor'))
                except RuntimeError as err:  # e.g. a shape mismatch
                    raise RuntimeError(
                        f'Probe forward of the {key} on input shape '
                        f'{(1, ) + self.input_shape} failed: {err}. Set '
                        '`input_shape` to the shape of one training input.'
                    ) from err

            try:
                # A layer the forward never calls: the recorder's own error
                # says so; the input shape is not the cause.
                feats = recorder.run(forward)
            finally:
                model.train(was_training)
            shapes = {p: tensor_shape(v, p) for p, v in feats.items()}
            outputs += [shapes, logits[0] if logits else None]
        return outputs[0], outputs[2], outputs[1], outputs[3]

    def _build_hint_modules(self) -> None:
        s_shapes, t_shapes, s_out, t_out = self._probe()
        if len(self.distiller.distill_losses) and isinstance(
                s_out, torch.Tensor) and isinstance(t_out, torch.Tensor) and \
                s_out.shape[-1] != t_out.shape[-1]:
            raise ValueError(
                f'The student predicts {s_out.shape[-1]} classes and the '
                f'teacher {t_out.shape[-1]}, but the distiller has the '
                f'losses {list(self.distiller.distill_losses)}, which compare '
                'their outputs; expected the same number of classes.')
        for i, pair in enumerate(self.hint_pairs):
            guided = s_shapes[pair['student']]
            hint = t_shapes[pair['teacher']]
            cfg = copy.deepcopy(pair.get('regressor') or {})
            if cfg.get('type', 'HintRegressor') not in ('HintRegressor',
                                                         HintRegressor):
                regressor = MODELS.build(cfg)
            else:
                try:
                    regressor = HintRegressor.from_shapes(guided, hint, **cfg)
                except ValueError as err:
                    raise ValueError(
                        f'hints[{i}] ({pair["student"]} -> '
                        f'{pair["teacher"]}): {err}') from None
            self.regressors.append(regressor)
            self.hint_losses.append(
                MODELS.build(pair.get('loss') or dict(type='HintLoss')))

    # ------------------------------------------------------------- stages
    @property
    def stage(self) -> str:
        """The stage in force: ``'hint'`` or ``'kd'``."""
        return self._stage

    def set_stage(self, stage: str) -> None:
        """Switch to ``'hint'`` (stage 1) or ``'kd'`` (stage 2)."""
        if stage not in STAGES:
            raise ValueError(
                f'stage must be one of {STAGES}, but got {stage!r}.')
        if stage == 'hint' and not self.hint_pairs:
            raise ValueError('The hint stage needs at least one hint pair, '
                             'but `hints` is empty.')
        self._stage = stage

    @property
    def hint_block(self) -> Optional[int]:
        """The hint pair stage 1 trains alone, or None for all jointly."""
        return self._hint_block

    def set_hint_block(self, index: Optional[int]) -> None:
        """Train stage 1 on hint pair ``index`` alone (its student block
        only, see :class:`HintBlocks`), or on all pairs jointly (None)."""
        self._hint_blocks.check(index)
        self._hint_block = index

    def loss(self, batch_inputs: torch.Tensor,
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        """Losses of the stage in force (``hint.*`` or ``student.*`` and
        ``distill.*``)."""
        if self._stage == 'kd':
            return self.kd_loss(batch_inputs, data_samples)
        return self.hint_loss(batch_inputs)

    def kd_loss(self, batch_inputs: torch.Tensor,
                data_samples: Optional[List] = None
                ) -> Dict[str, torch.Tensor]:
        """Stage 2: :meth:`SingleTeacherDistill.loss`, with a frozen teacher
        run in ``mode='tensor'``.

        MMRazor runs the teacher in ``mode='loss'`` and drops its task loss;
        ``'tensor'`` runs the same modules (backbone, neck, head's ``fc``), so
        the teacher recorders see the same outputs, without the loss. A
        trainable teacher keeps MMRazor's path (its loss is trained).
        """
        if self.teacher_trainable:
            return super().loss(batch_inputs, data_samples)
        self.distiller.set_deliveries_override(False)
        with self.distiller.teacher_recorders, self.distiller.deliveries:
            run_teacher(self, 'kd',
                        lambda: self.teacher(batch_inputs, mode='tensor'))
        self.distiller.set_deliveries_override(True)
        losses = {}
        grad = self.calculate_student_loss or self.student_trainable
        with self.distiller.student_recorders, self.distiller.deliveries, \
                (contextlib.nullcontext() if grad else torch.no_grad()):
            student_losses = self.student(
                batch_inputs, data_samples, mode='loss')
        if self.calculate_student_loss:
            losses.update(add_prefix(student_losses, 'student'))
        if not self.distillation_stopped:
            losses.update(add_prefix(
                self.distiller.compute_distill_losses(), 'distill'))
        return losses

    def hint_loss(self, batch_inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Stage 1: ``L_HT`` for every pair, with truncated forwards."""
        if self._hint_block is not None:
            i = self._hint_block
            loss = self._hint_blocks.loss(i, batch_inputs, self.regressors[i],
                                          self.hint_losses[i])
            name = 'loss_ht' if len(self.hint_pairs) == 1 else f'loss_ht{i}'
            return add_prefix({name: loss}, 'hint')
        hints = run_teacher(self, 'hint', lambda: self._hint_recorder.run(
            lambda: self.teacher(batch_inputs, mode='tensor')))
        guided = self._guided_recorder.run(
            lambda: self.student(batch_inputs, mode='tensor'))
        losses = {}
        for i, pair in enumerate(self.hint_pairs):
            name = 'loss_ht' if len(self.hint_pairs) == 1 else f'loss_ht{i}'
            losses[name] = self.hint_losses[i](
                self.regressors[i](guided[pair['student']]),
                hints[pair['teacher']])
        return add_prefix(losses, 'hint')

    def parse_losses(
            self, losses: Dict[str, torch.Tensor]
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """Parse as mmengine does, then stop on any non-finite value.

        On the CPU the check is immediate. On an accelerator, reading the
        result would stall the host between forward and backward, so the
        flag stays on the device and is read once the step has been taken
        (end of :meth:`train_step`, or the next call here under DDP), where
        mmengine's logging reads the losses anyway.

        Raises:
            NonFiniteLossError: A loss or the total is NaN or infinite; on
                the CPU no parameter has been updated with it.
        """
        self.check_pending_finite()
        loss, log_vars = super().parse_losses(losses)
        values = torch.stack([v.detach().float().reshape(())
                              for v in log_vars.values()])
        finite = torch.isfinite(values).all()
        it = MessageHub.get_current_instance().get_info('iter')
        pending = (finite, log_vars, self._stage, it)
        if self.defer_finite_check(loss):
            self._pending_finite = pending
        else:
            self._raise_if_non_finite(*pending, updated=False)
        return loss, log_vars

    def defer_finite_check(self, loss: torch.Tensor) -> bool:
        """Whether the finite check waits for the end of the step: on any
        device but the CPU."""
        return loss.device.type != 'cpu'

    def check_pending_finite(self) -> None:
        """Read a deferred finite flag (see :meth:`parse_losses`)."""
        pending = getattr(self, '_pending_finite', None)
        self._pending_finite = None
        if pending is not None:
            self._raise_if_non_finite(*pending, updated=True)

    def train_step(self, data: Any, optim_wrapper: Any
                   ) -> Dict[str, torch.Tensor]:
        """mmengine's step, then any deferred finite check."""
        log_vars = super().train_step(data, optim_wrapper)
        self.check_pending_finite()
        return log_vars

    @staticmethod
    def _raise_if_non_finite(finite: torch.Tensor, log_vars: Dict,
                             stage: str, it: Optional[int],
                             updated: bool) -> None:
        if bool(finite):
            return
        bad = {k: float(v.detach()) for k, v in log_vars.items()
               if not torch.isfinite(v).all()}
        where = ('The update of that iteration was applied (on an '
                 'accelerator the check waits for the end of the step), '
                 'and no checkpoint is written with it.' if updated else
                 'Training stopped before the update, so the weights are '
                 'unchanged.')
        raise NonFiniteLossError(
            f'Non-finite loss in stage {stage!r} at iteration '
            f'{"?" if it is None else it + 1}: {bad}. {where} Lower the '
            'loss weights or enable gradient clipping in the config, or '
            'resume from the last checkpoint with a lower learning rate: '
            'python tools/train.py CONFIG --resume --reset-lr '
            '--cfg-options optim_wrapper.optimizer.lr=LR (without '
            '--reset-lr, --resume restores the saved learning rate).')

    def train(self, mode: bool = True) -> 'FitNetsDistill':
        """Train the student; keep a frozen teacher wholly in eval mode."""
        super().train(mode)
        if not self.teacher_trainable:
            self.teacher.eval()
        return self
