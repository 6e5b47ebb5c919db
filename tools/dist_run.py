"""``torchrun`` for ``tools/dist_train.sh``, ending with one line on Ctrl-C.

The same as ``python -m torch.distributed.run`` (same arguments), except
that a signal that stops the launcher (Ctrl-C's SIGINT, a scheduler's
SIGTERM) ends it with one line instead of its ``SignalException``
traceback; torchrun has already passed the signal on to the ranks, which
end with one line each (:mod:`fitnets_mm.engine.runner.sigint`).
"""
import signal
import sys

from torch.distributed.elastic.multiprocessing.api import SignalException
from torch.distributed.run import main

if __name__ == '__main__':
    try:
        main()
    except SignalException as err:
        name = signal.Signals(err.sigval).name
        sys.stderr.write(f'fitnets_mm: torchrun stopped by {name}; it '
                         'passed the signal on to the ranks\n')
        sys.exit(128 + int(err.sigval))
