"""Multi-modal movie-genre classification: the pipeline's library (the stages/ scripts call it)."""
