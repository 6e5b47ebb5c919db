"""Every relative link and image of the pages points to a file that is
committed.

Sphinx checks the documentation's own cross-references, but not the
README (GitHub renders it) nor a link from a page to a file outside
``docs/`` such as a benchmark's plot.
"""
import re
from pathlib import Path
from typing import List, Tuple

from utils.doc_blocks import REPO_ROOT, rendered_pages

PAGES = rendered_pages()
LINK = re.compile(r'\]\(([^)\s]+)\)')


def broken_links(page: Path) -> List[Tuple[int, str]]:
    """The (line number, target) of each relative link of ``page``
    outside code whose file does not exist."""
    found, fenced = [], False
    for number, line in enumerate(page.read_text().split('\n'), start=1):
        if line.lstrip().startswith('```'):
            fenced = not fenced
        if fenced:
            continue
        for target in LINK.findall(re.sub(r'`[^`]*`', '', line)):
            path = target.split('#')[0]
            if not path or re.match(r'[a-z]+:', path):
                continue  # an anchor on the page, or a URL
            if not (page.parent / path).exists():
                found.append((number, target))
    return found


def test_the_check_finds_a_missing_file(tmp_path: Path) -> None:
    page = tmp_path / 'page.md'
    (tmp_path / 'there.png').write_bytes(b'')
    page.write_text('![a](there.png) [b](gone.md#x) [c](#anchor)\n'
                    '[d](https://example.org) `[e](code.md)`\n'
                    '```\n[f](fenced.md)\n```\n')
    assert broken_links(page) == [(1, 'gone.md#x')]


def test_every_relative_link_resolves() -> None:
    broken = {str(page.relative_to(REPO_ROOT)): links for page in PAGES
              if (links := broken_links(page))}
    assert not broken, broken
