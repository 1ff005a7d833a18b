"""A real S3-compatible server on 127.0.0.1 (moto in server mode) that checks credentials.

Moto accepts any credentials unless IAM authentication is on. The server here creates one bucket
and one IAM user allowed s3:* while authentication is still off, then turns it on through moto's
`/moto-api/reset-auth` endpoint: from then on every request must be signed with that user's key,
so a wrong key or secret fails the way it fails on AWS (InvalidAccessKeyId, SignatureDoesNotMatch).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import boto3
import requests
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
USER = "dvc-remote"
S3_FULL_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


@dataclass(frozen=True)
class S3Credentials:
    access_key_id: str
    secret_access_key: str


class LocalS3:
    """`with LocalS3("bucket") as s3:` a started server with an empty bucket and a user's key."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.credentials = S3Credentials("", "")

    @property
    def endpoint_url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self, service: str, credentials: S3Credentials):
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under prefix, read with the valid credentials."""
        pages = self.client("s3", self.credentials).get_paginator("list_objects_v2")
        return [
            o["Key"] for page in pages.paginate(Bucket=self.bucket, Prefix=prefix) for o in page.get("Contents", [])
        ]

    def _set_auth_after(self, unauthenticated_requests: float) -> None:
        requests.post(f"{self.endpoint_url}/moto-api/reset-auth", data=str(unauthenticated_requests)).raise_for_status()

    def __enter__(self) -> LocalS3:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
        self._server.start()
        anyone = S3Credentials("setup", "setup")  # authentication is still off
        self.client("s3", anyone).create_bucket(Bucket=self.bucket)
        iam = self.client("iam", anyone)
        iam.create_user(UserName=USER)
        iam.put_user_policy(UserName=USER, PolicyName="s3", PolicyDocument=json.dumps(S3_FULL_ACCESS))
        key = iam.create_access_key(UserName=USER)["AccessKey"]
        self.credentials = S3Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        self._set_auth_after(0)
        return self

    def __exit__(self, *exc: object) -> None:
        # The setting lives in this process (the server is a thread): restore moto's default.
        self._set_auth_after(float("inf"))
        self._server.stop()
