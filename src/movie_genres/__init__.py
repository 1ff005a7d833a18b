"""Movie genres from plots and posters: the package behind the DVC pipeline in `stages/`.

Subpackages by concern: `tmdb` (the live TMDB source), `data` (movie table, posters, split),
`features` (text, word vectors, sentence embeddings, details, poster CNN), `models` (training and
model files), `evaluation` (metrics, decision rules, genre analysis, plots), `predict` (new movies).
`params` validates params.yaml; `paths` reads paths.yaml, where every stage's files are named.
"""
