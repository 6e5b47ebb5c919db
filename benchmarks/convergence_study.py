"""FitNets' claims run to convergence, with curves: MNIST Table 4, the depth
study with an initialisation control, and Fashion-MNIST, all trained by the
product (``tools/train.py`` on leaf configs of ``configs/fitnets/paper/``).

Every run validates after every epoch (the curve, saved with its result)
and stops on a plateau, not at a fixed budget:

* stage 1 (FitNets, FSP) runs until its validation stage-1 loss has not
  improved for ``--hint-patience`` epochs (``HintValidationHook(patience=)``,
  at most ``--hint-cap`` epochs; its best weights are reloaded;
  ``--longer-hint-caps`` adds variants with other caps, ``NAME_hintCAP``);
* stage 2, backprop and the teachers run until test accuracy has not
  improved by ``--min-delta`` points for ``--patience`` epochs
  (``StageEarlyStoppingHook``, mmengine's ``EarlyStoppingHook`` counting
  stage 2 only), at most ``--max-epochs``; the count begins once accuracy
  has passed ``--begin-level`` (twice chance), so a student still on its
  initial plateau at chance is not taken for converged.

Groups (``--only``):

* ``table4``: MNIST (the ``../shared`` real-digit split: digits 0-6,999
  train, 7,000-7,999 hint validation, 2,000 test), the paper's pair,
  regimes backprop, KD, FitNets and FSP (``--regimes``), ``--seeds``;
* ``depth``: MNIST, students of ``--depths`` conv layers at the paper
  student's multiplications, backprop / KD / FitNets, for each ``--inits``
  (``paper``: U(+-0.005) as the authors; ``glorot``; ``he``);
* ``fashion``: Fashion-MNIST (60,000/10,000, Debian's files), the pair's
  teacher, then backprop, KD, FitNets and FSP students;
* ``fashion-depth``: Fashion-MNIST at ``--fashion-depth`` conv layers,
  backprop / KD / FitNets, for each ``--inits``.

Each run's result (final and best accuracy, the curve, epochs, stage-1
epochs, CPU and wall time, the command) is saved in ``OUT/runs/NAME.json``;
a finished run is read back, an unfinished one resumed from its last
checkpoint, so the study can be split over sittings (``--only``,
``--regimes``, ``--seeds``, ``--inits``). Each finished run's result is
also copied to ``RESULTS/convergence_runs/NAME.json``, which is committed:
a sitting on another machine puts those back into ``OUT/runs`` and reads
them instead of training again, and takes a finished teacher from the model
zoo (the ``fitnets_mm://`` weights published from its run) when its folder
is gone. Tables, per-epoch curves and accuracy-vs-depth plots go to
``--results``; the total core-hours of the saved runs are reported.

    python benchmarks/convergence_study.py --quick          # smoke test
    python benchmarks/convergence_study.py --only fashion --seeds 0-2
    python benchmarks/convergence_study.py --report-only
"""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Dict, List, Optional, Sequence, Tuple

import mnist_evidence as me  # the script's folder is on sys.path
from study_runs import atomic_json, result_path, train_leaf

REPO = me.REPO
PAPER_DIR = me.PAPER_DIR
GROUPS = ('table4', 'depth', 'fashion', 'fashion-depth')
REGIMES = ('backprop', 'KD', 'FitNets', 'FSP')
DATASET_NAMES = {'mnist': 'MNIST', 'fashion': 'Fashion-MNIST'}
INITS = {
    'paper': dict(type='Uniform', layer=['Conv2d', 'Linear'], a=-0.005,
                  b=0.005, bias=0.),
    'glorot': dict(type='Xavier', layer=['Conv2d', 'Linear'],
                   distribution='uniform', bias=0.),
    'he': dict(type='Kaiming', layer=['Conv2d', 'Linear'], bias=0.),
}
CONFIGS = {
    'mnist': dict(
        teacher='maxout-teacher_1xb128_mnist.py',
        backprop='maxout-student-paper_1xb128_mnist.py',
        KD='fitnets-paper_maxout-teacher-student_1xb128_mnist.py',
        FitNets='fitnets-paper_maxout-teacher-student_1xb128_mnist.py',
        FSP='fsp_maxout-teacher-student_1xb128_mnist.py'),
    'fashion': dict(
        teacher='maxout-teacher_1xb128_fashion-mnist.py',
        backprop='maxout-student-paper_1xb128_fashion-mnist.py',
        KD='kd-paper_maxout-teacher-student_1xb128_fashion-mnist.py',
        FitNets='fitnets-paper_maxout-teacher-student_1xb128_fashion-mnist'
        '.py',
        FSP='fsp_maxout-teacher-student_1xb128_fashion-mnist.py'),
}
#: (train, hint validation end, test) sizes; None: the config's.
SPLITS = {'mnist': (7000, 8000, None), 'fashion': (50000, 60000, None)}
QUICK_SPLITS = {'mnist': (512, 768, 300), 'fashion': (512, 768, 300)}


def parse_seeds(text: str) -> List[int]:
    """``'5-9'`` -> 5..9, ``'0,2,4-5'`` -> [0, 2, 4, 5]."""
    seeds: List[int] = []
    for part in text.split(','):
        part = part.strip()
        if not part:
            continue
        match = re.fullmatch(r'(\d+)(?:-(\d+))?', part)
        if not match or (match[2] and int(match[2]) < int(match[1])):
            raise argparse.ArgumentTypeError(
                f'seeds must look like 5-9 or 0,2,4-6, but got {text!r}')
        lo = int(match[1])
        hi = int(match[2]) if match[2] else lo
        seeds += [s for s in range(lo, hi + 1) if s not in seeds]
    if not seeds:
        raise argparse.ArgumentTypeError(f'no seeds in {text!r}')
    return seeds


def epoch_caps(text: str) -> List[int]:
    """``'150,200'`` -> ``[150, 200]`` (stage-1 caps, epochs >= 1)."""
    try:
        caps = [int(c) for c in text.split(',') if c.strip()]
    except ValueError:
        caps = [0]
    if any(c < 1 for c in caps):
        raise argparse.ArgumentTypeError(
            f'expected epoch caps >= 1 such as 150 or 150,200, got {text!r}')
    return caps


def _names(text: str, known: Sequence[str], what: str) -> List[str]:
    names = [n.strip() for n in text.split(',') if n.strip()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise argparse.ArgumentTypeError(
            f'unknown {what} {unknown}; expected some of {",".join(known)}')
    return names


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true',
                   help='tiny data, 1 seed, caps of 3 epochs (smoke test)')
    p.add_argument('--only', default=None,
                   type=lambda t: _names(t, GROUPS, 'groups'),
                   help=f'groups to run (default all: {",".join(GROUPS)})')
    p.add_argument('--regimes', default=','.join(REGIMES),
                   type=lambda t: _names(t, REGIMES, 'regimes'))
    p.add_argument('--seeds', type=parse_seeds, default=None,
                   help='e.g. 0-4 or 5-9 or 0,3 (default 0-4; fashion '
                   'groups: --fashion-seeds)')
    p.add_argument('--fashion-seeds', type=parse_seeds, default=None,
                   help='seeds of the fashion groups (default 0-2)')
    p.add_argument('--inits', default='paper,glorot',
                   type=lambda t: _names(t, tuple(INITS), 'inits'),
                   help='student inits of the depth groups')
    p.add_argument('--depths', default='3,5,7,11')
    p.add_argument('--fashion-depth', type=int, default=7)
    p.add_argument('--max-epochs', type=int, default=None,
                   help='cap of stage 2 / backprop / teacher epochs '
                   '(default 100, quick 3)')
    p.add_argument('--hint-cap', type=int, default=None,
                   help='cap of stage-1 epochs (default 50, quick 2)')
    p.add_argument('--longer-hint-caps', default='', type=epoch_caps,
                   help='also run FitNets/FSP of the table4 group (MNIST, '
                   'where stage 1 reaches the cap of 50) with these stage-1 '
                   'caps, as the variants '
                   'NAME_hintCAP (e.g. 150: does a longer stage 1 change '
                   'the result?)')
    p.add_argument('--patience', type=int, default=None,
                   help='stage-2 plateau patience in epochs (default 10, '
                   'quick 1)')
    p.add_argument('--hint-patience', type=int, default=None,
                   help='stage-1 patience (default 5, quick 1)')
    p.add_argument('--min-delta', type=float, default=0.1,
                   help='accuracy points that count as an improvement')
    p.add_argument('--begin-level', type=float, default=20.0,
                   help='accuracy (%%) after which the plateau count '
                   'begins: a run still at chance goes on to its cap '
                   '(default 20, twice chance)')
    p.add_argument('--pass-at', default='mnist=90,fashion=80',
                   help='accuracy (%%) whose first passing epoch is '
                   'reported, per dataset')
    p.add_argument('--no-cache', action='store_true',
                   help='no TeacherCacheHook in the KD/FitNets/FSP runs')
    p.add_argument('--workers', type=int, default=2,
                   help='runs at a time (one torch thread each)')
    p.add_argument('--data', default='/tmp/fitnets_mnist',
                   help='MNIST split folder (made if missing)')
    p.add_argument('--fashion-root',
                   default='/usr/share/datasets/fashion-mnist')
    p.add_argument('--out', default=None)
    p.add_argument('--results', default=None)
    p.add_argument('--report-only', action='store_true')
    p.add_argument('--quote-in', nargs='+', default=[], metavar='PAGE',
                   help='markdown pages whose quoted summaries (between '
                   '<!-- convergence-summary: start --> and its end '
                   'marker, and convergence-depth-summary) are rewritten '
                   'from the report')
    args = p.parse_args(argv)
    for page in args.quote_in:
        if not os.path.isfile(page):
            p.error(f'--quote-in: no page {page} (from {os.getcwd()})')
    q = args.quick
    for key, full, small in (('max_epochs', 100, 3), ('hint_cap', 50, 2),
                             ('patience', 10, 1), ('hint_patience', 5, 1)):
        if getattr(args, key) is None:
            setattr(args, key, small if q else full)
    if args.only is None:
        args.only = ['fashion'] if q else list(GROUPS)
    if args.seeds is None:
        args.seeds = [0] if q else list(range(5))
    if args.fashion_seeds is None:
        args.fashion_seeds = [0] if q else list(range(3))
    args.depths = [int(d) for d in args.depths.split(',') if d.strip()]
    args.pass_at = {k: float(v) for k, v in
                    (kv.split('=') for kv in args.pass_at.split(','))}
    args.splits = QUICK_SPLITS if q else SPLITS
    if args.out is None:
        args.out = os.path.join('work_dirs', 'convergence_study' +
                                ('_quick' if q else ''))
    if args.results is None:
        args.results = args.out if q else os.path.join(
            REPO, 'benchmarks', 'results')
    args.out = os.path.abspath(args.out)
    return args


# ---------------------------------------------------------------- configs
def _dataset(dataset: str, args: argparse.Namespace, start: int,
             stop: Optional[int], test_mode: bool) -> dict:
    d = dict(data_root=args.data if dataset == 'mnist' else
             args.fashion_root, test_mode=test_mode)
    d['indices'] = None if stop is None else me._Range(start, stop)
    return d


#: mmengine's Config.fromfile resolves `pkg::` bases through pkg_resources,
#: which is not thread-safe (runs start from several threads).
_CONFIG_LOCK = threading.Lock()


def _hooks(base: str) -> List[dict]:
    from mmengine.config import Config
    with _CONFIG_LOCK:
        cfg = Config.fromfile(base)
    return [h.to_dict() if hasattr(h, 'to_dict') else dict(h)
            for h in cfg.get('custom_hooks', [])]


def leaf_config(job: dict, args: argparse.Namespace) -> str:
    """The text of the leaf config of one run."""
    dataset, regime = job['dataset'], job['regime']
    base = os.path.join(PAPER_DIR, CONFIGS[dataset][regime])
    train, hint_end, test = args.splits[dataset]
    if regime == 'teacher':
        train = hint_end  # the teacher sees every training image
    test_set = _dataset(dataset, args, 0, test, True)
    lines = [
        f'_base_ = [{base!r}]',
        f'train_dataloader = dict(dataset={_dataset(dataset, args, 0, train, False)!r})',  # noqa: E501
        f'val_dataloader = dict(dataset={test_set!r})',
        f'test_dataloader = dict(dataset={test_set!r})',
    ]
    hooks = _hooks(base)
    distill = regime in ('KD', 'FitNets', 'FSP')
    if distill:
        hint = job.get('hint_cap', args.hint_cap) \
            if regime in ('FitNets', 'FSP') else 0
        lines.append(f'train_cfg = dict(hint_epochs={hint}, kd_epochs='
                     f'{args.max_epochs}, val_begin=1, val_interval=1)')
        lines.append(f'model = dict(teacher_ckpt={job["teacher_ckpt"]!r})')
        hooks = [h for h in hooks if 'HintValidation' not in h['type']]
        if hint:
            hooks.append(dict(
                type='mmrazor.HintValidationHook', keep_best=True,
                patience=args.hint_patience,
                dataloader=dict(
                    batch_size=500, num_workers=0,
                    dataset=dict(type='MNIST' if dataset == 'mnist' else
                                 'FashionMNISTGz',
                                 pipeline=[dict(type='PackInputs')],
                                 **_dataset(dataset, args, train, hint_end,
                                            False)),
                    sampler=dict(type='DefaultSampler', shuffle=False))))
        if regime == 'KD' and dataset == 'mnist':
            lines.append('model.update(hints=[])')
        if not args.no_cache:
            hooks.append(dict(type='mmrazor.TeacherCacheHook',
                              dir=os.path.join(args.out, 'teacher_cache')))
    else:
        lines.append(f'train_cfg = dict(max_epochs={args.max_epochs}, '
                     'val_begin=1, val_interval=1)')
    hooks.append(dict(type='mmrazor.StageEarlyStoppingHook',
                      monitor='accuracy/top1', patience=args.patience,
                      min_delta=args.min_delta,
                      begin_level=args.begin_level))
    if job.get('depth'):
        backbone, head = job['backbone'], job['head']
        arch = (f'dict(backbone=dict(_delete_=True, **{backbone!r}), '
                f'head=dict(_delete_=True, **{head!r}))')
        if regime == 'backprop':
            lines.append(f'model = {arch}')
        else:
            lines.append(f'model.update(architecture={arch})')
        if regime == 'FitNets':
            pair = dict(
                student=f'backbone.layers.{job["depth"] // 2}',
                teacher='backbone.layers.1',
                regressor=dict(num_pieces=2, act_cfg=None, init_cfg=dict(
                    type='Uniform', layer='Conv2d', a=-0.05, b=0.05,
                    bias=0.)),
                loss=dict(type='HintLoss'))
            lines.append(f'model.update(hints=[{pair!r}])')
    lines.append(f'custom_hooks = {hooks!r}')
    for split in ('train', 'val', 'test'):
        lines.append(f'{split}_dataloader.update(num_workers=0, '
                     'persistent_workers=False)')
    lines.append('default_hooks = dict(checkpoint=dict(interval=1, '
                 'save_last=True, save_best=None, max_keep_ckpts=1), '
                 'logger=dict(interval=100))')
    return '\n'.join(lines) + '\n'


# ------------------------------------------------------------------- runs
def parse_log(log: str) -> Dict[str, object]:
    """The curve (epoch, test accuracy), stage-1 epochs used and epochs."""
    # a resumed run's log holds every sitting: the latest value of an
    # epoch wins
    curve = sorted({int(e): float(a) for e, a in re.findall(
        r'Epoch\(val\) \[(\d+)\]\[\d+/\d+\]\s+accuracy/top1: ([\d.]+)',
        log)}.items())
    if not curve:
        raise RuntimeError('no validation accuracy in the log:\n' +
                           log[-3000:])
    stopped = re.findall(r'Stage 1 stopped early after (\d+) of', log)
    # the stage's span, not the epoch its message was logged at: a resumed
    # sitting logs the stage again at the epoch it resumed
    stages = re.findall(
        r'(?:FitNets|FSP) stage 2 \([^)]*\) [a-z ]+ epoch \d+: '
        r'stage epochs (\d+)-', log)
    hint = int(stopped[-1]) if stopped else (
        int(stages[-1]) - 1 if stages else 0)
    return dict(curve=curve, hint_epochs=hint, epochs=curve[-1][0],
                accuracy=curve[-1][1], best=max(a for _, a in curve))


def run_job(job: dict, args: argparse.Namespace) -> dict:
    """Train one run (resuming an unfinished one), or read its result."""
    done = os.path.isfile(result_path(args.out, job['name']))
    result = train_leaf(
        job['name'], leaf_config(job, args), job['seed'], args.out,
        parse_log,
        {k: v for k, v in job.items() if k not in ('backbone', 'head')})
    if not done:
        print(f'{job["name"]}: {result["accuracy"]:.2f} % after '
              f'{result["epochs"]} epochs ({result["hint_epochs"]} hint), '
              f'{result["cpu"] / 3600:.2f} core-h', flush=True)
    keep_result(args, result)
    return result


def make_jobs(args: argparse.Namespace) -> Tuple[List[dict], List[dict]]:
    """The teacher jobs and the student jobs of the chosen groups."""
    teachers, jobs = {}, []
    for group in args.only:
        dataset = 'fashion' if group.startswith('fashion') else 'mnist'
        if dataset not in teachers:
            teachers[dataset] = dict(name=f'{dataset}_teacher',
                                     group='teacher', dataset=dataset,
                                     regime='teacher', seed=0, init='config',
                                     depth=None)
        ckpt = os.path.join(args.out, f'{dataset}_teacher')
        seeds = args.fashion_seeds if dataset == 'fashion' else args.seeds
        common = dict(group=group, dataset=dataset, teacher_ckpt=ckpt)
        if group in ('table4', 'fashion'):
            jobs += [dict(common, name=f'{group}_{r}_s{s}', regime=r, seed=s,
                          init='paper', depth=None)
                     for s in seeds for r in args.regimes]
            jobs += [dict(common, name=f'{group}_{r}_s{s}_hint{cap}',
                          regime=r, seed=s, init='paper', depth=None,
                          hint_cap=cap)
                     for cap in (args.longer_hint_caps
                                 if group == 'table4' else ())
                     for s in seeds
                     for r in args.regimes if r in ('FitNets', 'FSP')]
            continue
        depths = args.depths if group == 'depth' else [args.fashion_depth]
        for depth in depths:
            for init in args.inits:
                backbone, head, width, mult = me.depth_student(
                    depth, _budget())
                backbone['init_cfg'] = head['init_cfg'] = INITS[init]
                jobs += [dict(common, name=f'{group}{depth}_{init}_{r}_s{s}',
                              regime=r, seed=s, init=init, depth=depth,
                              width=width, mult=mult, backbone=backbone,
                              head=head)
                         for s in seeds for r in args.regimes if r != 'FSP']
    return list(teachers.values()), jobs


def _budget() -> int:
    """Multiplications of the paper's thin deep MNIST student."""
    import fitnets_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    from fitnets_mm.models.utils.complexity import count_mult
    return count_mult(MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='FitNetMNIST', arch='student'), neck=None,
        head=dict(type='LinearClsHead', num_classes=10, in_channels=108))),
        (1, 28, 28))


def teacher_checkpoint(work_dir: str) -> str:
    """The last checkpoint of a finished teacher run, or, where the run's
    folder is gone (another machine), the model zoo's copy of it: the
    ``fitnets_mm://`` weights published from that run."""
    last = os.path.join(work_dir, 'last_checkpoint')
    if os.path.isfile(last):
        with open(last) as f:
            return f.read().strip()
    import yaml
    with open(os.path.join(PAPER_DIR, 'metafile.yml')) as f:
        models = yaml.safe_load(f)['Models']
    run = os.path.basename(os.path.normpath(work_dir))
    for model in models:
        if model['Metadata'].get('Study Run') == run:
            return model['Weights']
    raise FileNotFoundError(
        f'no checkpoint of the teacher run {run}: {last} is missing and the '
        'model zoo has no model of that run')


def keep_result(args: argparse.Namespace, result: dict) -> None:
    """Copy a finished run's result into ``RESULTS/convergence_runs`` (what
    is committed), unless it is there already."""
    kept = os.path.join(args.results, 'convergence_runs',
                        result['name'] + '.json')
    if not os.path.isfile(kept):
        atomic_json(kept, result)


def restore_results(teachers: List[dict], jobs: List[dict],
                    args: argparse.Namespace) -> List[str]:
    """Put the committed results of finished runs back into ``OUT/runs``
    where they are missing (a sitting on a machine without the earlier
    sittings' folders), so that they are read back, not trained again.

    Returns:
        list[str]: The names of the runs restored.
    """
    restored = []
    for job in teachers + jobs:
        kept = os.path.join(args.results, 'convergence_runs',
                            job['name'] + '.json')
        if os.path.isfile(kept) and not os.path.isfile(
                result_path(args.out, job['name'])):
            with open(kept) as f:
                atomic_json(result_path(args.out, job['name']), json.load(f))
            restored.append(job['name'])
    return restored


def run_all(teachers: List[dict], jobs: List[dict],
            args: argparse.Namespace) -> Tuple[List[dict], List[dict]]:
    """Run (or read back) the teachers and the students.

    ``--workers`` runs go at a time. A free worker takes the first job in
    the order (seed, MNIST before the costlier Fashion-MNIST, then backprop,
    KD, FitNets, FSP) that can start: a
    backprop run at once, a distillation run once its teacher has
    finished. So seed 0 of every regime comes first (the model zoo's runs),
    and no worker waits for a teacher while other runs could go. A failed
    run is reported at once and the others go on (the students of a failed
    teacher are not started); the call raises at the end, naming them.
    """
    done = lambda j: os.path.isfile(  # noqa: E731
        os.path.join(args.out, 'runs', j['name'] + '.json'))
    if args.report_only:
        return ([run_job(t, args) for t in teachers if done(t)],
                [run_job(j, args) for j in jobs if done(j)])
    pending = sorted(jobs, key=lambda j: (j['seed'], j['dataset'] != 'mnist',
                                          REGIMES.index(j['regime'])))
    workers = max(1, args.workers)
    trained: Dict[str, dict] = {}
    results: Dict[str, dict] = {}
    failed: Dict[str, str] = {}
    with ThreadPoolExecutor(workers) as pool:
        running = {pool.submit(run_job, t, args): t for t in teachers}
        while running or pending:
            while len(running) < workers:
                job = next((j for j in pending if j['regime'] == 'backprop'
                            or j['dataset'] in trained), None)
                if job is None:
                    break
                pending.remove(job)
                if job['regime'] != 'backprop':
                    job = dict(job, teacher_ckpt=teacher_checkpoint(
                        job['teacher_ckpt']))
                running[pool.submit(run_job, job, args)] = job
            if not running:
                raise RuntimeError(
                    f'{[j["name"] for j in pending]} wait for a teacher '
                    'that is not trained by this call')
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                try:
                    result = future.result()
                except Exception as err:  # noqa: BLE001  (reported below)
                    failed[job['name']] = str(err).splitlines()[0]
                    print(f'{job["name"]}: FAILED, the other runs go on: '
                          f'{failed[job["name"]]}', flush=True)
                    if job['group'] == 'teacher':
                        for student in [j for j in pending
                                        if j['dataset'] == job['dataset']
                                        and j['regime'] != 'backprop']:
                            pending.remove(student)
                            failed[student['name']] = \
                                f'its teacher {job["name"]} failed'
                    continue
                if job['group'] == 'teacher':
                    trained[job['dataset']] = result
                else:
                    results[job['name']] = result
    if failed:
        raise RuntimeError(
            f'{len(failed)} run(s) failed, the {len(results)} others are '
            'saved: ' + '; '.join(f'{k}: {v}' for k, v in failed.items()))
    return ([trained[t['dataset']] for t in teachers],
            [results[j['name']] for j in jobs])


# ---------------------------------------------------------------- reports
def first_pass(curve: Sequence[Sequence[float]], level: float
               ) -> Optional[int]:
    """The first epoch whose accuracy reaches ``level``, or None."""
    return next((int(e) for e, a in curve if a >= level), None)


def curve_gaps(curve: Sequence[Sequence[float]]) -> List[int]:
    """The epochs up to the last one that have no validation point.

    A sitting that stops after an epoch's checkpoint but before its
    validation leaves such a gap: the resumed run goes on from the next
    epoch.
    """
    seen = {int(e) for e, _ in curve}
    return [e for e in range(1, int(curve[-1][0]) + 1) if e not in seen]


def label(run: dict) -> str:
    """The regime of a run, with its stage-1 cap if it is a longer-hint
    variant (``--longer-hint-caps``)."""
    cap = run.get('hint_cap')
    return run['regime'] + (f' (hint cap {cap})' if cap else '')


def group_table(rows: List[dict], level: float, escape: float) -> str:
    """Per regime: final and best accuracy, epochs, stage-1 epochs, first
    epoch at ``escape`` (off the plateau at chance) and at ``level`` per
    seed; then paired differences (a longer-hint variant also against its
    regime)."""
    regimes = [v for r in REGIMES + ('teacher', ) for v in sorted(
        {label(x) for x in rows if x['regime'] == r}, key=len)]
    out = [f'| regime | final acc % (mean ± std) | best acc % | epochs '
           f'(stage 1) per seed | first epoch ≥ {escape:g} % per seed | '
           f'first epoch ≥ {level:g} % per seed | seeds | core-h / run |',
           '|---|---:|---:|---|---|---|---:|---:|']
    by = {r: sorted((x for x in rows if label(x) == r),
                    key=lambda x: x['seed']) for r in regimes}
    for regime in regimes:
        xs = by[regime]
        mean, std, _ = me.mean_ci([x['accuracy'] for x in xs])
        best, _, _ = me.mean_ci([x['best'] for x in xs])
        epochs = ', '.join(f'{x["epochs"]} ({x["hint_epochs"]})'
                           for x in xs)
        escapes, passes = (', '.join(str(first_pass(x['curve'], at) or '-')
                                     for x in xs) for at in (escape, level))
        cpu = statistics.fmean(x['cpu'] for x in xs) / 3600
        spread = f'{mean:.2f} ± {std:.2f}' if len(xs) > 1 else f'{mean:.2f}'
        seeds = ', '.join(str(x['seed']) for x in xs)
        out.append(f'| {regime} | {spread} | {best:.2f} | {epochs} | '
                   f'{escapes} | {passes} | {seeds} | {cpu:.2f} |')
    pairs = [(a, b) for a, b in (('FitNets', 'backprop'), ('FitNets', 'KD'),
                                 ('KD', 'backprop'), ('FSP', 'backprop'),
                                 ('FitNets', 'FSP'))
             if a in by and b in by]
    regime_of = {label(x): x['regime'] for x in rows}
    pairs += [(v, b) for v in regimes if regime_of[v] != v
              for b in ('backprop', 'KD', regime_of[v]) if b in by]
    if pairs:
        out += ['', '| paired difference (final acc, points) | mean | '
                '95 % CI | seeds |', '|---|---:|---:|---:|']
    for a, b in pairs:
        mean, interval, n = paired(by[a], by[b])
        out.append(f'| {a} − {b} | {mean:+.2f} | {interval} | {n} |')
    return '\n'.join(out)


def paired(runs: List[dict], baseline: List[dict]
           ) -> Tuple[float, str, int]:
    """Mean and 95 % CI (``'-'`` from one seed) of the final accuracy of
    ``runs`` minus ``baseline``'s, over the seeds both have, and their
    number."""
    acc_b = {x['seed']: x['accuracy'] for x in baseline}
    diffs = [x['accuracy'] - acc_b[x['seed']] for x in runs
             if x['seed'] in acc_b]
    mean, _, ci = me.mean_ci(diffs)
    interval = f'[{mean - ci:+.2f}, {mean + ci:+.2f}]' \
        if len(diffs) > 1 else '-'
    return mean, interval, len(diffs)


def regime_rows(rows: List[dict]) -> List[Tuple[str, List[dict], str]]:
    """The runs of one comparison by regime label, in regime order, each
    with its final accuracy over seeds (``mean ± std``, or the value from
    one seed)."""
    by: Dict[str, List[dict]] = {}
    for x in sorted(rows, key=lambda x: x['seed']):
        by.setdefault(label(x), []).append(x)
    out = []
    for regime in sorted(by, key=lambda r: (
            REGIMES.index(r.split(' ')[0]), len(r))):
        xs = by[regime]
        mean, std, _ = me.mean_ci([x['accuracy'] for x in xs])
        out.append((regime, xs, f'{mean:.2f} ± {std:.2f}' if len(xs) > 1
                    else f'{mean:.2f}'))
    return out


def against(xs: List[dict], regime: str,
            by: Dict[str, List[dict]]) -> List[str]:
    """The paired differences of ``xs`` to backprop and to KD, as table
    cells (``'-'`` against itself or a regime not run)."""
    cells = []
    for base in ('backprop', 'KD'):
        if base == regime or base not in by:
            cells.append('-')
            continue
        diff, interval, n = paired(xs, by[base])
        cells.append(f'{diff:+.2f}' + (f' {interval}' if n > 1 else ''))
    return cells


def summary_table(teachers: List[dict], results: List[dict]) -> str:
    """One row per regime of every group but the depth studies, after the
    group's teacher: final accuracy over seeds and the paired difference
    to backprop and to KD (the table the README quotes)."""
    out = ['| group | data | regime | final acc % (mean ± std) | seeds | '
           '− backprop, points [95 % CI] | − KD, points [95 % CI] |',
           '|---|---|---|---:|---:|---:|---:|']
    for group in GROUPS:
        rows = [x for x in results if x['group'] == group]
        if not rows or group.endswith('depth'):
            continue
        data = DATASET_NAMES[rows[0]['dataset']]
        out += [f'| {group} | {data} | teacher | {t["accuracy"]:.2f} | 1 '
                '| - | - |' for t in teachers
                if t['dataset'] == rows[0]['dataset']]
        table = regime_rows(rows)
        by = {regime: xs for regime, xs, _ in table}
        for regime, xs, spread in table:
            cells = against(xs, regime, by)
            out.append(f'| {group} | {data} | {regime} | {spread} | '
                       f'{len(xs)} | {cells[0]} | {cells[1]} |')
    return '\n'.join(out)


def depth_summary_table(results: List[dict], escape: float) -> str:
    """One row per regime, depth and init of the depth studies: final
    accuracy over seeds, how many seeds left the plateau at chance (first
    epoch at ``escape`` %), and the paired difference to backprop and to
    KD of the same depth and init."""
    out = ['| group | data | depth | init | regime | final acc % '
           f'(mean ± std) | seeds past {escape:g} % | − backprop, points '
           '[95 % CI] | − KD, points [95 % CI] |',
           '|---|---|---:|---|---|---:|---:|---:|---:|']
    for group in GROUPS:
        rows = [x for x in results if x['group'] == group]
        if not rows or not group.endswith('depth'):
            continue
        data = DATASET_NAMES[rows[0]['dataset']]
        for depth, init in sorted({(x['depth'], x['init']) for x in rows},
                                  key=lambda k: (k[0], k[1] != 'paper')):
            table = regime_rows([x for x in rows if x['depth'] == depth
                                 and x['init'] == init])
            by = {regime: xs for regime, xs, _ in table}
            for regime, xs, spread in table:
                left = sum(first_pass(x['curve'], escape) is not None
                           for x in xs)
                cells = against(xs, regime, by)
                out.append(f'| {group} | {data} | {depth} | {init} | '
                           f'{regime} | {spread} | {left}/{len(xs)} | '
                           f'{cells[0]} | {cells[1]} |')
    return '\n'.join(out)


def plot_curves(rows: List[dict], path: str, title: str) -> None:
    """Test accuracy per epoch: one thin line per run, per regime."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.5, 4))
    colors = dict(zip(REGIMES + ('teacher', ),
                      ('C0', 'C1', 'C2', 'C3', 'k')))
    seen = set()
    order = REGIMES + ('teacher', )
    for x in sorted(rows, key=lambda x: (order.index(x['regime']),
                                         label(x), x['seed'])):
        name = label(x)
        ax.plot(*zip(*x['curve']), color=colors[x['regime']], lw=1,
                alpha=0.8, label=None if name in seen else name,
                ls='--' if x.get('hint_cap') else '-')
        seen.add(name)
        if x['hint_epochs']:
            ax.axvline(x['hint_epochs'] + 0.5, color=colors[x['regime']],
                       lw=0.5, ls=':')
    ax.set_xlabel('epoch (dotted: end of stage 1)')
    ax.set_ylabel('test accuracy (%)')
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_depth(rows: List[dict], path: str, title: str) -> None:
    """Final accuracy against depth, one panel per init: every seed as a
    dot, and per regime the mean over seeds with its std as error bars,
    cut at 0 and 100 % (a regime whose seeds split between chance and a trained network shows
    both clusters, not only a mean between them)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    inits = sorted({x['init'] for x in rows}, key=lambda i: i != 'paper')
    depths = sorted({x['depth'] for x in rows})
    fig, axes = plt.subplots(1, len(inits), figsize=(4.5 * len(inits), 4),
                             sharey=True, squeeze=False)
    colors = dict(zip(REGIMES, ('C0', 'C1', 'C2', 'C3')))
    for ax, init in zip(axes[0], inits):
        regimes = [r for r in REGIMES
                   if any(x['regime'] == r for x in rows)]
        for k, regime in enumerate(regimes):
            shift = 0.12 * (k - (len(regimes) - 1) / 2)
            pts = []
            for depth in depths:
                accs = [x['accuracy'] for x in rows if x['depth'] == depth
                        and x['regime'] == regime and x['init'] == init]
                if not accs:
                    continue
                ax.scatter([depth + shift] * len(accs), accs, s=10,
                           color=colors[regime], alpha=0.5, lw=0)
                mean, std, _ = me.mean_ci(accs)
                std = 0 if math.isnan(std) else std
                # An accuracy lies in [0, 100]: the bar stops there.
                pts.append((depth + shift, mean, max(0., min(std, mean)),
                            max(0., min(std, 100 - mean))))
            if pts:
                x, y, low, high = zip(*pts)
                ax.errorbar(x, y, yerr=[low, high], capsize=3, marker='o',
                            ms=4, color=colors[regime], label=regime)
        ax.set_xticks(depths)
        ax.set_xlabel('conv layers (thin maxout student, ~fixed mult.)')
        ax.set_title(f'{init} init', fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel('final test accuracy (%): seeds, mean ± std')
    axes[0][0].set_ylim(0, 101)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(teachers: List[dict], results: List[dict],
           args: argparse.Namespace, cmd: str) -> str:
    """Write the markdown report, the curves and the depth plots."""
    os.makedirs(args.results, exist_ok=True)
    core_h = sum(x['cpu'] for x in teachers + results) / 3600
    unmeasured = sum(x.get('unmeasured_sittings', 0)
                     for x in teachers + results)
    text = [
        '# Convergence study (curves, plateaus, paired CIs)', '',
        f'Command: `{cmd}`. Each run: `tools/train.py` on its leaf config '
        f'(`{os.path.relpath(args.out, REPO)}/leaves/NAME.py`, command in '
        f'`runs/NAME.json`). Stage 1 until the validation stage-1 loss has '
        f'not improved for {args.hint_patience} epochs (cap '
        f'{args.hint_cap}); stage 2, backprop and teachers until test '
        f'accuracy has not improved by {args.min_delta} points for '
        f'{args.patience} epochs, counted from the first epoch past '
        f'{args.begin_level:g} % (cap: {args.max_epochs} epochs of that '
        f'stage, from its start). Teacher cache: '
        f'{"off" if args.no_cache else "on"}. Total: {core_h:.2f} '
        f'core-hours over {len(teachers) + len(results)} saved runs' +
        (f' (and {unmeasured} sitting(s) of resumed runs whose CPU time was '
         'not recorded)' if unmeasured else '') + '.', '']
    gaps = [f'`{x["name"]}` ' + ', '.join(map(str, g))
            for x in teachers + results if (g := curve_gaps(x['curve']))]
    if gaps:
        text += ['Epochs without a validation point (a sitting stopped '
                 'after the epoch\'s checkpoint, before its validation; '
                 'the run resumed at the next epoch, so a first epoch past '
                 'a level right after a gap may be one too late): ' +
                 '; '.join(gaps) + '.', '']
    if any(not x['group'].endswith('depth') for x in results):
        text += ['## Summary', '', summary_table(teachers, results), '']
    if any(x['group'].endswith('depth') for x in results):
        text += ['## Depth summary', '',
                 depth_summary_table(results, args.begin_level), '']
    for t in teachers:
        text += [f'Teacher ({t["dataset"]}): {t["accuracy"]:.2f} % after '
                 f'{t["epochs"]} epochs (best {t["best"]:.2f} %).', '',
                 f'![teacher curve]({t["dataset"]}_teacher_curves.png)', '']
        plot_curves([t], os.path.join(
            args.results, f'{t["dataset"]}_teacher_curves.png'),
            f'{DATASET_NAMES[t["dataset"]]}: teacher')
    for group in GROUPS:
        rows = [x for x in results if x['group'] == group]
        if not rows:
            continue
        dataset = rows[0]['dataset']
        level = args.pass_at.get(dataset, 90.0)
        text += ['', f'## {group}', '']
        keys = sorted({(x.get('depth'), x['init']) for x in rows},
                      key=lambda k: (k[0] or 0, k[1]))
        for depth, init in keys:
            sub = [x for x in rows if x.get('depth') == depth
                   and x['init'] == init]
            name = f'{group}' + (f'_d{depth}_{init}' if depth else '')
            if depth:  # one sub-table per depth and init
                text += [f'### {name} ({sub[0]["width"]} channels, '
                         f'{sub[0]["mult"] / 1e6:.2f}M mult.)', '']
            text += [group_table(sub, level, args.begin_level), '',
                     f'![curves]({name}_curves.png)', '']
            plot_curves(sub, os.path.join(args.results,
                                          f'{name}_curves.png'),
                        f'{DATASET_NAMES[dataset]}: {name}')
        if group.endswith('depth'):
            plot_depth(rows, os.path.join(args.results, f'{group}.png'),
                       f'{DATASET_NAMES[dataset]}: final accuracy vs depth')
            text += [f'![accuracy vs depth]({group}.png)', '']
    text += ['', 'Machine:', '', '```', me.machine_info(), '```', '']
    out = '\n'.join(text)
    with open(os.path.join(args.results, 'convergence_study.md'), 'w') as f:
        f.write(out)
    with open(os.path.join(args.results, 'convergence_study.json'),
              'w') as f:
        json.dump(dict(teachers=teachers, runs=results,
                       core_hours=core_h), f, indent=1)
    return out


#: The report's tables that pages quote, by the name of their markers.
QUOTED = (('convergence-summary', '## Summary'),
          ('convergence-depth-summary', '## Depth summary'))


def report_tables(text: str) -> Dict[str, str]:
    """The tables of a report that pages quote, by marker name."""
    return {name: text.split(f'\n{heading}\n\n')[1].split('\n\n')[0]
            for name, heading in QUOTED if f'\n{heading}\n' in text}


def quote_in(page: str, tables: Dict[str, str]) -> None:
    """Rewrite the report's tables that ``page`` quotes, each between its
    marker lines ``<!-- NAME: start -->`` and ``<!-- NAME: end -->`` (a
    page may quote some of them; a marker inside a line, e.g. in a
    sentence about it, is not one).

    Raises:
        ValueError: If the page quotes none of the tables.
    """
    with open(page) as f:
        text = f.read()
    quoted = []
    for name, table in tables.items():
        start, end = f'<!-- {name}: start -->', f'<!-- {name}: end -->'
        block = re.compile(f'^{re.escape(start)}$.*?^{re.escape(end)}$',
                           re.M | re.S)
        if block.search(text):
            quoted.append(name)
            text = block.sub(lambda _: f'{start}\n\n{table}\n\n{end}',
                             text, count=1)
    if not quoted:
        raise ValueError(
            f'{page} quotes none of the report\'s tables: it has no '
            f'<!-- NAME: start --> ... <!-- NAME: end --> lines for NAME in '
            f'{sorted(tables)}')
    with open(page, 'w') as f:
        f.write(text)


def without_quote_in(argv: Sequence[str]) -> List[str]:
    """The command-line arguments without ``--quote-in`` and its pages
    (they change no table of the report, which records its command)."""
    out, skipping = [], False
    for a in argv:
        if a == '--quote-in' or a.startswith('--quote-in='):
            skipping = a == '--quote-in'
            continue
        if skipping and not a.startswith('-'):
            continue
        skipping = False
        out.append(a)
    return out


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    if not args.report_only and any(
            g in ('table4', 'depth') for g in args.only) and \
            not os.path.isfile(os.path.join(args.data,
                                            'train-images-idx3-ubyte')):
        subprocess.run([sys.executable, me.MAKE_SPLIT, args.data],
                       check=True)
    teachers, jobs = make_jobs(args)
    restored = restore_results(teachers, jobs, args)
    if restored:
        print(f'{len(restored)} finished run(s) restored from '
              f'{os.path.join(args.results, "convergence_runs")}',
              flush=True)
    print(f'{len(teachers)} teacher(s), {len(jobs)} student runs, '
          f'{args.workers} at a time', flush=True)
    teachers, results = run_all(teachers, jobs, args)
    cmd = 'python benchmarks/convergence_study.py ' + ' '.join(
        without_quote_in(sys.argv[1:] if argv is None else argv))
    out = report(teachers, results, args, cmd)
    print(out, flush=True)
    for page in args.quote_in:
        try:
            quote_in(page, report_tables(out))
        except ValueError as err:  # the page's markers: the user's to add
            sys.exit(f'convergence_study.py: error: {err}')
    return out


if __name__ == '__main__':
    main()
