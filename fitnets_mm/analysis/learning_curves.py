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
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

__all__ = [
    'StageCurves', 'iters_per_epoch', 'load_scalars', 'plot_learning_curves',
    'split_stages', 'train_time'
]

#: Key prefixes that tell the stage of a training record.
HINT_PREFIX = 'hint.'
#: ``stage<N>/<key>``, as :class:`~fitnets_mm.engine.runner.StageLogProcessor`
#: tags the training losses.
STAGE_TAG = re.compile(r'^stage(\d)/(.+)$')


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


def _stage_of(record: dict) -> Tuple[Optional[int], dict]:
    """The stage a training record names, and the record with untagged keys.

    :class:`~fitnets_mm.engine.runner.StageLogProcessor` writes ``stage``
    and ``stage<N>/<key>``; older logs tell the stage by their keys only.
    """
    stage = record.get('stage')
    plain = {}
    for key, value in record.items():
        match = STAGE_TAG.match(key)
        if match:
            stage = stage or int(match.group(1))
            key = match.group(2)
        plain[key] = value
    plain.pop('stage', None)
    return (int(stage) if stage is not None else None), plain


def iters_per_epoch(records: Sequence[dict]) -> Optional[int]:
    """The training iterations per epoch that the records' ``epoch`` and
    ``iter`` (1-based, global) allow: the smallest ``n`` with
    ``(epoch - 1) * n < iter <= epoch * n`` for every record.

    Args:
        records (Sequence[dict]): Training records.

    Returns:
        int | None: ``n``, or None without epoch-based records.
    """
    points = [(r['epoch'], r['iter']) for r in records
              if 'epoch' in r and 'iter' in r]
    if not points:
        return None
    low = max(-(-it // ep) for ep, it in points)  # ceil(iter / epoch)
    highs = [(it - 1) // (ep - 1) for ep, it in points if ep > 1]
    high = min(highs) if highs else low
    return low if low <= high else None


def split_stages(records: Sequence[dict]) -> StageCurves:
    """Sort records into stage 1, stage 2 and validation.

    The switch is the first iteration of stage 2, not its first *logged*
    one: ``stage_start_iter`` of the records where
    :class:`~fitnets_mm.engine.runner.StageLogProcessor` wrote it, else the
    first iteration of the epoch of the first stage-2 record, with
    :func:`iters_per_epoch` (exact when the records pin the epoch length,
    e.g. when every epoch's last iteration is logged; otherwise the
    earliest switch the records allow).

    Args:
        records (Sequence[dict]): Records of :func:`load_scalars`.

    Returns:
        StageCurves: The records by stage (keys without the ``stage<N>/``
        tag), with the switch.
    """
    curves = StageCurves()
    train = []
    for record in records:
        if 'iter' not in record:
            curves.val.append(record)
            continue
        stage, plain = _stage_of(record)
        train.append(plain)
        if stage is None:
            stage = 1 if any(k.startswith(HINT_PREFIX) for k in plain) \
                else 2
        if stage == 1:
            curves.hint.append(plain)
            continue
        curves.kd.append(plain)
        if curves.switch_iter is None and curves.hint:
            curves.switch_epoch = plain.get('epoch')
            curves.switch_iter = plain['iter']
    start = curves.kd[0].get('stage_start_iter') if curves.hint else None
    per_epoch = iters_per_epoch(train)
    if start is not None:
        curves.switch_iter = int(start)
    elif curves.switch_epoch is not None and per_epoch is not None:
        curves.switch_iter = (curves.switch_epoch - 1) * per_epoch + 1
    return curves


def train_time(curves: StageCurves) -> Dict[str, Dict[str, float]]:
    """Seconds per iteration, per stage and overall, as MMPretrain's
    ``analyze_logs.py cal_train_time`` reports them.

    Args:
        curves (StageCurves): The run.

    Returns:
        dict: For ``'stage 1 (hint)'``, ``'stage 2'`` (or ``'training'``)
        and ``'all'`` where there are records: ``mean`` (s/iter),
        ``slowest_epoch``, ``fastest_epoch`` and ``std`` of the epoch means.
    """
    parts = {'stage 1 (hint)': curves.hint,
             'stage 2' if curves.hint else 'training': curves.kd}
    parts['all'] = curves.hint + curves.kd
    report = {}
    for name, records in parts.items():
        timed = [r for r in records if 'time' in r]
        if not timed:
            continue
        by_epoch: Dict[int, List[float]] = {}
        for record in timed:
            by_epoch.setdefault(record.get('epoch', 0), []).append(
                record['time'])
        means = {e: sum(v) / len(v) for e, v in by_epoch.items()}
        mean = sum(means.values()) / len(means)
        std = (sum((m - mean)**2 for m in means.values()) / len(means))**0.5
        report[name] = dict(
            mean=sum(r['time'] for r in timed) / len(timed),
            slowest_epoch=max(means, key=means.get),
            fastest_epoch=min(means, key=means.get),
            std=std)
    return report


def _check_keys(runs: Sequence[StageCurves], keys: Sequence[str]) -> None:
    known: Dict[str, None] = {}
    for curves in runs:
        for stage in ('hint', 'kd'):
            known.update(dict.fromkeys(curves.loss_keys(stage)))
            for record in getattr(curves, stage):
                known.update(dict.fromkeys(
                    k for k in record if k not in ('epoch', 'iter', 'step')))
        known.update(dict.fromkeys(curves.val_keys()))
    missing = [k for k in keys if k not in known]
    if missing:
        raise ValueError(f'--keys {missing} are in none of the logs; they '
                         f'hold {list(known)}')


def plot_learning_curves(curves: Union[StageCurves, Sequence[StageCurves]],
                         out: Union[str, os.PathLike],
                         title: Optional[str] = None,
                         log_hint: bool = True,
                         keys: Optional[Sequence[str]] = None,
                         legend: Optional[Sequence[str]] = None) -> str:
    """Plot each stage's losses and the validation metrics, switch marked.

    Args:
        curves (StageCurves | Sequence[StageCurves]): One run, or several
            to compare (from :func:`split_stages`); each is drawn in every
            panel, its switch marked in its colour.
        out (str | PathLike): The PNG to write.
        title (str, optional): The figure title. Defaults to None.
        log_hint (bool): Stage-1 losses on a log scale (the summed L_HT
            falls over orders of magnitude). Defaults to True.
        keys (Sequence[str], optional): Plot only these keys (training
            scalars without their ``stage<N>/`` tag, or validation
            metrics). Defaults to every loss and metric.
        legend (Sequence[str], optional): A name per run for the legends.
            Defaults to ``run 1``, ``run 2``, ... when there are several.

    Returns:
        str: ``out``.

    Raises:
        ValueError: There is nothing to plot, a key is in no record, or
            ``legend`` does not name every run.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    runs = [curves] if isinstance(curves, StageCurves) else list(curves)
    if legend is None:
        legend = [f'run {i + 1}' for i in range(len(runs))]
    if len(legend) != len(runs):
        raise ValueError(f'--legend has {len(legend)} names for '
                         f'{len(runs)} logs; give one per log')
    if keys:
        _check_keys(runs, keys)

    def wanted(names: Sequence[str]) -> List[str]:
        return [k for k in names if not keys or k in keys]

    def train_keys(run: StageCurves, stage: str) -> List[str]:
        if not keys:
            return run.loss_keys(stage)
        found: Dict[str, None] = {}
        for record in getattr(run, stage):
            found.update(dict.fromkeys(k for k in record if k in keys))
        return list(found)

    panels = [s for s in ('hint', 'kd')
              if any(train_keys(run, s) and getattr(run, s) for run in runs)]
    has_val = any(wanted(run.val_keys()) for run in runs)
    if not panels and not has_val:
        raise ValueError('no training or validation records to plot')
    count = len(panels) + int(has_val)
    fig, axes = plt.subplots(1, count, figsize=(5 * count, 4), squeeze=False)
    axes = list(axes[0])
    names = {'hint': 'stage 1 (hint)', 'kd': 'stage 2 (KD)'}
    if not any(run.hint for run in runs):
        names['kd'] = 'training'
    several = len(runs) > 1
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']

    def label(name: str, key: str) -> str:
        return f'{name}: {key}' if several else key

    def style(points: list) -> dict:
        # A stage with few logged iterations is still visible.
        return dict(marker='o', ms=3) if len(points) <= 10 else {}

    for ax, stage in zip(axes, panels):
        for number, (run, name) in enumerate(zip(runs, legend)):
            records = getattr(run, stage)
            for key in train_keys(run, stage):
                points = [(r['iter'], r[key]) for r in records if key in r]
                ax.plot(*zip(*points), label=label(name, key),
                        **style(points))
            if run.switch_iter is not None:
                ax.axvline(run.switch_iter, ls='--', lw=1,
                           color='k' if not several else
                           colours[number % len(colours)],
                           label=label(name,
                                       f'switch (iter {run.switch_iter})'))
        if stage == 'hint' and log_hint:
            ax.set_yscale('log')
        ax.set_title(names[stage])
        ax.set_xlabel('iteration')
        ax.legend(fontsize=8)
    if has_val:
        ax = axes[-1]
        for number, (run, name) in enumerate(zip(runs, legend)):
            for key in wanted(run.val_keys()):
                points = [(r['step'], r[key]) for r in run.val if key in r]
                ax.plot(*zip(*points), marker='o', ms=3,
                        label=label(name, key))
            if run.switch_epoch is not None:
                # Stage 2 starts after epoch switch_epoch - 1 ends.
                ax.axvline(run.switch_epoch - 0.5, ls='--', lw=1,
                           color='k' if not several else
                           colours[number % len(colours)],
                           label=label(name, 'switch (before epoch '
                                       f'{run.switch_epoch})'))
                if not several:
                    ax.axvspan(0.5, run.switch_epoch - 0.5, color='0.9',
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
