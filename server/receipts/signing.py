"""PAdES signatures on receipts with the CSA's key, loaded once per process.

B-B (`ETSI.CAdES.detached`, SHA-256) by default; B-T when [receipts] names a timestamp
authority; B-LT when it also asks for validation data to be embedded. The hot path,
`sign_receipt`, signs the writer `document.build_page` drew into, so the PDF is serialised
once and never parsed back.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms, pem
from asn1crypto import crl as asn1_crl
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers, timestamps
from pyhanko.sign.general import SigningError, get_pyca_cryptography_hash
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from server.config_types import ReceiptsConfig
from server.receipts.document import WORDS, ReceiptContent, build_page
from server.receipts.fonts import REGULAR, StampFontFactory, load_font
from server.receipts.sync import outside_event_loop

FIELD_NAME = "Firma"
# The stamp's text sits at the left, with a small margin, like the rest of the receipt.
_STAMP_LAYOUT = layout.SimpleBoxLayoutRule(
    x_align=layout.AxisAlignment.ALIGN_MIN, y_align=layout.AxisAlignment.ALIGN_MID,
    margins=layout.Margins(8, 8, 6, 6))
# Room for the CMS blob: an RSA-2048 signature and a chain of a few certificates is ~4-6 kB;
# a timestamp token adds ~3-5 kB. Reserving it avoids pyHanko's trial signature.
BYTES_RESERVED = {"B-B": 16384, "B-T": 24576, "B-LT": 32768}
STAMP_TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC"


class _LoadedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner with two savings that keep a receipt within its time budget.

    - It parses the private key once; SimpleSigner re-parses (and, with recent `cryptography`,
      re-checks) the key for every signature, tens of milliseconds each.
    - For plain B-B signatures it reuses the CMS structure pyHanko built for the first one.
      A PAdES B-B SignedData of one key differs between documents only in the message-digest
      attribute and the signature value (the signed attributes are content type, message
      digest and the signing certificate's hash; the signing time lives in the PDF's /M), so
      those two fields are replaced and the attributes signed afresh, instead of rebuilding
      the same ASN.1 objects, which costs ~15 ms. Anything else (timestamps, validation data,
      other digests) goes through pyHanko's own path.
    """

    def __init__(self, simple: signers.SimpleSigner) -> None:
        super().__init__(simple.signing_cert, simple.signing_key, simple.cert_registry,
                         signature_mechanism=simple.signature_mechanism)
        self._key = serialization.load_der_private_key(simple.signing_key.dump(), None)
        self._template: _CmsTemplate | None = None

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        if isinstance(self._key, rsa.RSAPrivateKey) and \
                mechanism.signature_algo == "rsassa_pkcs1v15":
            return self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)

    async def async_sign(self, data_digest: bytes, digest_algorithm: str, dry_run=False,
                         use_pades=False, timestamper=None, signed_attr_settings=None,
                         is_pdf_sig=True, encap_content_info=None) -> cms.ContentInfo:
        plain = (not dry_run and use_pades and timestamper is None and is_pdf_sig
                 and encap_content_info is None and digest_algorithm == "sha256"
                 and _plain_attributes(signed_attr_settings))
        if plain and self._template is not None:
            return self._template.fill(data_digest, self.sign_raw)
        signed = await super().async_sign(
            data_digest, digest_algorithm, dry_run=dry_run, use_pades=use_pades,
            timestamper=timestamper, signed_attr_settings=signed_attr_settings,
            is_pdf_sig=is_pdf_sig, encap_content_info=encap_content_info)
        if plain:
            self._template = _CmsTemplate.learn(signed, data_digest)
        return signed


def _plain_attributes(settings: signers.PdfCMSSignedAttributes | None) -> bool:
    return settings is None or (settings.cades_signed_attrs is None
                                and settings.adobe_revinfo_attr is None)


@dataclass(frozen=True, slots=True)
class _CmsTemplate:
    """A B-B SignedData with the places of its message digest and signature value."""

    der: bytes
    attributes: bytes  # the signed attributes as encoded in the SignerInfo ([0] IMPLICIT)
    digest: bytes
    signature: bytes

    @classmethod
    def learn(cls, signed: cms.ContentInfo, digest: bytes) -> _CmsTemplate | None:
        """The template of `signed`, or None if it is not the simple shape expected."""
        der = signed.dump()
        info = signed["content"]["signer_infos"][0]
        attributes = info["signed_attrs"].dump()
        names = sorted(attr["type"].native for attr in info["signed_attrs"])
        signature = info["signature"].native
        expected = ["content_type", "message_digest", "signing_certificate_v2"]
        if (names != expected or info["unsigned_attrs"].native
                or der.count(attributes) != 1 or attributes.count(digest) != 1
                or der.count(signature) != 1 or attributes[:1] != b"\xa0"):
            return None
        return cls(der=der, attributes=attributes, digest=digest, signature=signature)

    def fill(self, digest: bytes, sign_raw) -> cms.ContentInfo:
        attributes = self.attributes.replace(self.digest, digest)
        # The signature covers the attributes encoded as a SET OF (RFC 5652, 5.4).
        signature = sign_raw(b"\x31" + attributes[1:], "sha256")
        if len(signature) != len(self.signature) or len(digest) != len(self.digest):
            raise SigningError("signature size changed; cannot reuse the CMS template")
        der = self.der.replace(self.attributes, attributes).replace(self.signature, signature)
        return _EncodedContentInfo.wrap(der)


class _EncodedContentInfo(cms.ContentInfo):
    """A ContentInfo built from known DER; `dump` hands that DER back as it is (asn1crypto
    would re-encode the whole structure, certificates included, on the way out)."""

    _der: bytes = b""

    @classmethod
    def wrap(cls, der: bytes) -> _EncodedContentInfo:
        info = cls.load(der)
        info._der = der
        return info

    def dump(self, force: bool = False) -> bytes:
        return self._der


class SigningSetupError(RuntimeError):
    """The signing key or certificates in [receipts] cannot be used; the message says why."""


class ReceiptSigner:
    """Signs receipts with one key and chain, parsed once."""

    def __init__(self, signer: signers.Signer, *, page_size: str = "letter",
                 timestamper: timestamps.TimeStamper | None = None,
                 validation_context: ValidationContext | None = None) -> None:
        self.signer = signer
        self.page_size = page_size
        self.timestamper = timestamper
        self.validation_context = validation_context
        if validation_context is not None and timestamper is None:
            raise SigningSetupError("PAdES B-LT needs a timestamp authority (tsa_url)")
        self.level = ("B-LT" if validation_context is not None
                      else "B-T" if timestamper is not None else "B-B")
        subject = signer.signing_cert.subject.native
        self.signer_name = subject.get("common_name") or subject.get("organization_name") or "?"

    @classmethod
    def from_config(cls, config: ReceiptsConfig, environ: Mapping[str, str]) -> ReceiptSigner:
        """Load the key and chain named in [receipts]; the passphrase comes from `environ`."""
        passphrase = environ.get(config.passphrase_env)
        secret = passphrase.encode() if passphrase else None
        try:
            if config.pkcs12:
                signer = signers.SimpleSigner.load_pkcs12(config.pkcs12, passphrase=secret)
            elif config.key and config.certificates:
                signer = signers.SimpleSigner.load(
                    config.key, config.certificates[0],
                    ca_chain_files=config.certificates[1:], key_passphrase=secret)
            else:
                raise SigningSetupError("[receipts] names no signing key (pkcs12 or key)")
        except (OSError, ValueError, TypeError) as error:
            raise SigningSetupError(_explain(config, error, passphrase)) from error
        if signer is None:  # pyHanko logs the reason and returns None on a bad file/passphrase
            raise SigningSetupError(_explain(config, None, passphrase))
        _check_key_usage(signer)
        signer = _LoadedKeySigner(signer)
        timestamper = (timestamps.HTTPTimeStamper(config.tsa_url, timeout=10)
                       if config.tsa_url else None)
        context = None
        if config.embed_validation_data:
            from server.receipts.verification import load_trust_roots

            context = ValidationContext(
                trust_roots=load_trust_roots(config),
                other_certs=list(signer.cert_registry),
                crls=[_read_crl(path) for path in config.crls],
                allow_fetching=True,
            )
        return cls(signer, page_size=config.page_size, timestamper=timestamper,
                   validation_context=context)

    def _pdf_signer(self, content: ReceiptContent | None, stamp_box: tuple[int, int, int, int],
                    font_ref=None) -> signers.PdfSigner:
        words = (content.words() if content else WORDS["es_MX"])
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=words["title"],
            location=content.csa_name if content else None,
            embed_validation_info=self.validation_context is not None,
            validation_context=self.validation_context,
            use_pades_lta=False,
        )
        style = TextStampStyle(
            stamp_text=words["stamp"],
            timestamp_format=STAMP_TIME_FORMAT,
            text_box_style=TextBoxStyle(font=StampFontFactory(load_font(REGULAR), font_ref),
                                        font_size=8),
            border_width=1,
            inner_content_layout=_STAMP_LAYOUT,
        )
        return signers.PdfSigner(
            meta, signer=self.signer, timestamper=self.timestamper, stamp_style=style,
            new_field_spec=fields.SigFieldSpec(sig_field_name=FIELD_NAME, on_page=0,
                                               box=stamp_box))

    def sign_receipt(self, content: ReceiptContent) -> bytes:
        """Draw and sign one receipt: the hot path."""
        page = build_page(content, self.page_size)
        pdf_signer = self._pdf_signer(content, page.stamp_box, page.regular_font)
        out = io.BytesIO()
        outside_event_loop(lambda: pdf_signer.sign_pdf(
            page.writer, bytes_reserved=BYTES_RESERVED[self.level], output=out,
            appearance_text_params={"signer": self.signer_name,
                                    "folio": content.receipt_folio}))
        return out.getvalue()

    def sign(self, unsigned_pdf: bytes, *, receipt_folio: str = "") -> bytes:
        """Sign an existing PDF (an incremental update), stamp in the lower left corner."""
        writer = IncrementalPdfFileWriter(io.BytesIO(unsigned_pdf), strict=False)
        box = (50, 40, 350, 114)
        pdf_signer = self._pdf_signer(None, box)
        out = io.BytesIO()
        folio = receipt_folio or _folio_of(unsigned_pdf)
        outside_event_loop(lambda: pdf_signer.sign_pdf(
            writer, bytes_reserved=BYTES_RESERVED[self.level], output=out,
            appearance_text_params={"signer": self.signer_name, "folio": folio}))
        return out.getvalue()


def _folio_of(pdf: bytes) -> str:
    from server.receipts.document import FOLIO_KEY

    try:
        info = PdfFileReader(io.BytesIO(pdf), strict=False).trailer_view.get("/Info")
        return str(info.get_object().get(FOLIO_KEY, "")) if info is not None else ""
    except Exception:  # the folio is only printed on the stamp; signing goes on without it
        return ""


def _read_crl(path: str) -> asn1_crl.CertificateList:
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise SigningSetupError(f"[receipts] crls: cannot read {path}: {error}") from error
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    try:
        return asn1_crl.CertificateList.load(data)
    except ValueError as error:
        raise SigningSetupError(f"[receipts] crls: {path} is not a CRL: {error}") from error


def _check_key_usage(signer: signers.SimpleSigner) -> None:
    usage = signer.signing_cert.key_usage_value
    if usage is not None and "non_repudiation" not in usage.native:
        raise SigningSetupError(
            "the signing certificate lacks the non-repudiation (content commitment) key usage; "
            "receipts need a certificate issued for signing documents")


def _explain(config: ReceiptsConfig, error: Exception | None, passphrase: str | None) -> str:
    where = config.pkcs12 or config.key
    missing = [p for p in (config.pkcs12, config.key, *config.certificates)
               if p and not Path(p).exists()]
    if missing:
        return (f"signing key file not found: {missing[0]} (run `turnos keys init` for a "
                "development key, or fix [receipts] in config.toml)")
    if not passphrase:
        return (f"cannot open the signing key {where}: is the environment variable "
                f"{config.passphrase_env} set to its passphrase?")
    detail = f": {error}" if error else ""
    return f"cannot open the signing key {where} (wrong passphrase or not a key file){detail}"
