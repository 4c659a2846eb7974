"""Errors of the domain pipelines, all under the project's one root.

Leaves that derive from :class:`UnrecoverableError` fail their job at once:
retrying cannot fix a bad address, a rejected recipient or a file that is not
an image.  The others are temporary and use the job's remaining attempts.
"""

from __future__ import annotations

from pipeline.errors import PipelineError, UnrecoverableError


class InvalidAddressError(UnrecoverableError):
    """An email address or header value is malformed or tries to inject headers."""

    def __init__(self, field: str, value: str, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {field} {value!r}: {reason}")


class TemporaryMailError(PipelineError):
    """The mail server could not take the message now (4xx reply, refused or dropped connection)."""

    def __init__(self, detail: str, *, code: int | None = None) -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"temporary mail failure{f' {code}' if code else ''}: {detail}")


class PermanentMailError(UnrecoverableError):
    """The mail server rejected the message for good (5xx reply); sending it again cannot help."""

    def __init__(self, detail: str, *, code: int | None = None) -> None:
        self.code = code
        self.detail = detail
        super().__init__(f"permanent mail failure{f' {code}' if code else ''}: {detail}")


class InvalidImageError(UnrecoverableError):
    """A file is not an image this pipeline accepts, or it is truncated or corrupt."""

    def __init__(self, reason: str, *, key: str | None = None) -> None:
        self.reason = reason
        self.key = key
        super().__init__(f"{key}: {reason}" if key else reason)


class ImageTooLargeError(InvalidImageError):
    """An image's pixel count exceeds the limit (a decompression bomb, or simply too big)."""

    def __init__(self, width: int, height: int, max_pixels: int, *, key: str | None = None) -> None:
        self.width = width
        self.height = height
        self.max_pixels = max_pixels
        super().__init__(
            f"image of {width}x{height} = {width * height} pixels exceeds the limit of {max_pixels} "
            "(possible decompression bomb)",
            key=key,
        )


class StorageError(PipelineError):
    """The file store could not be reached or refused an operation (retried)."""

    def __init__(self, key: str, detail: str) -> None:
        self.key = key
        self.detail = detail
        super().__init__(f"storage error for {key!r}: {detail}")


class InvalidStorageKeyError(UnrecoverableError):
    """A storage key is empty, absolute, or climbs out of the store with ``..``."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        super().__init__(f"invalid storage key {key!r}: {reason}")


class ObjectNotFoundError(UnrecoverableError):
    """No file is stored under this key."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no stored object {key!r}")


class UnknownReportError(UnrecoverableError):
    """No data source is registered for the requested report type."""

    def __init__(self, report_type: str, known: list[str]) -> None:
        self.report_type = report_type
        super().__init__(f"unknown report type {report_type!r} (known: {', '.join(sorted(known))})")


class InvalidFiltersError(UnrecoverableError):
    """A report's filters have the wrong shape or values."""

    def __init__(self, report_type: str, reason: str) -> None:
        self.report_type = report_type
        super().__init__(f"invalid filters for report {report_type!r}: {reason}")


class CampaignNotFoundError(UnrecoverableError):
    """No campaign has this id."""

    def __init__(self, campaign_id: int) -> None:
        self.campaign_id = campaign_id
        super().__init__(f"campaign {campaign_id} not found")


class RecipientNotFoundError(UnrecoverableError):
    """One or more recipient ids do not exist."""

    def __init__(self, recipient_ids: list[int]) -> None:
        self.recipient_ids = recipient_ids
        super().__init__(f"recipients not found: {recipient_ids}")


class DeliveryOutcomeUnknownError(UnrecoverableError):
    """An earlier attempt died while sending; it is not sent again, to never email anyone twice."""

    def __init__(self, campaign_id: int, recipient_id: int) -> None:
        self.campaign_id = campaign_id
        self.recipient_id = recipient_id
        super().__init__(
            f"campaign {campaign_id}, recipient {recipient_id}: an earlier attempt stopped while sending, "
            "so the email may have gone out; not resent"
        )


class UnsupportedConversionError(UnrecoverableError):
    """The file-processing ``convert`` job was asked for a conversion it does not know."""

    def __init__(self, source: str, target: str) -> None:
        self.source = source
        self.target = target
        super().__init__(f"cannot convert {source!r} to {target!r} (supported: csv to jsonl)")


class InvalidFileError(UnrecoverableError):
    """A file's content does not match its declared type (e.g. a ``.csv`` that is not UTF-8 CSV)."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")
