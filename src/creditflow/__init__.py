"""creditflow: a self-hosted billing engine for prepaid credits and usage."""

__version__ = "0.1.0"
