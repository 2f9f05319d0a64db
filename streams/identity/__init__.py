"""Identity linkage: one internal person key for a child known to several systems."""
