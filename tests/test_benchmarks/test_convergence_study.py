"""benchmarks/convergence_study.py: seed ranges, leaf configs that stop on
plateaus, curves parsed from the Runner's log, reports with paired CIs and
plots, and (slow) its quick mode end to end, resumable."""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from utils.benchmarks import load_benchmark

load_benchmark('mnist_evidence')  # imported by name by the study
study = load_benchmark('convergence_study')
FASHION = '/usr/share/datasets/fashion-mnist'


@pytest.mark.parametrize('text,seeds', [
    ('5-9', [5, 6, 7, 8, 9]), ('0,2,4-6', [0, 2, 4, 5, 6]), ('3', [3]),
    ('1-2,2', [1, 2])])
def test_seed_ranges(text, seeds):
    assert study.parse_seeds(text) == seeds
    assert study.parse_args(['--seeds', text]).seeds == seeds


@pytest.mark.parametrize('text', ['9-5', 'a', '1-', ''])
def test_bad_seed_ranges(text):
    import argparse
    with pytest.raises(argparse.ArgumentTypeError):
        study.parse_seeds(text)


def _job(regime, **kw):
    job = dict(name=f'fashion_{regime}_s0', group='fashion',
               dataset='fashion', regime=regime, seed=0, init='paper',
               depth=None, teacher_ckpt='/t/epoch_3.pth')
    job.update(kw)
    return job


def test_fitnets_leaf_stops_stage1_and_stage2_on_plateaus(tmp_path):
    args = study.parse_args(['--out', str(tmp_path), '--hint-cap', '7',
                             '--hint-patience', '3', '--patience', '4',
                             '--max-epochs', '40'])
    text = study.leaf_config(_job('FitNets'), args)
    assert 'fitnets-paper_maxout-teacher-student_1xb128_fashion-mnist.py' \
        in text
    assert 'train_cfg = dict(hint_epochs=7, kd_epochs=40, val_begin=1, ' \
        'val_interval=1)' in text
    assert "'patience': 3" in text and 'range(50000, 60000)' in text
    assert "'type': 'mmrazor.StageEarlyStoppingHook', 'monitor': " \
        "'accuracy/top1', 'patience': 4, 'min_delta': 0.1, 'begin_level': " \
        "20.0}" in text
    assert "'type': 'mmrazor.TeacherCacheHook'" in text
    assert "teacher_ckpt='/t/epoch_3.pth'" in text
    # the config's own hooks are kept
    for hook in ('LossWeightScheduleHook', 'MaxNormHook'):
        assert hook in text
    # the leaf builds
    from mmengine.config import Config
    path = tmp_path / 'leaf.py'
    path.write_text(text)
    cfg = Config.fromfile(str(path))
    assert [h['type'].rpartition('.')[2] for h in cfg.custom_hooks] == [
        'LossWeightScheduleHook', 'MaxNormHook', 'HintValidationHook',
        'TeacherCacheHook', 'StageEarlyStoppingHook']
    # the parts every two-stage run needs come from the runtime's hooks
    assert {'finite_loss', 'finite_weights', 'hint_stage'} <= set(
        cfg.default_hooks)
    no_cache = study.parse_args(['--out', str(tmp_path), '--no-cache'])
    assert 'TeacherCacheHook' not in study.leaf_config(_job('KD'), no_cache)


def _jobs(tmp_path, *argv):
    """The study's arguments (output under ``tmp_path``), teachers and
    jobs."""
    args = study.parse_args(['--out', str(tmp_path), *argv])
    return (args, *study.make_jobs(args))


def test_depth_leaf_sets_the_student_init(tmp_path):
    args, teachers, jobs = _jobs(
        tmp_path, '--only', 'depth', '--depths', '5', '--inits',
        'paper,glorot', '--regimes', 'backprop,FitNets', '--seeds', '3-4')
    assert [t['name'] for t in teachers] == ['mnist_teacher']
    assert sorted(j['name'] for j in jobs) == sorted(
        f'depth5_{i}_{r}_s{s}' for i in ('paper', 'glorot')
        for r in ('backprop', 'FitNets') for s in (3, 4))
    glorot = next(j for j in jobs if j['init'] == 'glorot')
    paper = next(j for j in jobs if j['init'] == 'paper')
    assert glorot['backbone']['init_cfg']['type'] == 'Xavier'
    assert paper['backbone']['init_cfg']['type'] == 'Uniform'
    # the same network otherwise
    strip = lambda b: {k: v for k, v in b.items() if k != 'init_cfg'}  # noqa
    assert strip(glorot['backbone']) == strip(paper['backbone'])
    fitnets = next(j for j in jobs if j['init'] == 'glorot'
                   and j['regime'] == 'FitNets')
    text = study.leaf_config(dict(fitnets, teacher_ckpt='x.pth'), args)
    assert "'type': 'Xavier'" in text and 'backbone.layers.2' in text


def test_fashion_depth_jobs_use_the_fashion_teacher_and_data(tmp_path):
    args, teachers, jobs = _jobs(
        tmp_path, '--only', 'fashion-depth', '--fashion-depth', '7',
        '--fashion-seeds', '1-2', '--inits', 'paper', '--regimes',
        'backprop,KD,FitNets,FSP', '--fashion-root', '/data/fm')
    assert [t['name'] for t in teachers] == ['fashion_teacher']
    # FSP is not a regime of the depth groups
    assert sorted(j['name'] for j in jobs) == sorted(
        f'fashion-depth7_paper_{r}_s{s}'
        for r in ('backprop', 'KD', 'FitNets') for s in (1, 2))
    *_, depth = _jobs(tmp_path, '--only', 'depth', '--depths', '7',
                      '--inits', 'paper', '--regimes', 'FitNets')
    fitnets = next(j for j in jobs if j['regime'] == 'FitNets')
    # the MNIST depth study's 7-layer student, on Fashion-MNIST
    assert fitnets['backbone'] == depth[0]['backbone']
    assert fitnets['width'] == depth[0]['width']
    text = study.leaf_config(dict(fitnets, teacher_ckpt='t.pth'), args)
    assert 'fashion-mnist.py' in text.splitlines()[0]
    assert "'data_root': '/data/fm'" in text and 't.pth' in text


def test_longer_hint_caps_add_named_variants(tmp_path):
    args = study.parse_args(['--out', str(tmp_path), '--only',
                             'table4,fashion', '--regimes', 'backprop,FitNets',
                             '--seeds', '0-1', '--fashion-seeds', '0',
                             '--longer-hint-caps', '150'])
    _, every = study.make_jobs(args)
    jobs = [j for j in every if j['group'] == 'table4']
    assert not any(j['name'].endswith('_hint150')
                   for j in every if j['group'] == 'fashion')
    assert sorted(j['name'] for j in jobs) == sorted(
        [f'table4_{r}_s{s}' for r in ('backprop', 'FitNets') for s in (0, 1)]
        + ['table4_FitNets_s0_hint150', 'table4_FitNets_s1_hint150'])
    longer = next(j for j in jobs if j['name'].endswith('_hint150'))
    base = next(j for j in jobs if j['name'] == 'table4_FitNets_s0')
    assert 'train_cfg = dict(hint_epochs=150, kd_epochs=100' in \
        study.leaf_config(dict(longer, teacher_ckpt='x.pth'), args)
    assert 'train_cfg = dict(hint_epochs=50, kd_epochs=100' in \
        study.leaf_config(dict(base, teacher_ckpt='x.pth'), args)
    # the variant is its own row, compared with the baselines and its base
    runs = [_run('backprop', s, 80) for s in (0, 1)] + \
        [_run('FitNets', s, 85 + s) for s in (0, 1)] + \
        [dict(_run('FitNets', s, 86 + 2 * s), hint_cap=150) for s in (0, 1)]
    table = study.group_table(runs, 80, 20)
    assert '| FitNets (hint cap 150) | 87.00 ± 1.41 |' in table
    assert '| FitNets (hint cap 150) − FitNets | +1.50 |' in table
    assert '| FitNets (hint cap 150) − backprop | +7.00 |' in table


@pytest.mark.parametrize('text', ['0', 'x', '150,-1'])
def test_bad_longer_hint_caps(text, capsys):
    with pytest.raises(SystemExit):
        study.parse_args(['--longer-hint-caps', text])
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.endswith('argument --longer-hint-caps: expected epoch caps '
                        f'>= 1 such as 150 or 150,200, got {text!r}')


LOG = """
12/02 - Epoch(val) [1][4/4]    accuracy/top1: 10.0000  data_time: 0.1
12/02 - Epoch(val) [2][4/4]    accuracy/top1: 11.0000  data_time: 0.1
12/02 - Stage 1 stopped early after 2 of 50 hint epochs: the validation
12/02 - FitNets stage 2 (kd) from epoch 3: stage epochs 3-12 of 12.
12/02 - Epoch(val) [3][4/4]    accuracy/top1: 70.5000  data_time: 0.1
12/02 - Epoch(val) [4][4/4]    accuracy/top1: 81.2500  data_time: 0.1
12/02 - Epoch(val) [5][4/4]    accuracy/top1: 80.0000  data_time: 0.1
"""


def test_parse_log_reads_the_curve_and_stage1_epochs():
    parsed = study.parse_log(LOG)
    assert parsed['curve'] == [(1, 10.0), (2, 11.0), (3, 70.5), (4, 81.25),
                               (5, 80.0)]
    assert parsed['hint_epochs'] == 2 and parsed['epochs'] == 5
    assert parsed['accuracy'] == 80.0 and parsed['best'] == 81.25
    assert study.first_pass(parsed['curve'], 80) == 4
    assert study.first_pass(parsed['curve'], 90) is None


def test_parse_log_keeps_the_latest_value_of_a_resumed_epoch():
    log = LOG + ('12/02 - Epoch(val) [5][4/4]    accuracy/top1: 82.0000\n'
                 '12/02 - Epoch(val) [6][4/4]    accuracy/top1: 83.0000\n')
    parsed = study.parse_log(log)
    assert [e for e, _ in parsed['curve']] == [1, 2, 3, 4, 5, 6]
    assert parsed['curve'][4] == (5, 82.0) and parsed['best'] == 83.0


def test_parse_log_reads_fsp_stage_epochs():
    """FSP's stage 2 is labelled ``FSP stage 2 (task loss)``: a stage 1 run
    to its cap still counts (it was read as 0 hint epochs)."""
    log = ('12/02 - Epoch(val) [1][4/4]    accuracy/top1: 10.0000\n'
           '12/02 - FSP stage 2 (task loss) from epoch 2: stage epochs 2-3 '
           'of 3.\n'
           '12/02 - Epoch(val) [2][4/4]    accuracy/top1: 60.0000\n')
    assert study.parse_log(log)['hint_epochs'] == 1


@pytest.mark.parametrize('where', ['from', 'resumed at'])
def test_parse_log_reads_stage1_epochs_from_the_stage_span(where):
    """A sitting resumed in stage 2 logs the stage again at the epoch it
    resumed; stage 1's length is the span's start (a KD run, no stage 1,
    was read as 33 hint epochs from "stage 2 (kd) from epoch 34")."""
    kd = ('12/02 - Epoch(val) [33][4/4]    accuracy/top1: 10.0000\n'
          f'12/02 - FitNets stage 2 (kd) {where} epoch 34: stage epochs '
          '1-100 of 100.\n'
          '12/02 - Epoch(val) [34][4/4]    accuracy/top1: 60.0000\n')
    assert study.parse_log(kd)['hint_epochs'] == 0
    fitnets = kd.replace('1-100 of 100', '21-120 of 120')
    assert study.parse_log(fitnets)['hint_epochs'] == 20


def _run(regime, seed, acc, group='fashion', **kw):
    curve = [(e, acc - 10 + e) for e in range(1, 11)]
    return dict(name=f'{group}_{regime}_s{seed}', group=group,
                dataset='fashion', regime=regime, seed=seed, init='paper',
                depth=None, curve=curve, accuracy=curve[-1][1],
                best=curve[-1][1], epochs=10, hint_epochs=0, cpu=3600.,
                wall=10., command='python tools/train.py x', **kw)


def test_report_tables_ci_and_plots(tmp_path):
    args = study.parse_args(['--out', str(tmp_path), '--results',
                             str(tmp_path / 'res')])
    runs = [_run('backprop', s, 80 + s) for s in range(3)] + \
        [_run('FitNets', s, 85 + 2 * s) for s in range(3)]
    runs += [dict(_run(r, s, 70 + 5 * d + s, group='fashion-depth'),
                  depth=d, width=16, mult=5e6, init=i,
                  name=f'fashion-depth{d}_{i}_{r}_s{s}')
             for d in (5, 7) for i in ('paper', 'glorot')
             for r in ('backprop', 'KD', 'FitNets') for s in range(2)]
    teacher = dict(_run('teacher', 0, 90), dataset='fashion')
    text = study.report([teacher], runs, args, 'python x')
    # FitNets - backprop per seed: 5, 6, 7 -> mean 6, CI 4.30 * 1 / sqrt 3
    assert '| FitNets − backprop | +6.00 | [+3.52, +8.48] | 3 |' in text
    # first epoch >= 20 % and >= 80 %: curves 71..80, 72..81, 73..82
    assert '| backprop | 81.00 ± 1.00 | 81.00 | 10 (0), 10 (0), 10 (0) | ' \
        '1, 1, 1 | 10, 9, 8 | 0, 1, 2 | 1.00 |' in text
    assert 'Total: 31.00 core-hours over 31 saved runs.' in text
    # the summary the README quotes: the teacher, then each regime against
    # backprop and KD (none here); the depth groups have their own plots
    summary = text.split('## Summary')[1].split('\n\n')[1]
    assert summary.splitlines()[2:] == [
        '| fashion | Fashion-MNIST | teacher | 90.00 | 1 | - | - |',
        '| fashion | Fashion-MNIST | backprop | 81.00 ± 1.00 | 3 | - | - |',
        '| fashion | Fashion-MNIST | FitNets | 87.00 ± 2.00 | 3 | '
        '+6.00 [+3.52, +8.48] | - |']
    # one heading per group; depth groups add one per depth and init
    assert '## fashion\n' in text and '### fashion\n' not in text
    assert '## Depth summary' in text
    assert '| fashion-depth | Fashion-MNIST | 5 | paper | FitNets | ' \
        '95.50 ± 0.71 | 2/2 | +0.00 [+0.00, +0.00] | +0.00 [+0.00, ' \
        '+0.00] |' in text
    assert '### fashion-depth_d5_glorot (16 channels, 5.00M mult.)' in text
    res = tmp_path / 'res'
    for png in ('fashion_curves.png', 'fashion-depth.png',
                'fashion-depth_d5_glorot_curves.png'):
        assert (res / png).stat().st_size > 5000
    saved = json.loads((res / 'convergence_study.json').read_text())
    assert saved['core_hours'] == pytest.approx(31.0)


def test_report_gives_the_epoch_each_run_left_chance():
    stuck = _run('backprop', 0, 0)
    stuck['curve'] = [(e, 10.0) for e in range(1, 6)]
    late = _run('backprop', 1, 0)
    late['curve'] = [(1, 10.0), (2, 10.0), (3, 19.9), (4, 20.0), (5, 85.0)]
    table = study.group_table([stuck, late], 80, 20)
    assert 'first epoch ≥ 20 % per seed | first epoch ≥ 80 % per seed' \
        in table
    assert '| -, 4 | -, 5 |' in table


def test_report_names_the_epochs_a_resumed_run_did_not_validate(tmp_path):
    args = study.parse_args(['--out', str(tmp_path), '--results',
                             str(tmp_path / 'res')])
    whole, gapped = _run('backprop', 0, 80), _run('backprop', 1, 81)
    gapped['curve'] = [c for c in gapped['curve'] if c[0] not in (3, 7)]
    assert study.curve_gaps(whole['curve']) == []
    assert study.curve_gaps(gapped['curve']) == [3, 7]
    text = study.report([], [whole, gapped], args, 'python x')
    notes = [line for line in text.splitlines()
             if line.startswith('Epochs without a validation point')]
    assert len(notes) == 1 and notes[0].endswith(
        f'`{gapped["name"]}` 3, 7.')
    assert whole['name'] not in notes[0]


def test_depth_summary_counts_the_seeds_that_left_chance():
    def run(regime, seed, acc, init='paper'):
        return dict(_run(regime, seed, acc, group='depth'), dataset='mnist',
                    depth=7, init=init, width=11, mult=4.6e6)
    stuck = run('backprop', 1, 0)
    stuck['curve'] = [(e, 11.5) for e in range(1, 6)]
    stuck['accuracy'] = 11.5
    runs = [run('backprop', 0, 97.0), stuck, run('FitNets', 0, 98.0),
            run('FitNets', 1, 96.5), run('backprop', 0, 98.5, 'glorot')]
    table = study.depth_summary_table(runs, 20)
    assert table.splitlines()[0].startswith(
        '| group | data | depth | init | regime | final acc % (mean ± std) '
        '| seeds past 20 % |')
    # paper init first; FitNets - backprop per seed: +1.0, +85.0 (t = 12.71)
    assert table.splitlines()[2:] == [
        '| depth | MNIST | 7 | paper | backprop | 54.25 ± 60.46 | 1/2 | - '
        '| - |',
        '| depth | MNIST | 7 | paper | FitNets | 97.25 ± 1.06 | 2/2 | '
        '+43.00 [-490.82, +576.82] | - |',
        '| depth | MNIST | 7 | glorot | backprop | 98.50 | 1/1 | - | - |']


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir(FASHION),
                    reason='apt-get install dataset-fashion-mnist')
def test_quick_mode_runs_and_resumes(tmp_path):
    cmd = [sys.executable, str(study.REPO) + '/benchmarks/'
           'convergence_study.py', '--quick', '--out', str(tmp_path)]
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    out = subprocess.run(cmd, capture_output=True, text=True, env=env,
                         timeout=1800)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    runs = {p.stem: json.loads(p.read_text())
            for p in (tmp_path / 'runs').glob('*.json')}
    assert sorted(runs) == sorted(
        ['fashion_teacher'] + [f'fashion_{r}_s0' for r in
                               ('backprop', 'KD', 'FitNets', 'FSP')])
    for name, run in runs.items():
        assert 1 <= len(run['curve']) <= run['epochs']
        assert all(0 <= a <= 100 for _, a in run['curve'])
        assert run['cpu'] > 0 and 'tools/train.py' in run['command']
    assert 1 <= runs['fashion_FitNets_s0']['hint_epochs'] <= 2
    report = (tmp_path / 'convergence_study.md').read_text()
    assert '| FitNets − backprop |' in report
    assert (tmp_path / 'fashion_curves.png').is_file()
    # a second call reads every run back: nothing is trained
    again = subprocess.run(cmd, capture_output=True, text=True, env=env,
                           timeout=600)
    assert again.returncode == 0
    assert 'core-h' not in again.stdout.split('student runs')[1].split(
        '# Convergence')[0]


def test_runs_go_seed_first_and_never_wait_for_a_teacher(monkeypatch):
    """Seed 0 of every regime first (the model zoo's runs); a distillation
    run starts once its teacher is trained, and meanwhile the free worker
    takes the next run that can start."""
    import threading
    import time
    args = study.parse_args(['--only', 'table4,fashion', '--seeds', '0-1',
                             '--fashion-seeds', '0', '--workers', '2',
                             '--out', '/nonexistent/study'])
    teachers, jobs = study.make_jobs(args)
    started, lock = [], threading.Lock()
    second_seed, teacher_done = threading.Event(), threading.Event()

    def fake_run(job, _args):
        with lock:
            started.append(job['name'])
        if job['name'] == 'table4_backprop_s1':
            second_seed.set()  # runs until the Fashion teacher is trained
            assert teacher_done.wait(10)
            time.sleep(0.3)
        if job['name'] == 'fashion_teacher':
            assert second_seed.wait(10)
            teacher_done.set()
        if job['regime'] not in ('backprop', 'teacher'):
            assert job['teacher_ckpt'] == 'ckpt-of-' + job['dataset']
        return dict(job, accuracy=1.0)

    monkeypatch.setattr(study, 'run_job', fake_run)
    monkeypatch.setattr(study, 'teacher_checkpoint',
                        lambda d: 'ckpt-of-' + os.path.basename(d).split(
                            '_')[0])
    trained, results = study.run_all(teachers, jobs, args)
    assert [t['name'] for t in trained] == ['mnist_teacher',
                                            'fashion_teacher']
    assert [r['name'] for r in results] == [j['name'] for j in jobs]
    assert sorted(started) == sorted(j['name'] for j in teachers + jobs)
    s0 = ['table4_backprop_s0', 'table4_KD_s0', 'table4_FitNets_s0',
          'table4_FSP_s0', 'fashion_backprop_s0']
    assert started[2:7] == s0  # while the Fashion teacher trains
    assert started.index('table4_backprop_s1') == 7
    # the Fashion teacher done: its seed-0 students before seed 1's KD
    assert started.index('fashion_FSP_s0') < started.index('table4_KD_s1')


def test_a_failed_run_does_not_stop_the_others(monkeypatch, capsys):
    """A failed backprop run and a failed teacher: every other run still
    goes (the students of that teacher are not started), then one error
    names them."""
    args = study.parse_args(['--only', 'table4,fashion', '--seeds', '0-1',
                             '--fashion-seeds', '0', '--workers', '2',
                             '--out', '/nonexistent/study'])
    teachers, jobs = study.make_jobs(args)
    started = []

    def fake_run(job, _args):
        started.append(job['name'])
        if job['name'] in ('table4_backprop_s0', 'fashion_teacher'):
            raise RuntimeError(f'{job["name"]} failed (exit code 1):\nlog')
        return dict(job, accuracy=1.0)

    monkeypatch.setattr(study, 'run_job', fake_run)
    monkeypatch.setattr(study, 'teacher_checkpoint', lambda d: d)
    with pytest.raises(RuntimeError) as err:
        study.run_all(teachers, jobs, args)
    fashion_students = {j['name'] for j in jobs if j['dataset'] == 'fashion'
                        and j['regime'] != 'backprop'}
    assert set(started) == {j['name'] for j in teachers + jobs} - \
        fashion_students
    message = str(err.value)
    assert message.startswith('5 run(s) failed, the 8 others are saved')
    assert 'its teacher fashion_teacher failed' in message
    assert 'table4_backprop_s0: table4_backprop_s0 failed (exit code 1)' \
        in message
    assert 'table4_backprop_s0: FAILED, the other runs go on' in \
        capsys.readouterr().out


def test_the_documented_sitting_and_its_report():
    """docs/en/benchmarks/convergence.md: the sitting and its report name
    the same runs; the report reads them back only."""
    from utils.doc_blocks import commands, doc_block
    run, report = [shlex.split(c) for c in
                   commands(doc_block('convergence-sitting'))]
    assert run[:2] == report[:2] == ['python',
                                     'benchmarks/convergence_study.py']
    assert report[2:] == [a for a in run[2:] if a not in ('--workers', '2')
                          ] + ['--report-only']
    args, report_args = (study.parse_args(c[2:]) for c in (run, report))
    assert report_args.report_only and not args.report_only
    assert study.make_jobs(args) == study.make_jobs(report_args)


def test_a_sitting_on_another_machine_reads_back_committed_runs(
        tmp_path, monkeypatch):
    """Finished runs kept in RESULTS/convergence_runs are restored into a new
    OUT and read back, not trained; a teacher whose folder is gone comes
    from the model zoo."""
    results = tmp_path / 'results'
    args = study.parse_args(['--only', 'table4', '--seeds', '0',
                             '--regimes', 'backprop,KD', '--out',
                             str(tmp_path / 'out'), '--results',
                             str(results)])
    teachers, jobs = study.make_jobs(args)
    for name in ('mnist_teacher', 'table4_backprop_s0'):
        study.keep_result(args, dict(name=name, accuracy=97.0))
    assert study.restore_results(teachers, jobs, args) == [
        'mnist_teacher', 'table4_backprop_s0']
    assert study.restore_results(teachers, jobs, args) == []
    trained = []
    runs = load_benchmark('study_runs')

    def fake_command(leaf, work_dir, seed):
        trained.append(os.path.basename(work_dir))
        return [sys.executable, '-c', 'print("Epoch(val) [1][4/4]    '
                'accuracy/top1: 1.0000")']

    monkeypatch.setattr(runs, 'train_command', fake_command)
    _, done = study.run_all(teachers, jobs, args)
    assert trained == ['table4_KD_s0']
    assert [r['accuracy'] for r in done] == [97.0, 1.0]
    assert (results / 'convergence_runs' / 'table4_KD_s0.json').is_file()
    # the zoo's MNIST teacher was published from the study's teacher run
    ckpt = study.teacher_checkpoint(str(tmp_path / 'out' / 'mnist_teacher'))
    assert ckpt.startswith('fitnets_mm://mnist/maxout-teacher_1xb128_mnist_')
    with pytest.raises(FileNotFoundError, match='model zoo has no model'):
        study.teacher_checkpoint(str(tmp_path / 'out' / 'fashion_x'))


def _normalised_report(text: str) -> str:
    """A report without what depends on where it was written: the command
    line (its --out and --results), the leaf folder and the machine."""
    text = re.sub(r'Command: `[^`]*`', 'Command: CMD', text)
    text = re.sub(r'`[^`]*/leaves/NAME\.py`', '`OUT/leaves/NAME.py`', text)
    return text.split('\nMachine:')[0]


def test_the_committed_report_is_reproduced_from_the_committed_runs(
        tmp_path, monkeypatch, capsys):
    """The documented report command, run on a machine that has only the
    committed runs (no study folder, no data, no training), writes the
    committed report: every table, figure and total in it comes from the
    saved runs."""
    from utils.doc_blocks import commands, doc_block
    committed = Path(study.REPO) / 'benchmarks' / 'results'
    report_cmd = shlex.split(commands(doc_block('convergence-sitting'))[1])
    text = (committed / 'convergence_study.md').read_text()
    assert f'Command: `{shlex.join(report_cmd)}`' in text
    shutil.copytree(committed / 'convergence_runs',
                    tmp_path / 'res' / 'convergence_runs')
    monkeypatch.setattr(study.me, 'MAKE_SPLIT', '/nonexistent/split.py')
    argv = report_cmd[2:] + ['--out', str(tmp_path / 'out'), '--results',
                             str(tmp_path / 'res'), '--data',
                             str(tmp_path / 'no_data')]
    study.main(argv)
    assert 'core-h' not in capsys.readouterr().out.split('student runs')[1] \
        .split('# Convergence')[0], 'a run was trained, not read back'
    again = (tmp_path / 'res' / 'convergence_study.md').read_text()
    assert _normalised_report(again) == _normalised_report(text)
    pngs = re.findall(r'\]\(([\w-]+\.png)\)', text)
    assert 'table4_curves.png' in pngs and 'fashion_curves.png' in pngs
    for png in pngs:
        assert (tmp_path / 'res' / png).stat().st_size > 5000, png


def quoted_tables(page: str) -> dict:
    """The text between each ``<!-- NAME: start -->`` and
    ``<!-- NAME: end -->`` of a page, by NAME."""
    return {name: body.strip() for name, body in re.findall(
        r'^<!-- ([\w-]+): start -->$(.*?)^<!-- \1: end -->$', page,
        re.S | re.M)}


def test_the_readme_and_docs_quote_the_reports_summary():
    """The results tables of the README and of the evidence page are the
    committed report's summaries (the evidence page quotes every one, the
    depth summary too once the report has one; the README at least the
    main summary), and the README's command is the documented report
    command (whose output the test above rebuilds from the committed
    runs)."""
    from utils.doc_blocks import commands, doc_block
    readme = (Path(study.REPO) / 'README.md').read_text()
    report = (Path(study.REPO) / 'benchmarks' / 'results' /
              'convergence_study.md').read_text()
    assert [shlex.split(c) for c in commands(doc_block('readme-results'))] \
        == [shlex.split(commands(doc_block('convergence-sitting'))[1])]
    tables = study.report_tables(report)
    assert tables['convergence-summary'].count('\n| ') >= 10
    docs = (Path(study.REPO) / 'docs' / 'en' / 'benchmarks' /
            'convergence.md').read_text()
    for page, must in ((readme, {'convergence-summary'}),
                       (docs, set(tables))):
        quoted = {name: body for name, body in quoted_tables(page).items()
                  if name.startswith('convergence-')}
        assert must <= set(quoted)
        assert quoted == {name: tables.get(name) for name in quoted}


def test_quoted_tables_reads_each_marked_block():
    page = ('x `<!-- a-b: start -->`\n<!-- a-b: start -->\n\n| 1 |\n\n'
            '<!-- a-b: end -->\n<!-- c: start -->\n| 2 |\n<!-- c: end -->')
    assert quoted_tables(page) == {'a-b': '| 1 |', 'c': '| 2 |'}


def test_quote_in_rewrites_the_marked_tables_of_a_page(tmp_path):
    report = ('# R\n\n## Summary\n\n| a |\n|---|\n| 1 |\n\nTeacher\n\n'
              '## Depth summary\n\n| d |\n|---|\n| 7 |\n\n## table4\n')
    tables = study.report_tables(report)
    assert tables == {'convergence-summary': '| a |\n|---|\n| 1 |',
                      'convergence-depth-summary': '| d |\n|---|\n| 7 |'}
    page = tmp_path / 'page.md'
    page.write_text('x `<!-- convergence-summary: start -->`\n'
                    '<!-- convergence-summary: start -->\nold\n'
                    '<!-- convergence-summary: end -->\ny\n'
                    '<!-- convergence-depth-summary: start -->\n'
                    '<!-- convergence-depth-summary: end -->\n')
    study.quote_in(str(page), tables)
    assert quoted_tables(page.read_text()) == tables
    assert page.read_text().startswith(
        'x `<!-- convergence-summary: start -->`\n<!-- convergence-summary: '
        'start -->\n\n| a |')
    # a page may quote some of the tables
    some = tmp_path / 'some.md'
    some.write_text('<!-- convergence-summary: start -->\n'
                    '<!-- convergence-summary: end -->\n')
    study.quote_in(str(some), tables)
    assert quoted_tables(some.read_text()) == {
        'convergence-summary': tables['convergence-summary']}
    bare = tmp_path / 'bare.md'
    bare.write_text('no markers\n')
    with pytest.raises(ValueError, match=r"bare\.md quotes none of the "
                       r"report's tables: .*'convergence-depth-summary', "
                       r"'convergence-summary'"):
        study.quote_in(str(bare), tables)


@pytest.mark.parametrize('argv, kept', [
    (['--only', 'table4', '--quote-in', 'README.md', 'd.md',
      '--report-only'], ['--only', 'table4', '--report-only']),
    (['--quote-in=README.md', '--seeds', '0-4'], ['--seeds', '0-4']),
    (['--report-only'], ['--report-only'])])
def test_the_recorded_command_leaves_out_quote_in(argv, kept):
    assert study.without_quote_in(argv) == kept


def test_quote_in_a_missing_or_unmarked_page_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit):
        study.parse_args(['--quote-in', str(tmp_path / 'gone.md')])
    assert f'--quote-in: no page {tmp_path / "gone.md"}' in \
        capsys.readouterr().err
    bare = tmp_path / 'bare.md'
    bare.write_text('no markers\n')
    runs = tmp_path / 'res' / 'convergence_runs'
    runs.mkdir(parents=True)
    (runs / 'table4_backprop_s0.json').write_text(json.dumps(
        _run('backprop', 0, 90, group='table4')))
    with pytest.raises(SystemExit, match=r"^convergence_study\.py: error: "
                       r".*bare\.md quotes none of the report's tables"):
        study.main(['--only', 'table4', '--seeds', '0', '--regimes',
                    'backprop', '--report-only', '--out',
                    str(tmp_path / 'out'), '--results',
                    str(tmp_path / 'res'), '--quote-in', str(bare)])
