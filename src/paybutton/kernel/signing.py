"""SHA256-RSA2048 over `timestamp\\nnonce\\nbody\\n` (reference §13): sign with the platform key, verify raw bytes."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from paybutton import ids


def generate_key_pair() -> tuple[str, str]:
    """A new RSA-2048 key pair as (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private_pem, public_pem


def signing_string(timestamp: str, nonce: str, body: bytes) -> bytes:
    return timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body + b"\n"


@dataclass(frozen=True)
class SignedHeaders:
    timestamp: str
    nonce: str
    signature: str

    def as_headers(self, identify_name: str, logid: str) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Byte-Identifyname": identify_name,
            "Byte-Logid": logid,
            "Byte-Nonce-Str": self.nonce,
            "Byte-Timestamp": self.timestamp,
            "Byte-Signature": self.signature,
        }


class Signer:
    """Holds the loaded platform private key (loading a PEM costs more than signing)."""

    def __init__(self, private_pem: str) -> None:
        key = serialization.load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the platform key must be RSA")
        self._key = key
        self.public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, body: bytes, timestamp: int, nonce: str | None = None) -> SignedHeaders:
        n = nonce or ids.nonce()
        ts = str(timestamp)
        sig = self._key.sign(signing_string(ts, n, body), padding.PKCS1v15(), hashes.SHA256())
        return SignedHeaders(ts, n, base64.b64encode(sig).decode())


def verify(public_pem: str, timestamp: str, nonce: str, body: bytes, signature_b64: str) -> bool:
    key = serialization.load_pem_public_key(public_pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(
            base64.b64decode(signature_b64, validate=True),
            signing_string(timestamp, nonce, body),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
    except (InvalidSignature, ValueError):
        return False
    return True
