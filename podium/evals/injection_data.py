"""The injection data sets, split once and for all into train, tune and test.

The split is fixed by content, not by chance: each text is reduced to a canonical form
(case, leetspeak, lookalike letters and punctuation removed) so that promptshield's augmented
copies of one prompt fall into the same split. Then:

- promptshield's validation file is ``tune`` (the classifier's threshold is chosen there); a
  row of its train file that is a copy of a validation row is dropped, since the classifier
  must not train on what tunes it;
- the other promptshield train rows are ``test`` when the digest of their canonical form
  falls in the first fifth, else ``train``;
- BIPIA's attack categories are split whole (a fifth of them ``test``, a fifth ``tune``),
  and its contexts (emails, code, tables) by digest, 60/20/20; a positive is an attack of a
  split inserted into a context of the same split, at its start, middle or end.

``test`` was set aside before the classifier was trained or any rule was written from these
files, and nothing is fitted or tuned on it (see BENCHMARKS.md).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Split = Literal["train", "tune", "test"]
SPLITS: tuple[Split, ...] = ("train", "tune", "test")

_LEET = str.maketrans("0134578@$!|", "oieastbasil")
# Latin lookalikes promptshield's augmentation uses (Cyrillic and Greek letters).
_LOOKALIKE = str.maketrans("аеорсухіјѕԁοαντικ", "aeopcyxijsdoavtik")


@dataclass(frozen=True)
class Example:
    """One labeled text: 1 for an attack, 0 for benign; where it came from and its split."""

    text: str
    label: int
    source: str
    split: Split
    kind: str = ""
    attack: str = ""  # BIPIA: the attack inserted into the context


def canonical(text: str) -> str:
    """The text with case, leetspeak, lookalikes and everything but letters and digits gone."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_LOOKALIKE)
    return re.sub(r"[^a-z0-9]", "", folded.translate(_LEET))


def _bucket(key: str) -> int:
    """A number 0-99 fixed by ``key``."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) % 100


def _promptshield(folder: Path) -> Iterator[Example]:
    val = [json.loads(line) for line in (folder / "promptshield_val.jsonl").open()]
    tuned = {canonical(row["prompt"]) for row in val}
    for row in val:
        yield Example(row["prompt"], int(row["label"]), "promptshield", "tune", row["attack_type"])
    for line in (folder / "promptshield_train.jsonl").open():
        row = json.loads(line)
        key = canonical(row["prompt"])
        if key in tuned:
            continue  # a copy of a tuning row
        split: Split = "test" if _bucket(key) < 20 else "train"
        yield Example(row["prompt"], int(row["label"]), "promptshield", split, row["attack_type"])


def _context_text(row: dict[str, object]) -> str:
    context = row["context"]
    if isinstance(context, list):
        return "\n".join(str(line) for line in context)
    return str(context)


def _split_of(key: str, cut: tuple[int, int] = (20, 40)) -> Split:
    bucket = _bucket(key)
    return "test" if bucket < cut[0] else "tune" if bucket < cut[1] else "train"


def _category_splits(categories: list[str]) -> dict[str, Split]:
    """A fifth of the categories (at least one) for test, a fifth for tune, the rest train."""
    ordered = sorted(categories, key=lambda name: hashlib.sha256(name.encode()).hexdigest())
    fifth = max(1, len(ordered) // 5)
    splits: dict[str, Split] = {}
    for index, name in enumerate(ordered):
        splits[name] = "test" if index < fifth else "tune" if index < 2 * fifth else "train"
    return splits


def _insert(context: str, attack: str, where: int) -> str:
    """``attack`` at the start (0), middle (1) or end (2) of ``context``."""
    if where == 0:
        return f"{attack}\n{context}"
    if where == 2:
        return f"{context}\n{attack}"
    lines = context.split("\n")
    middle = len(lines) // 2
    return "\n".join([*lines[:middle], attack, *lines[middle:]])


def _bipia(folder: Path, per_attack: int) -> Iterator[Example]:
    contexts: dict[str, dict[Split, list[str]]] = {}
    for task in ("email", "code", "table"):
        by_split: dict[Split, list[str]] = {split: [] for split in SPLITS}
        for line in (folder / task / "train.jsonl").open():
            text = _context_text(json.loads(line))
            by_split[_split_of(f"{task}:{canonical(text)[:200]}")].append(text)
        contexts[task] = by_split
        for split, texts in by_split.items():
            for text in texts:
                yield Example(text, 0, f"bipia-{task}", split, "context")
    for attacks_file, tasks in (
        ("text_attack_train.json", ("email", "table")),
        ("code_attack_train.json", ("code",)),
    ):
        attacks: dict[str, list[str]] = json.loads((folder / attacks_file).read_text())
        splits = _category_splits(list(attacks))
        for category, texts in attacks.items():
            split = splits[category]
            pool = [c for task in tasks for c in contexts[task][split]]
            for number, attack in enumerate(texts):
                for k in range(per_attack):
                    if not pool:
                        break
                    seed = _bucket(f"{category}:{number}:{k}")
                    context = pool[seed * 7919 % len(pool)]
                    text = _insert(context, attack, k % 3)
                    yield Example(text, 1, "bipia", split, category, attack)


def load_examples(folder: Path, per_attack: int = 6) -> list[Example]:
    """Every labeled example of promptshield and BIPIA under ``folder`` (shared/data/injection)."""
    if not (folder / "promptshield_val.jsonl").is_file():
        raise FileNotFoundError(
            f"no promptshield_val.jsonl under {folder}: point --data at shared/data/injection"
        )
    return [*_promptshield(folder), *_bipia(folder / "bipia", per_attack)]


# Packages kept apart for measuring podium (attack corpora, benchmarks): never trained on.
KEPT_APART = ("agentdojo", "garak", "spikee", "pyrit", "chatterbot")


def package_docs(site: Path) -> list[Example]:
    """Benign prose: paragraphs of the installed packages' METADATA and .md files, by package.

    Split by package name (all of a package's docs go one way): 40% ``test``, 20% ``tune``,
    40% ``train``. The packages of KEPT_APART are left out.
    """
    files = sorted(site.glob("*.dist-info/METADATA")) + sorted(site.glob("**/*.md"))
    found: list[Example] = []
    for path in files:
        package = path.relative_to(site).parts[0].split("-")[0].lower().removesuffix(".dist")
        if any(name in package for name in KEPT_APART):
            continue
        split = _split_of(f"docs:{package}", (40, 60))
        for paragraph in re.split(r"\n\s*\n", path.read_text(errors="ignore")):
            if len(paragraph.strip()) > 40:
                found.append(Example(paragraph, 0, "package-docs", split, package))
    return found
