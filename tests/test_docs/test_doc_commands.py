"""Every command of the documentation's shell blocks is run by a test.

Each ```` ```shell ```` block of ``README.md`` and ``docs/en/**/*.md`` names
its tests in a ``<!-- tested-by: ... -->`` marker (``tests/utils/
doc_blocks.py``; the convention is in ``docs/en/notes/docs_conventions.md``).
A block with an id must be read by a named test through
``doc_block('ID')``; otherwise each command's signature (script, config
files, options, variables) must appear in one named test file.
"""
import re
from pathlib import Path
from typing import List

import pytest
from utils.doc_blocks import (REPO_ROOT, ShellBlock, command_signature,
                              commands, normalised_source, page_blocks,
                              shell_blocks)

BLOCKS = shell_blocks()


def _unexercised(block: ShellBlock) -> List[str]:
    """The problems of ``block``'s marker and commands, one line each."""
    if not block.tested_by:
        return [f'{block.where}: no <!-- tested-by: tests/... --> marker']
    problems = []
    sources = {}
    for name, block_id in block.tested_by:
        path = REPO_ROOT / name
        if not (name.startswith('tests/') and name.endswith('.py')
                and path.is_file()):
            problems.append(f'{block.where}: marker names {name!r}, which '
                            'is not a test file of the repository')
            continue
        sources[name] = normalised_source(path)
        if block_id and not re.search(
                rf"""doc_block\(\s*['"]{re.escape(block_id)}['"]\s*\)""",
                sources[name]):
            problems.append(f"{block.where}: {name} does not read the block "
                            f"with doc_block('{block_id}')")
    if problems or any(block_id for _, block_id in block.tested_by):
        return problems
    for command in commands(block.text):
        signature = command_signature(command)
        if not any(all(s in text for s in signature)
                   for text in sources.values()):
            missing = {
                name: [s for s in signature if s not in text]
                for name, text in sources.items()
            }
            problems.append(f'{block.where}: `{command}` is not exercised '
                            f'by {list(sources)} (missing: {missing})')
    return problems


def test_the_docs_have_shell_blocks() -> None:
    pages = {block.path.parts[0] for block in BLOCKS}
    assert {'README.md', 'docs'} <= pages, pages


@pytest.mark.parametrize('block', BLOCKS, ids=lambda b: b.where)
def test_every_documented_command_is_tested(block: ShellBlock) -> None:
    problems = _unexercised(block)
    assert not problems, '\n'.join(problems)


def test_block_ids_are_unique() -> None:
    ids = [b.block_id for b in BLOCKS if b.block_id]
    assert len(ids) == len(set(ids)), ids


def test_the_check_catches_an_untested_command(tmp_path: Path) -> None:
    page = tmp_path / 'probe.md'
    tool = 'python tools/analysis/inspect_layers.py CONFIG'
    inspect = 'tests/test_tools/test_inspect_layers.py'
    page.write_text(
        f'```shell\n{tool}\n```\n\n<!-- tested-by: {inspect} -->\n\n'
        f'```shell\n{tool} --no-such-option\n```\n\n'
        f'<!-- tested-by: {inspect} -->\n\n'
        f'<!-- tested-by: {inspect}#nope -->\n```shell\n{tool}\n```\n\n'
        f'```shell\n{tool}\n```\n\n'
        '<!-- tested-by: tests/test_tools/test_no_such_file.py -->\n\n'
        '````markdown\n```shell\nls\n```\n````\n\n'
        f'```shell\n{tool}\n```\n')
    blocks = list(page_blocks(page))
    assert len(blocks) == 5  # the block inside ````markdown is an example
    problems = [_unexercised(b) for b in blocks]
    assert problems[0] == []
    assert len(problems[1]) == 1 and 'not exercised' in problems[1][0]
    assert '--no-such-option' in problems[1][0]
    assert "doc_block('nope')" in problems[2][0]
    assert 'test_no_such_file.py' in problems[3][0]
    assert 'no <!-- tested-by' in problems[4][0]
