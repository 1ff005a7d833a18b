"""Features of a movie: bag of words and TF-IDF, word vectors, sentence embeddings, details, poster CNN."""
