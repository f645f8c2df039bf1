"""WhatsApp's limits on what a business sends, checked before anything is stored or uploaded. Pure: no
Django, no I/O. Figures follow shared/whatsapp-cloud-api.md §2 (text and interactive) and §4 (media).

A breach raises `ValidationRefused` with a stable code and a sentence a person understands; the sentence
names the limit but never repeats the offending text (it is hostile input and may be long).
"""

from dataclasses import dataclass

# Text and interactive messages (§2). Lengths are counted in characters, as WhatsApp counts them.
TEXT_BODY_MAX = 4096
CAPTION_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_MAX = 60
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
BUTTON_BODY_MAX = 1024
LIST_BODY_MAX = 4096
LIST_BUTTON_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
SECTION_TITLE_MAX = 24
ROW_ID_MAX = 200
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
PRODUCT_SECTIONS_MAX = 10
PRODUCT_ITEMS_MAX = 30
CONTACT_CARDS_MAX = 5
FILENAME_MAX = 240

KB = 1024
MB = 1024 * KB


class ValidationRefused(ValueError):
    """The message breaks one of WhatsApp's limits. `code` is stable (API clients match on it);
    `detail` is the sentence shown to the person who wrote it."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


def refuse(detail: str, code: str = "invalid_message") -> ValidationRefused:
    return ValidationRefused(code, detail)


@dataclass(frozen=True)
class MediaRule:
    """What WhatsApp accepts for one media type (§4)."""

    kind: str
    label: str
    mime_types: frozenset[str]
    max_bytes: int
    # Animated stickers may be larger than static ones.
    animated_max_bytes: int | None = None


MEDIA_RULES: dict[str, MediaRule] = {
    rule.kind: rule
    for rule in (
        MediaRule("image", "Images", frozenset({"image/jpeg", "image/png"}), 5 * MB),
        MediaRule(
            "audio",
            "Audio files",
            frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
            16 * MB,
        ),
        MediaRule("video", "Videos", frozenset({"video/mp4", "video/3gpp"}), 16 * MB),
        MediaRule(
            "document",
            "Documents",
            frozenset(
                {
                    "text/plain",
                    "application/pdf",
                    "application/msword",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "application/vnd.ms-excel",
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    "application/vnd.ms-powerpoint",
                    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                }
            ),
            100 * MB,
        ),
        MediaRule("sticker", "Stickers", frozenset({"image/webp"}), 100 * KB, animated_max_bytes=500 * KB),
    )
}
MEDIA_KINDS = frozenset(MEDIA_RULES)

# Names browsers and phones use for the same types.
_MIME_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "audio/mp3": "audio/mpeg",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/opus": "audio/ogg",
    "audio/x-aac": "audio/aac",
    "video/3gp": "video/3gpp",
}

# The stored file's extension, chosen from the checked type (never from the uploader's file name).
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/ogg": ".ogg",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
    "text/plain": ".txt",
    "application/pdf": ".pdf",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-powerpoint": ".ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
}

# How many leading bytes `check_media` needs to recognise a file.
SNIFF_BYTES = 64


def normalise_mime(mime: str) -> str:
    """`Image/JPG; charset=x` -> `image/jpeg`."""
    base = (mime or "").split(";", 1)[0].strip().lower()
    return _MIME_ALIASES.get(base, base)


def media_kind_for(mime: str) -> str | None:
    """The WhatsApp media type a file of this MIME type is sent as, or None if WhatsApp takes no such file.
    WebP is only accepted as a sticker; send a JPEG or PNG for a photo."""
    mime = normalise_mime(mime)
    return next((rule.kind for rule in MEDIA_RULES.values() if mime in rule.mime_types), None)


def check_media(*, kind: str, mime: str, size: int, head: bytes) -> None:
    """Refuse a file WhatsApp would refuse (131053) before it is stored or uploaded: a type not accepted
    for `kind`, a size over the type's limit, or content that is not what the type claims (the declared
    type comes from the uploader and is not trusted). `head` is the file's first SNIFF_BYTES bytes."""
    rule = MEDIA_RULES.get(kind)
    if rule is None:
        raise refuse(f"WhatsApp cannot send a file as “{kind}”.", "media_type_not_allowed")
    mime = normalise_mime(mime)
    if mime not in rule.mime_types:
        allowed = ", ".join(sorted(EXTENSIONS[m].lstrip(".").upper() for m in rule.mime_types))
        raise refuse(
            f"{rule.label} must be one of these file types: {allowed}. This file is {mime or 'of an unknown type'}.",
            "media_type_not_allowed",
        )
    limit = rule.max_bytes
    if rule.animated_max_bytes is not None and webp_is_animated(head):
        limit = rule.animated_max_bytes
    if size > limit:
        raise refuse(
            f"{rule.label} can be at most {human_size(limit)} on WhatsApp; this file is {human_size(size)}.",
            "media_too_large",
        )
    if size == 0:
        raise refuse("The file is empty.", "media_type_not_allowed")
    if not content_matches(mime, head):
        raise refuse("The file's content does not match its type.", "media_type_not_allowed")


def content_matches(mime: str, head: bytes) -> bool:
    """Does the file start the way files of this type start? (A renamed executable is not a PDF.)"""
    if mime == "image/jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if mime == "image/png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if mime == "image/webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if mime == "audio/ogg":
        return head.startswith(b"OggS")
    if mime == "audio/amr":
        return head.startswith(b"#!AMR")
    if mime == "audio/mpeg":
        return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    if mime == "audio/aac":
        return head.startswith(b"ADIF") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0)
    if mime in ("audio/mp4", "video/mp4", "video/3gpp"):
        return head[4:8] == b"ftyp"
    if mime == "application/pdf":
        return head.startswith(b"%PDF-")
    if mime.startswith("application/vnd.openxmlformats-officedocument."):
        return head.startswith(b"PK\x03\x04")
    if mime in ("application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"):
        return head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    if mime == "text/plain":
        return b"\x00" not in head
    return False


def webp_is_animated(head: bytes) -> bool:
    """An extended WebP (`VP8X` chunk) with the animation flag set."""
    return (
        head[:4] == b"RIFF"
        and head[8:12] == b"WEBP"
        and head[12:16] == b"VP8X"
        and bool(head[20:21])
        and (head[20] & 0x02 == 0x02)
    )


def human_size(size: int) -> str:
    """`5242880` -> `5 MB`, `102400` -> `100 KB`, `7340032` -> `7 MB`, `5400000` -> `5.1 MB`."""
    for unit, label in ((MB, "MB"), (KB, "KB")):
        if size >= unit:
            value = size / unit
            return f"{value:.0f} {label}" if value == int(value) else f"{value:.1f} {label}"
    return f"{size} bytes"
