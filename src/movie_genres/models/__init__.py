"""Models: training data and model files, linear models, Keras MLPs, late fusion, stored predictions."""
