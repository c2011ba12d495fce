"""Experiment harness and reports (entry layer). The paper benchmark lands with the schedulers issue."""
