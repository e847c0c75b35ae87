#!/usr/bin/env python3
"""Independent check of CloudFront ECDSA signatures with `cryptography`.

Usage: .tools/venv/bin/python tests/reference/verify_ecdsa.py ITEMS.json
(the venv is made by scripts/setup)

ITEMS.json is a JSON array of
  {id, message: "<the UTF-8 text that was signed, e.g. the policy JSON>",
   signature: "<CloudFront-base64 of the DER signature>", hash: "SHA1"|"SHA256",
   public_key_file: "/abs/path.pem"}
and the output is a JSON array of {id, ok: true|false}, plus "error" saying why when a
signature cannot even be decoded or the item is malformed.

CloudFront base64 is standard base64 with + -> -, = -> _, / -> ~; it is undone before
decoding, strictly (no other characters, padding required). The signature must be an ASN.1
DER SEQUENCE{r, s}, checked as ECDSA over the stated hash. For convenience an RSA public key
is also accepted, and then the signature is checked as PKCS#1 v1.5 over the stated hash.
"""
import base64
import binascii
import json
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
except ImportError as exc:  # pragma: no cover - environment problem
    sys.stderr.write(f"verify_ecdsa: {exc} (run scripts/setup and use .tools/venv/bin/python)\n")
    sys.exit(2)

HASHES = {"SHA1": hashes.SHA1, "SHA256": hashes.SHA256}

_keys = {}


def load_public_key(path):
    if path not in _keys:
        with open(path, "rb") as f:
            _keys[path] = serialization.load_pem_public_key(f.read())
    return _keys[path]


def cf_b64decode(text):
    std = text.replace("-", "+").replace("_", "=").replace("~", "/")
    return base64.b64decode(std.encode("ascii"), validate=True)


def verify(item):
    iid = item.get("id")
    try:
        hash_cls = HASHES[item["hash"]]
        key = load_public_key(item["public_key_file"])
        signature = cf_b64decode(item["signature"])
        message = item["message"].encode("utf-8")
    except (KeyError, ValueError, binascii.Error, UnicodeError, TypeError, OSError) as exc:
        return {"id": iid, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hash_cls()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hash_cls())
        else:
            return {"id": iid, "ok": False, "error": f"unsupported key type {type(key).__name__}"}
    except InvalidSignature:
        return {"id": iid, "ok": False}
    return {"id": iid, "ok": True}


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: verify_ecdsa.py ITEMS.json\n")
        return 2
    with open(argv[1], encoding="utf-8") as f:
        items = json.load(f)
    if not isinstance(items, list):
        raise SystemExit("ITEMS.json must hold a JSON array")
    json.dump([verify(item) for item in items], sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
