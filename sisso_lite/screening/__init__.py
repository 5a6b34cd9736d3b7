"""Screening workflows built on :mod:`sisso_lite.learning`: magnetic and stability screening,
subgroup-guided discovery (the top layer below the command line)."""
