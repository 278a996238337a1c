"""The component's entry point, written by `kernbench build`'s Python path: do not import it.

componentize-py runs this module's top level once, at build time, and snapshots the
interpreter. So the top level only stores the bench's sources (compiled), and imports every
module the bench will import, since only modules imported now exist at run time (a
component has no filesystem). The bench itself runs in `Run.run()`, once per rank, as
`__main__`: code at module top level and under `if __name__ == "__main__":` both run then.
"""

import ast
import builtins
import importlib
import importlib.abc
import importlib.util
import linecache
import sys
import traceback

from componentize_py_types import Err
from wit_world import exports

import kernbench  # noqa: F401 - in the snapshot for the bench
import kernbench_bench_sources as _bench
import torch  # noqa: F401 - in the snapshot for the bench
import torch.distributed.device_mesh  # noqa: F401
import torch.nn.functional  # noqa: F401

# name -> (filename, is_package, source) of the bench's own modules; the main module.
_SOURCES = {name: tuple(entry) for name, entry in _bench.SOURCES.items()}
_MAIN = _bench.MAIN
_APP_FILE = __file__

# Standard-library modules benches use, and those the standard library itself imports
# lazily inside functions (argparse's messages import gettext and locale, its help
# shutil and textwrap; sockets' address lookup the idna codec), which no scan of the
# bench's import statements finds. The bench's own imports come from the scan below.
_DEFAULT_MODULES = (
    "argparse", "collections", "collections.abc", "copy", "dataclasses", "encodings.idna",
    "enum", "functools", "gettext", "itertools", "json", "locale", "math", "operator", "os",
    "random", "re", "shutil", "statistics", "string", "struct", "textwrap", "time", "typing",
    "warnings",
)


def _imported_names(sources):
    """Absolute module names the sources import, other than their own."""
    own = {name.split(".")[0] for name in sources}
    found = set()
    for filename, _, source in sources.values():
        try:
            tree = ast.parse(source, filename)
        except SyntaxError:
            continue  # the compile below reports it
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module)
                found.update(f"{node.module}.{a.name}" for a in node.names if a.name != "*")
    return sorted(m for m in found if m.split(".")[0] not in own and m != "__future__")


def _preload():
    own = {n.split(".")[0] for n in _SOURCES}  # a bench's own module shadows a default
    for name in sorted(set(_DEFAULT_MODULES) | set(_imported_names(_SOURCES))):
        if name.split(".")[0] in own:
            continue
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - `from x import name` of a non-module, or absent:
            pass  # the bench's own import then fails per rank, with its traceback


def _compile(name):
    filename, _, source = _SOURCES[name]
    return compile(source, filename, "exec", dont_inherit=True)


_preload()
# Compiled now: a SyntaxError fails the build, with its file and line, not every rank.
_CODES = {name: _compile(name) for name in _SOURCES}
# Tracebacks show the bench's lines (the entries have no mtime, so no check drops them).
for _filename, _, _source in _SOURCES.values():
    linecache.cache[_filename] = (len(_source), None, _source.splitlines(True), _filename)


class _SourceImporter(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the bench's own modules (its helpers and packages) from the snapshot."""

    def find_spec(self, fullname, path=None, target=None):
        entry = _SOURCES.get(fullname)
        if entry is None or fullname == _MAIN:
            return None
        filename, is_package, _ = entry
        spec = importlib.util.spec_from_loader(fullname, self, origin=filename, is_package=is_package)
        spec.has_location = True
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        filename, is_package, _ = _SOURCES[module.__spec__.name]
        module.__file__ = filename
        if is_package:
            module.__path__ = []
        exec(_CODES[module.__spec__.name], module.__dict__)


def _print_traceback(error):
    """The traceback as Python prints it, without this module's frames."""
    te = traceback.TracebackException.from_exception(error)
    seen, todo = set(), [te]
    while todo:
        t = todo.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        t.stack = traceback.StackSummary.from_list([f for f in t.stack if f.filename != _APP_FILE])
        todo += [c for c in (t.__cause__, t.__context__) if c is not None]
        todo += list(getattr(t, "exceptions", None) or [])
    sys.stderr.write("".join(te.format()))


class Run(exports.Run):
    def run(self):
        if not any(isinstance(f, _SourceImporter) for f in sys.meta_path):
            sys.meta_path.insert(0, _SourceImporter())
        main = {"__name__": "__main__", "__file__": _SOURCES[_MAIN][0], "__builtins__": builtins}
        sys.modules["__main__"] = type(sys)("__main__")
        sys.modules["__main__"].__dict__.update(main)
        try:
            exec(_CODES[_MAIN], sys.modules["__main__"].__dict__)
        except SystemExit as e:
            if e.code in (None, 0):
                return
            sys.stderr.write(f"{e.code}\n" if isinstance(e.code, str) else f"SystemExit: {e.code}\n")
            raise Err(None) from None
        except BaseException as e:  # noqa: BLE001 - every failure of the bench ends the rank
            _print_traceback(e)
            raise Err(None) from None
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
