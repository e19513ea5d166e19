# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: ebpm (Python 3)
#     language: python
#     name: ebpm
# ---

# %% [markdown]
# # オンライン手続の導入で、窓口での申請は減ったか（模擬データ）
#
# **問い**: 手続をオンライン化すると、その手続の窓口での申請件数はどれだけ減るか。
#
# 手続ごとにオンライン化の時期が違う（令和3〜7年度）ので、介入時期のずれに対応した差の差分析
# （Callaway–Sant'Anna）で、オンライン化した手続（介入群）と、まだ・ずっとオンライン化していない手続
# （比較群）の窓口申請件数の変化を比べます。使うのは模擬データの盛岡市で、真の効果が
# `ebpm.ground_truth` に記録されているため、推定が当たっているかを確かめられます。
#
# JupyterLab の「ebpm (Python 3)」で上から実行して保存すると、`ebpm render dx_online_counter.ipynb`
# でレポートになります（`jupytext --to ipynb` でノートブックにできます）。

# %%
import numpy as np

import ebpm

# %% [markdown]
# ## データ
#
# 手続×月の窓口申請件数を、手続の一覧（オンライン化した月、法令上オンライン化できるか）と結び付けます。

# %%
usage = ebpm.sql(
    """
    SELECT u.procedure_id, u.month, p.online_since,
           p.online_legally_possible,
           sum(u.applications) FILTER (WHERE u.channel = '窓口') AS counter
    FROM procedure_usage u JOIN procedure p USING (procedure_id)
    GROUP BY ALL
    ORDER BY 1, 2
    """
)
usage["log_counter"] = np.log(usage["counter"] + 1)  # 率の変化を見るため対数に（0件の月に +1）
print(f"{usage['procedure_id'].nunique()} 手続 × {usage['month'].nunique()} か月")

# %% [markdown]
# ## 分析
#
# - データの期間より前にオンライン化していた手続（当初から介入済み）は、介入前の期間がないため自動で除かれます。
# - 法令上オンライン化できない手続は比較群に入りますが、定義上介入を受けられません。カタログの `procedure` が
#   `online_legally_possible` を「介入の対象になりうるかの列」（`eligibility`）と宣言しているので、この列が
#   データにあれば `ebpm.did` が自動で使い、比較可能性の注意と根拠の確かさに反映します（`eligible=` は不要）。

# %%
res = ebpm.did(
    usage,
    y="log_counter",
    unit="procedure_id",
    time="month",
    first_treated="online_since",
    outcome_label="窓口での申請件数",
)
print(res.summary_ja())

# %% [markdown]
# ## 真の値との比較（研修用）
#
# 模擬データには、オンライン化が窓口申請を減らす効果が仕込んであります。推定値と真の値を比べます。

# %%
truth = ebpm.ground_truth("procedure_usage")["counter_effect_of_online"]
check = res.compare_truth(truth)
print(check.summary_ja())

# %% [markdown]
# ## 記録

# %%
ebpm.record("title", "オンライン手続の導入と窓口での申請件数（模擬データ）")
ebpm.record("question", "手続をオンライン化すると、その手続の窓口での申請件数はどれだけ減るか")
ebpm.record("did", res, headline=True)
ebpm.record("truth_check", check.to_dict())
