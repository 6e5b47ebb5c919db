"""Every markdown table of the pages ends with a blank line.

GitHub's renderer reads a line of text right after a table as one more
row, so a paragraph that follows a table without a blank line is swallowed
into it (the README's speed table had one).
"""
from pathlib import Path
from typing import List

from utils.doc_blocks import REPO_ROOT, rendered_pages

PAGES = rendered_pages()


def table_ends_without_blank_line(text: str) -> List[int]:
    """The 1-based numbers of text lines that follow a table row."""
    lines, fenced, found = text.split('\n'), False, []
    for number, (row, after) in enumerate(zip(lines, lines[1:]), start=2):
        if row.lstrip().startswith('```'):
            fenced = not fenced
        is_row = row.strip().startswith('|') and row.strip().endswith('|')
        if not fenced and is_row and after.strip() and \
                not after.lstrip().startswith('|'):
            found.append(number)
    return found


def test_the_check_finds_a_swallowed_paragraph() -> None:
    text = '| a | b |\n|---|---|\n| 1 | 2 |\nText.\n\n| c |\n\nMore.\n'
    assert table_ends_without_blank_line(text) == [4]
    assert table_ends_without_blank_line('```\n| a |\ntext\n```\n') == []


def test_every_table_ends_with_a_blank_line() -> None:
    assert len(PAGES) > 20
    bad = [f'{page.relative_to(REPO_ROOT)}:{number}' for page in PAGES
           for number in table_ends_without_blank_line(page.read_text())]
    assert not bad, bad
