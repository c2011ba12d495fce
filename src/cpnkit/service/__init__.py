"""Control-plane HTTP service (entry layer). Lands with the service issue; nothing here yet."""
