"""Publish runs of the convergence study as the model zoo.

For each chosen run of ``benchmarks/convergence_study.py`` (its ``--out``
folder), this

1. publishes its last checkpoint with ``tools/model_converters/
   publish_model.py`` into ``zoo/DATASET/`` (a distillation run as its
   student), as ``NAME_DATE-HASH.pth``, and copies the run's scalar log
   beside it (``NAME_DATE-HASH.log.json``);
2. tests the published file with ``tools/test.py`` and the model's own
   config on the run's test split before it replaces the zoo's file, checks
   that the accuracy is the one the run logged after its last epoch, and
   tests it again through its ``fitnets_mm://`` path;
3. writes ``configs/fitnets/paper/metafile.yml`` (imported by
   ``model-index.yml``) with each model's config, ``Weights``, training log,
   epochs, seed, command and that accuracy, and the table of
   ``docs/en/model_zoo.md``.

    python benchmarks/zoo_from_study.py --study work_dirs/convergence_study
    python benchmarks/zoo_from_study.py --runs mnist_teacher,table4_KD_s0

A run not (yet) in the study is left out with a line saying so; the
metafile holds the models published so far (earlier ones are kept unless
published again).
"""
import argparse
import glob
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Sequence

import yaml

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
ZOO = osp.join(REPO, 'zoo')
METAFILE = osp.join(REPO, 'configs', 'fitnets', 'paper', 'metafile.yml')
DOC = osp.join(REPO, 'docs', 'en', 'model_zoo.md')
TABLE_BEGIN = '<!-- zoo-table: written by benchmarks/zoo_from_study.py -->'
TABLE_END = '<!-- end of zoo-table -->'
PAPER = 'configs/fitnets/paper/'

#: dataset of the study -> (zoo folder, name in the metafile, student and
#: teacher configs that the published weights load into).
DATASETS = {
    'mnist': dict(folder='mnist', name='MNIST',
                  teacher='maxout-teacher_1xb128_mnist.py',
                  student='maxout-student-paper_1xb128_mnist.py'),
    'fashion': dict(folder='fashion-mnist', name='Fashion-MNIST',
                    teacher='maxout-teacher_1xb128_fashion-mnist.py',
                    student='maxout-student-paper_1xb128_fashion-mnist.py'),
}
#: regime -> (collection, the model name's method part).
REGIMES = {'teacher': ('FitNets', None), 'backprop': ('FitNets', 'backprop'),
           'KD': ('FitNets', 'kd'), 'FitNets': ('FitNets', 'fitnets'),
           'FSP': ('FSP', 'fsp')}
DEFAULT_RUNS = ('mnist_teacher', 'table4_backprop_s0', 'table4_KD_s0',
                'table4_FitNets_s0', 'table4_FSP_s0', 'fashion_teacher', 'fashion_backprop_s0',
                'fashion_KD_s0', 'fashion_FitNets_s0', 'fashion_FSP_s0')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--study', default=osp.join('work_dirs',
                                               'convergence_study'),
                   help="convergence_study.py's --out")
    p.add_argument('--runs', default=','.join(DEFAULT_RUNS),
                   help='runs to publish (names of STUDY/runs/*.json)')
    p.add_argument('--mnist-data', default='/tmp/fitnets_mnist',
                   help="the MNIST split the study used (its --data)")
    p.add_argument('--date', default=None, help='YYYYMMDD (default today)')
    p.add_argument('--command', default=(
        'python benchmarks/convergence_study.py --only table4,fashion '
        '--seeds 0-4 --fashion-seeds 0 --regimes backprop,KD,FitNets,FSP '
        '--workers 2'), help='the study command that trained the runs')
    p.add_argument('--zoo', default=ZOO)
    p.add_argument('--metafile', default=METAFILE)
    p.add_argument('--doc', default=DOC,
                   help='page whose zoo table is rewritten ("" for none)')
    return p.parse_args(argv)


def model_name(run: dict) -> str:
    """The zoo's name of a run, e.g. ``maxout-student-paper_fitnets_1xb128_
    mnist``."""
    dataset = DATASETS[run['dataset']]
    config = dataset['teacher' if run['regime'] == 'teacher' else 'student']
    method = REGIMES[run['regime']][1]
    stem = config[:-3]
    if method is None:
        return stem
    base, rest = stem.split('_', 1)
    return f'{base}_{method}_{rest}'


def _last_checkpoint(work_dir: str) -> str:
    """The checkpoint ``work_dir/last_checkpoint`` names."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def _write_scalars(work_dir: str, out: str) -> None:
    """The run's scalar log, every sitting of a resumed run in order (each
    sitting's ``vis_data/scalars.json``), as one file ``out``."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))
    if not logs:
        raise FileNotFoundError(f'no vis_data/scalars.json under {work_dir}')
    with open(out, 'w') as f:
        for log in logs:
            with open(log) as part:
                f.write(part.read())


def _test(config: str, weights: str, cfg_options: List[str]) -> float:
    """Top-1 accuracy of ``weights`` by ``tools/test.py``."""
    cmd = [sys.executable, osp.join(REPO, 'tools', 'test.py'), config,
           weights, '--work-dir', osp.join(REPO, 'work_dirs', 'zoo_test')]
    if cfg_options:
        cmd += ['--cfg-options', *cfg_options]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONWARNINGS='ignore'))
    found = re.findall(r'accuracy/top1: ([\d.]+)', proc.stdout)
    if proc.returncode != 0 or not found:
        raise RuntimeError(f'{" ".join(cmd)} failed:\n' +
                           (proc.stdout + proc.stderr)[-3000:])
    return float(found[-1])


def _parameters(config: str) -> int:
    """Parameters of the model of ``config``."""
    import fitnets_mm  # noqa: F401
    from mmengine.config import Config
    from mmpretrain.registry import MODELS

    from fitnets_mm.models.utils.complexity import count_params
    return count_params(MODELS.build(Config.fromfile(
        osp.join(REPO, config)).model))


def _training_config(study: str, name: str) -> str:
    """The paper config a run's leaf config inherits (repo-relative)."""
    with open(osp.join(study, 'leaves', name + '.py')) as f:
        base = re.search(r"_base_ = \['([^']+)'\]", f.read()).group(1)
    return osp.relpath(base, REPO)


def publish(run: dict, args: argparse.Namespace) -> dict:
    """Publish one run; the metafile entry of its model."""
    from fitnets_mm.export import publish_checkpoint
    dataset = DATASETS[run['dataset']]
    name = model_name(run)
    folder = osp.join(args.zoo, dataset['folder'])
    work_dir = osp.join(args.study, run['name'])
    config = PAPER + dataset['teacher' if run['regime'] == 'teacher' else
                              'student']
    # Published and tested beside the zoo first: the zoo keeps its old
    # file until the new one has passed.
    staging = tempfile.mkdtemp(prefix='publishing_', dir=REPO)
    try:
        staged = publish_checkpoint(_last_checkpoint(work_dir),
                                    osp.join(staging, name), args.date)
        options = ([f'test_dataloader.dataset.data_root={args.mnist_data}']
                   if run['dataset'] == 'mnist' else [])
        accuracy = _test(config, staged, options)
        if abs(accuracy - run['accuracy']) > 1e-6:
            raise RuntimeError(
                f'{staged} tests at {accuracy} %, but {run["name"]} logged '
                f'{run["accuracy"]} % after its last epoch')
        for old in glob.glob(osp.join(folder, name + '_*')):
            os.remove(old)
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, osp.basename(staged))
        os.replace(staged, path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    stem = path[:-len('.pth')]
    _write_scalars(work_dir, stem + '.log.json')
    weights = 'fitnets_mm://' + osp.relpath(path, args.zoo).replace(os.sep,
                                                                    '/')
    if _test(config, weights, options) != accuracy:  # through the scheme
        raise RuntimeError(f'{weights} does not test as {staged} did')
    metadata = {
        'Training Data': dataset['name'],
        'Parameters': _parameters(config),
        'Epochs': run['epochs'],
        'Seed': run['seed'],
        'Training Config': _training_config(args.study, run['name']),
        'Training Command': args.command,
        'Study Run': run['name'],
        'Training Log': osp.relpath(stem + '.log.json', REPO),
    }
    if run.get('hint_epochs'):
        metadata['Stage-1 Epochs'] = run['hint_epochs']
    if run['dataset'] == 'mnist':
        metadata['Data Split'] = ('MNIST t10k digits 0-7,999 for training '
                                  '(../shared/data/make_mnist_split.py), '
                                  'tested on its 2,000 test digits')
    print(f'{weights}: {accuracy:.2f} % ({run["name"]})', flush=True)
    return {
        'Name': name,
        'In Collection': REGIMES[run['regime']][0],
        'Config': config,
        'Metadata': metadata,
        'Results': [{'Task': 'Image Classification',
                     'Dataset': dataset['name'],
                     'Metrics': {'Top 1 Accuracy': round(accuracy, 2)}}],
        'Weights': weights,
    }


def write_metafile(models: List[dict], path: str) -> None:
    """Write the models (earlier ones of other names kept), in run order."""
    kept: List[dict] = []
    if osp.isfile(path):
        with open(path) as f:
            kept = (yaml.safe_load(f) or {}).get('Models') or []
    names = {m['Name'] for m in models}
    order = {model_name(dict(dataset=d, regime=r)): i
             for i, (d, r) in enumerate(
                 (d, r) for d in DATASETS for r in REGIMES)}
    all_models = [m for m in kept if m['Name'] not in names] + models
    all_models.sort(key=lambda m: order.get(m['Name'], len(order)))
    header = ('# The model zoo: trained here by benchmarks/convergence_study.'
              'py (seed 0 of each\n# regime), published by benchmarks/'
              'zoo_from_study.py, which wrote this file\n# and checked each '
              "Top 1 with tools/test.py on the published file.\n")
    with open(path, 'w') as f:
        f.write(header)
        yaml.safe_dump({'Models': all_models}, f, sort_keys=False,
                       width=1000)


def zoo_table(models: List[dict]) -> str:
    """The docs' table of the metafile's models (markdown)."""
    rows = ['| model | data | trained by | parameters | epochs (stage 1) '
            '| top-1 (%) | weights, log |',
            '| --- | --- | --- | ---: | ---: | ---: | --- |']
    for m in models:
        meta = m['Metadata']
        regime = m['Metadata']['Study Run'].split('_')[1]
        regime = 'backprop (teacher)' if regime == 'teacher' else regime
        hint = f' ({meta["Stage-1 Epochs"]})' if 'Stage-1 Epochs' in meta \
            else ''
        rows.append(
            f'| [{m["Name"]}](../../{m["Config"]}) | '
            f'{m["Results"][0]["Dataset"]} | {regime} | '
            f'{meta["Parameters"]:,} | {meta["Epochs"]}{hint} | '
            f'{m["Results"][0]["Metrics"]["Top 1 Accuracy"]:.2f} | '
            f'`{m["Weights"]}`, [log](../../{meta["Training Log"]}) |')
    return '\n'.join(rows)


def write_doc_table(metafile: str, doc: str) -> None:
    """Put :func:`zoo_table` of ``metafile`` between the doc's markers."""
    with open(metafile) as f:
        models = yaml.safe_load(f)['Models']
    with open(doc) as f:
        text = f.read()
    begin, end = text.index(TABLE_BEGIN), text.index(TABLE_END)
    text = (text[:begin + len(TABLE_BEGIN)] + '\n\n' + zoo_table(models) +
            '\n\n' + text[end:])
    with open(doc, 'w') as f:
        f.write(text)


def main(argv: Optional[Sequence[str]] = None) -> List[dict]:
    """Publish the runs found; return their metafile entries."""
    args = parse_args(argv)
    args.study = osp.abspath(args.study)
    models = []
    for name in [n for n in args.runs.split(',') if n.strip()]:
        result = osp.join(args.study, 'runs', name + '.json')
        if not osp.isfile(result):
            print(f'{name}: not in {args.study} yet, left out', flush=True)
            continue
        with open(result) as f:
            run: Dict = json.load(f)
        models.append(publish(run, args))
    write_metafile(models, args.metafile)
    if args.doc:
        write_doc_table(args.metafile, args.doc)
    return models


if __name__ == '__main__':
    main()
