"""Checkpoints of a subgroup-guided campaign: write, read back, resume.

The file is written with :func:`sisso_lite.learning.checkpoint.atomic_write_json` (plain
JSON, atomic, floats in shortest round-trip form, NaN as ``null``; no pickle) after the
batch of a round is chosen and again after it is measured; the pool is written once beside
it (``<name>.pool.json``) with a fingerprint in the checkpoint. Reading raises
:class:`~sisso_lite.learning.checkpoint.CheckpointError` naming the file and the problem.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sisso_lite.learning import pool as pool_checks
from sisso_lite.learning.checkpoint import (
    CheckpointError,
    atomic_write_json,
    pool_path,
    read_pool,
    write_pool,
)

if TYPE_CHECKING:  # pragma: no cover
    from sisso_lite.screening.subgroup_guided import SubgroupGuidedCampaign

__all__ = ["read_state", "restore_oracle", "resume_campaign", "write_state"]

_REQUIRED = ("format", "version", "config", "pool_fingerprint", "pool_file", "records",
             "rounds", "rules", "registry", "pending")


def read_state(path: Path, fmt: str) -> dict:
    """Read and validate a checkpoint of format ``fmt`` (version 1)."""
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path}:{err.lineno}: corrupt checkpoint: {err.msg}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{path}: cannot read checkpoint ({err})") from err
    if not isinstance(data, dict) or data.get("format") != fmt:
        found = data.get("format") if isinstance(data, dict) else None
        raise CheckpointError(f"{path}: not a {fmt} checkpoint (format={found!r})")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise CheckpointError(f"{path}: corrupt checkpoint: missing {', '.join(missing)}")
    if data["version"] != 1:
        raise CheckpointError(f"{path}: checkpoint version {data['version']} is not supported")
    for i, rec in enumerate(data["records"]):
        if not isinstance(rec, dict) or not {"position", "status", "round"} <= rec.keys():
            raise CheckpointError(f"{path}: corrupt checkpoint: record {i} lacks "
                                  "position/status/round")
        if rec["status"] in ("ok", "prior") and rec.get("value") is None:
            raise CheckpointError(f"{path}: corrupt checkpoint: record {i} is "
                                  f"{rec['status']!r} without a value")
    return data


def restore_oracle(oracle, mode: str, path: Path):
    """The oracle to resume with: required for an oracle campaign, refused otherwise."""
    if mode == "oracle" and oracle is None:
        raise ValueError(f"{path}: this campaign measured with a Python callable; pass "
                         "oracle=... to SubgroupGuidedCampaign.resume")
    if mode != "oracle" and oracle is not None:
        raise ValueError(f"{path}: this is a retrospective campaign (the target column is "
                         "the oracle); resume it without oracle=")
    return oracle


def write_state(camp: SubgroupGuidedCampaign, path: Path, fmt: str) -> None:
    """Write the campaign's checkpoint to ``path`` (and its pool beside it, once)."""
    ppath = pool_path(path)
    if getattr(camp, "_pool_written", None) != str(ppath):
        write_pool(ppath, camp.pool)
        camp._pool_written = str(ppath)
    atomic_write_json(path, {
        "format": fmt, "version": 1, "config": camp._config(),
        "pool_fingerprint": camp._fingerprint(), "pool_file": ppath.name,
        "records": camp._records, "rounds": camp._rounds, "rules": camp._rule_rows,
        "registry": camp._registry, "pending": camp._pending})


def resume_campaign(cls: type[SubgroupGuidedCampaign], path: Path, fmt: str,
                    pool: pd.DataFrame | None, oracle, progress: bool,
                    budget: int | None) -> SubgroupGuidedCampaign:
    """Rebuild a campaign from its checkpoint (see ``SubgroupGuidedCampaign.resume``)."""
    data = read_state(path, fmt)
    cfg = dict(data["config"])
    oracle = restore_oracle(oracle, cfg["mode"], path)
    if budget is not None:
        n_done = sum(r["status"] != "prior" for r in data["records"])
        if pool_checks.positive_int("budget", budget) < n_done:
            raise ValueError(f"budget={budget} is below the {n_done} measurements "
                             "already made")
        cfg["budget"] = budget
    if pool is None:
        pool = read_pool(path.with_name(data["pool_file"]))
    mode = cfg.pop("mode")
    cfg["prior"] = tuple(cfg["prior"])
    camp = cls(pool, oracle=oracle if mode == "oracle" else None, checkpoint=path,
               progress=progress, **cfg)
    if camp._fingerprint() != data["pool_fingerprint"]:
        raise CheckpointError(f"{path}: the given pool differs from the campaign's pool "
                              "(features, target or index changed)")
    if any(not 0 <= r["position"] < len(camp.pool) for r in data["records"]):
        raise CheckpointError(f"{path}: corrupt checkpoint: a record points outside "
                              f"the pool of {len(camp.pool)} rows")
    camp._records = data["records"]
    camp._rounds = data["rounds"]
    camp._rule_rows = data["rules"]
    camp._registry = data["registry"]
    camp._pending = data["pending"]
    camp._pool_written = str(pool_path(path))
    return camp
