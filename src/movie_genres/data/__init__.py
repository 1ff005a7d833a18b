"""The movie table (normalised, split), the poster archive, and the IMDb genre cross-check."""
