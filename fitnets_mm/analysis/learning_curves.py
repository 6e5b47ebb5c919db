"""Stage-aware learning curves of a FitNets run from mmengine's scalars.

mmengine writes one JSON record per logged iteration and per validation to
``<work_dir>/<timestamp>/vis_data/scalars.json``. A FitNets run logs
different keys in its two stages (``hint.loss_ht`` in stage 1;
``student.loss`` and ``distill.*`` in stage 2) on very different scales
(the summed L_HT is in the thousands, L_KD under 10), so a single plot of
``loss`` hides stage 2, and MMPretrain's ``analyze_logs.py`` fails on keys
that one stage's records lack. Here each stage gets its own panel and scale,
the validation accuracy its own, and the switch is marked on all of them.
"""
import json
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Union

__all__ = [
    'StageCurves', 'load_scalars', 'plot_learning_curves', 'split_stages'
]

#: Key prefixes that tell the stage of a training record.
HINT_PREFIX = 'hint.'
KD_PREFIXES = ('distill.', 'student.')


@dataclass
class StageCurves:
    """The records of one run, by stage.

    Attributes:
        hint (list[dict]): Training records of stage 1 (``hint.*`` keys).
        kd (list[dict]): Training records of stage 2 (``distill.*`` or
            ``student.*`` keys), or of a run without stages.
        val (list[dict]): Validation records (``step`` is the epoch).
        switch_iter (int, optional): The first logged iteration of stage 2.
        switch_epoch (int, optional): The first epoch (1-based) of stage 2.
    """
    hint: List[dict] = field(default_factory=list)
    kd: List[dict] = field(default_factory=list)
    val: List[dict] = field(default_factory=list)
    switch_iter: Optional[int] = None
    switch_epoch: Optional[int] = None

    def loss_keys(self, stage: str) -> List[str]:
        """The loss keys logged in ``stage`` (``'hint'`` or ``'kd'``)."""
        keys: Dict[str, None] = {}
        for record in getattr(self, stage):
            for key in record:
                if 'loss' in key and not key.startswith('lambda_'):
                    keys[key] = None
        return list(keys)

    def val_keys(self) -> List[str]:
        """The metric keys of the validation records."""
        keys: Dict[str, None] = {}
        for record in self.val:
            for key in record:
                if key not in ('step', 'time', 'data_time'):
                    keys[key] = None
        return list(keys)


def load_scalars(path: Union[str, os.PathLike]) -> List[dict]:
    """Read mmengine's ``scalars.json`` (one JSON object per line).

    Args:
        path (str | PathLike): The file.

    Returns:
        list[dict]: The records in file order.

    Raises:
        ValueError: A line is not JSON, naming the file and the line.
    """
    records = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{number} is not a JSON record '
                                 f'({err}); expected mmengine\'s '
                                 'vis_data/scalars.json') from err
    return records


def split_stages(records: Sequence[dict]) -> StageCurves:
    """Sort records into stage 1, stage 2 and validation.

    Args:
        records (Sequence[dict]): Records of :func:`load_scalars`.

    Returns:
        StageCurves: The records by stage, with the switch.
    """
    curves = StageCurves()
    for record in records:
        if 'iter' not in record:
            curves.val.append(record)
        elif any(k.startswith(HINT_PREFIX) for k in record):
            curves.hint.append(record)
        else:
            curves.kd.append(record)
            if curves.switch_iter is None and curves.hint and any(
                    k.startswith(KD_PREFIXES) for k in record):
                curves.switch_iter = record['iter']
                curves.switch_epoch = record.get('epoch')
    return curves


def plot_learning_curves(curves: StageCurves,
                         out: Union[str, os.PathLike],
                         title: Optional[str] = None,
                         log_hint: bool = True) -> str:
    """Plot each stage's losses and the validation metrics, switch marked.

    Args:
        curves (StageCurves): The run, from :func:`split_stages`.
        out (str | PathLike): The PNG to write.
        title (str, optional): The figure title. Defaults to None.
        log_hint (bool): Stage-1 losses on a log scale (the summed L_HT
            falls over orders of magnitude). Defaults to True.

    Returns:
        str: ``out``.

    Raises:
        ValueError: There is nothing to plot.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    panels = [s for s in ('hint', 'kd') if getattr(curves, s)]
    has_val = bool(curves.val_keys())
    if not panels and not has_val:
        raise ValueError('no training or validation records to plot')
    count = len(panels) + int(has_val)
    fig, axes = plt.subplots(1, count, figsize=(5 * count, 4), squeeze=False)
    axes = list(axes[0])
    names = {'hint': 'stage 1 (hint): L_HT', 'kd': 'stage 2 (KD)'}
    if not curves.hint:
        names['kd'] = 'training'
    for ax, stage in zip(axes, panels):
        records = getattr(curves, stage)
        for key in curves.loss_keys(stage):
            points = [(r['iter'], r[key]) for r in records if key in r]
            ax.plot(*zip(*points), label=key)
        if stage == 'hint' and log_hint:
            ax.set_yscale('log')
        if curves.switch_iter is not None:
            ax.axvline(curves.switch_iter, color='k', ls='--', lw=1,
                       label=f'switch (iter {curves.switch_iter})')
        ax.set_title(names[stage])
        ax.set_xlabel('iteration')
        ax.legend(fontsize=8)
    if has_val:
        ax = axes[-1]
        for key in curves.val_keys():
            points = [(r['step'], r[key]) for r in curves.val if key in r]
            ax.plot(*zip(*points), marker='o', ms=3, label=key)
        if curves.switch_epoch is not None:
            # Stage 2 starts after epoch switch_epoch - 1 ends.
            ax.axvline(curves.switch_epoch - 0.5, color='k', ls='--', lw=1,
                       label=f'switch (before epoch {curves.switch_epoch})')
            ax.axvspan(0.5, curves.switch_epoch - 0.5, color='0.9',
                       label='stage 1: head not trained yet')
        ax.set_title('validation')
        ax.set_xlabel('epoch')
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return str(out)
