"""One run of a study: a leaf config trained by ``tools/train.py``.

Shared by ``mnist_evidence.py`` and ``convergence_study.py``. A run is a
leaf config (written to ``OUT/leaves/NAME.py``, not into the work dir,
where the Runner dumps the merged config by the same file name) trained in
``OUT/NAME`` with one torch thread; its result is saved in
``OUT/runs/NAME.json``, so a second call reads it back instead of training
again (studies split over several sittings).
"""
import json
import os
import subprocess
import sys
import time
from typing import Callable, Dict, List

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = ['REPO', 'result_path', 'train_command', 'train_leaf']


def result_path(out: str, name: str) -> str:
    """Where the result of run ``name`` of the study in ``out`` is saved."""
    return os.path.join(out, 'runs', name + '.json')


def train_command(leaf: str, work_dir: str, seed: int) -> List[str]:
    """The ``tools/train.py`` command of a run; it resumes from the work
    dir's last checkpoint when there is one."""
    cmd = [sys.executable, os.path.join(REPO, 'tools', 'train.py'), leaf,
           '--work-dir', work_dir, '--cfg-options', f'randomness.seed={seed}']
    if os.path.isfile(os.path.join(work_dir, 'last_checkpoint')):
        cmd.insert(3, '--resume')
    return cmd


def train_leaf(name: str, leaf_text: str, seed: int, out: str,
               summarise: Callable[[str], Dict[str, object]],
               extra: Dict[str, object]) -> dict:
    """Train one run (resuming an unfinished one), or read its result.

    Args:
        name (str): The run's name (its work dir and result file).
        leaf_text (str): The leaf config.
        seed (int): ``randomness.seed``.
        out (str): The study's folder.
        summarise (Callable[[str], dict]): What the result keeps of the
            training log (accuracy, curve, ...); raises if the log has none.
        extra (dict): Saved in the result too (the job's description).

    Returns:
        dict: ``extra``, ``summarise(log)``, ``wall`` and ``cpu`` seconds and
        the command (repository-relative).

    Raises:
        RuntimeError: The training failed; the message ends with its log.
    """
    saved = result_path(out, name)
    if os.path.isfile(saved):
        with open(saved) as f:
            return json.load(f)
    work_dir = os.path.join(out, name)
    os.makedirs(work_dir, exist_ok=True)
    leaf = os.path.join(out, 'leaves', name + '.py')
    os.makedirs(os.path.dirname(leaf), exist_ok=True)
    with open(leaf, 'w') as f:
        f.write(leaf_text)
    cmd = train_command(leaf, work_dir, seed)
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
               PYTHONWARNINGS='ignore')
    t0 = time.time()
    out_log = os.path.join(work_dir, 'train_output.log')
    with open(out_log, 'a') as f:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=f,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.time() - t0
    with open(out_log) as f:
        log = f.read()
    if status != 0:
        raise RuntimeError(f'{name} failed ({status}):\n' + log[-4000:])
    result = dict(extra)
    result.update(summarise(log), wall=wall,
                  cpu=usage.ru_utime + usage.ru_stime,
                  command=' '.join(['python'] + cmd[1:]).replace(
                      REPO + os.sep, ''))
    os.makedirs(os.path.dirname(saved), exist_ok=True)
    with open(saved, 'w') as f:
        json.dump(result, f, indent=1)
    return result
