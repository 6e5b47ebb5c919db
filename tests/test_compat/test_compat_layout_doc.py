"""``docs/en/notes/compat_layout.md`` names every switch and real files."""
import re
from pathlib import Path
from typing import List

from fitnets_mm_startup import FIX_NAMES

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGE = REPO_ROOT / 'docs' / 'en' / 'notes' / 'compat_layout.md'


def _parts_table() -> List[List[str]]:
    text = PAGE.read_text().split('## The parts', 1)[1].split('\n## ', 1)[0]
    return [[cell.strip() for cell in line.strip('|').split('|')]
            for line in text.splitlines()
            if line.startswith('| `')]


def test_every_switch_has_a_row_and_nothing_else_does() -> None:
    switches = {row[0].strip('`') for row in _parts_table()}
    assert switches == set(FIX_NAMES)


def test_every_file_named_exists() -> None:
    for row in _parts_table():
        for name in re.findall(r'`([\w/.-]+\.(?:py|pth))`', row[1]):
            folder = REPO_ROOT if '-' in name or name.startswith(
                'fitnets_mm_startup') else REPO_ROOT / 'fitnets_mm'
            assert (folder / name).is_file(), (row[0], name)


def test_compat_holds_only_the_third_party_changes() -> None:
    """The project's own features are not under compat/."""
    in_compat = {p.stem for p in (REPO_ROOT / 'fitnets_mm' / 'compat').glob(
        '*.py')} - {'__init__', 'switches'}
    assert in_compat == {
        'best_checkpoint_order', 'config_scope', 'cpu_distributed',
        'dataset_download', 'dist_collect_dir', 'mim_editable', 'mmcls_rename',
        'mmcls_scope', 'mmrazor_import', 'mmrazor_inplace', 'mmrazor_nhwc',
        'mnist_files'
    }
