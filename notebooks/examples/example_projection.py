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
# # 例題3: このままだと2035年の高齢化率はどうなるか（コーホート変化率法）
#
# **問い:** 盛岡市全体で、2020→2025年の変化がこの先も続くと仮定すると、2035年の人口と高齢化率はどうなるか。
#
# `ebpm.cohort_change_projection` は、5歳階級の集団が5年後に一つ上の階級に移るときの変化率（死亡と転出入を含む）を
# 基準期間の値で固定して先へ延ばします。仮定は `ebpm.methods.demography.ASSUMPTIONS_JA` に書いてあります。

# %%
import ebpm
from ebpm.methods import demography
from ebpm.studies import queries

pop = queries.town_population(queries.ALL_TOWNS)  # 町字別人口（模擬データ）の合計＝住基の市全体
projection = ebpm.cohort_change_projection(pop, base_year=2025, to_year=2035)
for year, part in projection.groupby("year"):
    ind = demography.ageing_indicators(part)
    print(f"{year}年: 人口 {ind['total']:,.0f}人、高齢化率 {ind['share_65_over']:.1f}%")

# %% [markdown]
# 推計の仮定:

# %%
for line in demography.ASSUMPTIONS_JA:
    print("・" + line)

# %% [markdown]
# **答え:** 基準期間の変化が続くと、2035年の人口は2025年より少なく、高齢化率は上がる見通しです。
# これは仮定に基づく見通しで、予測区間はありません（町字別の構成は模擬データです）。

# %%
total = projection.groupby("year")["population"].sum()
assert total[2035] < total[2025]
