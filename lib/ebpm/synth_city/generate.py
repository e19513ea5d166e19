"""Orchestrates the 模擬データ tables, writes them atomically with SOURCE.yml and ground_truth.yml."""

from __future__ import annotations

import numbers
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from ebpm import config
from ebpm.data.kpi import DX_KPIS
from ebpm.errors import ParameterError
from ebpm.synth_city import (
    callcentre,
    counters,
    dx,
    margins,
    population,
    procedures,
    subsidy,
    survey,
)
from ebpm.synth_city.common import KPI_FYS, LABEL, sha256, write_csv

GENERATOR_VERSION = "1.0.0"
SOURCE_NAME = "synthetic_morioka"
TABLES = (
    "population_by_town",
    "procedure",
    "procedure_usage",
    "core_system",
    "staff_training",
    "digital_workshop",
    "counter_visit",
    "call_centre",
    "subsidy_application",
    "citizen_survey",
)
FLOAT_FORMAT: dict[str, str] = {}  # table -> float format when "%.2f" does not fit
# the DX plan's targets come from the one KPI definition the dashboard and logic model also use
KPI_TARGETS = {k.truth_key: k.truth_target for k in DX_KPIS.values()}


@dataclass(frozen=True)
class Settings:
    """True effects planted in the 模擬データ (defaults are the project's bundled data).

    Parameters
    ----------
    cashless_effect : float
        Full effect of cashless payment on mean waiting time at a counter, minutes (negative =
        shorter), for the 2022-10 cohort; other cohorts are scaled (see ``counters``).
    chatbot_level_change : float
        Proportional jump in daily inquiries when the AI chatbot starts (-0.18 = 18% fewer).
    chatbot_slope_change : float
        Change of the yearly log growth rate of inquiries after the launch.
    subsidy_jump : float
        Jump in the application probability for households just below the income threshold.
    """

    cashless_effect: float = -4.0
    chatbot_level_change: float = -0.18
    chatbot_slope_change: float = -0.10
    subsidy_jump: float = 0.25


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ParameterError(
            f"乱数の種は整数で指定してください（指定値: {seed!r}）", parameter="seed"
        )
    if not 0 <= int(seed) < 2**63:
        raise ParameterError(
            f"乱数の種は0以上 2^63 未満の整数で指定してください（指定値: {seed}）",
            parameter="seed",
        )
    return int(seed)


def _check_settings(settings: Settings) -> None:
    for name, value in asdict(settings).items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ParameterError(f"数値で指定してください（指定値: {value!r}）", parameter=name)
    counters.check_setting(settings.cashless_effect)
    callcentre.check_setting(settings.chatbot_level_change, settings.chatbot_slope_change)
    subsidy.check_setting(settings.subsidy_jump)


def _check_target(target: Path) -> None:
    """Refuse to replace anything but an earlier 模擬データ folder (the old one is deleted)."""
    if not target.exists():
        return
    if not target.is_dir():
        raise ParameterError(
            "出力先がフォルダではなくファイルです。別の場所を指定してください",
            parameter="out",
            file=str(target),
        )
    if not any(target.iterdir()):
        return
    source = target / "SOURCE.yml"
    try:
        meta = yaml.safe_load(source.read_text(encoding="utf-8")) if source.is_file() else None
    except (OSError, yaml.YAMLError):
        meta = None
    if not isinstance(meta, dict) or meta.get("synthetic") is not True:
        raise ParameterError(
            "出力先は空でなく、以前に生成した模擬データのフォルダでもありません"
            "（SOURCE.yml に synthetic: true がない）。上書きすると中身が消えるため中止しました。"
            "空のフォルダか新しい場所を指定してください",
            parameter="out",
            file=str(target),
        )


def _dump_yaml(data: dict, path: Path) -> None:
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    path.write_text(text, encoding="utf-8", newline="\n")


def _source_yml(seed: int, settings: Settings, m: margins.Margins, files: dict[str, str]) -> dict:
    return {
        "source": SOURCE_NAME,
        "title_ja": f"盛岡市 行政データ（{LABEL}）",
        "publisher": "ebpm（模擬データ生成）",
        "licence": "CC0 1.0（模擬データ。実在の個人・記録は含まない）",
        "licence_url": "https://creativecommons.org/publicdomain/zero/1.0/deed.ja",
        "attribution": (
            f"{LABEL}（ebpm 生成、seed {seed}）。人口の総数・年齢構成・町字は"
            "「住民基本台帳に基づく人口、人口動態及び世帯数」（総務省）および"
            "「アドレス・ベース・レジストリ」（デジタル庁）を加工して較正"
        ),
        "retrieved": "該当なし（模擬データ。決定的に生成し、生成日時は記録しない）",
        "origin": {"generator": "ebpm.synthesize", "command": f"ebpm synthesize --seed {seed}"},
        "synthetic": True,
        "label": LABEL,
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "settings": asdict(settings),
        "margins": m.used,
        "files": [
            {"path": name, "sha256": digest, "description_ja": f"{name}（{LABEL}）"}
            for name, digest in files.items()
        ],
        "notes_ja": (
            "決定的に生成した模擬データ。同じ seed・同じ版なら同じバイト列になる。"
            "真の効果は ground_truth.yml。住基総数（各年1月1日）と2022年の男女別5歳階級は実データと一致する。"
            "retrieved に日付を書かないのは、生成日時を含めるとバイト一致が崩れるため。"
        ),
    }


def synthesize(
    seed: int = 20260401, out: str | Path | None = None, settings: Settings | None = None
) -> Path:
    """Generate the 模擬データ city and write it into ``out`` (default data/raw/synthetic_morioka).

    Everything is written into a temporary directory next to ``out`` first and moved into place
    only when complete, so a failure leaves the previous files untouched.

    Parameters
    ----------
    seed : int
        Non-negative integer seed; the same seed gives byte-identical files.
    out : str or Path, optional
        Target directory.
    settings : Settings, optional
        True effects to plant; impossible values are refused with a ``ParameterError``.

    Returns
    -------
    Path
        The directory written.
    """
    seed = _check_seed(seed)
    settings = settings or Settings()
    _check_settings(settings)
    target = Path(out) if out is not None else config.paths().raw / SOURCE_NAME
    _check_target(target)
    m = margins.load()

    pop = population.generate(m, seed)
    gt_procedures: dict = {}
    procedure, usage = procedures.generate(seed, gt_procedures)
    core = dx.core_system(seed)
    training = dx.staff_training(seed)
    workshop = dx.digital_workshop(seed)
    counter, gt_counter = counters.generate(seed, settings.cashless_effect)
    calls, gt_calls = callcentre.generate(
        seed, settings.chatbot_level_change, settings.chatbot_slope_change
    )
    subsidy_df, gt_subsidy = subsidy.generate(seed, settings.subsidy_jump)
    adults = {fy: population.adults_by_area(pop, m, fy) for fy in KPI_FYS}
    survey_df, gt_survey = survey.generate(seed, adults)

    frames = {
        "population_by_town": pop,
        "procedure": procedure,
        "procedure_usage": usage,
        "core_system": core,
        "staff_training": training,
        "digital_workshop": workshop,
        "counter_visit": counter,
        "call_centre": calls,
        "subsidy_application": subsidy_df,
        "citizen_survey": survey_df,
    }
    truth = {
        "label": LABEL,
        "seed": seed,
        "generator_version": GENERATOR_VERSION,
        "counter_visit": gt_counter,
        "call_centre": gt_calls,
        "subsidy_application": gt_subsidy,
        "citizen_survey": gt_survey,
        "procedure_usage": {
            "online_share_of_applications_by_fy": procedures.online_share_of_applications(usage),
            "note": "申請件数に占めるオンライン申請の割合（実現値）。KPI 1 は手続数の割合で、これとは別。",
            **gt_procedures,
        },
        "population_by_town": {
            "total_by_year": {int(y): int(t) for y, t in m.totals.items()},
            "note": "町字別の配分と2022年以外の年齢構成は模擬。市全体の各年合計は住基総数に一致。",
        },
        "kpi": {
            "online_procedure_share": {
                "title": "オンライン化した手続の割合（法令上オンライン化が可能な手続のうち）",
                "target": KPI_TARGETS["online_procedure_share"],
                "by_fy": {k: round(v, 6) for k, v in procedures.online_share(procedure).items()},
            },
            "core_systems_done": {
                "title": "標準化・ガバメントクラウド移行を終えた基幹業務システム数",
                "target": KPI_TARGETS["core_systems_done"],
                "by_fy": dx.core_done(core),
            },
            "staff_training_cumulative": {
                "title": "職員研修の累計受講者数（修了、延べ）",
                "target": KPI_TARGETS["staff_training_cumulative"],
                "by_fy": dx.training_cumulative(training),
            },
            "digital_workshops_cumulative": {
                "title": "市民向けデジタル講習会の累計開催回数（中止を除く）",
                "target": KPI_TARGETS["digital_workshops_cumulative"],
                "by_fy": dx.workshops_cumulative(workshop),
            },
        },
    }

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    tmp.chmod(0o755)
    try:
        digests = {}
        for name in TABLES:
            path = tmp / f"{name}.csv"
            write_csv(frames[name], path, float_format=FLOAT_FORMAT.get(name, "%.2f"))
            digests[path.name] = sha256(path)
        _dump_yaml(truth, tmp / "ground_truth.yml")
        digests["ground_truth.yml"] = sha256(tmp / "ground_truth.yml")
        _dump_yaml(_source_yml(seed, settings, m, digests), tmp / "SOURCE.yml")
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old-{tmp.name[-8:]}")
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target
