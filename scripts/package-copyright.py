#!/usr/bin/env python3
"""Writes the licence files of a package made by scripts/package into DOC_DIR:

  copyright                              machine-readable (DEP-5): emotrace, the bundled
                                         libtorch, CUDA runtime and oneMKL, the fonts the
                                         binary embeds, the model and its training corpora
  libtorch-third-party-licenses.txt.gz   the licences of the code PyTorch bundles in libtorch
  nvidia-cuda-license.txt.gz             the NVIDIA licence of libcudart and libcupti
  rust-crates-licenses.txt.gz            every Rust crate linked into the binary, with its
                                         licence files

Everything is read from where it really comes from: the wheels' own licence files
(.libtorch/licenses/, kept by scripts/setup-libtorch), `cargo metadata` and the crates'
sources, the model card's list of corpora and assets/packaging/corpora.toml. A corpus the card
names but corpora.toml lacks is an error, so a model cannot ship without its data licence.

  copyright.py --repo DIR --licenses DIR --card MODEL.json --doc-dir OUT --libs NAME...
"""

import argparse
import gzip
import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

LICENCE_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "UNLICENSE", "COPYRIGHT")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--licenses", type=Path, required=True, help=".libtorch/licenses")
    ap.add_argument("--card", type=Path, required=True, help="the shipped model's card")
    ap.add_argument("--doc-dir", type=Path, required=True)
    ap.add_argument("--libs", nargs="+", required=True, help="bundled library file names")
    a = ap.parse_args()
    a.doc_dir.mkdir(parents=True, exist_ok=True)
    try:
        corpora = corpus_entries(a.card, a.repo / "assets/packaging/corpora.toml")
    except KeyError as e:
        print(f"copyright.py: {e.args[0]}", file=sys.stderr)
        return 1
    crates = linked_crates(a.repo)
    write_gz(a.doc_dir / "rust-crates-licenses.txt.gz", rust_crates_text(crates))
    write_gz(a.doc_dir / "libtorch-third-party-licenses.txt.gz", tree_text(a.licenses / "torch/third_party"))
    write_gz(a.doc_dir / "nvidia-cuda-license.txt.gz", read(a.licenses / "nvidia-cuda-runtime/License.txt"))
    fonts = next(Path(c["manifest_path"]).parent / "fonts" for c in crates if c["name"] == "epaint_default_fonts")
    (a.doc_dir / "copyright").write_text(copyright_text(a, corpora, fonts, len(crates)))
    return 0


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


def write_gz(path: Path, text: str) -> None:
    # mtime=0: the same input gives the same bytes.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(text.encode())


def indent(text: str) -> str:
    """A licence text as a DEP-5 field continuation: one space in front, '.' for blank lines."""
    return "\n".join(" " + line if line.strip() else " ." for line in text.strip().splitlines())


def corpus_entries(card_path: Path, table_path: Path) -> list[dict]:
    card = json.loads(card_path.read_text())
    table = tomllib.loads(table_path.read_text())
    names = [c["corpus"] for c in card.get("training", {}).get("corpora", [])]
    if not names:
        raise KeyError(f"{card_path} names no training corpora (training.corpora is empty)")
    missing = [n for n in names if n not in table]
    if missing:
        raise KeyError(
            f"{card_path} was trained on {', '.join(missing)}, which {table_path} has no licence for; add it there"
        )
    return [dict(table[n], key=n) for n in names]


def linked_crates(repo: Path) -> list[dict]:
    """The crates in the release binary: normal dependencies of emotrace, transitively, on
    x86_64 Linux, without proc-macros (they run in the compiler and are not linked)."""
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--locked", "--format-version", "1", "--filter-platform", "x86_64-unknown-linux-gnu"],
            cwd=repo, check=True, capture_output=True, text=True,
        ).stdout
    )
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = meta["resolve"]["root"]
    seen, stack = set(), [root]
    while stack:
        node = nodes[stack.pop()]
        for dep in node["deps"]:
            normal = any(k["kind"] is None for k in dep["dep_kinds"])
            if normal and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                stack.append(dep["pkg"])
    crates = [packages[i] for i in seen]
    crates = [c for c in crates if not all("proc-macro" in t["kind"] for t in c["targets"])]
    return sorted(crates, key=lambda c: (c["name"], c["version"]))


def rust_crates_text(crates: list[dict]) -> str:
    out = [
        "Rust crates statically linked into /usr/bin/emotrace (from Cargo.lock, normal dependencies",
        "on x86_64 Linux, proc-macros left out), each with the licence files its source ships.",
        "A text seen before is named instead of repeated.",
        "",
    ]
    first_seen: dict[str, str] = {}
    for c in crates:
        out.append("=" * 78)
        out.append(f"{c['name']} {c['version']}  licence: {c.get('license') or c.get('license_file') or 'not stated'}")
        if c.get("repository"):
            out.append(f"source: {c['repository']}")
        folder = Path(c["manifest_path"]).parent
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.upper().startswith(LICENCE_NAMES))
        if not files:
            out.append("(the crate ships no licence file; its licence is the SPDX expression above)")
        for f in files:
            text = read(f)
            digest = hashlib.sha256(text.encode()).hexdigest()
            if digest in first_seen:
                out.append(f"--- {f.name}: the same text as {first_seen[digest]}")
                continue
            first_seen[digest] = f"{c['name']} {c['version']} {f.name}"
            out.append(f"--- {f.name}")
            out.append(text.rstrip())
        out.append("")
    # The SPDX names above with a standard text, for the crates that ship no file.
    for spdx, path in (("Apache-2.0", "/usr/share/common-licenses/Apache-2.0"),
                       ("CC0-1.0", "/usr/share/common-licenses/CC0-1.0")):
        out.append("=" * 78)
        out.append(f"The standard text of {spdx}")
        out.append("")
        out.append(read(Path(path)).rstrip())
        out.append("")
    return "\n".join(out) + "\n"


def tree_text(folder: Path) -> str:
    """Every file under `folder`, deduplicated by content, each headed by its paths."""
    by_text: dict[str, list[str]] = {}
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        by_text.setdefault(read(f), []).append(str(f.relative_to(folder.parent)))
    out = [
        "Licences of the third-party code built into libtorch (libtorch_cpu.so, libc10.so), as the",
        "torch 2.13.0 wheel ships them (torch-2.13.0.dist-info/licenses/). Identical texts once.",
        "",
    ]
    for text, paths in by_text.items():
        out.append("=" * 78)
        out.extend(paths)
        out.append("")
        out.append(text.rstrip())
        out.append("")
    return "\n".join(out) + "\n"


def copyright_text(a: argparse.Namespace, corpora: list[dict], fonts: Path, n_crates: int) -> str:
    torch_libs = " ".join(f"usr/lib/emotrace/{n}" for n in a.libs if "torch" in n or "c10" in n)
    cuda_libs = " ".join(f"usr/lib/emotrace/{n}" for n in a.libs if "cuda" in n or "cupti" in n)
    corpus_list = "\n".join(
        f"{c['key']}: {c['title']}\nLicence: {c['licence']}\nCite: {c['citation']}\n" for c in corpora
    )
    return f"""Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: emotrace
Comment: The same tree is in the .deb (under /usr) and in the portable archive (under
 emotrace/). Paths below are the .deb's.

Files: *
Copyright: emotrace developers
License: MIT

Files: usr/bin/emotrace
Copyright: emotrace developers, and the authors of the crates and fonts below
License: MIT and Rust-crates and Bitstream-Vera and OFL-1.1 and Ubuntu-font-1.0
Comment: The executable statically links {n_crates} Rust crates; each one's licence files
 are in /usr/share/doc/emotrace/rust-crates-licenses.txt.gz. It embeds fonts: DejaVu
 Sans (for plots; Bitstream Vera licence with the DejaVu changes in the public domain)
 and egui's default fonts (epaint_default_fonts: Ubuntu Light under the Ubuntu Font
 Licence 1.0, Hack under MIT and Bitstream Vera, Noto Emoji under the SIL Open Font
 Licence 1.1, emoji-icon-font under MIT).

Files: {torch_libs}
Copyright: PyTorch contributors (Facebook, Inc. and its affiliates, and others; see the licence)
License: BSD-3-clause-PyTorch and Intel-ISSL and libtorch-third-party
Comment: Unmodified but for the library search path (set to $ORIGIN) and the symbol
 tables (stripped), from the pinned torch 2.13.0 wheel on PyPI. libtorch_cpu.so
 statically links Intel oneMKL 2024.2 (Intel Simplified Software License, below) and
 builds in third-party code whose licences are in
 /usr/share/doc/emotrace/libtorch-third-party-licenses.txt.gz.

Files: {cuda_libs}
Copyright: NVIDIA Corporation
License: NVIDIA-CUDA
Comment: The CUDA runtime and CUPTI from the pinned nvidia-cuda-runtime 13.0.96 and
 nvidia-cuda-cupti 13.0.85 wheels on PyPI. libtorch_cpu.so needs them to load even where
 there is no GPU; the licence lists both among the files an application may redistribute.

Files: usr/share/emotrace/models/*
Copyright: emotrace developers
License: emotrace-model-data
Comment: The weights were trained on speech corpora; see the licence below.

License: MIT
{indent(read(a.repo / "LICENSE"))}

License: BSD-3-clause-PyTorch
{indent(read(a.licenses / "torch/LICENSE"))}

License: Intel-ISSL
{indent(read(a.licenses / "mkl/LICENSE.txt"))}

License: libtorch-third-party
 The texts are in /usr/share/doc/emotrace/libtorch-third-party-licenses.txt.gz.

License: NVIDIA-CUDA
 The NVIDIA Software License Agreement and CUDA Supplement, as shipped in the
 nvidia-cuda-runtime wheel, is in /usr/share/doc/emotrace/nvidia-cuda-license.txt.gz.

License: Rust-crates
 Each crate's licence files are in /usr/share/doc/emotrace/rust-crates-licenses.txt.gz.

License: Bitstream-Vera
{indent(read(a.repo / "assets/DejaVuSans-LICENSE.txt"))}
 .
 Hack (egui's monospace font):
 .
{indent(read(fonts / "Hack-Regular.txt"))}
 .
 emoji-icon-font:
 .
{indent(read(fonts / "emoji-icon-font-mit-license.txt"))}

License: OFL-1.1
{indent(read(fonts / "OFL.txt"))}

License: Ubuntu-font-1.0
{indent(read(fonts / "UFL.txt"))}

License: emotrace-model-data
 The default model's weights are the result of training on the corpora below (the list
 is read from its model card, usr/share/emotrace/models/default.json). They carry those
 corpora's terms, several of which are non-commercial or research-only: use the model
 for research and non-commercial work only, and cite the corpora.
 .
{indent(corpus_list)}
"""


if __name__ == "__main__":
    sys.exit(main())
