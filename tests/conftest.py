"""Fixtures shared by the whole test suite.

* :data:`REPO_ROOT` and :data:`SHARED_DIR` (``<repo>/../shared``, where the
  project's shared data lives);
* :func:`find_free_port` and the ``free_port`` fixture;
* ``mnist_root``: the MMPretrain MNIST layout (8000 train / 2000 test real
  digits) written once per session by ``shared/data/make_mnist_split.py``;
* ``toy_kd_config``: ``tests/data/configs/toy_kd.py`` pointed at
  ``mnist_root`` through a leaf config;
* ``run_cli``: run a command of the repository in a subprocess, as a user
  would, and fail with its output when it fails;
* ``http_server``: a local HTTP server on 127.0.0.1 serving a temporary
  folder (these machines reach no outside host).
"""
import functools
import http.server
import os
import os.path as osp
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / 'shared'
TOY_KD_CONFIG = REPO_ROOT / 'tests' / 'data' / 'configs' / 'toy_kd.py'


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


SLOW_ENV = 'FITNETS_MM_SLOW_TESTS'


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        '--run-slow', action='store_true', default=False,
        help='also run the tests marked slow (whole trainings, multi-process '
        'runs and benchmark quick modes); same as '
        f'{SLOW_ENV}=1')


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        'markers', 'slow: a whole training, a multi-process run or a '
        'benchmark quick mode (tests/utils/tiers.py lists more); run with '
        '--run-slow')


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config,
                                  items: List[pytest.Item]) -> None:
    """Mark the tests of ``tests/utils/tiers.py`` slow and, without
    ``--run-slow``, skip every slow test.

    ``tryfirst``: the markers must be there before ``-m slow`` selects.
    """
    from utils.tiers import is_slow
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if path.is_relative_to(REPO_ROOT):
            name = getattr(item, 'originalname', None) or item.name
            if item.cls is not None and is_slow(
                    path.relative_to(REPO_ROOT).as_posix(),
                    item.cls.__name__):
                item.add_marker(pytest.mark.slow)
            if is_slow(path.relative_to(REPO_ROOT).as_posix(), name):
                item.add_marker(pytest.mark.slow)
    if config.getoption('--run-slow') or os.environ.get(SLOW_ENV) == '1':
        return
    skip = pytest.mark.skip(
        reason='slow: run with `python -m pytest tests --run-slow`')
    for item in items:
        if 'slow' in item.keywords:
            item.add_marker(skip)


def _restore_default_scopes() -> Iterator[None]:
    from mmengine.registry import DefaultScope
    before = dict(DefaultScope._instance_dict)
    yield
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(before)


@pytest.fixture(autouse=True)
def _isolated_default_scope() -> Iterator[None]:
    """Forget the mmengine default scopes a test created.

    ``init_default_scope`` (tools, runners, tests) leaves a global
    ``DefaultScope`` behind, and a later test that builds from MMRazor's
    registry would then search MMPretrain's, depending on test order.
    """
    yield from _restore_default_scopes()


@pytest.fixture(autouse=True, scope='module')
def _isolated_default_scope_of_the_module() -> Iterator[None]:
    """The same for a test file: a module-scoped fixture that builds a
    Runner (default scope ``'mmengine'``) runs before the per-test reset,
    and its scope would outlive the file."""
    yield from _restore_default_scopes()


@pytest.fixture
def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    return find_free_port()


@pytest.fixture(scope='session')
def mnist_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MMPretrain MNIST folder made from ``shared/data``'s real digits.

    The first 8000 of the official t10k digits are the training split and
    the other 2000 the test split. ``mmpretrain.datasets.MNIST`` picks the
    split by ``test_mode`` only.
    """
    script = SHARED_DIR / 'data' / 'make_mnist_split.py'
    if not script.is_file():
        pytest.skip(f'{script} is missing: the tests that train need the '
                    'shared/ folder beside the repository')
    root = tmp_path_factory.mktemp('mnist')
    subprocess.run([sys.executable, str(script), str(root)], check=True,
                   capture_output=True, timeout=120)
    return root


def write_leaf_config(path: Path, base: Path, data_root: Path) -> Path:
    """Write a config that inherits ``base`` and reads data from ``data_root``.

    Args:
        path (Path): The config file to write.
        base (Path): The config to inherit (its dataloaders are changed).
        data_root (Path): The dataset folder for the train, val and test
            dataloaders.

    Returns:
        Path: ``path``.
    """
    loader = f'dict(dataset=dict(data_root={str(data_root)!r}))'
    path.write_text(f'_base_ = [{str(base)!r}]\n'
                    f'train_dataloader = {loader}\n'
                    f'val_dataloader = {loader}\n'
                    f'test_dataloader = {loader}\n')
    return path


@pytest.fixture(scope='session')
def toy_kd_config(mnist_root: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The toy MMRazor KD config, reading ``mnist_root``."""
    folder = tmp_path_factory.mktemp('configs')
    return write_leaf_config(folder / 'toy_kd_mnist.py', TOY_KD_CONFIG,
                             mnist_root)


def _tail(text: str, lines: int = 60) -> str:
    return '\n'.join(text.splitlines()[-lines:])


@pytest.fixture(scope='session')
def run_cli() -> Callable[..., subprocess.CompletedProcess]:
    """Run a command in the repository root, as a user would type it.

    The returned function takes the argument list (``'python'`` is replaced
    by this interpreter, and this interpreter's folder leads ``PATH`` so that
    shell scripts find the same ``python``), ``env`` (extra variables),
    ``timeout`` in seconds (default 120) and ``check`` (default True: a
    non-zero exit fails the test, showing the end of the output). Standard
    error is merged into standard output.
    """

    def run(args: List[str],
            env: Optional[Dict[str, str]] = None,
            timeout: float = 120,
            check: bool = True) -> subprocess.CompletedProcess:
        args = [sys.executable if a == 'python' else str(a) for a in args]
        full_env = dict(os.environ)
        full_env['PATH'] = (osp.dirname(sys.executable) + os.pathsep +
                            full_env.get('PATH', ''))
        full_env.setdefault('OMP_NUM_THREADS', '1')
        full_env.update(env or {})
        proc = subprocess.run(
            args,
            cwd=REPO_ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout)
        if check and proc.returncode != 0:
            pytest.fail(f'{" ".join(args)} exited with {proc.returncode}:\n'
                        f'{_tail(proc.stdout)}')
        return proc

    return run


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_server(tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Tuple[Path, str]]:
    """Serve a fresh folder over HTTP on 127.0.0.1 for the test's duration.

    Proxy variables are bypassed for 127.0.0.1, and ``TORCH_HOME`` points
    into the test's temporary folder, so downloads are neither sent out nor
    cached between tests.

    Yields:
        Tuple[Path, str]: The served folder and its base URL
        (``http://127.0.0.1:PORT``).
    """
    root = tmp_path / 'served'
    root.mkdir()
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    monkeypatch.setenv('NO_PROXY', '127.0.0.1,localhost')
    monkeypatch.setenv('no_proxy', '127.0.0.1,localhost')
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
