"""``tools/analysis/inspect_layers.py`` on the main CIFAR-10 config."""
import re
import subprocess
import sys
from typing import Dict, List

import pytest
from torch import nn

from utils.tool_checkpoints import REPO_ROOT, run_tool

TOOL = 'tools/analysis/inspect_layers.py'
CONFIG = REPO_ROOT / 'configs' / 'fitnet_cifar10.py'


def _sections(output: str) -> Dict[str, List[str]]:
    """The report's lines by section: 'student', 'teacher', 'pairs'."""
    sections: Dict[str, List[str]] = {}
    current = None
    for line in output.splitlines():
        if line.startswith('Student ('):
            current = 'student'
        elif line.startswith('Teacher ('):
            current = 'teacher'
        elif line.startswith('Hint pairs'):
            current = 'pairs'
        elif line.startswith('Legend'):
            current = None
        if current:
            sections.setdefault(current, []).append(line)
    return sections


def _row(lines: List[str], path: str) -> str:
    rows = [line for line in lines if line[3:].split(' ')[0] == path]
    assert len(rows) == 1, (path, lines)
    return rows[0]


def _conv_params(cin: int, cout: int, kernel: int) -> int:
    return sum(p.numel() for p in nn.Conv2d(cin, cout, kernel).parameters())


@pytest.fixture(scope='module')
def report() -> str:
    """The tool's output on the main config, default options."""
    proc = subprocess.run([sys.executable, TOOL, str(CONFIG)],
                          cwd=REPO_ROOT,
                          stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_help(capsys: pytest.CaptureFixture) -> None:
    code, out = run_tool(TOOL, ['--help'], capsys)
    assert code == 0
    for option in ('--pair', '--input-shape', '--depth', '--cfg-options'):
        assert option in out


def test_tables_show_paths_shapes_and_middle(report: str) -> None:
    sections = _sections(report)
    student, teacher = sections['student'], sections['teacher']
    assert 'probe input (1, 3, 32, 32)' in student[0]
    # The config's hint and guided layers, marked as middle candidates.
    assert _row(student, 'backbone.layer2').startswith('*')
    assert '(1, 256, 16, 16)' in _row(student, 'backbone.layer2')
    assert _row(teacher, 'backbone.layer2').startswith('*')
    assert '(1, 128, 16, 16)' in _row(teacher, 'backbone.layer2')
    # Early and late stages are not middle candidates.
    for lines in (student, teacher):
        for path in ('backbone.conv1', 'backbone.layer1', 'backbone.layer4',
                     'head.fc'):
            assert not _row(lines, path).startswith('*'), path
    assert '(1, 1024, 4, 4)' in _row(student, 'backbone.layer4')
    assert '(1, 10)' in _row(teacher, 'head.fc')
    # --depth 2 by default: no block-level paths; uncalled modules omitted.
    assert 'backbone.layer2.0' not in report
    assert 'loss_module' not in report and 'data_preprocessor' not in report
    assert '* middle candidate' in report


def test_regressor_of_the_config_hint(report: str) -> None:
    pairs = '\n'.join(_sections(report)['pairs'])
    assert ('student backbone.layer2 (1, 256, 16, 16) -> teacher '
            'backbone.layer2 (1, 128, 16, 16)') in pairs
    assert 'Conv2d(256, 128, kernel_size=(3, 3)' in pairs
    assert 'kernel 3x3, stride 1x1, padding 1x1' in pairs
    true_count = _conv_params(256, 128, 3)
    assert true_count == 256 * 128 * 9 + 128 == 295040
    assert re.search(rf'regressor parameters: {true_count} \(', pairs)
    assert 'check: output (1, 128, 16, 16) fits the hint' in pairs


def test_pair_depth_and_input_shape(capsys: pytest.CaptureFixture) -> None:
    code, out = run_tool(TOOL, [
        CONFIG, '--pair', 'backbone.layer3', 'backbone.layer2', '--depth',
        '3', '--input-shape', '3', '64', '64'
    ], capsys)
    assert code == 0
    assert 'probe input (1, 3, 64, 64)' in out
    assert 'backbone.layer2.0' in out  # block level shown with --depth 3
    # layer3 of the student (512 x 16 x 16) is half the size of the
    # teacher's layer2 (128 x 32 x 32): a stride-2 transposed conv.
    assert ('(--pair) student backbone.layer3 (1, 512, 16, 16) -> teacher '
            'backbone.layer2 (1, 128, 32, 32)') in out
    assert 'transposed conv kernel 2x2, stride 2x2' in out
    count = sum(p.numel()
                for p in nn.ConvTranspose2d(512, 128, 2, 2).parameters())
    assert f'regressor parameters: {count} (' in out

