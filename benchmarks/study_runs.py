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

__all__ = [
    'REPO', 'RUNNER_START', 'SITTING_MARK', 'atomic_json', 'record_sitting',
    'result_path', 'train_command', 'train_leaf'
]


#: Written to a run's ``train_output.log`` before each sitting.
SITTING_MARK = '=== study sitting'
#: What each start of mmengine's Runner logs once (counts the sittings,
#: those of earlier versions of this script included).
RUNNER_START = 'Distributed launcher: '


def atomic_json(path: str, data: object) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file, so that
    an interrupted write leaves the old file or none."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, path)


def record_sitting(work_dir: str, wall: float, cpu: float,
                   exit_code: int) -> List[dict]:
    """Add one sitting's wall and CPU seconds to ``WORK_DIR/sittings.json``.

    Returns:
        list[dict]: Every sitting recorded so far (a resumed run is counted
        whole).
    """
    path = os.path.join(work_dir, 'sittings.json')
    sittings = []
    if os.path.isfile(path):
        with open(path) as f:
            sittings = json.load(f)
    sittings.append(dict(wall=wall, cpu=cpu, exit_code=exit_code))
    atomic_json(path, sittings)
    return sittings


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
        dict: ``extra``, ``summarise(log)``, ``wall`` and ``cpu`` seconds
        summed over the sittings of the run (``sittings``; those before
        this script recorded them are counted in ``unmeasured_sittings``)
        and the command (repository-relative).

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
        f.write(f'{SITTING_MARK} {time.strftime("%Y-%m-%d %H:%M:%S")}\n')
        f.flush()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=f,
                                stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    sittings = record_sitting(work_dir, time.time() - t0,
                              usage.ru_utime + usage.ru_stime,
                              proc.returncode)
    with open(out_log) as f:
        log = f.read()
    if proc.returncode != 0:
        raise RuntimeError(f'{name} failed (exit code {proc.returncode}):\n'
                           + log[-4000:])
    result = dict(extra)
    result.update(summarise(log),
                  wall=sum(s['wall'] for s in sittings),
                  cpu=sum(s['cpu'] for s in sittings),
                  sittings=len(sittings),
                  unmeasured_sittings=max(
                      0, log.count(RUNNER_START) - len(sittings)),
                  command=' '.join(['python'] + cmd[1:]).replace(
                      REPO + os.sep, ''))
    atomic_json(saved, result)
    return result
