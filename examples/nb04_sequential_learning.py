"""Cells of ``04_sequential_learning.ipynb`` (registered in ``build_notebooks.py``)."""

NOTEBOOK = "04_sequential_learning.ipynb"

NB4 = [
    ("md", """\
# 4 · Which catalyst to measure next? SISSO-guided sequential learning on Rohr OER plate A

A high-throughput library of 2121 mixed-metal oxides is far more than one can characterise
carefully. Sequential learning (active learning) measures a few, fits a surrogate model,
and lets an *acquisition function* decide which candidate is worth measuring next. This
notebook uses the OER data of the benchmark of B. Rohr, H. S. Stein, D. Guevarra, Y. Wang,
J. A. Haber, M. Aykol, S. K. Suram, J. M. Gregoire, *Chem. Sci.* **11**, 2696 (2020), where
every overpotential is known, so a campaign can be replayed and scored:

1. loads plate A and defines the target set (the best 1 % of the library),
2. runs one `Campaign` step by step: `step()`, `history_`, `rounds_`, `suggest()` for a human
   in the loop, and a kill-and-resume from the JSON checkpoint,
3. compares random picking with expected improvement (EI) on a SISSO ensemble, a Gaussian
   process and a random forest over several seeds (`run_retrospective`, Rohr's metrics),
4. prints the analytic law the SISSO campaign ends with.

Small settings (short campaigns, few seeds): runs in one to two minutes on two cores."""),
    ("code", """\
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

warnings.filterwarnings("ignore", category=FutureWarning)
pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 80)
pd.set_option("display.max_columns", 30)
t_start = time.perf_counter()"""),
    ("md", """\
## Step 1 · Data: Rohr et al. (2020), plate A

Plate A (JCAP plate 3496) holds all unary to quaternary compositions in 0.1 steps of
Mn-Fe-Co-Ni-La-Ce oxides; the features are the six cation fractions (they sum to 1), the
target is the OER overpotential in V, **lower is better** (`goal="minimize"`). Data as
distributed by the Olympus benchmark suite (MIT licence).

As in Rohr et al., the *target set* is the top 1 % of the library: `top_fraction_mask` marks
the `ceil(0.01 N)` lowest overpotentials (ties with the threshold included). A campaign
"finds" a target when it measures one of them."""),
    ("code", """\
from sisso_lite.datasets import load_oer_plate
from sisso_lite.learning.metrics import random_first_hit, top_fraction_mask

X, y = load_oer_plate("A")
pool = X.assign(overpotential_V=y)              # features + the (hidden) answer key
features = list(X.columns)
targets = top_fraction_mask(y.to_numpy(), fraction=0.01, goal="minimize")
threshold = float(y[targets].max())
print(f"{len(pool)} compositions, features {features}")
print(f"overpotential: min {y.min():.3f} V, median {y.median():.3f} V, max {y.max():.3f} V")
print(f"target set (top 1 %): {int(targets.sum())} compositions with overpotential "
      f"<= {threshold:.4f} V")
print(f"random picking needs on average {random_first_hit(len(pool), int(targets.sum())):.0f} "
      "picks for the first target")
pool[targets].sort_values("overpotential_V").head(8)"""),
    ("md", """\
## Step 2 · One campaign, step by step

`Campaign` in *retrospective* mode: the `target` column is the answer key, revealed only for
the rows the campaign picks. Round 0 measures a random initial design (`n_initial=10`); every
later round fits the surrogate on what has been measured, scores the unmeasured candidates
with EI and measures the best batch of `batch_size=5`.

* Surrogate (default `"sisso"`): a `SissoEnsemble` of 50 SISSO models on bootstrap samples
  with 20 % feature dropout; the descriptor dimension grows with the data (1D below 8
  measured points, 2D below 20, 3D from 20 on); the spread of the members plus their
  out-of-bag error is the predictive σ. SISSO ensembles as surrogates in active learning:
  A. S. Nair, L. Foppa, M. Scheffler, *npj Comput. Mater.* (2025).
* Batches (default `batch_strategy="believer"`, kriging believer): pick the best candidate,
  pretend its predicted value was measured, refit, pick the next.
* `checkpoint="campaign_A.json"`: written atomically after every round (the pool is stored
  once beside it as `campaign_A.pool.json`), in the notebook's working directory.

`step()` runs one round and returns its rows of the history."""),
    ("code", """\
from sisso_lite.learning import Campaign

settings = dict(target="overpotential_V", goal="minimize", acquisition="ei", budget=35,
                batch_size=5, random_state=0)
camp = Campaign(pool, **settings, checkpoint="campaign_A.json", progress=False)
camp.step()                                          # round 0: random initial design
t0 = time.perf_counter()
rows = camp.step()                                   # round 1: first SISSO-ensemble fit
print(f"round 1 took {time.perf_counter() - t0:.1f} s (the first fit also loads numba caches)")
rows[["round", "pool_index", "value", "best_so_far", "pred_mean", "pred_std", "acquisition"]]"""),
    ("md", """\
`history_` has one row per measurement (the value, the running best, and what the surrogate
predicted for the pick: mean, σ, acquisition value, the formula it stood for); `rounds_` one
row per round (sizes, best so far, fit / acquisition seconds, the model's RMSE on the still
unmeasured pool, notes). The formula is the most frequent descriptor set of the ensemble
with the share of members that use it."""),
    ("code", """\
cols = ["round", "pool_index", "value", "status", "best_so_far", "pred_mean", "pred_std"]
display(camp.history_[cols].join(pool[features], on="pool_index").round(4))
camp.rounds_[["round", "n_picked", "n_measured", "best_so_far", "fit_seconds",
              "rmse_unmeasured", "note", "formula"]].round(4)"""),
    ("md", """\
### Human in the loop: `suggest`

`suggest(n)` returns the next `n` picks with their predictions **without** measuring them and
without changing the campaign (measure them in the lab, then `tell(index, values)`). Every
random choice of a round is derived from `(random_state, round)`, so the suggestion is
exactly the batch the next `step()` will measure. With the believer strategy the rows are in
pick order, and each pick's acquisition value comes from the refit after the previous
pseudo-labels, so the column need not decrease. Compare the predicted means and σ with the
measured range printed below: with 15 measurements the ensemble members can disagree widely
away from the data (e.g. at the corners of the composition simplex), and EI rewards exactly
that uncertainty."""),
    ("code", """\
suggestion = camp.suggest(5)
print("measured so far:", camp.n_measured, "| next round:", camp.round_)
measured = camp.history_["value"]
print(f"measured overpotentials span {measured.min():.3f}-{measured.max():.3f} V; the "
      f"suggested picks are predicted at {suggestion.pred_mean.min():.3f} to "
      f"{suggestion.pred_mean.max():.3f} V with sigma up to {suggestion.pred_std.max():.2f} V")
suggestion[features + ["pred_mean", "pred_std", "acquisition"]].round(4)"""),
    ("md", """\
### Kill and resume

Run two more rounds, then throw the object away as if the process had been killed. After
every round the checkpoint holds the full state; `Campaign.resume` rebuilds the campaign from
it (the pool comes from `campaign_A.pool.json` and is checked by fingerprint) and continues
until the budget is spent."""),
    ("code", """\
camp.run(n_rounds=2)
measured_r2 = camp.history_.query("round == 2")["pool_index"].tolist()
print("round 2 measured the suggestion:", measured_r2 == suggestion.index.tolist())
print(f"before the 'kill': {camp.n_measured} measured, next round {camp.round_}")
del camp                                             # "kill -9"

resumed = Campaign.resume("campaign_A.json", progress=False)
print(f"resumed: {resumed.n_measured} measured, next round {resumed.round_}")
resumed.run()
print(f"finished: {resumed.n_measured} measured, best {resumed.best_value():.4f} V, "
      f"in the target set: {int(targets[resumed.history_['pool_index']].sum())}")
print("checkpoint files:", sorted(p.name for p in Path.cwd().glob("campaign_A*.json")))"""),
    ("md", """\
The same campaign without interruption (and without the `suggest` call) gives the same
history; only the timing columns differ."""),
    ("code", """\
t0 = time.perf_counter()
reference = Campaign(pool, **settings, progress=False).run()
print(f"uninterrupted run: {time.perf_counter() - t0:.1f} s")
timing = ["fit_seconds", "acquisition_seconds"]
pd.testing.assert_frame_equal(resumed.history_.drop(columns=timing),
                              reference.history_.drop(columns=timing))
print("resumed history == uninterrupted history:", True)
resumed.rounds_[["round", "n_measured", "best_so_far", "fit_seconds", "rmse_unmeasured"]]"""),
    ("md", """\
## Step 3 · Retrospective comparison: random vs EI with SISSO, GP and RF

One campaign says little; `run_retrospective` runs every strategy once per seed, and a seed
fixes the initial design, so the strategies start from the same ten measurements. Strategies
are dicts of `Campaign` options:

* `random`: random picks (the baseline of Rohr et al.),
* `sisso-EI`: EI on the SISSO ensemble (as above),
* `gp-EI`: EI on a Gaussian process (anisotropic Matérn-5/2 + white noise, the surrogate of
  Rohr et al.),
* `rf-EI`: EI on a random forest of 200 trees (σ = spread over the trees).

To keep the notebook short all model-based strategies take the `batch_size` best EI values of
one fit per round (`batch_strategy="top"`), the budget is 60 measurements in batches of 5,
there are only 4 seeds (quartiles over 4 seeds are rough), and two campaigns run at a time
(`n_jobs=2`; joblib gives each worker one BLAS / numba thread). Metrics of Rohr et al. (2020), as
median and interquartile range over seeds: picks to the first target (`first_hit`), fraction of
the target set found after `i` picks `f(i)`, enhancement factor over random
`EF(i) = f(i) / (i/N)`, and the acceleration factor `AF` for finding half the targets (NaN
when no seed gets there within the budget; `af_reached` counts the seeds that do). The last
row is the closed-form expectation of random picking."""),
    ("code", """\
from sisso_lite.learning.metrics import summarize_traces
from sisso_lite.learning.plotting import plot_best_so_far, plot_fraction_found
from sisso_lite.learning.retrospective import run_retrospective

strategies = {
    "random": {"acquisition": "random"},
    "sisso-EI": {"surrogate": "sisso", "acquisition": "ei", "batch_strategy": "top"},
    "gp-EI": {"surrogate": "gp", "acquisition": "ei", "batch_strategy": "top"},
    "rf-EI": {"surrogate": "rf", "acquisition": "ei", "batch_strategy": "top"},
}
t0 = time.perf_counter()
traces, runs = run_retrospective(pool, "overpotential_V", strategies, seeds=range(4),
                                 goal="minimize", budget=60, n_initial=10, batch_size=5,
                                 fraction=0.01, n_jobs=2)
print(f"{len(runs)} campaigns in {time.perf_counter() - t0:.0f} s; seconds per modelled round:",
      runs.groupby("strategy", sort=False)["seconds_per_round"].mean().round(2).to_dict())
summary = summarize_traces(traces, checkpoints=(20, 40, 60))
summary.T.round(3)"""),
    ("code", """\
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
plot_fraction_found(traces, ax=ax1)
most = traces.groupby(["strategy", "seed"])["hit"].sum().max() / targets.sum()
ax1.set_ylim(0, min(1.02, 1.3 * most + 0.05))        # zoom: short campaigns find few targets
ax1.legend(fontsize="small", loc="upper left")
plot_best_so_far(traces, ax=ax2, goal="minimize")
ax2.axhline(threshold, c="k", ls=":", lw=1, label="top-1 % threshold")
ax2.legend(fontsize="small", loc="upper right")
ax1.set_title("fraction of the top-1 % found (median, IQR over seeds)")
ax2.set_title("best overpotential so far (V)")
fig.tight_layout()
plt.show()"""),
    ("md", """\
What the table says, read from the numbers rather than typed in: the ranking by the median
fraction of targets found after 60 picks, by the median first hit and by the median best
overpotential reached ("any good" and "all good" need not agree), and the paired
comparison per seed of SISSO-EI with the other strategies (the same seed = the same initial
design)."""),
    ("code", """\
med = summary.drop(index="random (closed form)")
print("by median f(60):     ", " > ".join(
    f"{s} ({v:.2f})" for s, v in med["f60_median"].sort_values(ascending=False).items()))
print("by median first hit: ", " < ".join(
    f"{s} ({v:.0f})" for s, v in med["first_hit_median"].sort_values().items()),
      "  (inf: the median seed found no target)")
final_best = traces.groupby(["strategy", "seed"])["best_so_far"].last().groupby("strategy")
print("by median best value:", " < ".join(
    f"{s} ({v:.4f} V)" for s, v in final_best.median().sort_values().items()))
found = traces.groupby(["strategy", "seed"])["hit"].sum().unstack("strategy")[list(strategies)]
print("\\ntargets found within 60 picks, per seed:")
print(found.to_string())
for other in ("random", "gp-EI", "rf-EI"):
    more = int((found["sisso-EI"] > found[other]).sum())
    fewer = int((found["sisso-EI"] < found[other]).sum())
    print(f"sisso-EI vs {other}: more targets on {more}, fewer on {fewer}, "
          f"equal on {len(found) - more - fewer} of {len(found)} seeds")"""),
    ("md", """\
**Reading the comparison.** Random picking expects `60/N ≈ 3 %` of the targets after 60
picks (last row of the table). A strategy helps when its `f60` and `ef60` quartiles sit clearly
above that; with 4 seeds and 60 picks a difference of one or two targets between two
strategies is within the seed-to-seed spread, so only large, consistent gaps in the per-seed
counts above mean something. If, as in the ranking printed above, the random forest (or the
GP) finds more targets than the SISSO ensemble, that is plausible on this data set: the
overpotential varies smoothly over the composition simplex, which suits local models (the
forest's averages, the Matérn kernel), while every SISSO member has to describe the whole
simplex with one to three terms fitted on 10-55 points, and the ensemble's uncertainty far from the
data (step 2) pulls EI towards the corners. A proper benchmark needs more seeds and longer
campaigns (the defaults of `run_retrospective` are 20 seeds and a budget of 150). What SISSO
offers in return is an explicit formula at every round (next step)."""),
    ("md", """\
## Step 4 · The law the SISSO campaign ends with

`runs["final_formula"]` is the formula the SISSO-EI surrogate stood for in its last round (most
frequent descriptor set among the 50 members, coefficients of its best member, share of
members using it). A low share means the members disagree: with 55 measurements the descriptor
is not pinned down. Below, one `SissoRegressor` with the settings of the ensemble members
(dimension from `sisso_preset_dimension`, `max_complexity=3`, `n_sis=20`) is fitted on
everything the seed-0 SISSO-EI campaign measured, and checked on the compositions it never
saw."""),
    ("code", """\
print(runs.query("strategy == 'sisso-EI'")[["seed", "final_formula", "final_rmse_unmeasured"]]
      .to_string(index=False))"""),
    ("code", """\
import sympy
from scipy.stats import spearmanr

from sisso_lite.estimators import SissoRegressor
from sisso_lite.learning.surrogates import sisso_preset_dimension

picked = traces.query("strategy == 'sisso-EI' and seed == 0")["pool_index"].to_numpy()
n_dim = sisso_preset_dimension(len(picked))
law = SissoRegressor(n_dim=n_dim, max_complexity=3, n_sis=20, n_models=1)
law.fit(X.loc[picked], y.loc[picked])
print(f"{n_dim}D descriptors:", law.descriptors_)
expr = law.sympy(digits=4)
print("law (V):", expr)
# cation fractions are >= 0: with positive symbols the real cube root cbrt(x) reads x**(1/3)
positive = {s: sympy.Symbol(s.name, positive=True) for s in expr.free_symbols}
print("for fractions > 0:", sympy.simplify(expr.subs(positive)))

rest = np.setdiff1d(pool.index, picked)
pred = law.predict(X.loc[rest])
ok = np.isfinite(pred)
rmse_train = float(np.sqrt(np.mean((law.predict(X.loc[picked]) - y.loc[picked]) ** 2)))
rmse_rest = float(np.sqrt(np.mean((pred[ok] - y.loc[rest][ok]) ** 2)))
rho = spearmanr(pred[ok], y.loc[rest][ok]).statistic
rmse_mean = float(np.sqrt(np.mean((y.loc[picked].mean() - y.loc[rest]) ** 2)))
print(f"RMSE on the {len(picked)} measured: {rmse_train:.4f} V | on the {int(ok.sum())} "
      f"unmeasured: {rmse_rest:.4f} V (std of y there {y.loc[rest].std():.4f} V) | "
      f"Spearman rho {rho:.2f}")
print(f"baseline 'predict the mean of the measured values' on the unmeasured: "
      f"{rmse_mean:.4f} V -> the law is {'better' if rmse_rest < rmse_mean else 'NOT better'}")
best_pred = rest[ok][np.argsort(pred[ok])[:20]]
print(f"of the 20 unmeasured compositions the law ranks best, {int(targets[best_pred].sum())} "
      f"are in the top-1 % target set (random expectation {20 * targets[rest].mean():.1f})")"""),
    ("md", """\
How far to trust the law: the measurements were chosen by the acquisition, not at random, so
they crowd where the surrogate expected low overpotentials or was most unsure, and a law fitted
on them need not carry over to the rest of the plate. Compare the RMSE on the unmeasured
compositions with the constant baseline and look at the rank correlation printed above: if the
law does not beat the baseline, it describes the measured points only, and its use is as a
readable summary of what the campaign saw (which cations appear in it), not as a predictor
for the rest of the library."""),
    ("code", """\
fig, ax = plt.subplots(figsize=(5, 4))
ax.scatter(y.loc[rest][ok], pred[ok], s=6, c="0.7", label="unmeasured")
ax.scatter(y.loc[picked], law.predict(X.loc[picked]), s=18, c="tab:blue",
           label="measured by SISSO-EI (seed 0)")
lims = [y.min() - 0.01, y.max() + 0.01]
ax.plot(lims, lims, ls="--", c="k", lw=1)
ax.set(xlabel="measured overpotential (V)", ylabel="SISSO law (V)", xlim=lims, ylim=lims,
       title=f"final {n_dim}D law on all of plate A")
ax.legend(fontsize="small")
plt.show()

for p in Path.cwd().glob("campaign_A*.json"):       # leave the working directory clean
    p.unlink()
print(f"total run time {time.perf_counter() - t_start:.1f} s")"""),
    ("md", """\
**Summary.** `Campaign` runs the measure → fit → acquire loop with a JSON checkpoint after
every round; `suggest` gives the next batch for a human in the loop, and a killed campaign
resumes to exactly the history of an uninterrupted one (checked above). `run_retrospective`
replays strategies on paired seeds and `summarize_traces` scores them with the metrics of
Rohr et al. (2020); which surrogate wins on plate A, and by how much, is what the printed
table and per-seed counts say — with 4 seeds and 60 picks this demonstrates the workflow and
is not a benchmark. The SISSO ensemble additionally hands over an explicit law of a few terms
of the cation fractions, fitted only on the measurements the campaign chose: a compact
hypothesis to test (its error and ranking quality on the unmeasured pool are printed above),
not a validated model."""),
]

CELLS = NB4
