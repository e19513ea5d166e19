# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: ebpm (Python 3)
#     language: python
#     name: ebpm
# ---

# %% [markdown]
# # 例題2: 満足している市民の割合を、ウェイトを使って正しく求める（模擬データ）
#
# **問い:** 令和7年度の市民満足度調査で、総合満足度が「4」以上の市民は何%か。ウェイトを使わないと
# どれだけずれるか。
#
# 調査は層ごとに同じ人数を抽出し、若い人ほど回答しない傾向があります。回答をそのまま平均すると、
# 高齢の回答者の意見を多く数えてしまいます。

# %%
import ebpm
from ebpm.methods import survey

df = ebpm.load("citizen_survey", fiscal_year=2025)
resp = df[df["responded"]].copy()
resp["satisfied"] = (resp["satisfaction"] >= 4).astype(float)

weighted = survey.weighted_proportion(resp["satisfied"], resp["weight"])
naive = resp["satisfied"].mean()
print(f"ウェイトあり: {100 * weighted['share']:.1f}%（95%信頼区間 {100 * weighted['ci_low']:.1f}〜{100 * weighted['ci_high']:.1f}%）")
print(f"ウェイトなし: {100 * naive:.1f}%")

# %% [markdown]
# 年齢区分ごとの割合です。回答が10件未満の区分は `x` になります。

# %%
by_age = survey.weighted_proportions(resp, y="satisfied", weight="weight", by="age_group")
ebpm.show(by_age[["age_group", "n", "share", "ci_low", "ci_high"]], table="citizen_survey", count_columns=["n"],
          linked_columns=["share", "ci_low", "ci_high"], caption="年齢区分別の満足側の割合（0〜1）")

# %% [markdown]
# **答え:** ウェイトを使うと満足側の割合は約半分で、ウェイトを使わない単純な割合とは数ポイント違います。
# 割合を報告するときは、ウェイト付きの値と信頼区間を使います（これは模擬データです）。

# %%
assert 0 < weighted["ci_low"] < weighted["share"] < weighted["ci_high"] < 1
