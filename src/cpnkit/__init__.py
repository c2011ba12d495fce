"""cpnkit: a toolkit and control plane for Computing Power Networks."""

__version__ = "0.1.0"
