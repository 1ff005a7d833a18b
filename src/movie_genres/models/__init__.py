"""Models: training data and model files, out-of-fold scores, linear models, Keras MLPs, stacks, predictions."""
