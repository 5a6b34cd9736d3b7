"""Physics-inspired primary features (featurizers) for materials."""
