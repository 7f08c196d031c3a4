"""The promotion tests reuse the loopback S3 server of the resource tests."""

from tests.resources.conftest import moto_endpoint, s3_root

__all__ = ["moto_endpoint", "s3_root"]
