"""Ed25519 signatures over an evidence pack's manifest (the ``cryptography`` package).

The manifest lists every file of the pack with its SHA-256, so one signature binds them all.
The private key is a PEM file named by ``VULNMARK_SIGNING_KEY`` (never the config file); the
auditor checks with the public key (``evidence verify --pack P --public-key K``). A signature
document (``manifest.sig``) is JSON::

    {"algorithm": "Ed25519", "key_id": "<SHA-256 of the raw public key>", "signature": "<base64>"}

``cryptography`` is an optional extra (``pip install 'vulnmark[evidence]'``): it is imported
when a key is made, used or checked, and its absence is a clear error.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vulnmark.errors import PackError

ALGORITHM = "Ed25519"
SIGNATURE = "manifest.sig"
KEY_ENV = "VULNMARK_SIGNING_KEY"

__all__ = ["ALGORITHM", "KEY_ENV", "SIGNATURE", "KeyPair", "check", "generate", "sign"]


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as e:  # pragma: no cover - the test extra installs it
        raise PackError("signing needs the cryptography package: "
                        "pip install 'vulnmark[evidence]'") from e
    return serialization, ed25519


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes
    public_pem: bytes
    key_id: str


def _key_id(public: Any) -> str:
    serialization, _ = _crypto()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def generate() -> KeyPair:
    """A new Ed25519 key pair (PKCS#8 and SubjectPublicKeyInfo PEM)."""
    serialization, ed25519 = _crypto()
    private = ed25519.Ed25519PrivateKey.generate()
    public = private.public_key()
    return KeyPair(
        private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()),
        public.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo),
        _key_id(public))


def sign(manifest: bytes, key_file: Path) -> tuple[bytes, str]:
    """The signature document for ``manifest`` with the private key in ``key_file``, and the
    key id."""
    serialization, ed25519 = _crypto()
    try:
        data = key_file.read_bytes()
    except OSError as e:
        raise PackError(f"{KEY_ENV}: {key_file}: {e.strerror or e}") from e
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise PackError(f"{KEY_ENV}: {key_file}: not an unencrypted PEM private key "
                        "(make one with `vulnmark evidence keygen`)") from e
    if not isinstance(private, ed25519.Ed25519PrivateKey):
        raise PackError(f"{KEY_ENV}: {key_file}: not an Ed25519 key")
    key_id = _key_id(private.public_key())
    doc = {"algorithm": ALGORITHM, "key_id": key_id,
           "signature": base64.b64encode(private.sign(manifest)).decode()}
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode(), key_id


def load_public(path: Path) -> Any:
    """An Ed25519 public key from a PEM file (``--public-key``)."""
    serialization, ed25519 = _crypto()
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except OSError as e:
        raise PackError(f"--public-key {path}: {e.strerror or e}") from e
    except (ValueError, TypeError) as e:
        raise PackError(f"--public-key {path}: not a PEM public key") from e
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise PackError(f"--public-key {path}: not an Ed25519 public key")
    return key


def check(manifest: bytes, signature: bytes, public: Any) -> str | None:
    """None when ``signature`` (a signature document) is ``public``'s over ``manifest``;
    otherwise what is wrong, naming the file."""
    from cryptography.exceptions import InvalidSignature

    try:
        doc = json.loads(signature)
        raw = base64.b64decode(doc["signature"], validate=True)
        algorithm, key_id = doc["algorithm"], doc.get("key_id")
    except (ValueError, KeyError, TypeError):
        return f"{SIGNATURE}: not a signature document (edited)"
    if algorithm != ALGORITHM:
        return f"{SIGNATURE}: algorithm {algorithm!r} is not {ALGORITHM}"
    if key_id != _key_id(public):
        return (f"{SIGNATURE}: signed with another key (key id {str(key_id)[:16]}…, the "
                f"given public key's is {_key_id(public)[:16]}…)")
    try:
        public.verify(raw, manifest)
    except InvalidSignature:
        return f"{SIGNATURE}: the signature does not match manifest.json (edited or re-signed)"
    return None
