"""The README's first run, repeated over seeds: what a new user gets.

Runs the ``python`` commands of the README's first-run block (the block
marked ``#first-run``) as written, in a fresh folder laid out like a clone
(``configs`` and ``tools``), once per seed (``randomness.seed=S`` added to
the training command; the README's run draws a random seed), and prints the
exported student's test accuracy and the time of each run. The test of the
README run (``tests/test_e2e/test_readme_fashion_mnist.py``) sets its bar
far below the lowest accuracy measured here.

    python benchmarks/first_run_spread.py --seeds 0-4
"""
import argparse
import os
import platform
import re
import resource
import shlex
import statistics
import subprocess
import sys
import time
from typing import List, Optional, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, 'README.md')
BLOCK_ID = 'first-run'


def readme_commands(readme: str = README) -> List[List[str]]:
    """The ``python`` commands of the README's first-run shell block."""
    with open(readme) as f:
        text = f.read()
    marker = re.search(rf'<!-- tested-by: [^>]*#{BLOCK_ID} -->\s*```shell\n'
                       r'(.*?)```', text, re.S)
    if marker is None:
        raise ValueError(f'{readme} has no shell block marked #{BLOCK_ID}')
    lines = marker.group(1).replace('\\\n', ' ').splitlines()
    return [shlex.split(line) for line in lines
            if line.strip().startswith('python ')]


def parse_seeds(text: str) -> List[int]:
    """``0-4`` or ``0,3``."""
    seeds: List[int] = []
    for part in text.split(','):
        low, _, high = part.partition('-')
        seeds += range(int(low), int(high or low) + 1)
    return seeds


def run_once(seed: int, out: str, threads: int) -> dict:
    """The README's commands in ``out/seed_S``; accuracy and times."""
    clone = os.path.join(out, f'seed_{seed}')
    os.makedirs(clone, exist_ok=True)
    for name in ('configs', 'tools'):
        link = os.path.join(clone, name)
        if not os.path.lexists(link):
            os.symlink(os.path.join(REPO, name), link)
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS=str(threads),
               PYTHONWARNINGS='ignore')
    times, output = [], ''
    for i, args in enumerate(readme_commands()):
        if i == 0:
            args = args + (['randomness.seed=' + str(seed)]
                           if '--cfg-options' in args else
                           ['--cfg-options', f'randomness.seed={seed}'])
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.time()
        proc = subprocess.run([sys.executable] + args[1:], cwd=clone,
                              env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise RuntimeError(f'{args} failed:\n{proc.stdout[-3000:]}')
        times.append((time.time() - t0,
                      after.ru_utime + after.ru_stime - before.ru_utime -
                      before.ru_stime))
        output = proc.stdout
    top1 = re.findall(r'accuracy/top1: ([\d.]+)', output)
    return dict(seed=seed, accuracy=float(top1[-1]),
                wall=sum(t[0] for t in times), cpu=sum(t[1] for t in times),
                train_wall=times[0][0])


def _cpu_name() -> str:
    """The CPU's model name (Linux), else the machine type."""
    try:
        with open('/proc/cpuinfo') as f:
            found = re.search(r'model name\s*:\s*(.+)', f.read())
        return found.group(1).strip() if found else platform.machine()
    except OSError:
        return platform.machine()


def main(argv: Optional[Sequence[str]] = None) -> str:
    """Run the seeds; print and save the table."""
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--seeds', type=parse_seeds, default=parse_seeds('0-4'))
    p.add_argument('--threads', type=int, default=2,
                   help='torch threads per run (OMP_NUM_THREADS)')
    p.add_argument('--out', default=os.path.join('work_dirs',
                                                 'first_run_spread'))
    p.add_argument('--results', default=os.path.join(
        REPO, 'benchmarks', 'results', 'first_run_spread.md'))
    args = p.parse_args(argv)
    out = os.path.abspath(args.out)
    load = os.getloadavg()
    rows = []
    for seed in args.seeds:
        rows.append(run_once(seed, out, args.threads))
        print(rows[-1], flush=True)
    accs = [r['accuracy'] for r in rows]
    lines = [
        '# The README\'s first run over seeds', '',
        f'Command: `python benchmarks/first_run_spread.py --seeds '
        f'{",".join(map(str, args.seeds))} --threads {args.threads}`: the '
        "README's `python` commands as written (training with "
        '`randomness.seed=S` added), one run after the other.', '',
        '| seed | student top-1 (%) | training wall (s) | all three '
        'commands: wall (s) | CPU (s) |', '|---:|---:|---:|---:|---:|']
    lines += [f'| {r["seed"]} | {r["accuracy"]:.2f} | {r["train_wall"]:.0f} '
              f'| {r["wall"]:.0f} | {r["cpu"]:.0f} |' for r in rows]
    spread = (f'min {min(accs):.2f}, max {max(accs):.2f}, mean '
              f'{statistics.fmean(accs):.2f}' +
              (f', std {statistics.stdev(accs):.2f}' if len(accs) > 1
               else ''))
    lines += ['', f'Student top-1 over {len(accs)} seeds: {spread}.', '',
              f'Machine: {_cpu_name()}, '
              f'{os.cpu_count()} cores, load average at start '
              f'{load[0]:.1f}; Python {platform.python_version()}.', '']
    text = '\n'.join(lines)
    os.makedirs(os.path.dirname(args.results), exist_ok=True)
    with open(args.results, 'w') as f:
        f.write(text)
    print(text)
    return text


if __name__ == '__main__':
    main()
