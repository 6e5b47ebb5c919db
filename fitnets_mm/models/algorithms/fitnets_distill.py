"""FitNetsDistill: the two-stage training of FitNets (Algorithm 1)."""
import contextlib
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmrazor.models.algorithms import SingleTeacherDistill
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import nn

from ..utils.feature_probe import probe_features
from ..utils.fsp_pairs import check_fsp_pairs
from ..utils.teacher_output_cache import run_teacher
from .fsp_terms import FSPTerms
from .hint_terms import HintTerms, check_hints
from .preprocessor_check import check_data_preprocessors
from .stage_one_forward import StageOneForward
from .teacher_loading import build_scoped_teacher, load_teacher_checkpoint

__all__ = ['FitNetsDistill']

STAGES = ('hint', 'kd')


@MODELS.register_module()
class FitNetsDistill(SingleTeacherDistill):
    """FitNets (Romero et al., ICLR 2015): hint training, then KD.

    Two stages share one model (Algorithm 1 of the paper):

    * ``'hint'``: the student up to its deepest stage-1 layer is trained on
      the stage-1 terms alone: FitNets' hint loss ``L_HT = 1/2 ||u_h(x) -
      r(v_g(x))||^2`` of each hint pair (``hint.loss_ht*``, with one
      :class:`HintRegressor` per pair) and the FSP loss of each FSP pair
      (``fsp.loss_fsp*``, Yim et al., CVPR 2017; see :class:`FSPTerms`).
      Both forwards stop at the deepest layer those terms need
      (:class:`StageOneForward`), so nothing after it is computed and the
      student's later parameters receive no gradient. With sequential hints
      (:meth:`set_hint_block`) one pair of any kind trains at a time.
    * ``'kd'``: the whole student is trained on its task loss plus the
      distiller's losses (by default the paper's ``lambda * H(P_T^tau,
      P_S^tau)``), exactly as MMRazor's :class:`SingleTeacherDistill`. The
      regressors and connectors are not used. A distiller without distill
      losses (``dict(type='ConfigurableDistiller')``) gives the student's
      task loss alone, as the FSP paper's stage 2; the teacher is not run.

    The stage is set by :class:`FitNetsTrainLoop` from ``hint_epochs`` and
    ``kd_epochs``; :meth:`set_stage` sets it by hand. Channels and sizes of
    the regressors and connectors are measured by one probe forward of both
    networks on ``input_shape`` at build time, so a config names layers only.

    Args:
        architecture (dict | BaseModel): The student.
        teacher (dict | BaseModel): The teacher, e.g.
            ``dict(cfg_path='mmpretrain::resnet/resnet34_8xb16_cifar10.py')``
            (``fitnets_mm::`` paths work too).
        distiller (dict): The stage-2 distiller, an MMRazor
            ``ConfigurableDistiller`` config (recorders, KD losses, mappings).
        hints (Sequence[dict]): Hint pairs, each
            ``dict(student='backbone.layer2', teacher='backbone.layer2')`` with
            optional ``regressor`` (:class:`HintRegressor` arguments) and
            ``loss`` (a loss config, default ``dict(type='HintLoss')``).
            Defaults to ().
        fsp_pairs (Sequence[dict]): FSP pairs, each ``dict(student=(s1, s2),
            teacher=(t1, t2))`` with optional ``loss`` (default
            ``dict(type='FSPLoss')``) and ``connector`` (see
            :class:`FSPTerms`). Defaults to ().
        input_shape (Sequence[int]): Shape of one input (C, H, W) for the
            probe forward. Defaults to (3, 224, 224).
        teacher_ckpt (str, optional): Teacher checkpoint (path or URL); its
            keys must match the teacher exactly. Defaults to None.
        **kwargs: Other arguments of :class:`SingleTeacherDistill`, e.g.
            ``data_preprocessor`` (None: the student's, as in MMRazor).

    Note:
        ``hint_pairs`` lists every stage-1 pair (the hints, then the FSP
        pairs), as :class:`FitNetsTrainLoop` reads it to know whether a
        stage 1 exists and what its sequential blocks are.

    Raises:
        DataPreprocessorMismatch: The algorithm's data preprocessor (which
            prepares the batches of both networks) does not normalise, or
            normalises otherwise than the teacher's own.
    """

    def __init__(self,
                 architecture: Any,
                 teacher: Any,
                 distiller: Dict,
                 hints: Sequence[Dict] = (),
                 fsp_pairs: Sequence[Dict] = (),
                 input_shape: Sequence[int] = (3, 224, 224),
                 teacher_ckpt: Optional[str] = None,
                 **kwargs: Any) -> None:
        super().__init__(
            architecture=architecture,
            teacher=build_scoped_teacher(teacher),
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
            load_teacher_checkpoint(self.teacher, teacher_ckpt)
        self.fitnets_hints = check_hints(hints, self.student, self.teacher)
        self.fsp_pairs = check_fsp_pairs(fsp_pairs, self.student,
                                         self.teacher)
        self.hint_pairs: List[Dict] = self.fitnets_hints + self.fsp_pairs
        # Owned here, under the names checkpoints hold.
        self.regressors = nn.ModuleList()
        self.hint_losses = nn.ModuleList()
        self.fsp_connectors = nn.ModuleList()
        self.fsp_losses = nn.ModuleList()
        self.stage_one_terms = [
            HintTerms(self.fitnets_hints, self.regressors, self.hint_losses),
            FSPTerms(self.fsp_pairs, self.fsp_connectors, self.fsp_losses),
        ]
        self._stage_one = StageOneForward(
            self.student, self.teacher,
            [(term.paths(i, 'student'), term.paths(i, 'teacher'))
             for term in self.stage_one_terms for i in range(len(term))],
            run_teacher=lambda forward: run_teacher(self, 'hint', forward))
        self._build_stage_one()
        self._stage = 'hint' if self.hint_pairs else 'kd'
        # Sequential hints: the pair trained alone (None: all jointly).
        self._hint_block: Optional[int] = None

    def _build_stage_one(self) -> None:
        """Probe both networks once; check their class counts and build
        the modules of the stage-1 terms from the probed outputs."""
        s_feats, s_out = probe_features(
            self.student, [p for s, _ in self._stage_one.pairs for p in s],
            self.input_shape, 'student layer', whole=True)
        t_feats, t_out = probe_features(
            self.teacher, [p for _, t in self._stage_one.pairs for p in t],
            self.input_shape, 'teacher layer', whole=True)
        if len(self.distiller.distill_losses) and isinstance(
                s_out, torch.Tensor) and isinstance(t_out, torch.Tensor) and \
                s_out.shape[-1] != t_out.shape[-1]:
            raise ValueError(
                f'The student predicts {s_out.shape[-1]} classes and the '
                f'teacher {t_out.shape[-1]}, but the distiller has the '
                f'losses {list(self.distiller.distill_losses)}, which compare '
                'their outputs; expected the same number of classes.')
        for term in self.stage_one_terms:
            term.build(s_feats, t_feats)

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
        """The stage-1 pair trained alone, or None for all jointly."""
        return self._hint_block

    def set_hint_block(self, index: Optional[int]) -> None:
        """Train stage 1 on pair ``index`` of ``hint_pairs`` alone (its
        student block only, see :class:`StageOneForward`), or on all pairs
        jointly (None)."""
        self._stage_one.check(index)
        self._hint_block = index

    def loss(self, batch_inputs: torch.Tensor,
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        """Losses of the stage in force (``hint.*`` and ``fsp.*``, or
        ``student.*`` and ``distill.*``)."""
        if self._stage == 'kd':
            return self.kd_loss(batch_inputs, data_samples)
        return self.hint_loss(batch_inputs)

    def hint_loss(self, batch_inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Stage 1: the terms of every pair, or of the block in force, from
        one truncated forward of each network."""
        block = self._hint_block
        s_feats, t_feats = self._stage_one(batch_inputs, block)
        losses: Dict[str, torch.Tensor] = {}
        offset = 0
        for term in self.stage_one_terms:
            if block is None:
                indices: Sequence[int] = range(len(term))
            else:
                indices = [block - offset] if 0 <= block - offset < len(
                    term) else []
            losses.update(add_prefix(term(s_feats, t_feats, indices),
                                     term.prefix))
            offset += len(term)
        return losses

    def kd_loss(self, batch_inputs: torch.Tensor,
                data_samples: Optional[List] = None
                ) -> Dict[str, torch.Tensor]:
        """Stage 2: :meth:`SingleTeacherDistill.loss`, with a frozen teacher
        run in ``mode='tensor'``.

        MMRazor runs the teacher in ``mode='loss'`` and drops its task loss;
        ``'tensor'`` runs the same modules (backbone, neck, head's ``fc``), so
        the teacher recorders see the same outputs, without the loss. A
        trainable teacher keeps MMRazor's path (its loss is trained). Without
        distill losses the frozen teacher is not run at all.
        """
        if self.teacher_trainable:
            return super().loss(batch_inputs, data_samples)
        if not len(self.distiller.distill_losses):
            return add_prefix(
                self.student(batch_inputs, data_samples, mode='loss'),
                'student')
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

    def train(self, mode: bool = True) -> 'FitNetsDistill':
        """Train the student; keep a frozen teacher wholly in eval mode."""
        super().train(mode)
        if not self.teacher_trainable:
            self.teacher.eval()
        return self
