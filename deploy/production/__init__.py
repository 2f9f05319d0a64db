"""Production deployment files (docker compose and Kubernetes), rendered from the access plan."""
