"""The results page: one self-contained HTML file built from the pipeline's outputs (the `report` stage)."""
