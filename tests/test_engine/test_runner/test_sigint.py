"""``fitnets_mm.engine.runner.sigint``: Ctrl-C ends a process with one
line and status 130, also when a library turned the ``KeyboardInterrupt``
into another error (mmengine's ``Config.pretty_text`` does)."""
import pytest

from fitnets_mm.engine.runner.sigint import (INTERRUPTED_EXIT_STATUS,
                                             one_line_on_sigint)


def _masked_interrupt() -> None:
    try:
        raise KeyboardInterrupt
    except:  # noqa: E722  (as mmengine's Config.pretty_text does)
        raise SyntaxError('Failed to format the config file')


@pytest.mark.parametrize('raise_it', [_masked_interrupt, KeyboardInterrupt],
                         ids=['masked', 'plain'])
def test_interrupt_is_one_line(raise_it: object,
                               monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture) -> None:
    import signal
    monkeypatch.setenv('RANK', '1')
    previous = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as exit_:
            with one_line_on_sigint():
                if isinstance(raise_it, type):
                    raise raise_it
                raise_it()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert exit_.value.code == INTERRUPTED_EXIT_STATUS == 130
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith('fitnets_mm: rank 1 stopped by SIGINT')
    assert '--resume' in lines[0]


def test_other_errors_pass_through() -> None:
    with pytest.raises(ValueError, match='x'):
        with one_line_on_sigint():
            raise ValueError('x')


def test_no_resume_advice_for_tools_test(
        capsys: pytest.CaptureFixture) -> None:
    import signal
    previous = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit):
            with one_line_on_sigint(advice=''):
                raise KeyboardInterrupt
    finally:
        signal.signal(signal.SIGINT, previous)
    line = capsys.readouterr().err.strip()
    assert line.startswith('fitnets_mm: rank ')
    assert 'stopped by SIGINT (Ctrl-C)' in line
    assert '--resume' not in line and len(line.splitlines()) == 1
