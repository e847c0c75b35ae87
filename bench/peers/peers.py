#!/usr/bin/env python3
"""Peer benchmark: botocore CloudFrontSigner signing a canned-policy URL (RSA-SHA1).

Usage: .tools/venv/bin/python bench/peers/peers.py [SECONDS]     (default 3; run by
scripts/bench-peers under `taskset -c 0`)

The RSA key is loaded once with `cryptography` and wrapped in the rsa_signer callable that
botocore's documentation describes (PKCS#1 v1.5 + SHA-1). Inputs come from the test vectors,
and the first URL is checked against the vector before timing starts.
Prints one JSON line: {"impl": "botocore X + cryptography Y", "op": "signed url rsa-sha1",
"per_sec": N}.
"""
import datetime
import json
import os
import sys
import time

import botocore
import cryptography
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VECTORS = os.path.join(ROOT, "tests", "fixtures", "vectors")


def measure(fn, seconds, warmup=0.3):
    """Calls fn repeatedly for about `seconds` after a short warm-up; returns calls per second."""
    end = time.perf_counter() + warmup
    while time.perf_counter() < end:
        fn()
    n = 0
    start = time.perf_counter()
    end = start + seconds
    now = start
    while now < end:
        fn()
        n += 1
        now = time.perf_counter()
    return n / (now - start)


def main(argv):
    seconds = float(argv[1]) if len(argv) > 1 else 3.0
    with open(os.path.join(VECTORS, "vectors.json"), encoding="utf-8") as f:
        vectors = json.load(f)
    inputs = vectors["inputs"]
    expected = next(v for v in vectors["vectors"] if v["id"] == "canned-url-rsa-sha1")["output"]

    with open(os.path.join(VECTORS, inputs["rsa_private_key_file"]), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)

    def rsa_signer(message):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA1())

    signer = CloudFrontSigner(inputs["rsa_key_pair_id"], rsa_signer)
    url = inputs["canned_url"]
    expires = datetime.datetime.fromtimestamp(inputs["expires"], tz=datetime.timezone.utc)

    def op():
        return signer.generate_presigned_url(url, date_less_than=expires)

    if op() != expected:
        sys.stderr.write("peers.py: botocore output differs from vector canned-url-rsa-sha1\n")
        return 1
    per_sec = measure(op, seconds)
    impl = f"botocore {botocore.__version__} + cryptography {cryptography.__version__}"
    print(json.dumps({"impl": impl, "op": "signed url rsa-sha1", "per_sec": round(per_sec, 1)}, separators=(",", ":")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
