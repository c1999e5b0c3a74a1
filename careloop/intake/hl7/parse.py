"""P4.2: HL7 v2 bytes → text → segments, and the acknowledgement back. Pure functions, no ORM.

Decoding follows MSH-18, read from the bytes before anything is decoded (MSH-1…MSH-17 are ASCII
in practice); Chinese HIS send "UTF-8", "UNICODE UTF-8", "GB18030", "GBK" or "GB2312", and the
GB family is decoded as GB 18030, its superset. An empty MSH-18 means ASCII in the standard; we
accept UTF-8 and then GB 18030 there, because many HIS leave it empty whatever they send.

The parser is our own small one rather than ``hl7.parse``: python-hl7 builds a container object
per component and takes ~0.8 ms per ADT message on our hardware — more than the database work of
the listener's hot path (bench/hl7.py). The grammar is the standard one: segments split on CR,
fields on MSH-1, repetitions, components and subcomponents on the MSH-2 encoding characters,
escape sequences (\\F\\ \\S\\ \\T\\ \\R\\ \\E\\ \\Xhh\\) undone per value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field

SB, EB, CR = b"\x0b", b"\x1c", b"\r"
NULL = '""'  # HL7 "explicitly empty": the sender clears the value (an absent value keeps it)

# MSH-18 spellings seen from HIS vendors, upper-cased with spaces, dashes and underscores removed.
_CHARSETS = {
    "UTF8": "utf-8",
    "UNICODEUTF8": "utf-8",
    "UNICODE": "utf-8",
    "GB18030": "gb18030",
    "GB180302000": "gb18030",
    "GB180302005": "gb18030",
    "GB180302022": "gb18030",
    "GBK": "gb18030",
    "GB2312": "gb18030",
    "CP936": "gb18030",
    "EUCCN": "gb18030",
    "ASCII": "",
    "8859/1": "latin-1",
    "88591": "latin-1",
    "ISO88591": "latin-1",
    "ISOIR100": "latin-1",
    "": "",
}
CODEC_LABEL = {"utf-8": "UTF-8", "gb18030": "GB18030", "latin-1": "8859/1"}


class HL7Error(Exception):
    """A message we must answer with AE or AR. ``problems`` are (location, reason) pairs, the
    location in HL7 terms (``PV1-3``) so the HIS vendor can find the field; the reasons are
    Chinese for the person reading the dead-letter list (S5)."""

    def __init__(self, ack_code: str, problems: list[tuple[str, str]], hl7_code: str = "207"):
        self.ack_code = ack_code
        self.problems = problems
        self.hl7_code = hl7_code  # HL7 table 0357
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        return "；".join(f"{loc} {text}" if loc else text for loc, text in self.problems)


def _charset_key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).upper()


def codec_for(msh18: str) -> str | None:
    """The Python codec for an MSH-18 value; "" for auto-detect; None when unsupported."""
    return _CHARSETS.get(_charset_key(msh18))


def sniff_msh18(raw: bytes) -> str:
    """MSH-18 read from the undecoded bytes (its first repetition)."""
    start = raw.find(b"MSH")
    if start < 0 or len(raw) < start + 4:
        return ""
    end = len(raw)
    for sep in (b"\r", b"\n"):
        pos = raw.find(sep, start)
        if 0 <= pos < end:
            end = pos
    header = raw[start:end]
    fields = header.split(header[3:4])
    if len(fields) < 18:
        return ""
    rep = header[5:6] if len(header) > 6 else b"~"
    return fields[17].split(rep)[0].decode("ascii", "replace").strip()


def decode(raw: bytes | str) -> tuple[str, str]:
    """Raw bytes → (text, codec). Raises HL7Error(AR) when the bytes do not decode."""
    if isinstance(raw, str):
        text = raw
        codec = codec_for(_msh18_of_text(text)) or "utf-8"
    else:
        declared = sniff_msh18(raw)
        codec = codec_for(declared)
        if codec is None:
            raise HL7Error(
                "AR", [("MSH-18", f"不支持的字符集“{declared}”（支持 UTF-8、GB18030/GBK）")], "203"
            )
        if codec:
            text = _strict(raw, codec, declared)
            # A GBK trail byte can be 0x7C ("|"), which shifts the fields counted in the bytes;
            # the decoded header is authoritative.
            again = codec_for(_msh18_of_text(text))
            if again and again != codec:
                codec, text = again, _strict(raw, again, _msh18_of_text(text))
        else:
            try:
                text, codec = raw.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                text, codec = _strict(raw, "gb18030", "GB18030（自动识别）"), "gb18030"
    if "\ufffd" in text:
        # Left by an earlier decode with replacement (a stored dead letter): the bytes are gone.
        raise HL7Error(
            "AR", [("MSH-18", "消息含有无法解码的字符，请让 HIS 按正确字符集重发")], "102"
        )
    if "\x00" in text:
        # Not text in any HL7 character set, and PostgreSQL cannot store it.
        raise HL7Error("AR", [("", "消息含有 NUL（0x00）控制字符")], "102")
    return text, codec


def _strict(raw: bytes, codec: str, declared: str) -> str:
    try:
        return raw.decode(codec)
    except UnicodeDecodeError as exc:
        raise HL7Error(
            "AR",
            [("MSH-18", f"按字符集“{declared}”无法解码（第 {exc.start + 1} 字节）")],
            "102",
        ) from None


def lossy_text(raw: bytes | str) -> str:
    """What we store for a message that did not decode: readable, and never re-applicable
    (``decode`` refuses U+FFFD)."""
    if isinstance(raw, bytes):
        raw = raw.decode(codec_for(sniff_msh18(raw)) or "utf-8", "replace")
    return raw.replace("\x00", "\ufffd")


def _msh18_of_text(text: str) -> str:
    start = text.find("MSH")
    if start < 0:
        return ""
    line = re.split(r"[\r\n]", text[start:], maxsplit=1)[0]
    if len(line) < 4:
        return ""
    fields = line.split(line[3])
    rep = line[6] if len(line) > 6 else "~"
    return fields[17].split(rep)[0].strip() if len(fields) >= 18 else ""


MAX_MESSAGE = 4 * 1024 * 1024  # bytes per MLLP block; an ADT message is a few kB
OVERSIZE = b"\x00oversize"  # the listener's stand-in for a block over its size limit


def unframe(block: bytes) -> bytes:
    """The message inside an MLLP block; anything before the start byte is line noise."""
    start = block.find(SB)
    if start >= 0:
        block = block[start + 1 :]
    if block.endswith(EB + CR):
        block = block[:-2]
    elif block.endswith(EB):
        block = block[:-1]
    return block


@dataclass(frozen=True)
class Separators:
    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    @property
    def encoding_characters(self) -> str:
        return self.component + self.repetition + self.escape + self.subcomponent


@dataclass
class Segment:
    """One segment; ``fields[n]`` is field n as sent (escaped), ``fields[0]`` the segment id.
    For MSH, fields[1] is MSH-1 (the field separator) and fields[2] MSH-2, as the standard
    counts them."""

    id: str
    fields: list[str]
    seps: Separators

    def raw(self, n: int) -> str:
        return self.fields[n] if 0 <= n < len(self.fields) else ""

    def repetitions(self, n: int) -> list[str]:
        value = self.raw(n)
        if self.id == "MSH" and n <= 2:
            return [value]
        return value.split(self.seps.repetition) if value else []

    def get(self, n: int, component: int = 1, subcomponent: int = 1, rep: int = 1) -> str:
        """Field n, repetition ``rep``, component and subcomponent (all 1-based), unescaped and
        stripped; "" when absent, NULL ('""') when sent as explicitly empty."""
        reps = self.repetitions(n)
        if len(reps) < rep:
            return ""
        return component_of(reps[rep - 1], self.seps, component, subcomponent)


def component_of(value: str, seps: Separators, component: int = 1, subcomponent: int = 1) -> str:
    parts = value.split(seps.component)
    if len(parts) < component:
        return ""
    subs = parts[component - 1].split(seps.subcomponent)
    if len(subs) < subcomponent:
        return ""
    text = subs[subcomponent - 1]
    return text.strip() if text == NULL else unescape(text, seps).strip()


@dataclass
class Message:
    text: str
    segments: list[Segment]
    seps: Separators
    codec: str = "utf-8"

    def first(self, segment_id: str) -> Segment | None:
        return next((s for s in self.segments if s.id == segment_id), None)

    def all(self, segment_id: str) -> list[Segment]:
        return [s for s in self.segments if s.id == segment_id]

    @property
    def msh(self) -> Segment:
        return self.segments[0]


@dataclass
class Header:
    """What we need of MSH, also for messages that go no further (the ACK and the log row)."""

    sending_app: str = ""
    sending_facility: str = ""
    receiving_app: str = ""
    receiving_facility: str = ""
    message_type: str = ""  # MSH-9.1, "ADT"
    event: str = ""  # MSH-9.2, "A01"
    control_id: str = ""
    processing_id: str = ""
    version: str = ""
    charset: str = ""  # MSH-18 as sent
    seps: Separators = field(default_factory=Separators)

    @property
    def type_label(self) -> str:
        return "^".join(p for p in (self.message_type, self.event) if p)


def split_segments(text: str) -> list[str]:
    # CR is the standard; LF and CRLF come from files pasted through editors and test tools.
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    return [s for s in (line.strip(" \t\x0b\x1c") for line in text.split("\r")) if s]


def parse(text: str, codec: str = "utf-8") -> Message:
    """Text → Message. Raises HL7Error(AR) when it is not an HL7 v2 message."""
    lines = split_segments(text)
    if not lines or not lines[0].startswith("MSH") or len(lines[0]) < 8:
        raise HL7Error("AR", [("MSH", "不是 HL7 v2 消息：第一段必须是 MSH")], "100")
    msh = lines[0]
    fs = msh[3]
    encoding = msh[4 : msh.find(fs, 4)] if msh.find(fs, 4) > 0 else msh[4:]
    if fs.isalnum() or len(encoding) < 2 or len(set(fs + encoding)) != len(fs + encoding):
        raise HL7Error("AR", [("MSH-2", "分隔符定义不正确")], "102")
    seps = Separators(
        field=fs,
        component=encoding[0],
        repetition=encoding[1],
        escape=encoding[2] if len(encoding) > 2 else "\\",
        subcomponent=encoding[3] if len(encoding) > 3 else "&",
    )
    segments = []
    for line in lines:
        seg_id = line[:3]
        if not re.fullmatch(r"[A-Z][A-Z0-9]{2}", seg_id) or (len(line) > 3 and line[3] != fs):
            raise HL7Error("AR", [("", f"无法识别的段“{line[:10]}”")], "100")
        if seg_id == "MSH":
            rest = line[4 + len(encoding) :]
            parts = ["MSH", fs, encoding] + (rest[1:].split(fs) if rest else [])
        else:
            parts = line.split(fs)
        segments.append(Segment(seg_id, parts, seps))
    return Message(text, segments, seps, codec)


def header_of(message: Message) -> Header:
    msh = message.msh
    return Header(
        sending_app=msh.get(3),
        sending_facility=msh.get(4),
        receiving_app=msh.get(5),
        receiving_facility=msh.get(6),
        message_type=msh.get(9, 1).upper(),
        event=msh.get(9, 2).upper(),
        control_id=msh.get(10),
        processing_id=msh.get(11),
        version=msh.get(12),
        charset=msh.get(18),
        seps=message.seps,
    )


def loose_header(text: str) -> Header:
    """The MSH of a message that failed to parse, as far as it can be read (for the ACK)."""
    start = text.find("MSH")
    if start < 0 or len(text) < start + 4:
        return Header()
    line = split_segments(text[start:])[0]
    fs = line[3]
    if fs.isalnum() or fs in "^~\\&":
        return Header()
    parts = line.split(fs)

    def get(n: int, component: int = 1) -> str:
        if len(parts) < n:
            return ""
        pieces = parts[n - 1].split("^")
        return pieces[component - 1].strip() if len(pieces) >= component else ""

    return Header(
        sending_app=get(3),
        sending_facility=get(4),
        receiving_app=get(5),
        receiving_facility=get(6),
        message_type=get(9).upper(),
        event=get(9, 2).upper(),
        control_id=get(10),
        processing_id=get(11),
        version=get(12),
        charset=get(18),
        seps=Separators(field=fs),
    )


_ESCAPE = re.compile(r"\\(.*?)\\", re.S)


def unescape(text: str, seps: Separators) -> str:
    if seps.escape not in text:
        return text
    esc = seps.escape
    simple = {
        "F": seps.field,
        "S": seps.component,
        "T": seps.subcomponent,
        "R": seps.repetition,
        "E": esc,
    }
    pattern = (
        _ESCAPE if esc == "\\" else re.compile(re.escape(esc) + "(.*?)" + re.escape(esc), re.S)
    )

    def replace(match: re.Match) -> str:
        code = match.group(1)
        if code in simple:
            return simple[code]
        if code[:1] == "X" and re.fullmatch(r"(?:[0-9A-Fa-f]{2})+", code[1:]):
            return bytes.fromhex(code[1:]).decode("utf-8", "replace")
        if code in (".br", "H", "N"):
            return "\n" if code == ".br" else ""
        return match.group(0)

    return pattern.sub(replace, text)


def escape(text: str, seps: Separators = Separators()) -> str:
    esc = seps.escape
    out = text.replace(esc, f"{esc}E{esc}")
    for char, code in (
        (seps.field, "F"),
        (seps.component, "S"),
        (seps.subcomponent, "T"),
        (seps.repetition, "R"),
    ):
        out = out.replace(char, f"{esc}{code}{esc}")
    return out.replace("\r", " ").replace("\n", " ")


def digest(text: str) -> str:
    """A stand-in control id for a message that has none (keeps the log's key unique)."""
    return "sha1:" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:20]  # noqa: S324


def now_ts(tz: dt.tzinfo | None = None) -> str:
    return dt.datetime.now(tz).astimezone(tz).strftime("%Y%m%d%H%M%S%z")


def build_ack(
    header: Header,
    code: str,
    text: str = "",
    *,
    errors: list[tuple[str, str]] = (),
    hl7_code: str = "207",
    tz: dt.tzinfo | None = None,
) -> str:
    """The ACK (original mode) as text: MSH, MSA with the reason in MSA-3, one ERR per problem
    (ERR-2 location, ERR-3 the HL7 table 0357 code, ERR-4 severity, ERR-8 the Chinese reason)."""
    s = header.seps
    f = s.field
    enc = s.encoding_characters
    names = {
        "0": "Message accepted",
        "100": "Segment sequence error",
        "101": "Required field missing",
        "102": "Data type error",
        "103": "Table value not found",
        "200": "Unsupported message type",
        "201": "Unsupported event code",
        "203": "Unsupported version id",
        "204": "Unknown key identifier",
        "207": "Application internal error",
    }
    msh = f.join(
        [
            "MSH",
            enc,
            escape(header.receiving_app or "CARELOOP", s),
            escape(header.receiving_facility, s),
            escape(header.sending_app, s),
            escape(header.sending_facility, s),
            now_ts(tz),
            "",
            f"ACK{s.component}{escape(header.event, s)}{s.component}ACK",
            "CL" + uuid.uuid4().hex[:18].upper(),
            escape(header.processing_id or "P", s),
            escape(header.version or "2.5", s),
            "",
            "",
            "",
            "",
            "",
            escape(header.charset, s),
        ]
    ).rstrip(f)
    segments = [msh, f.join(["MSA", code, escape(header.control_id, s), escape(text[:400], s)])]
    for location, reason in errors if code != "AA" else ():
        erl = s.component.join(_erl(location))
        segments.append(
            f.join(
                [
                    "ERR",
                    "",
                    erl,
                    s.component.join([hl7_code, names.get(hl7_code, ""), "HL70357"]),
                    "E",
                    "",
                    "",
                    "",
                    escape(reason, s),
                ]
            )
        )
    return "\r".join(segments) + "\r"


def _erl(location: str) -> list[str]:
    """ "PV1-3" → ["PV1", "1", "3"] (ERL: segment id, sequence, field position)."""
    match = re.fullmatch(r"([A-Z][A-Z0-9]{2})(?:-(\d+))?", location or "")
    if not match:
        return []
    return [match.group(1), "1"] + ([match.group(2)] if match.group(2) else [])


def encode_ack(ack_text: str, codec: str) -> bytes:
    """The ACK in the message's own character set (MSA-3 is Chinese)."""
    return ack_text.encode(codec or "utf-8", "replace")


def parse_ts(value: str, tz) -> dt.datetime:
    """HL7 DTM: YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ] → an aware datetime in ``tz``."""
    match = re.fullmatch(
        r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d{1,4})?([+-]\d{4})?", value.strip()
    )
    if not match or match.group(2) is None or match.group(3) is None:
        raise ValueError(value)
    y, mo, d, h, mi, sec, offset = match.groups()
    naive = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(sec or 0))
    if offset:
        sign = 1 if offset[0] == "+" else -1
        delta = dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        return naive.replace(tzinfo=dt.timezone(sign * delta)).astimezone(tz)
    return naive.replace(tzinfo=tz)


def segments_for_display(text: str) -> list[str]:
    return split_segments(text)
