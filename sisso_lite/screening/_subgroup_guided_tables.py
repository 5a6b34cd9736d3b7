"""Tables of the subgroup-guided campaign: measurements, rules per round, rules overall."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["HISTORY_COLUMNS", "RULE_COLUMNS", "SUMMARY_COLUMNS", "history_table",
           "rules_table", "summary_table"]

HISTORY_COLUMNS = ["round", "pool_index", "value", "status", "message", "best_so_far",
                   "rule", "theta"]
RULE_COLUMNS = ["round", "rank", "rule", "query", "quality", "first_round", "n_pool",
                "coverage_pool", "n_unmeasured", "n_measured", "coverage_measured",
                "precision_in_sample", "claimed_precision", "n_tested", "n_confirmed",
                "confirmed_precision", "posterior_mean", "p_above_base", "p_below_claim",
                "verdict", "source", "n_picked"]
SUMMARY_COLUMNS = ["rule", "query", "first_round", "last_round", "n_rounds", "n_pool",
                   "coverage_pool", "claimed_precision", "n_tested", "n_confirmed",
                   "confirmed_precision", "verdict", "n_picked"]
_FLOAT_COLUMNS = ("precision_in_sample", "confirmed_precision", "p_above_base",
                  "p_below_claim")


def history_table(records: list[dict], index: pd.Index, goal: str) -> pd.DataFrame:
    """One row per measurement: round, pool label, value, status, failure message, best so
    far, the rule followed (``"initial"``, ``"explore"``, ``"prior"`` or the rule text) and
    the Thompson draw that chose it."""
    rows, best = [], np.nan
    for r in records:
        v = r["value"]
        if v is not None and r["status"] in ("ok", "prior"):
            best = v if not np.isfinite(best) else (
                max(best, v) if goal == "maximize" else min(best, v))
        rows.append({"round": r["round"], "pool_index": index[r["position"]],
                     "value": np.nan if v is None else v, "status": r["status"],
                     "message": r["message"], "best_so_far": best, "rule": r["rule"],
                     "theta": np.nan if r["theta"] is None else r["theta"]})
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def rules_table(rule_rows: list[dict]) -> pd.DataFrame:
    """One row per rule per round (``RULE_COLUMNS``; NaN where a checkpoint stored null)."""
    table = pd.DataFrame(rule_rows, columns=RULE_COLUMNS)
    return table.astype(dict.fromkeys(_FLOAT_COLUMNS, float))


def summary_table(rules: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct rule of ``rules`` (by exact query): its state in the last round
    it was proposed, the rounds it was proposed in and the picks that followed it; most
    tested first."""
    if rules.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    grouped = rules.groupby("query", sort=False)
    last = grouped.tail(1).set_index("query")
    out = pd.DataFrame({
        "rule": last["rule"], "first_round": last["first_round"],
        "last_round": last["round"], "n_rounds": grouped.size(), "n_pool": last["n_pool"],
        "coverage_pool": last["coverage_pool"],
        "claimed_precision": last["claimed_precision"], "n_tested": last["n_tested"],
        "n_confirmed": last["n_confirmed"],
        "confirmed_precision": last["confirmed_precision"], "verdict": last["verdict"],
        "n_picked": grouped["n_picked"].sum()}).reset_index()
    return out.sort_values(["n_tested", "first_round"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)[SUMMARY_COLUMNS]
