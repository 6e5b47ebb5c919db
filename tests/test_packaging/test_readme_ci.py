"""``.ci/run`` runs exactly the README's install and test commands."""
from pathlib import Path
from typing import List

from utils.doc_blocks import commands, doc_block

REPO_ROOT = Path(__file__).resolve().parents[2]
SLOW = 'python -m pytest tests -q -p no:cacheprovider --run-slow -m slow'
DOCS = 'sphinx-build -W -b html docs/en'


def _quick_start() -> List[str]:
    readme = (REPO_ROOT / 'README.md').read_text()
    block = doc_block('quick-start')
    assert block in readme.split('## Quick start', 1)[1], (
        'the quick-start block is not in the README\'s "Quick start"')
    return commands(block)


def test_quick_start_commands() -> None:
    install, train, test = _quick_start()
    assert install == 'pip install -e ".[tests]"'
    assert train == 'python tools/train.py configs/fitnet_cifar10.py'
    assert test.startswith('python -m pytest tests')


def test_ci_runs_the_readme_commands() -> None:
    ci = (REPO_ROOT / '.ci' / 'run').read_text()
    install, _, test = _quick_start()
    lines = [line.strip() for line in ci.splitlines()]
    assert install in lines
    assert any(line.startswith(test) for line in lines)
    assert 'set -euo pipefail' in ci
    assert 'python3 -m venv' in ci
    assert '-eq 5' in ci  # "no tests collected" fails CI
    # The slow tier the README names runs too, and the docs build.
    assert SLOW in (REPO_ROOT / 'README.md').read_text()
    assert any(line.startswith(SLOW) for line in lines)
    assert any(line.startswith(DOCS) for line in lines)


def test_ci_installs_the_readme_fashion_mnist_package() -> None:
    """Without the package every Fashion-MNIST test skips: CI installs it
    with the README's line, so that they run."""
    readme = (REPO_ROOT / 'README.md').read_text()
    assert 'sudo apt-get install dataset-fashion-mnist' in readme
    ci = (REPO_ROOT / '.ci' / 'run').read_text()
    installs = [line.strip() for line in ci.splitlines()
                if 'apt-get install' in line and not line.strip().startswith(
                    ('#', 'echo'))]
    assert installs and all(
        line.endswith('apt-get install -y -q dataset-fashion-mnist')
        for line in installs)
    # it runs before the tests, and CI fails if the files are not there
    assert ci.index(installs[0]) < ci.index('--run-slow -m slow')
    assert "dpkg -L dataset-fashion-mnist | grep 'idx.-ubyte.gz$'" in ci
