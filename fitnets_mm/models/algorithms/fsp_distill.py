"""FSPDistill: the two-stage run with FSP (and/or FitNets hints) in stage 1."""
import copy
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmrazor.models.utils import add_prefix
from mmrazor.registry import MODELS
from torch import nn

from ..connectors import HintRegressor
from ..utils import FeatureRecorder
from ..utils.feature_probe import probe_features
from ..utils.fsp_pairs import check_fsp_pairs
from ..utils.teacher_output_cache import run_teacher
from .fitnets_distill import FitNetsDistill

__all__ = ['FSPDistill']

#: The connector of an FSP pair unless the config says otherwise: a linear
#: 1x1 conv to the teacher map's channels.
DEFAULT_CONNECTOR = dict(kernel_size=1, act_cfg=None)


@MODELS.register_module()
class FSPDistill(FitNetsDistill):
    """Two-stage distillation whose stage 1 matches FSP matrices (Yim et al.,
    CVPR 2017), FitNets hints, or both.

    * Stage 1 (``'hint'``, its length ``train_cfg.hint_epochs``): the loss of
      each FSP pair, ``fsp.loss_fsp`` (``fsp.loss_fsp0``, ``fsp.loss_fsp1``,
      ... for several pairs), plus that of each FitNets hint,
      ``hint.loss_ht`` (:class:`FitNetsDistill`). One forward per network
      records every layer that stage 1 needs and stops at the deepest, so
      nothing after it is computed and the student's later parameters get
      no gradient.
    * Stage 2 (``'kd'``): with a distiller that has distill losses, as
      :class:`FitNetsDistill` (``student.loss`` + ``distill.*``, e.g. KD).
      With a distiller without distill losses
      (``dict(type='ConfigurableDistiller')``), the student's task loss
      alone (``student.loss``), as the FSP paper; the teacher is not run.

    The FSP matrices of one pair must have one shape in both networks. When
    the channel counts differ (a thin student), a ``connector`` maps each
    student map to the channels of the teacher's, as FitNets' regressor
    does; like the regressors it is trained in stage 1 only and is not part
    of the exported student.

    Note:
        ``hint_pairs`` lists every stage-1 pair (the FitNets hints, then the
        FSP pairs), as :class:`FitNetsTrainLoop` and :meth:`set_stage` read
        it to know whether a stage 1 exists; ``fitnets_hints`` and
        ``fsp_pairs`` list each kind.

    Args:
        fsp_pairs (Sequence[dict]): FSP pairs, each
            ``dict(student=(s1, s2), teacher=(t1, t2))`` naming two layers
            of one section per network (e.g. ``('backbone.layer1.0',
            'backbone.layer1')``), with optional ``loss`` (default
            ``dict(type='FSPLoss')``; its ``loss_weight`` is lambda_i, its
            ``pool='avg'`` allows two maps of different sizes) and
            ``connector`` (None for none, the default; or
            :class:`HintRegressor` arguments, ``dict()`` giving a linear
            1x1 conv to the teacher map's channels at the student map's
            size). Defaults to ().
        **kwargs: The arguments of :class:`FitNetsDistill` (``hints`` for
            FitNets hints, empty by default).
    """

    def __init__(self, fsp_pairs: Sequence[Dict] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fitnets_hints: List[Dict] = list(self.hint_pairs)
        self.fsp_pairs = check_fsp_pairs(fsp_pairs, self.student,
                                         self.teacher)
        self.fsp_connectors = nn.ModuleList()
        self.fsp_losses = nn.ModuleList()
        self._build_fsp_modules()
        self.hint_pairs = self.fitnets_hints + self.fsp_pairs
        self._stage = 'hint' if self.hint_pairs else 'kd'
        s_paths = [p['student'] for p in self.fitnets_hints]
        t_paths = [p['teacher'] for p in self.fitnets_hints]
        for pair in self.fsp_pairs:
            s_paths += pair['student']
            t_paths += pair['teacher']
        self._stage_one_student = FeatureRecorder(
            self.student, s_paths, stop=True, role='student layer')
        self._stage_one_teacher = FeatureRecorder(
            self.teacher, t_paths, stop=True, role='teacher layer')

    def _build_fsp_modules(self) -> None:
        """Build each pair's loss and connectors; check the pair on the
        probe features, so that a bad pair fails at build time."""
        if not self.fsp_pairs:
            return
        s_feats = probe_features(
            self.student, [p for pair in self.fsp_pairs
                           for p in pair['student']], self.input_shape,
            'student layer')
        t_feats = probe_features(
            self.teacher, [p for pair in self.fsp_pairs
                           for p in pair['teacher']], self.input_shape,
            'teacher layer')
        for i, pair in enumerate(self.fsp_pairs):
            where = (f'fsp_pairs[{i}] (student {pair["student"]}, teacher '
                     f'{pair["teacher"]})')
            connectors = nn.ModuleList()
            for s_path, t_path in zip(pair['student'], pair['teacher']):
                connectors.append(
                    self._connector(pair.get('connector'), s_feats[s_path],
                                    t_feats[t_path], where))
            loss = MODELS.build(pair.get('loss') or dict(type='FSPLoss'))
            with torch.no_grad():
                try:
                    loss(*(c(s_feats[p])
                           for c, p in zip(connectors, pair['student'])),
                         *(t_feats[p] for p in pair['teacher']))
                except ValueError as err:
                    hint = '' if pair.get('connector') is not None else (
                        ' For a student of other widths, add '
                        '`connector=dict()` (a 1x1 conv to the teacher '
                        "map's channels).")
                    raise ValueError(f'{where}: {err}{hint}') from None
            self.fsp_connectors.append(connectors)
            self.fsp_losses.append(loss)

    @staticmethod
    def _connector(cfg: Optional[Dict], s_feat: torch.Tensor,
                   t_feat: torch.Tensor, where: str) -> nn.Module:
        if cfg is None:
            return nn.Identity()
        if not isinstance(cfg, dict):
            raise TypeError(f'{where}: `connector` must be None or a dict of '
                            f'HintRegressor arguments, but got {cfg!r}.')
        kwargs = {**DEFAULT_CONNECTOR, **cfg}
        # Map the channels only: G does not depend on the spatial size.
        target = (s_feat.shape[0], t_feat.shape[1]) + tuple(s_feat.shape[2:])
        try:
            return HintRegressor.from_shapes(s_feat.shape, target, **kwargs)
        except ValueError as err:
            raise ValueError(f'{where}: {err}') from None

    # ------------------------------------------------------------- stages
    def hint_loss(self, batch_inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Stage 1: ``fsp.loss_fsp*`` and ``hint.loss_ht*``, computed from
        one truncated forward of each network."""
        t_feats = run_teacher(
            self, 'hint', lambda: self._stage_one_teacher.run(
                lambda: self.teacher(batch_inputs, mode='tensor')))
        s_feats = self._stage_one_student.run(
            lambda: self.student(batch_inputs, mode='tensor'))
        hints, fsp = {}, {}
        for i, pair in enumerate(self.fitnets_hints):
            name = 'loss_ht' if len(self.fitnets_hints) == 1 else f'loss_ht{i}'
            hints[name] = self.hint_losses[i](
                self.regressors[i](s_feats[pair['student']]),
                t_feats[pair['teacher']])
        for i, pair in enumerate(self.fsp_pairs):
            name = 'loss_fsp' if len(self.fsp_pairs) == 1 else f'loss_fsp{i}'
            connectors = self.fsp_connectors[i]
            student = [c(s_feats[p])
                       for c, p in zip(connectors, pair['student'])]
            fsp[name] = self.fsp_losses[i](
                *student, *(t_feats[p] for p in pair['teacher']))
        return {**add_prefix(hints, 'hint'), **add_prefix(fsp, 'fsp')}

    def loss(self, batch_inputs: torch.Tensor,
             data_samples: Optional[List] = None) -> Dict[str, torch.Tensor]:
        """Losses of the stage in force; a stage 2 without distill losses
        is the student's task loss alone."""
        if self.stage == 'kd' and not len(self.distiller.distill_losses):
            return add_prefix(
                self.student(batch_inputs, data_samples, mode='loss'),
                'student')
        return super().loss(batch_inputs, data_samples)
