"""Where a URL or an e-mail address really goes: its host or domain, read as a client would.

A URL is read with urllib.parse, whole: ``https://api.example.com'@evil.com/`` goes to
evil.com (what precedes the last ``@`` of the authority is user information), and tabs and
line breaks inside it are dropped first, as urlsplit and browsers drop them. Backslashes,
control characters, user information and malformed special schemes are refused, since
parsers disagree on them. Host names are compared lowercased, without the final dot,
IDNA-encoded both ways clients encode them (IDNA 2008 and Python's IDNA 2003): a name
must be allowed either way.

For e-mail, every ``@`` in a text counts: the domain after it (comments skipped) must be
allowed, so a quoted local part (``"ana@example.com"@evil.com``), a display name or a
second address cannot hide the real one. Fields that hold recipients are also parsed
strictly: plain ``name@domain`` or ``Name <name@domain>``, comma-separated.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import SplitResult, urlsplit

_SPECIAL = frozenset({"http", "https", "ws", "wss", "ftp", "file"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
# Where a URL may start in a text: "scheme://" (or with backslashes), or a special scheme
# followed by anything but a space ("https:evil.com" is https://evil.com to a browser).
# (Linear time: a scheme never starts inside another word, and its run gives nothing back.)
_URL_START = re.compile(
    r"(?<![a-z0-9+.-])(?:[a-z][a-z0-9+.-]*+:[/\\]{2}"
    r"|(?:https?|wss?|ftp|file):(?=[^\s/\\]|[/\\](?![/\\])))",
    re.IGNORECASE,
)
MAX_URLS = 100  # in one argument; each is read whole
_CONTROL = re.compile(r"[\x00-\x1f\x7f\s]")
_TRAILING = ".,;:!?'\")]}>"
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def host_forms(host: str) -> set[str] | None:
    """The forms of ``host`` clients may look up, or None when it is not a valid name."""
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    try:
        return {str(ipaddress.ip_address(host.strip("[]")))}
    except ValueError:
        pass
    if host.isascii():
        forms = {host}
    else:
        import idna

        try:
            forms = {
                idna.encode(host, uts46=True, transitional=False).decode().lower(),
                host.encode("idna").decode().lower(),
            }
        except (idna.IDNAError, UnicodeError, ValueError):
            return None
    for form in forms:
        labels = form.split(".")
        if len(form) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
            return None
    return forms


def host_allowed(host: str, allowed: tuple[str, ...], port: int | None = None) -> bool:
    """Whether ``host`` (and ``port``) is on ``allowed``.

    Entries are host names; "*.example.com" allows its subdomains; "host:8443" only that
    port (an entry without a port allows any). Every form of the name must be allowed.
    """
    forms = host_forms(host)
    if not forms:
        return False
    return all(any(_matches(form, entry, port) for entry in allowed) for form in forms)


def _matches(host: str, entry: str, port: int | None) -> bool:
    name, _, wanted = entry.lower().rpartition(":") if _has_port(entry) else (entry, "", "")
    if wanted and port != int(wanted):
        return False
    name = name.lower()
    if name.startswith("*."):
        suffix = host_forms(name[2:])
        return bool(suffix) and any(host.endswith("." + s) for s in suffix or ())
    expected = host_forms(name)
    return bool(expected) and host in (expected or ())


def _has_port(entry: str) -> bool:
    head, colon, tail = entry.rpartition(":")
    return bool(colon) and tail.isdigit() and not head.endswith(":") and "]" not in tail


def urls_in(text: str) -> list[str]:
    """The URLs in ``text``: each from its scheme to the next space, less trailing marks."""
    stripped = text.strip()
    if stripped.startswith(("//", "\\\\", "/\\", "\\/")):
        return [stripped.split()[0]]  # scheme-relative: a host follows, for any scheme
    found = []
    for word in re.finditer(r"\S+", text):  # a URL runs to the end of its word
        for match in _URL_START.finditer(text, word.start(), word.end()):
            found.append(text[match.start() : word.end()].rstrip(_TRAILING))
            if len(found) > MAX_URLS:
                return found
    return found


def _read_whole(text: str, first: str, userinfo: bool, hosts: tuple[str, ...]) -> str | None:
    """Why ``text``, read whole as urlsplit reads it, goes elsewhere than its first URL.

    urlsplit drops tabs and line breaks and keeps spaces in the authority:
    "https://api.example.com" + a line break + "@evil.com" is evil.com to a tool that
    parses its argument.
    """
    try:
        whole = urlsplit(re.sub(r"[\t\r\n]", "", text.strip()))
        seen = urlsplit(first).hostname
    except ValueError:
        return None
    if "@" in whole.netloc and not userinfo:
        return (
            f"URL {text.strip()[:80]!r} read whole carries user information before '@'; remove it"
        )
    host = whole.hostname
    if host and host != seen and host_forms(host) and not host_allowed(host, hosts):
        return f"URL {text.strip()[:80]!r} read whole goes to {host!r}, not on the allow-list"
    return None


def url_problems(
    text: str, hosts: tuple[str, ...], schemes: tuple[str, ...], userinfo: bool = False
) -> str | None:
    """Why a URL in ``text`` is refused, or None when every one is allowed."""
    found = urls_in(text)
    if len(found) > MAX_URLS:
        return f"it holds {len(found):,} URLs (limit {MAX_URLS}); split the call"
    for url in found:
        problem = url_problem(url, hosts, schemes, userinfo)
        if problem:
            return problem
    if found and text.lstrip().startswith(found[0]):  # the argument is a URL
        return _read_whole(text, found[0], userinfo, hosts)
    return None


def _parsed(url: str) -> SplitResult | str:
    """The URL split as urllib reads it, or why it is refused."""
    if "\\" in url:
        return "holds a backslash (parsers disagree on it); use '/'"
    if _CONTROL.search(url):
        return "holds spaces or control characters; encode them (%20) or remove them"
    scheme = url.split(":", 1)[0].lower()
    if scheme in _SPECIAL and not url[len(scheme) + 1 :].startswith("//"):
        return f"is not written {scheme}://host/...; write it so"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for an invalid port)
    except ValueError as error:
        return f"is not a valid URL ({error})"
    return parts


def url_problem(
    url: str, hosts: tuple[str, ...], schemes: tuple[str, ...], userinfo: bool
) -> str | None:
    """Why ``url`` is refused, or None when its scheme and host are allowed."""
    parts = _parsed(url)
    if isinstance(parts, str):
        return f"URL {url[:80]!r} {parts}"
    if parts.scheme and parts.scheme.lower() not in schemes:
        return f"URL scheme {parts.scheme!r} is not allowed; allowed: {', '.join(schemes)}"
    if "@" in parts.netloc and not userinfo:
        return (
            f"URL {url[:80]!r} carries user information before '@' (it would go to "
            f"{parts.hostname!r}); remove it"
        )
    host = parts.hostname or ""
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    if not host_allowed(host, hosts, port):
        shown = host + (f":{parts.port}" if parts.port else "")
        return f"host {shown!r} is not on the allow-list ({', '.join(hosts)})"
    return None


# After an "@": comments, then the domain (up to a character no domain holds).
_COMMENT = re.compile(r"\((?:[^()\\]|\\.){0,200}\)")
_DOMAIN = re.compile(r"[^\s\"(),:;<>@\[\]\\]+")
_LOCAL_END = re.compile(r"[^\s\"(),:;<>@\[\]\\]{1,64}$")
_PLAIN = re.compile(r"(?:(?P<name>[^<>@\"(),;:\\\[\]]*)<(?P<inner>[^<>\s]+)>|(?P<bare>[^<>\s]+))")
_ADDRESS = re.compile(r"[\w.+'&*=?^{|}~#$/-]{1,64}@[\w-]+(?:\.[\w-]+)+")


def _skip_comments(text: str, position: int) -> int:
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        comment = _COMMENT.match(text, position)
        if comment is None:
            return position
        position = comment.end()


def domains_in(text: str) -> list[tuple[str, str]]:
    """Each (domain, problem) after an ``@`` in ``text``; problem is "" for a plain one."""
    text = unicodedata.normalize("NFKC", text)  # a full-width "＠" is an "@" to some
    found = []
    for at in (i for i, c in enumerate(text) if c == "@"):
        attached = at > 0 and not text[at - 1].isspace()
        start = _skip_comments(text, at + 1)
        run = _DOMAIN.match(text, start)
        domain = run.group().rstrip(".") if run else ""
        if not domain:
            if attached:
                found.append(("", "has no plain domain after '@' (a literal or a comment?)"))
            continue
        if not attached and "." not in domain:
            continue  # "@team", "meet @ 5pm": no address
        after = _skip_comments(text, run.end()) if run else start
        local = _LOCAL_END.search(text, max(0, at - 64), at)
        if after < len(text) and text[after] == ".":
            found.append((domain, "continues after a space or comment; write it plainly"))
        elif local and ("%" in local.group() or "!" in local.group()):
            found.append((domain, "routes mail on through the local part (% or !)"))
        else:
            found.append((domain, ""))
    return found


def plain_recipients(text: str) -> list[str] | str:
    """The addresses of a recipients field, or why it is not a list of plain addresses."""
    addresses = []
    for item in re.split(r"[,;\n]", unicodedata.normalize("NFKC", text)):
        item = item.strip()
        if not item:
            continue
        shape = _PLAIN.fullmatch(item)
        address = shape and (shape.group("inner") or shape.group("bare"))
        if not address or not _ADDRESS.fullmatch(address) or "%" in address or "!" in address:
            return (
                f"recipient {item[:80]!r} is not a plain address; write name@domain or "
                "Name <name@domain> (quoted names, comments and routes are refused)"
            )
        addresses.append(address)
    return addresses
