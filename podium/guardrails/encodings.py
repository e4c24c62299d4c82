"""Text as a capable model would also read it: Unicode tricks undone, encoded payloads decoded.

A model reads past zero-width characters and lookalike letters, decodes base64, hex,
base32, ROT13, reversed text, braille, morse, character codes and binary when asked (or
unasked), so a screen must too. Plain functions over strings; linear-time.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import quopri
import re
import unicodedata
import urllib.parse
from collections.abc import Callable

INVISIBLE = re.compile(
    r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)
TAG_CHARS = re.compile(r"[\U000e0020-\U000e007e]+")
# Latin letters' lookalikes in Cyrillic, Greek and other scripts (Unicode's confusables for
# the letters attacks spell with); NFKC already folds full-width and mathematical letters.
_HOMOGLYPHS = str.maketrans(
    "аеорсухіјѕԁһӏԛԝвкмнтАВЕКМНОРСТХІЈЅοαυνρτικεηΑΒΕΖΗΙΚΜΝΟΡΤΥΧɑɡɩɪʟꞮᴀᴄᴅᴇᴋᴍᴏᴘᴛᴜᴠᴡᴢ",
    "aeopcyxijsdhlqwbkmhtABEKMHOPCTXIJSoauvptikenABEZHIKMNOPTYXagiilIacdekmoptuvwz",
)
_MIXED_SCRIPT = re.compile(
    r"[A-Za-z][\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][A-Za-z]"
)


def tag_text(text: str) -> str:
    """What Unicode tag characters in ``text`` spell (they are invisible to a reader)."""
    return "".join(
        "".join(chr(ord(c) - 0xE0000) for c in match.group()) for match in TAG_CHARS.finditer(text)
    )


def fold(text: str) -> str:
    """``text`` in NFKC without invisible characters, lookalike letters read as Latin.

    Lookalikes are folded only where a word mixes scripts ("Іgnоre" with Cyrillic І and о):
    text wholly in Cyrillic or Greek stays as it is.
    """
    clean = unicodedata.normalize("NFKC", INVISIBLE.sub("", text))
    if _MIXED_SCRIPT.search(clean):
        clean = clean.translate(_HOMOGLYPHS)
    return clean


# -- escapes --------------------------------------------------------------------------------

_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[nrtbf\"'/\\])")
_SIMPLE = {"n": "\n", "r": "\n", "t": "\t", "b": "", "f": "", '"': '"', "'": "'", "/": "/"}


def unescape(text: str) -> str:
    r"""``text`` with JSON and Python string escapes read ("Hi,\\nIgnore" has a line break)."""

    def one(match: re.Match[str]) -> str:
        body = match.group()[1:]
        if body[0] in "ux":
            return chr(int(body[1:], 16))
        return _SIMPLE.get(body, "\\")

    return _ESCAPE.sub(one, text)


def has_escapes(text: str) -> bool:
    """Whether ``text`` holds escape sequences a model would read as characters."""
    return _ESCAPE.search(text) is not None


# -- lines a writer wrapped ------------------------------------------------------------------

# A line's margin: indentation, then reply quotes ("> ") or comment marks ("# ", "// ").
_MARGIN = re.compile(r"[ \t]*(?:(?:>|#+|//)[ \t]?)*[ \t]*")
_CLOSERS = "\"')]\u2019\u201d"  # after a sentence's end: "... now." she said
# A line of its own, not a sentence's next part: a list item, an option (-r, --rules), a
# table's row.
_ITEM = re.compile(r"(?:[-*+\u2022]|\d{1,3}[.)])[ \t]|-{1,2}\w|\|")
# A speaker's or a field's label ("bob: ", "Subject: "): two lines that start with one are
# two records (a line of a sentence may start with a word and a colon too).
_LABEL = re.compile(r"[^\W\d][\w.'-]{0,30}(?: [\w.'-]{1,30})?:(?:\s|$)")
_COLUMNS = re.compile(r"\S(?: {2,}|\t)\S")  # words set apart in columns: a table, a listing
SOFT_HYPHEN = "\u00ad"  # what fold() drops: a word hyphenated at a line's end is one word


def unwrapped(text: str) -> str:
    """``text`` with the line breaks inside its sentences read as spaces, of the same length.

    A writer (or a mail program, a PDF's text, a terminal) wraps long sentences over lines;
    the model reads such a sentence as one. A line break is read as a space where the line
    before does not end a sentence (., !, ?, :, ;) and the line after continues it: the same
    quote or comment marks (a reply's "> ", a comment's "# "; the indentation may differ),
    which are read as spaces too, and no line of its own (a list item, an option, a table's
    row, a code fence, two lines that each start with a label such as "bob: "); two lines
    both set in columns are not joined. A word hyphenated at the line's end ("in-" /
    "structions") is read as one word: the hyphen, the break and the margin become soft
    hyphens, which ``fold`` drops. Every other character stays where it was, so a stretch
    found in the result is the same stretch of ``text``.
    """
    if "\n" not in text:
        return text
    lines = text.split("\n")
    shapes = [_shape(line) for line in lines]  # (each line's margin once)
    out: list[str] = [lines[0]]
    for index in range(1, len(lines)):
        before, line = lines[index - 1], lines[index]
        (_, marks_before, after_margin), (width, marks, rest) = shapes[index - 1], shapes[index]
        body = after_margin.rstrip()
        if marks_before != marks or not _continues(body, rest):
            out.append("\n" + line)
            continue
        tail = len(before) - len(before.rstrip())  # (blanks and a CR at the line's end)
        out[-1] = out[-1][: len(out[-1]) - tail]
        if body.endswith("-") and body[-2:-1].isalpha() and _same_word(body[-2], rest[0]):
            out[-1] = out[-1][:-1]
            out.append(SOFT_HYPHEN * (2 + tail + width) + rest)
        else:
            out.append(" " * (1 + tail + width) + rest)
    return "".join(out)


def _shape(line: str) -> tuple[int, str, str]:
    """A line's margin width, its marks (the margin without blanks) and what follows it."""
    margin = _MARGIN.match(line)
    width = margin.end() if margin else 0
    marks = line[:width].replace(" ", "").replace("\t", "") if width else ""
    return width, marks, line[width:]


def _continues(body: str, rest: str) -> bool:
    """Whether a line ending in ``body`` runs on into one starting with ``rest``."""
    if not body or not rest.strip() or _ITEM.match(rest):
        return False
    if body.lstrip().startswith(_FENCES) or rest.lstrip().startswith(_FENCES):
        return False  # (a code fence is a line of its own: what it holds is not prose)
    if _LABEL.match(body) and _LABEL.match(rest):
        return False
    if body.rstrip(_CLOSERS)[-1:] in ".!?:;":
        return False
    return not (_COLUMNS.search(body) and _COLUMNS.search(rest))  # (a table's rows: both)


_FENCES = ("```", "~~~")


def _same_word(last: str, first: str) -> bool:
    """Whether a hyphen between these letters breaks a word ("in-"/"str", "IG-"/"NORE")."""
    return first.islower() or (last.isupper() and first.isupper())


# -- markup and transfer encodings -----------------------------------------------------------

_QUOTED_PRINTABLE = re.compile(r"=(?:[0-9A-F]{2}|\r?\n)")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_PLUS_JOINED = re.compile(r"[^\W_]\+[^\W_]+\+[^\W_]")  # words joined by "+": a form's value
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,30};)")
# A tag's attributes hold no "<": a "<" that never closes is scanned up to the next one
# only, so the scans of all of them cover the text once.
_TAG = re.compile(r"</?([A-Za-z][\w:-]{0,30})(?:\s[^<>]*)?/?>")
# Tags that end a block (read as a space); any other is dropped: "<b>Ig</b>nore",
# "dis<wbr>regard" and "<span>Forget</span> <span>all</span>" read as written.
_BLOCKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\([^()\s]{0,500}\)")  # [words](url): the words
# Emphasis touches its words; a "* " starting an item, or "a * b", is left. Each run of
# stars is tried once (from its first star): tried from each, a long run took square time.
_EMPHASIS = re.compile(r"(?<!\*)\*+(?=[^\s*])|(?<=[^\s*])\*+|~~|`+")


def unmarked(text: str) -> str:
    """``text`` as a reader of its markup reads it; ``text`` itself when it has none.

    Mail's quoted-printable (``=20``, soft breaks ``=`` at a line's end), a URL's percent
    and form encodings (``%20``, ``+``), HTML's character references (``&#73;gnore``,
    ``&nbsp;``), comments and tags, and Markdown's emphasis and links are read, and what
    they spell is folded (``fold``: a reference may spell a zero-width or lookalike letter).
    A model reads through all of them; a rule reading the raw text sees codes and tag names
    between its words.
    """
    read = text
    if _QUOTED_PRINTABLE.search(read):
        raw = read.encode("utf-8", "surrogatepass")  # (a lone surrogate from a cut escape)
        read = quopri.decodestring(raw).decode("utf-8", "replace")
    if _PLUS_JOINED.search(read):
        read = urllib.parse.unquote_plus(read)
    elif _PERCENT.search(read):
        read = urllib.parse.unquote(read)
    if "&" in read and _ENTITY.search(read):
        read = html.unescape(read)
    if "<" in read:
        read = _TAG.sub(_tag, _uncommented(read))
    if "](" in read:
        read = _LINK.sub(r"\1", read)
    if "*" in read or "`" in read or "~~" in read:
        read = _EMPHASIS.sub("", read)
    return read if read == text else fold(read)


def _uncommented(text: str) -> str:
    """``text`` without its HTML comments (one left open runs to the end, and stays)."""
    pieces, position = [], 0
    while (start := text.find("<!--", position)) != -1:
        end = text.find("-->", start + 4)
        if end == -1:
            break
        pieces.append(text[position:start])
        position = end + 3
    return "".join(pieces) + text[position:] if pieces else text


def _tag(match: re.Match[str]) -> str:
    return " " if match.group(1).lower() in _BLOCKS else ""


# -- encodings ------------------------------------------------------------------------------

_BASE64 = re.compile(r"(?<![\w/+=])[A-Za-z0-9+/]{16,}={0,2}(?![\w/+=])")
_BASE32 = re.compile(r"(?<![\w=])[A-Z2-7]{16,}={0,6}(?![\w=])")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}){8,}\b")
_CODES = re.compile(r"\b\d{2,3}(?:\s*,\s*\d{2,3}){3,}\b")
_BINARY = re.compile(r"\b[01]{8}\b(?:\W{1,4}\b[01]{8}\b){2,}")
# Bounded gaps: two unbounded runs of spaces side by side were quadratic on long blanks.
_MORSE = re.compile(r"(?<![\w.-])[.-]{1,6}(?:\s{1,3}/?\s{0,3}[.-]{1,6}){4,}(?![\w.-])")
_BRAILLE = re.compile(r"[\u2800-\u28ff]{4,}(?:\s+[\u2800-\u28ff]+)*")
_MORSE_CODE = dict(
    zip(
        ".- -... -.-. -.. . ..-. --. .... .. .--- -.- .-.. -- -. --- .--. --.- .-. ... - ..- "
        "...- .-- -..- -.-- --.. ----- .---- ..--- ...-- ....- ..... -.... --... ---.. ----. "
        "-..-.".split(),
        "abcdefghijklmnopqrstuvwxyz0123456789/",
        strict=True,
    )
)
# Grade-1 braille: the dot patterns of a-z (U+2800 + dots as bits), and space.
_BRAILLE_LETTERS = dict(
    zip(
        "⠁⠃⠉⠙⠑⠋⠛⠓⠊⠚⠅⠇⠍⠝⠕⠏⠟⠗⠎⠞⠥⠧⠺⠭⠽⠵⠀⠂⠲⠖⠦⠄",
        "abcdefghijklmnopqrstuvwxyz ,.!?'",
        strict=True,
    )
)
_DIGITS = dict(zip("abcdefghij", "1234567890", strict=True))
# Common short English words: a text whose ROT13 or reversal has many more of them than the
# text itself was written that way.
_ENGLISH = frozenset(
    "the and to of a in is you your that it for on with this be are all as do not or at by "
    "from we an if me my i now what will can have so any no".split()
)
_WORD = re.compile(r"[A-Za-z']+")


def _printable(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(char.isprintable() or char in "\n\t" for char in text)
    return text if text and letters / len(text) > 0.9 else None


def _wordy(decode: Callable[[str], bytes], blob: str) -> str | None:
    """``blob`` decoded, when it decodes to printable text holding a word of 3 letters."""
    try:
        plain = _printable(decode(blob))
    except (binascii.Error, ValueError):
        return None
    return plain if plain and re.search(r"[A-Za-z]{3}", plain) else None


def _base64(text: str) -> list[str]:
    found = []
    for match in _BASE64.finditer(text):
        blob = match.group()
        if len(blob.rstrip("=")) % 4 == 1 or blob.isalpha() or blob.isdigit():
            continue
        if (plain := _wordy(base64.b64decode, blob + "=" * (-len(blob) % 4))) is not None:
            found.append(plain)
    return found


def _base32(text: str) -> list[str]:
    found = []
    for match in _BASE32.finditer(text):
        blob = match.group().rstrip("=")
        if blob.isalpha() and not re.search(r"[2-7]", blob) and len(blob) < 24:
            continue  # a long capitalised word, most likely
        if (plain := _wordy(base64.b32decode, blob + "=" * (-len(blob) % 8))) is not None:
            found.append(plain)
    return found


def _braille(text: str) -> list[str]:
    found = []
    for match in _BRAILLE.finditer(text):
        out, number = [], False
        for char in match.group():
            if char == "⠼":
                number = True
                continue
            letter = _BRAILLE_LETTERS.get(char, " " if char.isspace() else "")
            if number and letter in _DIGITS:
                letter = _DIGITS[letter]
            else:
                number = False
            out.append(letter)
        found.append("".join(out))
    return found


def decoded(text: str) -> list[str]:
    """The plain text behind every encoded run in ``text`` (base64, base32, hex, codes, ...)."""
    found = _base64(text) + _base32(text)
    for match in _HEX.finditer(text):
        plain = _printable(bytes.fromhex(match.group()))
        if plain:
            found.append(plain)
    for match in _CODES.finditer(text):
        codes = [int(code) for code in re.findall(r"\d+", match.group())]
        if all(32 <= code < 127 or code in (9, 10) for code in codes):
            found.append("".join(map(chr, codes)))
    for match in _BINARY.finditer(text):
        found.append("".join(chr(int(bits, 2)) for bits in re.findall(r"[01]{8}", match.group())))
    for match in _MORSE.finditer(text):
        words = re.split(r"\s*/\s*", match.group().strip())
        found.append(" ".join("".join(_MORSE_CODE.get(c, "") for c in w.split()) for w in words))
    return found + _braille(text)


def _english(text: str) -> float:
    words = _WORD.findall(text.lower())
    return sum(word in _ENGLISH for word in words) / len(words) if words else 0.0


def rewritten(text: str) -> list[str]:
    """``text`` read as ROT13 or backwards, where that reads far more like English than it does.

    Each reading is kept when at least a fifth of its words are common English words and it
    has twice the share the text has: ordinary text stays as it is.
    """
    if len(_WORD.findall(text)) < 3:
        return []
    own = _english(text)
    found = []
    reversed_words = " ".join(word[::-1] for word in text.split())
    for candidate in (codecs.decode(text, "rot13"), text[::-1], reversed_words):
        score = _english(candidate)
        if score >= 0.2 and score >= 2 * own + 0.1:
            found.append(candidate)
    return found
