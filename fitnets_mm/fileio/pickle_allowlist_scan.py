"""Find uses of the checkpoint allow-list beyond its plain use, statically.

The weights-only allow-list of :mod:`.safe_checkpoint` holds one general
callable: ``builtins.getattr``, for the ``HistoryBuffer`` statistics that
mmengine pickles as ``getattr(HistoryBuffer, 'min')``. Its stand-in refuses
every other lookup while torch unpickles, but torch's unpickler stops at the
first opcode it does not support (``FRAME`` of protocols 4 and 5, the text
opcodes of protocol 0) before it reaches the call, and used to call such a
file "damaged".

:func:`find_allowlist_abuse` reads the pickles with :mod:`pickletools` and
follows the unpickler's stack symbolically (nothing is imported or run). It
names the first

* ``getattr`` call that is not ``getattr(HistoryBuffer, <statistic>)``:
  ``the call getattr(HistoryBuffer, '__init__')``;
* dotted global (``HistoryBuffer.__init__``: protocol 4's attribute walk in
  the name itself), read as the same ``getattr`` calls;
* call of what a plain ``getattr`` returned (``HistoryBuffer.min(...)``):
  ``the type 'HistoryBuffer.min'``,

in the words torch's own refusal uses for the same file in protocol 2, so
that the error is the same whatever the protocol.
"""
import io
import pickletools
from typing import Any, Callable, Iterable, List, NamedTuple, Optional

__all__ = ['find_allowlist_abuse']


class _Global(NamedTuple):
    """A global the pickle imports (``module``, ``qualname``)."""
    module: str
    name: str


class _Attribute(NamedTuple):
    """What a plain ``getattr(HistoryBuffer, 'min')`` returns."""
    qualname: str


class _Abuse(Exception):
    """Carries the description of the first abuse found."""


_MARK = object()
_OPAQUE = object()
_GETATTR = ('builtins', 'getattr')
# Python 2 names that pickle's ``fix_imports`` maps (protocols 0 to 2).
_PY2_MODULES = {'__builtin__': 'builtins'}


def _describe(obj: Any) -> str:
    """``obj`` as torch's refusal names it (a qualname, or a type)."""
    if isinstance(obj, _Global):
        return obj.name
    if isinstance(obj, _Attribute):
        return obj.qualname
    if isinstance(obj, str):
        return 'str'
    return 'object'


class _Machine:
    """The unpickler's stack, with symbols instead of objects.

    Args:
        is_allowed (Callable[[str], bool]): Whether a ``module.name`` global
            is on the allow-list (only their dotted names are walked).
        getattr_ok (Callable[[str, str], bool]): Whether ``getattr(owner,
            name)`` (``owner`` a ``module.name`` global) is a plain use.
    """

    def __init__(self, is_allowed: Callable[[str], bool],
                 getattr_ok: Callable[[str, str], bool]) -> None:
        self.is_allowed = is_allowed
        self.getattr_ok = getattr_ok
        self.stack: List[Any] = []
        self.memo: dict = {}

    # ------------------------------------------------------------ values
    def _global(self, module: Any, name: Any) -> Any:
        if not (isinstance(module, str) and isinstance(name, str)):
            return _OPAQUE
        module = _PY2_MODULES.get(module, module)
        head, *walk = name.split('.')
        obj: Any = _Global(module, head)
        if walk and not self.is_allowed(f'{module}.{head}'):
            return _Global(module, name)  # refused as a type elsewhere
        for attribute in walk:  # ``a.b.c``: getattr(getattr(a, 'b'), 'c')
            obj = self._call(_Global(*_GETATTR), (obj, attribute))
        return obj

    def _call(self, func: Any, args: Any) -> Any:
        if isinstance(func, _Attribute):
            raise _Abuse(f'the type {func.qualname!r}')
        if func != _Global(*_GETATTR):
            return _OPAQUE
        if isinstance(args, tuple) and len(args) == 2 and \
                isinstance(args[0], _Global) and \
                isinstance(args[1], str) and \
                self.getattr_ok(f'{args[0].module}.{args[0].name}', args[1]):
            return _Attribute(f'{args[0].name}.{args[1]}')
        if isinstance(args, tuple) and len(args) == 2:
            shown = repr(args[1]) if isinstance(args[1], str) else '...'
            raise _Abuse(f'the call getattr({_describe(args[0])}, {shown})')
        raise _Abuse('the call getattr(...)')

    # ------------------------------------------------------------ stack
    def _pop(self, n: int = 1) -> List[Any]:
        if n == 0:
            return []
        if len(self.stack) < n:
            raise ValueError('stack underflow')
        items = self.stack[-n:]
        del self.stack[-n:]
        return items

    def _pop_mark(self) -> List[Any]:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i] is _MARK:
                items = self.stack[i + 1:]
                del self.stack[i:]
                return items
        raise ValueError('no mark')

    def step(self, op: Any, arg: Any) -> None:
        """Apply one opcode."""
        name = op.name
        if name == 'GLOBAL':
            self.stack.append(self._global(*str(arg).split(' ', 1)))
        elif name == 'STACK_GLOBAL':
            module, qualname = self._pop(2)
            self.stack.append(self._global(module, qualname))
        elif name == 'INST':
            args = tuple(self._pop_mark())
            self.stack.append(
                self._call(self._global(*str(arg).split(' ', 1)), args))
        elif name == 'OBJ':
            cls, *args = self._pop_mark()
            self.stack.append(self._call(cls, tuple(args)))
        elif name in ('REDUCE', 'NEWOBJ'):
            func, args = self._pop(2)
            self.stack.append(self._call(func, args))
        elif name == 'NEWOBJ_EX':
            cls, args, _ = self._pop(3)
            self.stack.append(self._call(cls, args))
        elif name == 'MARK':
            self.stack.append(_MARK)
        elif name == 'TUPLE':
            self.stack.append(tuple(self._pop_mark()))
        elif name in ('TUPLE1', 'TUPLE2', 'TUPLE3'):
            self.stack.append(tuple(self._pop(int(name[-1]))))
        elif name == 'EMPTY_TUPLE':
            self.stack.append(())
        elif isinstance(arg, str) and ('UNICODE' in name or
                                       'STRING' in name):
            self.stack.append(arg)
        elif name in ('PUT', 'BINPUT', 'LONG_BINPUT'):
            self.memo[arg] = self.stack[-1]
        elif name == 'MEMOIZE':
            self.memo[len(self.memo)] = self.stack[-1]
        elif name in ('GET', 'BINGET', 'LONG_BINGET'):
            self.stack.append(self.memo.get(arg, _OPAQUE))
        elif name == 'DUP':
            self.stack.append(self.stack[-1])
        else:
            self._generic(op)

    def _generic(self, op: Any) -> None:
        """Any other opcode by its documented stack effect."""
        before, after = op.stack_before, op.stack_after
        if pickletools.markobject in before:
            self._pop_mark()
            popped = self._pop(before.index(pickletools.markobject))
        else:
            popped = self._pop(len(before))
        if len(after) == 1 and before and before[0] is after[0]:
            self.stack.append(popped[0])  # the list / dict / object itself
        else:
            self.stack.extend([_OPAQUE] * len(after))


def find_allowlist_abuse(pickles: Iterable[bytes],
                         is_allowed: Callable[[str], bool],
                         getattr_ok: Callable[[str, str], bool]
                         ) -> Optional[str]:
    """The first use of the allow-list beyond its plain use, or None.

    Args:
        pickles (Iterable[bytes]): Pickle streams (a zip checkpoint's
            ``data.pkl``, or a legacy file: successive pickles are read
            until one ends or fails).
        is_allowed (Callable[[str], bool]): Whether a ``module.name`` global
            is allowed.
        getattr_ok (Callable[[str, str], bool]): Whether
            ``getattr(module.name, attribute)`` is a plain use.

    Returns:
        str | None: e.g. ``"the call getattr(HistoryBuffer, '__init__')"``
        or ``"the type 'HistoryBuffer.min'"``; None where the bytes use
        the allow-list plainly, or stop being a pickle before any abuse.
    """
    for data in pickles:
        stream = io.BytesIO(data)
        while stream.tell() < len(data):
            machine = _Machine(is_allowed, getattr_ok)
            try:
                for op, arg, _ in pickletools.genops(stream):
                    machine.step(op, arg)
            except _Abuse as abuse:
                return str(abuse)
            except Exception:  # noqa: BLE001  (damaged from here on)
                break
    return None
