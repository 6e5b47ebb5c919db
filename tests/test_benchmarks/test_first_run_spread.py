"""benchmarks/first_run_spread.py repeats the README's first run: it reads
the same commands as the README's test, and parses seed lists."""
import shlex

from utils.benchmarks import load_benchmark
from utils.doc_blocks import commands, doc_block

spread = load_benchmark('first_run_spread')


def test_it_runs_the_readmes_python_commands():
    block = [shlex.split(c) for c in commands(doc_block('first-run'))]
    assert spread.readme_commands() == [c for c in block
                                        if c[0] == 'python']
    assert len(spread.readme_commands()) == 3


def test_seed_lists():
    assert spread.parse_seeds('0-4') == [0, 1, 2, 3, 4]
    assert spread.parse_seeds('1,5-6') == [1, 5, 6]
