"""The retention tests run on a local root and on S3 (moto on loopback), like the artifact store's."""

from tests.resources.conftest import moto_endpoint, s3_root  # noqa: F401  (fixtures)
