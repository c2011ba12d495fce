"""Measurement models: compute-latency predictors, transmission and energy models (no I/O).

Lands with the latency-predictor and energy issues; the simulator reads measured tables directly.
"""
