"""Checks that every module of the Python SDK has an editor stub (`.pyi`) that matches it.

The SDK's modules import bindings that exist only inside a component, so editors and type
checkers read the stubs instead of the modules. Nothing else ties a stub to its module: a
method added, renamed or given a new parameter leaves the stub behind, silently, and the
editor then completes and checks bench scripts against an API that is no longer there.

For every module under the directory (but the runner, `kernbench_app.py`) this compares
with its stub: the public top-level names, the public members of each public class, and the
parameters (names, order, kinds, and no default the module lacks) of each public function
and method; a property counts as a value. It prints one line per difference and exits 1 if
there is any.

What counts as public in a module: a name without a leading underscore bound at top level
by a def, a class or an assignment, or imported from the SDK itself (a relative import, or
one of its packages); when the module declares `__all__`, only the imports it lists. In a
class: the names its body defines, dunders included (but `__slots__`), the attributes its
methods assign on `self`, and those assigned on the class at module level
(`DpPolicy.REPLICATE = ...`). In a stub: defs, classes and assignments, `import X as X`,
`from m import X as X`, and the names in `__all__`.

Usage: python3 tools/python-build/check_stubs.py guest-sdk-py (Python 3.10 or newer)
"""

import ast
import sys
from pathlib import Path

RUNNER = "kernbench_app.py"

# A function's parameters as Python spells them: ("self", "dim", "*", "keepdim", "**_").
Params = tuple[str, ...]
# What a scope binds: each name with the parameters of each of its defs (none for a value).
Names = dict[str, list[Params]]


def is_public(name: str) -> bool:
    return not name.startswith("_")


def is_member(name: str) -> bool:
    dunder = name.startswith("__") and name.endswith("__")
    return (is_public(name) or dunder) and name != "__slots__"


def params(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Params:
    """The parameters in order; one with a default ends in `=`."""
    a = fn.args
    positional = a.posonlyargs + a.args
    defaulted = {id(p) for p in positional[len(positional) - len(a.defaults):]} if a.defaults else set()
    defaulted |= {id(p) for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None}

    def spelled(p: ast.arg) -> str:
        return p.arg + ("=" if id(p) in defaulted else "")

    out = [spelled(p) for p in a.posonlyargs] + (["/"] if a.posonlyargs else [])
    out += [spelled(p) for p in a.args]
    if a.vararg:
        out.append("*" + a.vararg.arg)
    elif a.kwonlyargs:
        out.append("*")
    out += [spelled(p) for p in a.kwonlyargs]
    if a.kwarg:
        out.append("**" + a.kwarg.arg)
    return tuple(out)


def signature_problem(want: Params, got: Params) -> str | None:
    """How a stub's parameters `got` misstate the module's `want`, if they do. The names,
    order and kinds must be equal. A default only in the stub is wrong (the stub would let
    a call leave out what the module needs); one only in the module is fine, as in an
    overload that narrows."""
    if [p.rstrip("=") for p in want] != [p.rstrip("=") for p in got]:
        return f"parameters ({', '.join(want)}) in the module, ({', '.join(got)}) in the stub"
    extra = [g.rstrip("=") for w, g in zip(want, got) if g.endswith("=") and not w.endswith("=")]
    if extra:
        return f"a default in the stub but not in the module: {', '.join(extra)}"
    return None


def is_property(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`@property`, or its `.setter`/`.deleter`."""
    return any(
        (isinstance(d, ast.Name) and d.id == "property")
        or (isinstance(d, ast.Attribute) and d.attr in ("getter", "setter", "deleter"))
        for d in fn.decorator_list
    )


def definitions(body: list[ast.stmt]) -> Names:
    """Names bound by defs, classes and assignments; `view = reshape` takes reshape's
    parameters."""
    names: Names = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and is_property(node):
            names.setdefault(node.name, [])  # read as a value, as `ndim = property(dim)` is
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.setdefault(node.name, []).append(params(node))
        elif isinstance(node, ast.ClassDef):
            names[node.name] = []
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.setdefault(node.target.id, [])
        elif isinstance(node, ast.Assign):
            value = node.value
            alias = list(names.get(value.id, [])) if isinstance(value, ast.Name) else []
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = alias
    return names


def dunder_all(tree: ast.Module) -> set[str] | None:
    """The names a literal `__all__` lists; None without one."""
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            try:
                return set(ast.literal_eval(node.value))
            except ValueError:
                return None
    return None


def module_imports(tree: ast.Module, sdk: set[str]) -> set[str]:
    """The public names a module imports from the SDK itself (its re-exports)."""
    names = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.level or (node.module or "").split(".")[0] in sdk:
                names |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.Import):
            top = [(a.asname or a.name.split(".")[0], a.name.split(".")[0]) for a in node.names]
            names |= {bound for bound, package in top if package in sdk}
    listed = dunder_all(tree)
    return {n for n in names if is_public(n) and (listed is None or n in listed)}


def stub_imports(tree: ast.Module) -> set[str]:
    """The names a stub re-exports: `import X as X`, `from m import X as X`, `__all__`."""
    names = dunder_all(tree) or set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {a.name for a in node.names if a.asname == a.name}
    return names


def top_level(tree: ast.Module, imported: set[str]) -> Names:
    names = definitions(tree.body)
    names.update({n: names.get(n, []) for n in imported})
    return {n: sigs for n, sigs in names.items() if is_public(n)}


def classes(tree: ast.Module) -> dict[str, Names]:
    """Each top-level class's members, with those assigned on it at module level."""
    out = {node.name: members(node) for node in tree.body if isinstance(node, ast.ClassDef)}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        for t in targets:
            if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id in out:
                out[t.value.id].setdefault(t.attr, [])
    return out


def members(cls: ast.ClassDef) -> Names:
    names = definitions(cls.body)
    for fn in cls.body:
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) and fn.args.args:
            me = fn.args.args[0].arg
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.ctx, ast.Store)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == me
                    and is_public(node.attr)
                ):
                    names.setdefault(node.attr, [])
    return {n: sigs for n, sigs in names.items() if is_member(n)}


def compare_names(rel: str, cls: str, module: Names, stub: Names) -> list[str]:
    """The names on one side only, then each function whose parameters differ; `cls` is the
    class whose members these are ("" for the top level)."""
    what = f"{rel}: {cls}: members" if cls else f"{rel}: names"
    problems = []
    for side, only in (("the module", module.keys() - stub.keys()), ("the stub", stub.keys() - module.keys())):
        if only:
            problems.append(f"{what} only in {side}: {', '.join(sorted(only))}")
    for name in sorted(module.keys() & stub.keys()):
        where = f"{rel}: {cls}.{name}" if cls else f"{rel}: {name}"
        if not module[name]:
            if stub[name]:
                problems.append(f"{where}: a value or class in the module, a function in the stub")
            continue
        want = module[name][-1]  # the def that wins at run time
        if not stub[name]:
            problems.append(f"{where}: a function in the module, not in the stub")
        for got in dict.fromkeys(stub[name]):  # each overload
            problem = signature_problem(want, got)
            if problem:
                problems.append(f"{where}: {problem}")
    return problems


def compare(rel: str, module: ast.Module, stub: ast.Module, sdk: set[str]) -> list[str]:
    names = top_level(module, module_imports(module, sdk))
    problems = compare_names(rel, "", names, top_level(stub, stub_imports(stub)))
    module_classes, stub_classes = classes(module), classes(stub)
    for cls in sorted(names.keys() & module_classes.keys() & stub_classes.keys()):
        problems += compare_names(rel, cls, module_classes[cls], stub_classes[cls])
    return problems


def parse(path: Path, rel: str) -> tuple[ast.Module | None, str | None]:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path)), None
    except SyntaxError as e:
        return None, f"{rel}: does not parse: {e.msg} (line {e.lineno})"


def check(root: Path) -> tuple[int, list[str]]:
    """(modules checked, problems) for the SDK at `root`."""
    sdk = {p.parent.name for p in root.glob("*/__init__.py")}
    modules = sorted(p for p in root.rglob("*.py") if p.relative_to(root).as_posix() != RUNNER)
    problems = []
    for py in modules:
        pyi = py.with_suffix(".pyi")
        rel = pyi.relative_to(root).as_posix()
        if not pyi.is_file():
            problems.append(f"{rel}: missing: {py.relative_to(root).as_posix()} has no stub")
            continue
        module, error = parse(py, py.relative_to(root).as_posix())
        stub, stub_error = parse(pyi, rel)
        problems += [e for e in (error, stub_error) if e]
        if module and stub:
            problems += compare(rel, module, stub, sdk)
    for pyi in sorted(root.rglob("*.pyi")):
        if pyi.with_suffix(".py") not in modules:
            problems.append(f"{pyi.relative_to(root).as_posix()}: a stub with no module to check it against")
    return len(modules), problems


def main() -> int:
    if len(sys.argv) != 2 or not Path(sys.argv[1]).is_dir():
        print("usage: check_stubs.py <guest-sdk-py directory>", file=sys.stderr)
        return 2
    count, problems = check(Path(sys.argv[1]))
    for p in problems:
        print(p)
    print(f"stubs: {count} modules checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
