"""Gymnasium environments (adapter layer). Lands with the RL issue; nothing here yet."""
