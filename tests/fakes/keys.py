"""RSA keys for the fakes and the merchants' settings, made fresh per test session."""

from __future__ import annotations

import base64
import functools

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)


@functools.cache
def pair(name: str) -> tuple[str, str]:
    """(private PKCS#8 PEM, public SPKI PEM), one per name per session."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    public = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def sign(private_pem: str, message: bytes) -> str:
    key = load_pem_private_key(private_pem.encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(public_pem: str, message: bytes, signature: str) -> bool:
    key = load_pem_public_key(public_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    try:
        key.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True
