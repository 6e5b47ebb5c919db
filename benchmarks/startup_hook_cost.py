"""What fitnets_mm's interpreter-start hook costs each Python start.

Processes ``fitnets_mm-mmrazor-compat.pth`` the way interpreter start does
(``site.addsitedir``) in fresh interpreters started with ``-S`` (so no other
``.pth`` file runs), and reports the median time of that call against an
empty site dir, plus what the hook imported. Run from the repository root::

    python benchmarks/startup_hook_cost.py [--repeat 41] [--source DIR]

``--source`` takes another checkout (e.g. an older commit) whose
``fitnets_mm_startup.py`` and ``.pth`` file are measured instead.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

REPO_ROOT = Path(__file__).resolve().parents[1]
PTH = 'fitnets_mm-mmrazor-compat.pth'

PROBE = '''
import json, site, sys, time
site.addsitedir(sys.argv[1])  # warm up what addsitedir itself imports
before = set(sys.modules)
start, cpu = time.perf_counter(), time.process_time()
site.addsitedir(sys.argv[2])
seconds = time.perf_counter() - start
cpu = time.process_time() - cpu
print(json.dumps(dict(seconds=seconds, cpu=cpu,
                      imported=sorted(set(sys.modules) - before))))
'''


def measure(source: Path, repeat: int) -> Dict[str, object]:
    """Median milliseconds of processing ``source``'s ``.pth`` file.

    Args:
        source (Path): A checkout holding ``fitnets_mm_startup.py`` and the
            ``.pth`` file.
        repeat (int): Fresh interpreters per variant.

    Returns:
        dict: ``hook_ms`` and ``empty_ms`` (median wall time),
        ``hook_cpu_ms`` (median CPU time of the hook's process, which a
        loaded machine disturbs less), ``spread_ms`` (min and max wall time
        of the hook), and ``imported`` (modules the hook imported).
    """
    env = {**os.environ, 'PYTHONPATH': str(source)}
    env.pop('FITNETS_MM_COMPAT_OFF', None)
    times: Dict[str, List[float]] = dict(hook=[], empty=[], cpu=[])
    imported: List[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        warm, empty, hooked = (Path(tmp) / n for n in ('w', 'e', 'h'))
        for folder in (warm, empty, hooked):
            folder.mkdir()
        (hooked / PTH).write_text((source / PTH).read_text())
        for _ in range(repeat):
            for name, folder in (('hook', hooked), ('empty', empty)):
                out = subprocess.run(
                    [sys.executable, '-S', '-c', PROBE, str(warm),
                     str(folder)], capture_output=True, text=True,
                    env=env, check=True, cwd=tmp)  # not '' = a checkout
                result = json.loads(out.stdout)
                times[name].append(result['seconds'] * 1e3)
                if name == 'hook':
                    imported = result['imported']
                    times['cpu'].append(result['cpu'] * 1e3)
    return dict(
        hook_ms=round(statistics.median(times['hook']), 3),
        empty_ms=round(statistics.median(times['empty']), 3),
        hook_cpu_ms=round(statistics.median(times['cpu']), 3),
        spread_ms=[round(min(times['hook']), 3),
                   round(max(times['hook']), 3)],
        imported=imported)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeat', type=int, default=41)
    parser.add_argument('--source', type=Path, default=REPO_ROOT)
    args = parser.parse_args()
    print(json.dumps(measure(args.source.resolve(), args.repeat), indent=1))


if __name__ == '__main__':
    main()
