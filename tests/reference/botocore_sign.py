#!/usr/bin/env python3
"""Reference signer: botocore's CloudFrontSigner.

Usage: .tools/venv/bin/python tests/reference/botocore_sign.py CASES.json
(the venv is made by scripts/setup)

Reads a JSON array of cases and prints a JSON array of results on stdout.
  case:   {id, kind: "url"|"cookies", url, resource, policy, expires, not_before, ip,
           hash: "SHA1"|"SHA256", key_pair_id, private_key_file}
          A case is canned when resource, not_before and ip are all null.
  result: {id, producer, mode: "own"|"verbatim", url, policy?}
          {id, producer, skipped: reason}   when botocore cannot do the case
          {id, producer, mode, error}       when botocore raises

botocore only signs URLs and only with SHA-1 (CloudFrontSigner has no hash option and
there is no cookie API), so cookie and SHA256 cases are skipped.
  - canned: generate_presigned_url(url, date_less_than=...)             -> mode "own"
  - custom: build_policy(resource or url, date_less_than, date_greater_than, ip_address)
            then generate_presigned_url(url, policy=...)                  -> mode "own"
            and, when the case carries a policy, generate_presigned_url(url, policy=<it>)
                                                                          -> mode "verbatim"
botocore does not touch the URL: the output is the input URL plus
"?" or "&" + Expires|Policy, Signature, Key-Pair-Id. build_policy orders Condition as
DateLessThan, IpAddress, DateGreaterThan and appends "/32" to an IP without a "/".

The rsa_signer given to CloudFrontSigner signs with `cryptography`: PKCS#1 v1.5 + SHA-1 for
an RSA key; for an EC key it makes a DER ECDSA-SHA1 signature (randomized, verify only).
Epochs become timezone-aware UTC datetimes; botocore's datetime2timestamp turns them back
into the same integers (checked for every case).
"""
import datetime
import json
import sys

try:
    import botocore
    from botocore.signers import CloudFrontSigner
    from botocore.utils import datetime2timestamp
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
except ImportError as exc:  # pragma: no cover - environment problem
    sys.stderr.write(f"botocore_sign: {exc} (run scripts/setup and use .tools/venv/bin/python)\n")
    sys.exit(2)

PRODUCER = f"botocore {botocore.__version__}"

_keys = {}


def load_key(path):
    if path not in _keys:
        with open(path, "rb") as f:
            _keys[path] = serialization.load_pem_private_key(f.read(), password=None)
    return _keys[path]


def make_signer(key):
    if isinstance(key, rsa.RSAPrivateKey):
        return lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return lambda message: key.sign(message, ec.ECDSA(hashes.SHA1()))
    raise ValueError(f"unsupported key type {type(key).__name__}")


def utc(epoch):
    """An aware UTC datetime that botocore converts back to exactly `epoch`."""
    dt = datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
    back = int(datetime2timestamp(dt))
    if back != int(epoch):
        raise AssertionError(f"epoch {epoch} round-trips to {back}")
    return dt


def is_canned(case):
    return case.get("resource") is None and case.get("not_before") is None and case.get("ip") is None


def sign_case(case):
    cid = case.get("id")
    if case.get("kind") != "url":
        return [{"id": cid, "producer": PRODUCER, "skipped": "botocore has no signed-cookie API"}]
    if case.get("hash") != "SHA1":
        return [{"id": cid, "producer": PRODUCER,
                 "skipped": f"botocore CloudFrontSigner signs SHA-1 only (asked for {case.get('hash')})"}]
    url = case.get("url")
    if not url:
        return [{"id": cid, "producer": PRODUCER, "skipped": "kind url needs a url"}]

    def attempt(mode, fn):
        try:
            return {"id": cid, "producer": PRODUCER, "mode": mode, **fn()}
        except Exception as exc:  # report and go on with the other cases
            return {"id": cid, "producer": PRODUCER, "mode": mode, "error": f"{type(exc).__name__}: {exc}"}

    def signer():
        return CloudFrontSigner(case["key_pair_id"], make_signer(load_key(case["private_key_file"])))

    if is_canned(case):
        return [attempt("own", lambda: {
            "url": signer().generate_presigned_url(url, date_less_than=utc(case["expires"]))})]

    def own():
        s = signer()
        not_before = case.get("not_before")
        policy = s.build_policy(
            case.get("resource") or url,
            utc(case["expires"]),
            date_greater_than=utc(not_before) if not_before is not None else None,
            ip_address=case.get("ip"),
        )
        return {"url": s.generate_presigned_url(url, policy=policy), "policy": policy}

    out = []
    if case.get("policy") is not None:
        out.append(attempt("verbatim", lambda: {
            "url": signer().generate_presigned_url(url, policy=case["policy"]),
            "policy": case["policy"]}))
    out.append(attempt("own", own))
    return out


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: botocore_sign.py CASES.json\n")
        return 2
    with open(argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    if not isinstance(cases, list):
        raise SystemExit("CASES.json must hold a JSON array")
    results = []
    for case in cases:
        results.extend(sign_case(case))
    json.dump(results, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
