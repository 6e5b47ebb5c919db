"""Expected user errors of the tools end in one line, without traceback;
``--help`` and path errors answer before torch is imported."""
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

import fitnets_mm_cli

REPO_ROOT = Path(__file__).resolve().parents[2]
TESTS = REPO_ROOT / 'tests'
TOY_KD = TESTS / 'data' / 'configs' / 'toy_kd.py'
HINT = '(run with --debug or FITNETS_MM_DEBUG=1 for the traceback)'


def _run(args: List[str], cwd: Path, timeout: float = 300,
         **env: str) -> subprocess.CompletedProcess:
    full_env: Dict[str, str] = dict(os.environ)
    full_env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(TESTS), str(REPO_ROOT),
                    full_env.get('PYTHONPATH', '')) if p)
    full_env.update(OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    full_env.pop(fitnets_mm_cli.DEBUG_ENV, None)
    full_env.update(env)
    return subprocess.run([sys.executable, *map(str, args)], cwd=cwd,
                          env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def _imports(proc: subprocess.CompletedProcess) -> List[str]:
    """Top-level modules imported, from PYTHONPROFILEIMPORTTIME's lines."""
    names = []
    for line in proc.stderr.splitlines():
        if line.startswith('import time:') and '|' in line:
            names.append(line.rsplit('|', 1)[1].strip())
    return names


def _error_line(proc: subprocess.CompletedProcess) -> str:
    """The one error line; fails if there is a traceback or more."""
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert 'Traceback' not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith('error: ')]
    assert len(errors) == 1 and errors[0] == lines[-1], proc.stderr[-3000:]
    assert errors[0].endswith(HINT)
    return errors[0]


@pytest.mark.parametrize('tool', ['tools/train.py', 'tools/test.py'])
def test_help_answers_before_the_heavy_imports(tool: str,
                                               tmp_path: Path) -> None:
    proc = _run([REPO_ROOT / tool, '--help'], tmp_path,
                PYTHONPROFILEIMPORTTIME='1')
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '--debug' in proc.stdout
    imported = _imports(proc)
    assert imported, 'no import-time lines: the check would pass vacuously'
    for heavy in ('torch', 'mmrazor', 'mmpretrain', 'fitnets_mm'):
        assert heavy not in imported, f'{tool} --help imported {heavy}'


@pytest.mark.parametrize('tool,args', [
    ('tools/train.py', ['configs/nope.py']),
    ('tools/test.py', ['configs/nope.py', 'x.pth']),
    ('tools/analysis/get_flops.py', ['configs/nope.py']),
    ('tools/analysis/analyze_logs.py', ['work_dirs/nope/scalars.json']),
])
def test_missing_relative_path_is_one_line_before_imports(
        tool: str, args: List[str], tmp_path: Path) -> None:
    proc = _run([REPO_ROOT / tool, *args], tmp_path,
                PYTHONPROFILEIMPORTTIME='1')
    imported = _imports(proc)
    assert 'torch' not in imported and 'fitnets_mm' not in imported
    proc = _run([REPO_ROOT / tool, *args], tmp_path)
    line = _error_line(proc)
    assert proc.stderr.strip() == line and not proc.stdout.strip()
    assert f'{args[0]!r} does not exist' in line
    assert f'relative paths are read from the current folder, {tmp_path}' \
        in line


def test_missing_checkpoint_is_one_line(tmp_path: Path) -> None:
    proc = _run([REPO_ROOT / 'tools' / 'test.py', TOY_KD,
                 tmp_path / 'none.pth'], tmp_path)
    line = _error_line(proc)
    assert f"checkpoint file '{tmp_path / 'none.pth'}' does not exist" in \
        line


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    for args, env in (([], {fitnets_mm_cli.DEBUG_ENV: '1'}),
                      (['--debug'], {})):
        proc = _run([REPO_ROOT / 'tools' / 'train.py', 'nope.py', *args],
                    tmp_path, **env)
        assert proc.returncode == 1
        assert 'Traceback' in proc.stderr
        assert 'UserError' in proc.stderr


def test_argument_error_answers_before_the_heavy_imports(
        tmp_path: Path) -> None:
    proc = _run([REPO_ROOT / 'tools' / 'train.py', TOY_KD, '--reset-lr'],
                tmp_path, PYTHONPROFILEIMPORTTIME='1')
    assert proc.returncode == 2
    assert 'error: --reset-lr needs --resume' in proc.stderr
    assert 'torch' not in _imports(proc)


def _tiny(folder: Path) -> Path:
    """The tiny FitNets config: its data is made in memory."""
    from utils import reliability
    return Path(reliability.logged_two_stage_config(str(folder), None))


def test_bad_url_is_one_line(tmp_path: Path) -> None:
    from conftest import find_free_port
    url = f'http://127.0.0.1:{find_free_port()}/none.pth'  # nothing listens
    proc = _run([REPO_ROOT / 'tools' / 'test.py', _tiny(tmp_path), url,
                 '--work-dir', tmp_path / 'work'], tmp_path,
                NO_PROXY='127.0.0.1', no_proxy='127.0.0.1',
                TORCH_HOME=str(tmp_path / 'torch_home'))
    line = _error_line(proc)
    assert url in line


def test_bad_config_key_is_one_line(tmp_path: Path) -> None:
    proc = _run([REPO_ROOT / 'tools' / 'train.py', _tiny(tmp_path),
                 '--cfg-options',
                 'model.architecture.backbone.no_such_option=1'], tmp_path)
    line = _error_line(proc)
    assert 'no_such_option' in line


def test_bad_data_is_one_line(tmp_path: Path) -> None:
    # toy_kd.py reads data/mnist (relative) with download=False.
    proc = _run([REPO_ROOT / 'tools' / 'train.py', TOY_KD, '--work-dir',
                 tmp_path / 'work'], tmp_path)
    line = _error_line(proc)
    assert 'Cannot find MNIST dataset in data/mnist' in line


def test_not_a_checkpoint_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / 'bad.pth'
    bad.write_text('not a checkpoint\n')
    proc = _run([REPO_ROOT / 'tools' / 'test.py', _tiny(tmp_path), bad,
                 '--work-dir', tmp_path / 'work'], tmp_path)
    line = _error_line(proc)
    assert str(bad) in line
