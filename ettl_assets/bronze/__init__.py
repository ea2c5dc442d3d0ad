"""Bronze tier: the source registry, the landing-file readers and the bronze asset factory."""
