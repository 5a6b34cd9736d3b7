"""Old import path of :mod:`sisso_lite.cli.campaign` (kept for users; the package itself
imports the new path)."""

from sisso_lite.cli.campaign import (
    CampaignCliError,
    add_campaign_parser,
    plot_best_so_far,
    run_campaign,
)

__all__ = ["CampaignCliError", "add_campaign_parser", "plot_best_so_far", "run_campaign"]
