"""moto's server with the CloudFront parts edgepass reads and moto 5.2.5 lacks.

  * The key-group calls of `moto_key_groups.py` (imported, so its additions apply here too).
  * An origin's OriginAccessControlId: moto drops it when it stores a distribution, so GetDistribution
    never shows the origin access control that `edgepass doctor` checks. It is kept as given.

Run it like moto_server: `python moto_cloudfront.py -H 127.0.0.1 -p PORT` (with moto's venv's python).
"""

import sys

import moto_key_groups  # noqa: F401  (its additions apply on import)
from moto.cloudfront import models
from moto.server import main

_store_origin = models.Origin.__init__


def _store_origin_with_access_control(self, origin):
    _store_origin(self, origin)
    self.origin_access_control_id = origin.get("OriginAccessControlId") or ""


models.Origin.__init__ = _store_origin_with_access_control

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
