"""sisso-lite: interpretable descriptors and SISSO symbolic regression for materials."""

__version__ = "0.1.0"
