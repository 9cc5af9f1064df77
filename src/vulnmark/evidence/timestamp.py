"""RFC 3161 time-stamps of chain heads: the request, the TSA's reply, and the check of a token.

The datum time-stamped is a chain head. A head *is* a SHA-256 digest (of its record and the
hash before it), so the message imprint is the head itself with algorithm SHA-256: an auditor
can also check a token with ``openssl ts -verify -digest HEAD -in T.tsr -token_in -CAfile
tsa.pem``. A token is the DER ``TimeStampToken`` (a CMS ``SignedData`` over ``TSTInfo``).

:func:`check` proves a token against the TSA's certificate given by the auditor: the signer is
that certificate, the CMS signature over the signed attributes is valid with its key, the
signed message digest is the digest of the ``TSTInfo``, and the time lies within the
certificate's validity. It returns what the token says (:class:`Token`): the head stamped and
the TSA's time (``genTime``). ``asn1crypto`` and ``cryptography`` (the ``evidence`` extra)
are imported here only, when a token is made or read.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vulnmark.errors import TimestampError

MEDIA_QUERY = "application/timestamp-query"
MEDIA_REPLY = "application/timestamp-reply"
TIMESTAMPING_EKU = "1.3.6.1.5.5.7.3.8"

__all__ = ["MEDIA_QUERY", "MEDIA_REPLY", "Token", "TsaCertificate", "check",
           "load_certificate", "new_nonce", "read", "request", "token_of"]


def _asn1() -> Any:
    try:
        from asn1crypto import tsp
    except ImportError as e:  # pragma: no cover - the test extra installs it
        raise TimestampError("time-stamps need the asn1crypto package: "
                             "pip install 'vulnmark[evidence]'") from e
    return tsp


@dataclass(frozen=True)
class Token:
    """What a time-stamp token says (read, or checked by :func:`check`)."""

    imprint: str
    """The message imprint, hex: the head stamped."""
    algorithm: str
    gen_time: datetime
    """The TSA's time of the stamp."""
    serial: int
    nonce: int | None
    accuracy: float
    """The accuracy the TSA states for ``gen_time``, seconds (0: none stated)."""


def new_nonce() -> int:
    return secrets.randbits(63)


def request(head: str, nonce: int) -> bytes:
    """The DER ``TimeStampReq`` for ``head``: SHA-256 imprint, nonce, certReq."""
    tsp = _asn1()
    return bytes(tsp.TimeStampReq({
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": "sha256"},
                            "hashed_message": bytes.fromhex(head)},
        "nonce": nonce,
        "cert_req": True,
    }).dump())


def token_of(reply: bytes, head: str, nonce: int) -> bytes:
    """The token of a TSA's DER ``TimeStampResp`` to :func:`request` (``head``, ``nonce``);
    a refusal, a malformed reply or a token for another request is a
    :class:`~vulnmark.errors.TimestampError` saying which."""
    tsp = _asn1()
    from asn1crypto import core

    try:
        resp = tsp.TimeStampResp.load(reply)
        token = resp["time_stamp_token"]  # its bytes as sent, before anything parses them
        der = None if isinstance(token, core.Void) else bytes(token.dump())
        status = resp["status"]["status"].native
        text = resp["status"]["status_string"].native
    except (ValueError, TypeError, KeyError) as e:
        raise TimestampError(f"the TSA's reply is not a TimeStampResp ({e})") from e
    if status not in ("granted", "granted_with_mods"):
        why = "; ".join(text) if text else "no reason given"
        raise TimestampError(f"the TSA refused the request: {status} ({why})")
    if der is None:
        raise TimestampError("the TSA granted the request but sent no token")
    got = read(der)
    if got.imprint != head.lower() or got.algorithm != "sha256":
        raise TimestampError(f"the TSA's token stamps {got.imprint[:16]}… ({got.algorithm}), "
                             f"not the head sent ({head[:16]}…)")
    if got.nonce != nonce:
        raise TimestampError("the TSA's token does not carry the request's nonce (a replayed "
                             "or foreign reply)")
    return der


def _parts(der: bytes) -> tuple[Any, Any, bytes]:
    """(SignedData, TSTInfo, the TSTInfo's DER) of a token; TimestampError if it is none."""
    _asn1()
    from asn1crypto import cms

    try:
        info = cms.ContentInfo.load(der)
        if info["content_type"].native != "signed_data":
            raise ValueError("not CMS SignedData")
        signed = info["content"]
        encap = signed["encap_content_info"]
        if encap["content_type"].native != "tst_info":
            raise ValueError("the signed content is not a TSTInfo")
        tst = encap["content"].parsed
        tst.native  # noqa: B018 - parse it all now: a malformed field fails here
        return signed, tst, bytes(encap["content"].contents)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise TimestampError(f"not a DER RFC 3161 TimeStampToken ({e})") from e


def read(der: bytes) -> Token:
    """What a token says, unchecked (:func:`check` proves it)."""
    _, tst, _ = _parts(der)
    imprint = tst["message_imprint"]
    accuracy = tst["accuracy"].native or {}
    when = tst["gen_time"].native
    if not isinstance(when, datetime):
        raise TimestampError("not a DER RFC 3161 TimeStampToken (no genTime)")
    return Token(
        imprint=bytes(imprint["hashed_message"].native).hex(),
        algorithm=str(imprint["hash_algorithm"]["algorithm"].native),
        gen_time=when.astimezone(UTC), serial=int(tst["serial_number"].native),
        nonce=tst["nonce"].native,
        accuracy=float(accuracy.get("seconds") or 0) + float(accuracy.get("millis") or 0)
        / 1e3 + float(accuracy.get("micros") or 0) / 1e6)


@dataclass(frozen=True)
class TsaCertificate:
    """The TSA's certificate an auditor gives (``--tsa-cert``)."""

    path: Path
    der: bytes
    subject: str
    cert: Any
    """The ``cryptography`` certificate."""
    issuer: bytes = b""
    """Its issuer (DER) and serial number and key identifier: what a signer names."""
    serial: int = 0
    key_id: bytes | None = None


def load_certificate(path: Path) -> TsaCertificate:
    """The TSA certificate in ``path`` (PEM or DER); it must allow time-stamping (EKU)."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding
    except ImportError as e:  # pragma: no cover - the test extra installs it
        raise TimestampError("checking time-stamps needs the cryptography package: "
                             "pip install 'vulnmark[evidence]'") from e
    try:
        data = path.read_bytes()
    except OSError as e:
        raise TimestampError(f"--tsa-cert {path}: {e.strerror or e}") from e
    try:
        cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                else x509.load_der_x509_certificate(data))
    except ValueError as e:
        raise TimestampError(f"--tsa-cert {path}: not a PEM or DER X.509 certificate") from e
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        stamping = any(u.dotted_string == TIMESTAMPING_EKU for u in usages)
    except x509.ExtensionNotFound:
        stamping = False
    except ValueError as e:
        raise TimestampError(f"--tsa-cert {path}: unreadable extensions ({e})") from e
    if not stamping:
        raise TimestampError(f"--tsa-cert {path}: not a time-stamping certificate (its "
                             "extended key usage lacks timeStamping)")
    try:
        ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        ski = None
    return TsaCertificate(path, cert.public_bytes(Encoding.DER), cert.subject.rfc4514_string(),
                          cert, cert.issuer.public_bytes(), cert.serial_number, ski)


_HASHES = ("sha224", "sha256", "sha384", "sha512")


def check(der: bytes, tsa: TsaCertificate) -> Token:
    """The token ``der`` proven against ``tsa``; a :class:`~vulnmark.errors.TimestampError`
    says what fails (another signer, a bad signature, an unreadable token)."""
    signed, _, tst_der = _parts(der)
    token = read(der)
    signers = list(signed["signer_infos"])
    if len(signers) != 1:
        raise TimestampError(f"{len(signers)} signers; a time-stamp token has one")
    signer = signers[0]
    attrs = signer["signed_attrs"]
    signed_bytes = b"\x31" + bytes(attrs.dump())[1:]  # as encoded: [0] IMPLICIT → SET OF
    if not _names(signer["sid"], tsa):
        raise TimestampError(f"signed by another TSA certificate, not {tsa.subject} "
                             f"({tsa.path})")
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        raise TimestampError(f"digest algorithm {digest_name} is not accepted")
    try:
        values = {a["type"].native: a["values"][0] for a in attrs}
    except (TypeError, ValueError, KeyError):  # no signed attributes, or unreadable ones
        values = {}
    if "message_digest" not in values or values.get("content_type") is None \
            or values["content_type"].native != "tst_info":
        raise TimestampError("no signed message digest of a TSTInfo (not an RFC 3161 token)")
    if values["message_digest"].native != hashlib.new(digest_name, tst_der).digest():
        raise TimestampError("the signed message digest is not the TSTInfo's (edited)")
    _check_signing_certificate(values, tsa)
    _verify_signature(signer, signed_bytes, digest_name, tsa)
    cert = tsa.cert
    if not cert.not_valid_before_utc <= token.gen_time <= cert.not_valid_after_utc:
        raise TimestampError(f"genTime {token.gen_time:%Y-%m-%dT%H:%M:%SZ} is outside the "
                             f"validity of {tsa.subject}")
    return token


def _names(sid: Any, tsa: TsaCertificate) -> bool:
    """Whether the signer identifier ``sid`` names the certificate ``tsa``."""
    if sid.name == "issuer_and_serial_number":
        return bool(sid.chosen["issuer"].dump() == tsa.issuer
                    and sid.chosen["serial_number"].native == tsa.serial)
    return tsa.key_id is not None and bytes(sid.chosen.native) == tsa.key_id


def _check_signing_certificate(values: dict[str, Any], tsa: TsaCertificate) -> None:
    """The ESS signing-certificate attribute, when present, must name ``tsa``."""
    for attr, default in (("signing_certificate_v2", "sha256"), ("signing_certificate", "sha1")):
        if attr not in values:
            continue
        ids = values[attr]["certs"]
        for cert_id in ids:
            algo = default
            if "hash_algorithm" in cert_id:
                algo = cert_id["hash_algorithm"]["algorithm"].native
            if cert_id["cert_hash"].native == hashlib.new(algo, tsa.der).digest():
                return
        raise TimestampError(f"the token's signing certificate is not {tsa.subject} "
                             f"({tsa.path})")


def _verify_signature(signer: Any, data: bytes, digest_name: str, tsa: TsaCertificate) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    algorithm = getattr(hashes, digest_name.upper())()
    signature = bytes(signer["signature"].native)
    public = tsa.cert.public_key()
    kind = signer["signature_algorithm"].signature_algo
    try:
        if isinstance(public, rsa.RSAPublicKey) and kind == "rsassa_pkcs1v15":
            public.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(public, rsa.RSAPublicKey) and kind == "rsassa_pss":
            public.verify(signature, data, padding.PSS(padding.MGF1(algorithm),
                                                       padding.PSS.AUTO), algorithm)
        elif isinstance(public, ec.EllipticCurvePublicKey) and kind == "ecdsa":
            public.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(public, ed25519.Ed25519PublicKey) and kind == "ed25519":
            public.verify(signature, data)
        else:
            raise TimestampError(f"signature algorithm {kind} does not match the key of "
                                 f"{tsa.subject}")
    except InvalidSignature as e:
        raise TimestampError(f"the signature does not verify with {tsa.subject} "
                             f"({tsa.path}): edited, or signed by another TSA") from e
