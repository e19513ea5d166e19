"""Pre- and post-tests: the Japanese item bank, participants' answer files, scores and learning gain."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ebpm.config import paths
from ebpm.errors import IngestError, ParameterError

BANK_FILE = Path("instructor") / "quiz_bank.yml"
TESTS = {"pre": "事前", "post": "事後", "事前": "事前", "事後": "事後"}
_COLUMNS = {
    "test": "test",
    "試験": "test",
    "item": "item",
    "設問": "item",
    "response": "response",
    "回答": "response",
}


@dataclass(frozen=True)
class Item:
    """One question of the bank (``kind`` is ``choice`` or ``numeric``)."""

    id: str
    track: str
    module: str
    kind: str
    question: str
    choices: tuple[str, ...]
    answer: Any
    tolerance: float = 0.0

    def score(self, response: Any) -> int:
        """1 when ``response`` is right, 0 otherwise (blank or unreadable answers score 0)."""
        from ebpm.ingest.jp import to_halfwidth

        text = to_halfwidth(str(response)).strip() if response is not None else ""
        text = text.replace("－", "-").replace("−", "-")  # full-width and math minus signs
        if not text or text.lower() == "nan":
            return 0
        if self.kind == "choice":
            return int(text.upper() == str(self.answer).upper())
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            return 0
        return int(abs(value - float(self.answer)) <= self.tolerance)


def load_bank(path: str | Path | None = None) -> dict[str, Item]:
    """Read the item bank (default ``training/instructor/quiz_bank.yml``) keyed by item id."""
    file = Path(path) if path is not None else paths().training / BANK_FILE
    if not file.is_file():
        raise ParameterError(f"設問集 {file.name} がありません", parameter="bank")
    raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    items = {}
    for entry in raw.get("items", []):
        item = Item(
            id=str(entry["id"]),
            track=str(entry["track"]),
            module=str(entry["module"]),
            kind=str(entry["kind"]),
            question=str(entry["question"]),
            choices=tuple(entry.get("choices") or ()),
            answer=entry["answer"],
            tolerance=float(entry.get("tolerance", 0.0)),
        )
        if item.kind not in ("choice", "numeric"):
            raise ParameterError(
                f"設問 {item.id} の kind「{item.kind}」は choice か numeric です", parameter="kind"
            )
        items[item.id] = item
    return items


def read_answers(folder: str | Path, bank: dict[str, Item]):
    """Read every ``<participant>.csv`` in ``folder`` into one long table of scores.

    Each file has the columns 試験 (事前/事後 or pre/post), 設問 (item id) and 回答 (a choice letter or a
    number; 全角 is accepted). Returns a DataFrame ``participant, test, item, module, score``.

    Raises
    ------
    IngestError
        Naming the file and row of an unknown test, an unknown item or a missing column.
    """
    import pandas as pd

    from ebpm.ingest.read import read_csv

    rows = []
    files = sorted(Path(folder).glob("*.csv"))
    if not files:
        raise IngestError("回答ファイル（*.csv）がありません", file=str(Path(folder).name))
    for file in files:
        header = file.read_text(encoding="utf-8-sig").splitlines()[:1]
        answer_col = "response" if header and "response" in header[0] else "回答"
        ing = read_csv(file, dtype={answer_col: "string"})
        frame = ing.frame.rename(columns={c: _COLUMNS.get(c, c) for c in ing.columns})
        missing = [c for c in ("test", "item", "response") if c not in frame.columns]
        if missing:
            raise IngestError(
                f"列がありません: {'、'.join(missing)}（必要な列: 試験・設問・回答）",
                file=file.name,
            )
        for i, rec in enumerate(frame.to_dict("records")):
            row = ing.source_row(i)
            test = TESTS.get(str(rec["test"]).strip())
            if test is None:
                raise IngestError(
                    f"試験「{rec['test']}」は 事前 か 事後 です",
                    file=file.name,
                    row=row,
                    column="試験",
                )
            item = bank.get(str(rec["item"]).strip())
            if item is None:
                raise IngestError(
                    f"設問「{rec['item']}」は設問集にありません",
                    file=file.name,
                    row=row,
                    column="設問",
                )
            response = rec["response"]
            rows.append(
                {
                    "participant": file.stem,
                    "test": test,
                    "item": item.id,
                    "module": item.module,
                    "score": item.score(None if pd.isna(response) else response),
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class PairedDifference:
    """Mean paired difference (post − pre) with its t-based confidence interval."""

    mean: float
    se: float
    ci: tuple[float, float]
    n: int
    pvalue: float


def paired_difference(pre, post, *, level: float = 0.95) -> PairedDifference:
    """Paired mean difference ``post − pre`` with a Student-t confidence interval (df = n − 1).

    With identical differences (standard deviation 0) the interval collapses to the mean; with fewer
    than 2 pairs the interval and p-value are NaN.
    """
    import numpy as np
    from scipy import stats

    a = np.asarray(pre, dtype=float)
    b = np.asarray(post, dtype=float)
    if a.shape != b.shape:
        raise ParameterError("事前と事後の数が合いません（対応のある比較です）", parameter="pre")
    d = b - a
    n = int(d.size)
    if n < 2:
        m = float(d.mean()) if n else math.nan
        return PairedDifference(m, math.nan, (math.nan, math.nan), n, math.nan)
    mean = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(n))
    if se == 0:
        return PairedDifference(mean, 0.0, (mean, mean), n, 0.0 if mean != 0 else 1.0)
    q = float(stats.t.ppf(0.5 + level / 2, n - 1))
    p = float(2 * stats.t.sf(abs(mean / se), n - 1))
    return PairedDifference(mean, se, (mean - q * se, mean + q * se), n, p)


def learning_gain(scores, *, by: str = "item", level: float = 0.95):
    """Learning gain per ``item`` or ``module``: mean pre/post share correct and the paired difference.

    Only participants who took both tests count (paired). Returns a DataFrame with ``by``, ``n``,
    ``pre``, ``post``, ``gain``, ``ci_low``, ``ci_high``, ``pvalue``.
    """
    import pandas as pd

    if by not in ("item", "module", "all"):
        raise ParameterError(f"by は item・module・all です（{by!r}）", parameter="by")
    key = "module" if by == "all" else by
    frame = scores.assign(all="全体") if by == "all" else scores
    key = "all" if by == "all" else key
    per = frame.groupby([key, "participant", "test"])["score"].mean().unstack("test")
    per = per.dropna(subset=[c for c in ("事前", "事後") if c in per.columns])
    rows = []
    for name, block in per.groupby(level=0):
        if "事前" not in block or "事後" not in block:
            continue
        res = paired_difference(block["事前"], block["事後"], level=level)
        rows.append(
            {
                by: name,
                "n": res.n,
                "pre": float(block["事前"].mean()),
                "post": float(block["事後"].mean()),
                "gain": res.mean,
                "ci_low": res.ci[0],
                "ci_high": res.ci[1],
                "pvalue": res.pvalue,
            }
        )
    return pd.DataFrame(rows)


def simulate_answers(
    out_dir: str | Path,
    *,
    track: str,
    n: int = 12,
    seed: int = 1,
    bank: dict[str, Item] | None = None,
) -> list[Path]:
    """Write 模擬データ answer files (one CSV per made-up participant) to practise ``ebpm course report``.

    Each participant answers every item of ``track`` before and after; the chance of a right answer
    rises from about 45% to about 75%. Wrong choices are drawn from the other options.
    """
    import numpy as np

    items = [i for i in (bank or load_bank()).values() if i.track == track]
    if not items:
        raise ParameterError(f"区分「{track}」の設問がありません", parameter="track")
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for k in range(1, n + 1):
        ability = rng.normal(0, 0.8)
        lines = ["試験,設問,回答"]
        for test, base in (("事前", -0.2), ("事後", 1.1)):
            for item in items:
                right = rng.random() < 1 / (1 + math.exp(-(base + ability)))
                if item.kind == "choice":
                    letters = [c.split(" ", 1)[0] for c in item.choices] or [str(item.answer)]
                    wrong = [x for x in letters if x != str(item.answer)] or letters
                    answer = str(item.answer) if right else str(rng.choice(wrong))
                else:
                    answer = (
                        f"{float(item.answer):g}"
                        if right
                        else f"{float(item.answer) + 1 + k % 3:g}"
                    )
                lines.append(f"{test},{item.id},{answer}")
        path = out / f"模擬{k:03d}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written.append(path)
    return written
