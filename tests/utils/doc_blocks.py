"""The shell blocks of the documentation and the tests that run them.

Every ```` ```shell ```` block of ``README.md`` and ``docs/en/**/*.md``
carries a marker on the line just above or just below it::

    <!-- tested-by: tests/test_x/test_y.py[#BLOCK_ID] [tests/... ...] -->

A block with an id is read by its tests with :func:`doc_block`, so they run
the documented text itself; a block without one must be matched command by
command by the named files (see :func:`command_signature`).
``tests/test_docs/test_doc_commands.py`` enforces both.
"""
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

REPO_ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r'^\s*<!--\s*tested-by:\s*(.*?)\s*-->\s*$')
_FENCE = re.compile(r'^(\s*)(`{3,}|~{3,})\s*([\w-]*)')


@dataclass
class ShellBlock:
    """One ```` ```shell ```` block of a documentation page.

    Args:
        path (Path): The page, relative to the repository root.
        line (int): The line of the opening fence (1-based).
        text (str): The block's lines, fences and indentation removed.
        tested_by (List[Tuple[str, Optional[str]]]): ``(test file, block
            id)`` of each entry of the block's marker; empty without one.
    """
    path: Path
    line: int
    text: str
    tested_by: List[Tuple[str, Optional[str]]] = field(default_factory=list)

    @property
    def where(self) -> str:
        """``path:line`` of the block, for messages."""
        return f'{self.path}:{self.line}'

    @property
    def block_id(self) -> Optional[str]:
        """The id the marker gives the block, if any."""
        ids = {block_id for _, block_id in self.tested_by if block_id}
        return ids.pop() if len(ids) == 1 else None


def doc_pages() -> List[Path]:
    """``README.md`` and every Markdown page under ``docs/en``."""
    docs = sorted((REPO_ROOT / 'docs' / 'en').rglob('*.md'))
    return [REPO_ROOT / 'README.md'] + [
        p for p in docs if '_build' not in p.relative_to(REPO_ROOT).parts
    ]


def rendered_pages() -> List[Path]:
    """Every page a reader sees rendered: :func:`doc_pages` and the
    benchmarks' Markdown results."""
    return doc_pages() + sorted((REPO_ROOT / 'benchmarks').rglob('*.md'))


def _parse_marker(line: str) -> List[Tuple[str, Optional[str]]]:
    match = MARKER.match(line)
    if not match:
        return []
    entries = []
    for word in match.group(1).split():
        name, _, block_id = word.partition('#')
        entries.append((name, block_id or None))
    return entries


def page_blocks(page: Path) -> Iterator[ShellBlock]:
    """The top-level ```` ```shell ```` blocks of ``page`` with their markers.

    Blocks nested in a longer fence (an example of Markdown shown in a
    ```` ````markdown ```` block) are not blocks of the page.
    """
    lines = page.read_text().splitlines()
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, ticks, lang = fence.groups()
        end = i + 1
        while end < len(lines) and not re.match(
                rf'^\s*{re.escape(ticks[0])}{{{len(ticks)},}}\s*$',
                lines[end]):
            end += 1
        if lang == 'shell':
            body = [
                line[len(indent):] if line.startswith(indent) else line
                for line in lines[i + 1:end]
            ]
            tested_by = _parse_marker(lines[i - 1]) if i > 0 else []
            after = end + 1
            while not tested_by and after < len(lines):
                if lines[after].strip():
                    tested_by = _parse_marker(lines[after])
                    break
                after += 1
            where = (page.relative_to(REPO_ROOT)
                     if page.is_relative_to(REPO_ROOT) else page)
            yield ShellBlock(where, i + 1,
                             '\n'.join(body) + '\n', tested_by)
        i = end + 1


def shell_blocks() -> List[ShellBlock]:
    """Every shell block of ``README.md`` and ``docs/en``."""
    return [block for page in doc_pages() for block in page_blocks(page)]


def doc_block(block_id: str) -> str:
    """The text of the shell block whose marker gives it ``block_id``.

    Args:
        block_id (str): The id after ``#`` in the block's ``tested-by``
            marker, e.g. ``'mnist-quick-run'``.

    Returns:
        str: The block's lines, as a user would copy them.
    """
    found = [b for b in shell_blocks() if b.block_id == block_id]
    assert len(found) == 1, (
        f'expected one documented shell block with id {block_id!r}, found '
        f'{[b.where for b in found]}')
    return found[0].text


def commands(text: str) -> List[str]:
    """The commands of a shell block: continuation lines joined, comments
    and blank lines dropped."""
    joined = re.sub(r'\\\n\s*', ' ', text)
    out = []
    for line in joined.splitlines():
        line = re.sub(r'(^|\s)#.*$', '', line).strip()
        if line:
            out.append(line)
    return out


def _is_placeholder(word: str) -> bool:
    return (word in ('...', '[', ']') or word.startswith('[')
            or word.endswith(']') or re.fullmatch(r'[A-Z_]+', word)
            is not None)


def command_signature(command: str) -> List[str]:
    """What a test must name to exercise ``command``.

    The script or module it runs (``tools/train.py``, ``-m pytest``), the
    config files it gets (by file name), each ``--option``, each key set
    by ``--cfg-options`` (its last part), each ``NAME=value`` variable
    with its values, and the extras of a ``pip install``. Placeholders
    (``CONFIG``, ``[train.py arguments]``, ``...``) are not checked.

    Args:
        command (str): One command of a shell block.

    Returns:
        List[str]: Strings that must all appear in one of the block's tests.
    """
    if re.fullmatch(r'[A-Z_][A-Z0-9_]*=\$\(.*\)', command):
        return []  # a variable for the next command, e.g. a folder
    words = [w for w in shlex.split(command) if not _is_placeholder(w)
             or re.fullmatch(r'[A-Z_][A-Z0-9_]*=\S*', w)]
    signature: List[str] = []
    while words and re.fullmatch(r'[A-Z_][A-Z0-9_]*=\S*', words[0]):
        name, _, value = words.pop(0).partition('=')
        signature.append(name)
        signature += [v for v in value.split(',') if v]
    if not words:
        return signature
    program, args = words[0], words[1:]
    if program == 'pip':
        for word in args:
            match = re.search(r'\[([\w,-]+)\]', word)
            if match:
                signature += match.group(1).split(',')
        return signature
    if program in ('python', 'bash') and args:
        if args[0] == '-m' and len(args) > 1:
            signature.append(args[1])
            args = args[2:]
        else:
            signature.append(args[0])
            args = args[1:]
    else:
        signature.append(program)
    in_cfg_options = False
    for word in args:
        if word.startswith('--'):
            option = word.split('=', 1)[0]
            signature.append(option)
            in_cfg_options = option == '--cfg-options'
        elif in_cfg_options and '=' in word:
            signature.append(word.split('=', 1)[0].split('.')[-1])
        else:
            in_cfg_options = False
            if word.endswith('.py') and 'configs/' in word:
                signature.append(Path(word).name)
    return signature


def normalised_source(path: Path) -> str:
    """A test file's text with ``'a' / 'b'`` path joins written ``a/b``."""
    text = path.read_text()
    return re.sub(r"""['"]\s*/\s*['"]""", '/', text)
