"""The project files a module imports, directly or through other project modules.

Every import statement counts, also one inside a function (a lazy import still runs when the
stage takes that path), and so does each package `__init__.py` on the way to a module, since
Python runs it first. Only project modules are followed (`movie_genres.*` under src/, `stages.*`).
"""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT_ROOTS = {"movie_genres": Path("src"), "stages": Path(".")}


def module_file(root: Path, module: str) -> Path | None:
    """The file that defines `module`, relative to the repository `root`; None if not a project module."""
    top = module.split(".")[0]
    if top not in PROJECT_ROOTS:
        return None
    base = PROJECT_ROOTS[top] / Path(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if (root / candidate).is_file():
            return candidate
    return None


def _imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            # `from package import module` imports a submodule too.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def _with_parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _only_docstring(source: str) -> bool:
    body = ast.parse(source).body
    return all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in body)


def import_closure(root: Path, module: str) -> set[Path]:
    """Every project file `python -m module` runs, relative to `root`.

    A package `__init__.py` that holds only its docstring is left out: it cannot change what a stage does.
    """
    files: set[Path] = set()
    pending = [module]
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        for part in _with_parents(name):
            path = module_file(root, part)
            if path is None or path in files:
                continue
            source = (root / path).read_text()
            if path.name == "__init__.py" and _only_docstring(source):
                continue
            files.add(path)
            pending.extend(_imported_modules(source, part, path.name == "__init__.py"))
    return files


def stage_code_deps(root: Path) -> dict[str, tuple[set[Path], set[Path]]]:
    """Per DVC stage that runs `python -m <module>`: (the code it imports, the code files dvc.yaml lists).

    Stages are read through DVC itself, so `${...}` interpolation and `foreach` are resolved as DVC does.
    """
    import re

    from dvc.repo import Repo

    result = {}
    with Repo(str(root)) as repo:
        for stage in repo.index.stages:
            match = re.search(r"python -m (\S+)", stage.cmd or "")
            if match is None:
                continue
            listed = {Path(dep.def_path) for dep in stage.deps}
            code = {p for p in listed if p.suffix == ".py"}
            result[stage.name] = (import_closure(root, match.group(1)), code)
    return result


def dep_problems(root: Path) -> list[str]:
    """What dvc.yaml gets wrong about each stage's code: imported files it misses, listed files never imported."""
    problems = []
    for stage, (imported, listed) in sorted(stage_code_deps(root).items()):
        problems += [f"{stage}: runs {path} but does not depend on it" for path in sorted(imported - listed)]
        problems += [f"{stage}: depends on {path}, which it never imports" for path in sorted(listed - imported)]
    return problems
