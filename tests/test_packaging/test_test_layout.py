"""The tests share one helper package (``tests/utils``) and leave
``sys.path`` alone."""
import re
from pathlib import Path

import utils
from utils import benchmarks, reliability, tool_checkpoints, toy_models

TESTS = Path(__file__).resolve().parents[1]


def test_helpers_are_one_package_under_tests() -> None:
    for module in (utils, benchmarks, reliability, tool_checkpoints,
                   toy_models):
        assert Path(module.__file__).resolve().parent == TESTS / 'utils'


def test_no_test_file_changes_sys_path() -> None:
    changes = re.compile(r'sys\.path\.(insert|append|extend|remove)\(')
    offenders = [
        str(path.relative_to(TESTS)) for path in sorted(TESTS.rglob('*.py'))
        if changes.search(path.read_text())
    ]
    assert offenders == [], (
        f'{offenders} change sys.path; import helpers from tests/utils '
        '(on the path through setup.cfg) and benchmarks with '
        'utils.benchmarks.load_benchmark instead.')


def test_load_benchmark_imports_a_script_by_name() -> None:
    fake_data = benchmarks.load_benchmark('fake_data')
    assert hasattr(fake_data, 'write_fake_cifar10')
    assert benchmarks.load_benchmark('fake_data') is fake_data
    try:
        benchmarks.load_benchmark('no_such_benchmark')
    except FileNotFoundError as err:
        assert 'fake_data' in str(err)
    else:
        raise AssertionError('a missing benchmark must raise')
