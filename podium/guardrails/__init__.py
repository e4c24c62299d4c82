"""Guards around every boundary: validators, screens, policy."""
