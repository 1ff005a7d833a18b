"""The live TMDB source: credentials, rate-limited cached HTTP, the movie list client, poster downloads."""
