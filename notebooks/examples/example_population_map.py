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
# # 例題1: 県内で人口が減った市町村を地図で見る（国勢調査、実データ）
#
# **問い:** 2015年から2020年にかけて、岩手県のどの市町村で人口が大きく減ったか。盛岡市はどのあたりか。
#
# 使うもの: `ebpm.studies.queries.census_change`（国勢調査の市町村別人口の変化）と `ebpm.choropleth`
# （団体コードで結ぶ塗り分け地図。地図の下に国土数値情報のクレジットが入ります）。

# %%
import ebpm
from ebpm.studies import queries

change = queries.census_change(2015, 2020)
change.sort_values("change_pct").head(5)[["name", "pop_first", "pop_last", "change_pct"]].round(1)

# %% [markdown]
# 表は実データ（市町村の人口、秘匿の対象ではない大きな数）なので、そのまま見られます。地図にします。

# %%
ebpm.choropleth(
    change,
    code="area_code",
    value="change_pct",
    value_title="人口増減率",
    unit="%",
    diverging=True,
    tooltip=["name"],
    title="市町村別人口増減率（国勢調査 2015→2020年）",
    source="「国勢調査」（総務省統計局）を加工して作成",
)

# %% [markdown]
# **答え:** 沿岸部と県北の町村で減少が大きく、盛岡市（-2.7%）は県内では減少の小さい側です。
# 盛岡市に隣接する滝沢市・矢巾町などは増加または横ばいです。

# %%
morioka = change.set_index("name").loc["盛岡市", "change_pct"]
assert -5 < morioka < 0
print(f"盛岡市の増減率: {morioka:.1f}%")
