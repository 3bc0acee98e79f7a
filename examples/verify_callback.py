"""Check a callback the way a merchant server must, with only `cryptography` and the standard library: fetch the
platform public key, rebuild the signed bytes from the raw body and three headers, verify (reference §13).

    python examples/verify_callback.py --platform-url http://127.0.0.1:8000 body.bin headers.json [--max-age 300]

body.bin is the request body exactly as received (the bytes, not a re-serialisation); headers.json the request
headers as a JSON object. Exit status 0 when the callback is genuine and fresh, 1 when it is not."""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import urllib.request
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

# The recipe: docs/merchant-library.md shows these two functions verbatim (a test checks it).

def platform_public_key(platform_url: str) -> rsa.RSAPublicKey:
    """The key that signs every callback (also printed by `paybutton keys show`)."""
    with urllib.request.urlopen(f"{platform_url}/api/platform/public_key", timeout=5) as resp:
        key = serialization.load_pem_public_key(resp.read())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA key")
    return key


def check_callback(key: rsa.RSAPublicKey, raw_body: bytes, headers: dict[str, str], max_age: int = 300) -> str:
    """Returns "ok", or why the callback must not be trusted."""
    h = {name.lower(): value for name, value in headers.items()}
    timestamp, nonce, signature = h.get("byte-timestamp"), h.get("byte-nonce-str"), h.get("byte-signature")
    if not (timestamp and nonce and signature):
        return "a Byte-Timestamp, Byte-Nonce-Str or Byte-Signature header is missing"
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age:
        return f"Byte-Timestamp {timestamp} is not within {max_age} s of now"
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + raw_body + b"\n"
    try:
        key.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return "Byte-Signature does not match"
    return "ok"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--platform-url", default="http://127.0.0.1:8000")
    p.add_argument("--max-age", type=int, default=300, help="seconds a callback may be old (or ahead)")
    p.add_argument("body", type=Path)
    p.add_argument("headers", type=Path)
    a = p.parse_args()
    headers = json.loads(a.headers.read_text())
    verdict = check_callback(platform_public_key(a.platform_url.rstrip("/")), a.body.read_bytes(), headers, a.max_age)
    print("genuine" if verdict == "ok" else f"NOT genuine: {verdict}")
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
