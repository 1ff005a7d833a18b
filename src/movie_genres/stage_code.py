"""The project code each stage runs, as DVC dependencies that follow the imports.

`stages/fingerprint_code.py` writes, per stage module, the project files it imports (directly or
through other project modules) with their MD5s: reports/code/<module>.json. Each stage in dvc.yaml
depends on its module's file instead of a hand-kept list of source files, so a stage reruns exactly
when code it runs changes, and a new import needs no edit of dvc.yaml.

Every import statement counts, also one inside a function (a lazy import still runs when the
stage takes that path), and so does each package `__init__.py` on the way to a module, since
Python runs it first. Only project modules are followed (`movie_genres.*` under src/, `stages.*`).
"""

from __future__ import annotations

import ast
from pathlib import Path

from movie_genres.files import file_digest

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


def stage_modules(root: Path) -> list[str]:
    """Every stage module, `stages.<name>`: the modules dvc.yaml's commands run."""
    return sorted(f"stages.{p.stem}" for p in (root / "stages").glob("*.py") if p.stem != "__init__")


def fingerprint(root: Path, module: str) -> dict[str, str]:
    """The files `python -m module` runs, relative to `root`, each with its MD5, in path order."""
    return {path.as_posix(): file_digest(root / path, "md5") for path in sorted(import_closure(root, module))}
