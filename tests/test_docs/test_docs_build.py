"""The documentation site builds without a warning (``sphinx-build -W``)."""
import shlex
from pathlib import Path
from typing import Callable

import pytest
from utils.doc_blocks import commands, doc_block

pytest.importorskip('sphinx')
pytest.importorskip('myst_parser')


def test_docs_build_without_warnings(tmp_path: Path,
                                     run_cli: Callable) -> None:
    (command, ) = commands(doc_block('docs-build'))
    args = shlex.split(command)
    assert args[:3] == ['sphinx-build', '-W', '-b']
    assert args[-2:] == ['docs/en', 'docs/en/_build/html']
    out = tmp_path / 'html'
    proc = run_cli(args[:-1] + [str(out), '-d', str(tmp_path / 'doctrees')],
                   timeout=600)
    assert 'WARNING' not in proc.stdout, proc.stdout[-3000:]
    for page in ('index', 'get_started', 'guarantees', 'compatibility',
                 'api', 'user_guides/configs', 'benchmarks/index'):
        assert (out / f'{page}.html').is_file(), page
    api = (out / 'api.html').read_text()
    assert 'FitNetsDistill' in api and 'HintLoss' in api
