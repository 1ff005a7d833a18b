import logging

import pytest

from movie_genres.tmdb.auth import API_KEY_VARIABLE, TOKEN_VARIABLE, CredentialsError, credentials_from_env


def test_a_v3_key_goes_in_the_query_and_a_v4_token_in_a_header(tmp_path):
    key = credentials_from_env({API_KEY_VARIABLE: " abc123 "}, tmp_path / ".env")
    assert key.query() == {"api_key": "abc123"} and key.headers() == {}
    token = credentials_from_env({TOKEN_VARIABLE: "eyJtoken"}, tmp_path / ".env")
    assert token.query() == {} and token.headers() == {"Authorization": "Bearer eyJtoken"}
    assert "abc123" not in repr(key) and "eyJtoken" not in repr(token)


def test_dotenv_is_read_and_the_environment_wins(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("# TMDB\nexport TMDB_READ_ACCESS_TOKEN='from-dotenv'  # quoted, exported, commented\nOTHER=1\n\n")
    assert credentials_from_env({}, dotenv).headers() == {"Authorization": "Bearer from-dotenv"}
    assert credentials_from_env({API_KEY_VARIABLE: "from-env"}, dotenv).query() == {"api_key": "from-env"}


def test_no_credentials_says_what_to_do(tmp_path):
    with pytest.raises(CredentialsError, match=r"neither TMDB_API_KEY .* nor TMDB_READ_ACCESS_TOKEN .*\.env"):
        credentials_from_env({API_KEY_VARIABLE: "  "}, tmp_path / ".env")


def test_urllib3s_request_lines_are_masked(tmp_path, caplog):
    credentials_from_env({API_KEY_VARIABLE: "masked-secret-42"}, tmp_path / ".env")
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        logging.getLogger("urllib3.connectionpool").debug(
            '"GET /3/movie/popular?api_key=%s HTTP/1.1" 200', "masked-secret-42"
        )
    assert "masked-secret-42" not in caplog.text and "api_key=***" in caplog.text
