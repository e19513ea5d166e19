"""`ebpm new`: a planner's own analysis notebook (+ optional .params.yml) from a short template."""

from __future__ import annotations

import re
from pathlib import Path

from ebpm.errors import ParameterError

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

_PARAMS_YML = """\
# 条件（パラメータ）の定義。docs/reports.md「条件の定義」を参照。
title_ja: {title}
description_ja: （この分析の説明を書きます）
meta:
  owner: （担当課）
  policy_area: （施策分野）
  contact: （連絡先）
  status: 下書き
parameters:
  table:
    type: str
    default: counter_visit
    label_ja: 使う表
    help_ja: ebpm catalog で一覧できる整備済みデータベースの表
"""

_INTRO = """\
# {title}

**問い**: （ここに問いを一文で書きます。例: オンライン手続の導入で窓口の来庁者は減ったか）

このノートブックは ebpm のカーネル（JupyterLab の「ebpm (Python 3)」）で上から実行して保存すると、
`ebpm render {name}.ipynb` でそのままレポートになります。`ebpm run {name}.ipynb` でも作れます。
"""

_LOAD = """\
import ebpm

df = ebpm.load(table)
ebpm.show(df.head(), table=table, caption="データの先頭")"""

_ANALYSIS = """\
# 例: 分割時系列分析。列名と導入日を自分の問いに合わせて書き換えます。
# res = ebpm.its(daily, y="visits", time="date", start="令和5年10月2日")
# ebpm.record("its", res, headline=True)   # 見出しの結果: 答えと根拠の確かさになります
# ebpm.figure(res.chart())"""

_RECORD = """\
ebpm.record("title", "{title}")
ebpm.record("question", "（問い）")"""


def new_notebook(
    name: str, folder: str | Path = ".", *, title: str | None = None, params: bool = True
) -> list[Path]:
    """Write ``<folder>/<name>.ipynb`` (and ``<name>.params.yml``) for a planner's own analysis.

    Parameters
    ----------
    name : str
        File name without suffix: lower-case letters, digits and ``_``, starting with a letter.
    folder : path, default "."
        Where to write (created if missing).
    title : str, optional
        Japanese title (default: ``name``).
    params : bool, default True
        Also write a ``.params.yml`` with one parameter and a ``parameters`` cell; without it the
        notebook has no parameters (allowed: ``ebpm run`` runs it as it is).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ParameterError
        Bad name, or a file of that name already exists (never overwritten).
    """
    import nbformat

    if not isinstance(name, str) or not _NAME.match(name):
        raise ParameterError(
            f"名前「{name}」は使えません。英小文字で始まり、英小文字・数字・_ だけの名前にしてください"
            "（例: counter_online）。",
            parameter="name",
        )
    folder = Path(folder)
    nb_path = folder / f"{name}.ipynb"
    yml_path = folder / f"{name}.params.yml"
    targets = [nb_path, yml_path] if params else [nb_path]
    existing = [p for p in targets if p.exists()]
    if existing:
        raise ParameterError(
            f"「{existing[0]}」はすでにあります。上書きはしません。別の名前にしてください。",
            file=str(existing[0]),
        )
    title = title or name
    v4 = nbformat.v4
    cells = [v4.new_markdown_cell(_INTRO.format(title=title, name=name))]
    if params:
        pcell = v4.new_code_cell('table = "counter_visit"')
        pcell.metadata["tags"] = ["parameters"]
        cells.append(pcell)
        cells.append(v4.new_markdown_cell("## データ"))
        cells.append(v4.new_code_cell(_LOAD))
    else:
        cells.append(v4.new_markdown_cell("## データ"))
        cells.append(v4.new_code_cell('table = "counter_visit"\n' + _LOAD))
    cells += [
        v4.new_markdown_cell("## 分析"),
        v4.new_code_cell(_ANALYSIS),
        v4.new_markdown_cell("## 記録"),
        v4.new_code_cell(_RECORD.format(title=title)),
    ]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "ebpm",
        "display_name": "ebpm (Python 3)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, nb_path)
    if params:
        yml_path.write_text(_PARAMS_YML.format(title=title), encoding="utf-8")
    return targets
