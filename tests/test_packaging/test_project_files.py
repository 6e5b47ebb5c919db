"""LICENSE, the metafile's fields and tools/slurm_test.sh."""
import os
import subprocess
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_license_is_the_declared_apache_2() -> None:
    text = (REPO_ROOT / 'LICENSE').read_text()
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text
    assert 'END OF TERMS AND CONDITIONS' in text
    assert "license='Apache-2.0'" in (REPO_ROOT / 'setup.py').read_text()


def test_metafile_has_no_converted_from() -> None:
    meta = yaml.safe_load((REPO_ROOT / 'configs' / 'fitnets' /
                           'metafile.yml').read_text())
    for collection in meta['Collections']:
        # `Converted From` is for weights ported from another codebase.
        assert 'Converted From' not in collection
    for model in meta.get('Models') or []:
        assert 'Converted From' not in model


def test_slurm_test_calls_test_py_with_the_slurm_launcher(
        tmp_path: Path) -> None:
    fake_srun = tmp_path / 'srun'
    fake_srun.write_text('#!/usr/bin/env bash\necho "srun $*"\n')
    fake_srun.chmod(0o755)
    env = dict(os.environ, PATH=f'{tmp_path}:{os.environ["PATH"]}',
               GPUS='4', GPUS_PER_NODE='2')
    proc = subprocess.run(
        ['bash', 'tools/slurm_test.sh', 'part', 'job', 'cfg.py', 'ckpt.pth',
         '--out', 'm.json'],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line.startswith('srun -p part --job-name=job --gres=gpu:2 '
                           '--ntasks=4 --ntasks-per-node=2')
    assert line.endswith('tools/test.py cfg.py ckpt.pth --launcher=slurm '
                         '--out m.json')
