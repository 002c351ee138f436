"""The end-to-end demo: a synthetic multi-state practice through the whole revenue cycle."""
