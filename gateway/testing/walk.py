"""A request's walk through the code's rooms, traced as it runs: which rooms it enters, and how often it comes back
to a room it had already left.

A room is a folder by concern (docs/architecture.md), as `LAYERS` lists them from the top of the layers to the
bottom: `conversations/edge`, `conversations/engine`, `channels_app/providers`, `channels_app`, `gateway/infra`,
`gateway/overrides`, `knowledge`, … (`conversations/engine/store` is the engine's). Tests, test helpers,
migrations and libraries are not rooms: a call through Django or DRF is a corridor between two rooms.

The walk is the call graph of one real request, read from the interpreter's profile hook (`sys.setprofile`, and
`threading.setprofile` for the threads it starts): every function of the project entered, with the rooms of the
project frames below it on its stack. A **return** is a call into room R while R's own frame waits further down
the stack under another room's: a hook or callback that brings the request back where it came from (the view
module called again from the dispatch that the view had called). A coroutine resumed by the event loop is not a
new entry. `pytest gateway/tests/test_request_walk.py -s` prints each walk.
"""

import dis
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
_NOT_ROOMS = {"tests", "testing", "migrations", "bench", "e2e", ".venv", "node_modules"}
# The rooms from the top of the layers to the bottom (.importlinter): a call from a room to one above it is a call
# back up.
LAYERS = (
    "gateway", "dashboard", "alerts", "conversations/edge", "conversations/engine", "conversations", "knowledge",
    "channels_app", "channels_app/providers", "teams", "accounts", "gateway/infra", "gateway/overrides",
)
_RESUMABLE = 0x20 | 0x80 | 0x100 | 0x200  # CO_GENERATOR, CO_COROUTINE, CO_ITERABLE_COROUTINE, CO_ASYNC_GENERATOR


@dataclass(frozen=True)
class Step:
    room: str
    function: str  # module path and qualified name
    caller: str | None  # the room of the nearest project frame below it
    returned: bool  # entered while a frame of its room waits below another room's
    upward: bool  # a return from a room below it: a hook or callback, not a call down to a lower room's utility


def room_of(filename: str, root: str = ROOT, layers: tuple[str, ...] = LAYERS, _cache: dict = {}) -> str | None:  # noqa: B006
    """The room a file belongs to: the deepest room of `layers` holding it (a sub-room's own subfolders, such as
    the engine's `store/`, are part of it), or None for what is not a room."""
    try:
        return _cache[(filename, root, layers)]
    except KeyError:
        pass
    room = None
    if filename.startswith(root + "/"):
        parts = filename[len(root) + 1:].split("/")[:-1]
        if parts and not _NOT_ROOMS.intersection(parts):
            for depth in (2, 1):
                if "/".join(parts[:depth]) in layers:
                    room = "/".join(parts[:depth])
                    break
    _cache[(filename, root, layers)] = room
    return room


def _first_resume(code, _cache: dict = {}) -> int:  # noqa: B006
    """The offset a generator or coroutine frame stands at when it is entered the first time (not resumed)."""
    try:
        return _cache[code]
    except KeyError:
        offset = next((i.offset for i in dis.get_instructions(code) if i.opname == "RESUME"), 0)
        _cache[code] = offset
        return offset


class Walk:
    def __init__(self, root: str = ROOT, layers: tuple[str, ...] = LAYERS):
        self.root, self.layers = root, layers
        self.steps: list[Step] = []

    def _profile(self, frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        room = room_of(code.co_filename, self.root, self.layers)
        if room is None:
            return
        if code.co_flags & _RESUMABLE and frame.f_lasti > _first_resume(code):
            return  # a coroutine or generator resumed: the same entry
        below = []
        back = frame.f_back
        while back is not None:
            under = room_of(back.f_code.co_filename, self.root, self.layers)
            if under is not None and (not below or below[-1] != under):
                below.append(under)
            back = back.f_back
        returned = bool(below) and below[0] != room and room in below[1:]
        name = f"{code.co_filename[len(self.root) + 1:]}:{code.co_qualname}"
        upward = returned and self.layers.index(room) < self.layers.index(below[0])
        self.steps.append(Step(room, name, below[0] if below else None, returned, upward))

    def __enter__(self):
        threading.setprofile(self._profile)
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(None)
        threading.setprofile(None)

    @property
    def returns(self) -> list[Step]:
        """Every call into a room already left (down to a lower room's utility, or back up)."""
        return [step for step in self.steps if step.returned]

    @property
    def returns_up(self) -> list[Step]:
        """The returns that come back up the layers: a lower room calling a higher room that is waiting below."""
        return [step for step in self.steps if step.upward]

    def rooms(self) -> list[str]:
        """The rooms in the order the request entered them, a room's consecutive steps as one."""
        path = []
        for step in self.steps:
            if not path or path[-1] != step.room:
                path.append(step.room)
        return path

    def after(self, function_suffix: str) -> list[Step]:
        """The steps after the first entry of a function whose name ends with `function_suffix`."""
        for i, step in enumerate(self.steps):
            if step.function.endswith(function_suffix):
                return self.steps[i + 1:]
        raise LookupError(function_suffix)

    def report(self) -> str:
        lines = [" → ".join(self.rooms()), f"{len(self.returns)} returns to a room already left ("
                 f"{len(self.returns_up)} back up the layers, marked ↑):"]
        lines += [f"  {'↑' if step.upward else ' '} {step.caller} → {step.function}" for step in self.returns]
        return "\n".join(lines)
