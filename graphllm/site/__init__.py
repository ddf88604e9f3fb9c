"""The static site: pages and plots generated from the catalog at build time."""
