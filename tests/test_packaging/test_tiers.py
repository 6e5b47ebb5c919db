"""The slow tier's list names tests that exist, and the markers apply."""
import re
import subprocess
import sys

import pytest
from utils.tiers import ALL, SLOW_TESTS, is_slow

from conftest import REPO_ROOT


def test_every_listed_test_exists() -> None:
    missing = []
    for path, names in SLOW_TESTS.items():
        file = REPO_ROOT / path
        if not file.is_file():
            missing.append(path)
            continue
        if names == ALL:
            continue
        text = file.read_text()
        missing += [
            f'{path}::{name}' for name in sorted(names)
            if not re.search(rf'^\s*(def|class) {re.escape(name)}\b', text,
                             re.M)
        ]
    assert not missing, (f'tests/utils/tiers.py lists {missing}, which do '
                         'not exist: update the list')


def test_is_slow() -> None:
    launcher = 'tests/test_reliability/test_launcher_death.py'
    kill = 'tests/test_reliability/test_kill_resume.py'
    assert is_slow(launcher, 'anything')
    assert is_slow(kill, 'test_kill_in_both_stages_resume_is_bitwise_exact')
    assert not is_slow(kill, 'test_no_such_test')
    assert not is_slow('tests/test_models/none.py', 'test_x')


@pytest.mark.slow
def test_listed_tests_are_selected_by_the_slow_marker() -> None:
    """``-m slow`` collects the listed tests; the default run skips them."""
    target = 'tests/test_reliability/test_kill_resume.py'
    out = subprocess.run(
        [sys.executable, '-m', 'pytest', target, '--collect-only', '-q',
         '-p', 'no:cacheprovider', '--run-slow', '-m', 'slow'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300).stdout
    selected = {line.split('::')[1].split('[')[0]
                for line in out.splitlines() if '::' in line}
    assert selected == set(SLOW_TESTS[target]), out[-2000:]
