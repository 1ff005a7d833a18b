"""Build .dvc/plots/page.html, the page that `dvc plots show` and `dvc plots diff` fill in.

DVC's own page loads vega, vega-lite and vega-embed from a CDN, so offline it draws no chart. This
page carries the vendored copies (vendor/, the versions DVC's renderer asks for) inline, so it works
from any output folder (`-o`), offline, and makes no network request; a Content-Security-Policy
forbids every request except the page's own images. `.dvc/config` names it (`plots.html_template`).

After changing vendor/ (see vendor/README.md), rebuild it:

    python .dvc/plots/build_page.py            # writes .dvc/plots/page.html
    python .dvc/plots/build_page.py --check    # exits 1 if page.html is not what vendor/ gives
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"
PAGE = HERE / "page.html"

# In load order: vega-lite needs vega, vega-embed needs both. Folder <package>-<version>, file <package>.min.js.
PACKAGES = ("vega", "vega-lite", "vega-embed")

# Nothing may be fetched but the page's own images (DVC copies the PNG plots next to the page). Vega compiles
# its expressions with Function(), hence 'unsafe-eval'; the scripts and vega-embed's styles are inline.
CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'unsafe-inline' 'unsafe-eval'",
        "style-src 'unsafe-inline'",
        "img-src 'self' file: data: blob:",
    ]
)

# DVC replaces the {...} placeholders; the one for DVC's CDN script tags is left out on purpose.
SKELETON = """<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    <meta http-equiv="Content-Security-Policy" content="{csp}">
    {refresh_tag}
    <title>DVC Plot</title>
    <!-- Built by .dvc/plots/build_page.py from .dvc/plots/vendor/: edit those, not this file. -->
{vendored}
    <style>
        body {
            font-family: sans-serif;
        }
        table {
            border-spacing: 15px;
        }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
"""


def vendored_file(package: str) -> Path:
    """The one vendored folder of `package` (named <package>-<version>) and its minified build."""
    folders = [p for p in VENDOR.iterdir() if p.is_dir() and p.name.rpartition("-")[0] == package]
    if len(folders) != 1:
        raise SystemExit(f"expected one vendor/{package}-<version> folder, found {[p.name for p in folders]}")
    return folders[0] / f"{package}.min.js"


def vendored_versions() -> dict[str, str]:
    """Package -> version, from the vendored folder names."""
    return {package: vendored_file(package).parent.name.rpartition("-")[2] for package in PACKAGES}


def script_tag(package: str) -> str:
    code = vendored_file(package).read_text(encoding="utf-8")
    # The source map is not vendored: drop its reference, which a browser's developer tools would fetch.
    lines = [line for line in code.splitlines() if not line.startswith("//# sourceMappingURL=")]
    code = "\n".join(lines)
    if "</script" in code.lower() or "{plot_divs}" in code or "{refresh_tag}" in code:
        raise SystemExit(f"{package}.min.js cannot be inlined as it is (it contains a closing tag or placeholder)")
    version = vendored_versions()[package]
    return f'    <script data-package="{package}@{version}">\n{code}\n    </script>'


def build() -> str:
    vendored = "\n".join(script_tag(package) for package in PACKAGES)
    # str.replace, not format: the skeleton's CSS braces and DVC's placeholders stay as they are.
    return SKELETON.replace("{csp}", CSP).replace("{vendored}", vendored)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that page.html is up to date")
    args = parser.parse_args(argv)
    page = build()
    if args.check:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != page:
            print(f"{PAGE} is out of date: run python {Path(__file__)}", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page, encoding="utf-8")
    print(
        f"wrote {PAGE} ({len(page.encode()) // 1024} KiB): "
        + ", ".join(f"{p}@{v}" for p, v in vendored_versions().items())
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
