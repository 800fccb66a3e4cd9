"""Non-delivery reports: the texts inside them (FORMATS.md section 2).

MIME structure is the standard library's business (``email``); these grammars read
what the parts say:

* ``MSEXCH`` the Exchange 4.0/5.x diagnostic line
  ``MSEXCH:<component>:<Org>:<Site>:<Server> [n] [(hex)] [text]``;
* ``SMTP_REPLY`` a reply quoted in a report (``550 5.7.1 Unable to relay``);
* ``DSN_TYPED`` a typed DSN field value (``rfc822; x@y``, ``smtp; 550 ...``);
* ``IMS_RECIPIENT`` the recipient line of an Exchange 4.0/5.x report, as the IMS
  writes it (``x@y on Thu, 29 Apr 1999 16:51:51 -0500``) and as Outlook shows it
  (``'x@y' on 10/7/99 2:42 PM``);
* the blocks of Exchange 2007+, Exim, qmail and Sendmail reports, found with
  ``scan_string`` inside free text.

NDRs are counted in messages, not millions of lines, so pyparsing reads them
directly; there is no vectorized twin to keep.
"""

from __future__ import annotations

import re

import pyparsing as pp

from grammars import tokens as t

__all__ = [
    "DOMINO",
    "DRAGONFLY",
    "DSN_TYPED",
    "EXCHANGE2000_STATUS",
    "EXCHANGE2007_RECIPIENT",
    "EXCHANGE2007_REMOTE",
    "EXIM_BLOCK",
    "IMS_ADMIN_RECIPIENT",
    "IMS_RECIPIENT",
    "MIMECAST",
    "MSEXCH",
    "MTS_ID",
    "NOTES",
    "POSTFIX_RECIPIENT",
    "QMAIL_BLOCK",
    "SENDMAIL_RCPT_EXCHANGE",
    "SENDMAIL_RECIPIENT",
    "SENDMAIL_TRANSCRIPT",
    "SMTP_REPLY",
    "looks_like",
    "scan",
]


def _done(name: str, element: pp.ParserElement) -> pp.ParserElement:
    return element.leave_whitespace().parse_with_tabs().set_name(name)


def _first_token(grammar: pp.ParserElement) -> str | None:
    """The regex of the grammar's first token, when it has a plain one."""
    first = grammar
    while isinstance(first, pp.And):
        first = first.exprs[0]
    if isinstance(first, pp.Regex):
        # pyparsing types ``pattern`` as object (a callable until compiled)
        return first.pattern if isinstance(first.pattern, str) else None
    if isinstance(first, pp.Literal):
        return re.escape(first.match)
    return None


def scan(grammar: pp.ParserElement, text: str) -> list[tuple[dict[str, str], int, int]]:
    """Every match of ``grammar`` in ``text``: (named results, start, end), as
    ``scan_string`` finds them, but tried only where the first token matches (a
    zero-width search finds every such place, overlapping ones included): no other
    place can start a match, and trying every character of a long report is what
    made scanning slow. Blanks are data here (indentation tells Exim's addresses
    from their explanation), so nothing is skipped before an attempt."""
    head = _first_token(grammar)
    if head is None:
        return [
            (tokens.as_dict(), start, end)
            for tokens, start, end in grammar.scan_string(text, always_skip_whitespace=False)
        ]
    first = re.compile(head)  # a token may carry its own flags, as "(?m)^..." does
    found = []
    resume = 0
    candidate = first.search(text)
    while candidate is not None:
        start = candidate.start()
        # Next place the first token matches, overlapping ones included.
        candidate = first.search(text, start + 1) if start + 1 <= len(text) else None
        if start < resume:
            continue
        try:
            end, tokens = grammar._parse(text, start, callPreParse=False)
        except pp.ParseException:
            continue
        if end > start:
            found.append((tokens.as_dict(), start, end))
            resume = end
    return found


# pyparsing's LineStart skips leading blanks with its own skipper; a regex anchor
# says exactly "at the start of a line".
_LINE_START = pp.Regex(r"(?m)^(?=.)")
_LINE_START_INDENTED = pp.Regex(r"(?m)^[ \t]*")
_SP = t.SPACE
_OPT_SP = t.OPT_SPACE
_EOL = pp.Regex(r"\r?\n")
_ADDR = pp.Regex(r"[^\s<>'\"@,;:()\[\]]+@[A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9]")

# "550 5.7.1 Unable to relay", "550-5.1.1 ...", "#550 5.1.1 RESOLVER...##"
SMTP_REPLY = _done(
    "smtp-reply",
    pp.Opt(pp.Literal("#"))
    + t.REPLY_CODE("code")
    + pp.Regex(r"[ \-]?")
    + pp.Opt(t.ENHANCED_STATUS("status") + _OPT_SP)
    + pp.Regex(r"(?s:.*)")("text")
    + pp.StringEnd(),
)

# "rfc822; x@y", "smtp; 550 5.1.1 <x@y>... User unknown", "dns; mx.example.com"
DSN_TYPED = _done(
    "dsn-typed-value",
    pp.Opt(pp.Regex(r"[A-Za-z0-9\-]+")("type") + _OPT_SP + pp.Literal(";") + _OPT_SP)
    + pp.Regex(r"(?s:.*)")("value")
    + pp.StringEnd(),
)

# MSEXCH:IMS:Example Org:HQ:MAIL01 0 (000C05A6) Unknown Recipient
# Org and site names may hold spaces, never colons; the server name has no spaces.
MSEXCH = _done(
    "msexch-diagnostic",
    pp.Literal("MSEXCH:")
    + pp.Regex(r"[^:\s]+")("component")
    + pp.Literal(":")
    + pp.Regex(r"[^:]*")("org")
    + pp.Literal(":")
    + pp.Regex(r"[^:]*")("site")
    + pp.Literal(":")
    + pp.Regex(r"[^\s:]+")("server")
    + pp.Opt(_SP + pp.Regex(r"[0-9]+")("number"))
    + pp.Opt(_SP + pp.Literal("(") + pp.Regex(r"[0-9A-Fa-f]{8}")("hex") + pp.Literal(")"))
    + pp.Opt(_SP + pp.Regex(r"(?s:.+)")("text"))
    + _OPT_SP
    + pp.StringEnd(),
)

# The recipient line of an Exchange 4.0/5.x report, at the start of a line:
#   someone@example.net on Thu, 29 Apr 1999 16:51:51 -0500
#   'user@domain' on 10/7/99 2:42 PM
#   </o=Org/ou=Site/cn=Recipients/cn=Sales> on 5/16/00 9:03 AM   (an X.500 DN)
#   Sales Desk on 5/16/00 9:03 AM                                 (a display name)
# A directory recipient is named by its X.500 DN or its display name when it has no
# SMTP address of its own; a display name is taken only before a date.
_X500_DN = pp.Regex(r"/o=[^\r\n<>'\"]+?(?=>?'? on )")
_DISPLAY_NAME = pp.Regex(
    r"[^\s<>'\"@:;/][^\r\n<>'\"@:;]*?(?= on [0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}\b)"
)
IMS_RECIPIENT = _done(
    "ims-report-recipient",
    _LINE_START_INDENTED
    + pp.Opt(pp.Literal("'"))
    # An X.400 O/R address with the SMTP address inside: "c=US;a= ;p=Org;dda:SMTP=x@y;"
    + pp.Opt(pp.Regex(r"[A-Za-z]+=[^\r\n@]*?dda:SMTP="))
    + (
        _ADDR("recipient")
        | (pp.Literal("<") + _X500_DN("recipient") + pp.Literal(">"))
        | _X500_DN("recipient")
        | _DISPLAY_NAME("recipient")
    )
    + pp.Opt(pp.Literal(";"))
    + pp.Opt(pp.Literal("'"))
    + _SP
    + pp.Literal("on")
    + _SP
    + pp.Regex(r"[^\r\n]+")("when"),
)

# The IMS's notification to administrators ("The following recipients did not
# receive the attached mail. Reasons are listed with each recipient:") is documented
# by its opening line only: there, a line that holds just an address (bare, in
# angle brackets or quotes, maybe followed by a name) starts a recipient.
IMS_ADMIN_RECIPIENT = _done(
    "ims-admin-recipient",
    _LINE_START_INDENTED
    + pp.Regex(r"[<'\"]?")
    + _ADDR("recipient")
    + pp.Regex(r"[>'\"]?[^\S\r\n]*(?:[^\r\n:]*)$", flags=re.MULTILINE),
)

# Exchange 2000/2003 as Outlook renders it ends a recipient's block with the
# reporting host and the enhanced status: "<server.example.com #5.1.1>".
EXCHANGE2000_STATUS = _done(
    "exchange2000-status",
    pp.Literal("<")
    + pp.Regex(r"[^\s<>#]+")("host")
    + pp.Regex(r"\s+#")
    + t.ENHANCED_STATUS("status")
    + pp.Regex(r"[^>\r\n]*>"),
)

# Exchange 2007+ "Diagnostic information for administrators:" blocks:
#   mikeneko@example.co.jp
#   #550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##
EXCHANGE2007_RECIPIENT = _done(
    "exchange2007-recipient",
    _LINE_START + _ADDR("recipient") + _OPT_SP + _EOL + pp.Regex(r"#[^\r\n]*")("diagnostic"),
)
# "Remote Server returned '550 5.7.1 Unable to relay'" (after the address line)
EXCHANGE2007_REMOTE = _done(
    "exchange2007-remote",
    _LINE_START
    + _ADDR("recipient")
    + _OPT_SP
    + _EOL
    + pp.Regex(r"[^\r\n]*Remote Server returned '")
    + pp.Regex(r"[^'\r\n]*")("diagnostic")
    + pp.Literal("'"),
)

# Exim: after "The following address(es) failed:", each address indented by two,
# its explanation by four:
#     kijitora@example.jp
#       SMTP error from remote mail server after RCPT TO:<kijitora@example.jp>:
#       host mx.example.jp [192.0.2.1]: 550 5.1.1 <kijitora@example.jp>... User unknown
EXIM_BLOCK = _done(
    "exim-failed-address",
    pp.Regex(r"(?m)^  ")
    + pp.Opt(pp.Literal("<"))
    + _ADDR("recipient")
    + pp.Opt(pp.Literal(">"))
    + pp.Regex(r"[^\r\n]*")("note")
    + _EOL
    + pp.Regex(r"(?:[ \t]{3,}[^\r\n]*(?:\r?\n|$))*")("diagnostic"),
)

# qmail: "<kijitora@example.ne.jp>:" then the explanation up to a blank line.
QMAIL_BLOCK = _done(
    "qmail-recipient",
    _LINE_START
    + pp.Literal("<")
    + _ADDR("recipient")
    + pp.Literal(">:")
    + pp.Regex(r"[^\r\n]*")
    + _EOL
    + pp.Regex(r"(?:[^\r\n]+(?:\r?\n|$))*")("diagnostic"),
)

# Sendmail without a DSN part: "----- The following addresses had permanent fatal
# errors -----" then "<x@y>" lines, each with an optional "(reason: ...)" line.
SENDMAIL_RECIPIENT = _done(
    "sendmail-recipient",
    _LINE_START
    + pp.Literal("<")
    + _ADDR("recipient")
    + pp.Literal(">")
    + pp.Regex(r"[^\r\n]*")
    + pp.Opt(_EOL + pp.Regex(r"[ \t]+\(reason: [^\r\n]*\)")("diagnostic")),
)

# Sendmail's "----- Transcript of session follows -----":
#   554 <kijitora@neko.example.org>... 550 Host unknown (Authoritative answer ...)
#   >>> RCPT To:<kijitora@example.org>
#   <<< 550 <kijitora@example.org>, User Unknown
SENDMAIL_TRANSCRIPT = _done(
    "sendmail-transcript-line",
    _LINE_START
    + pp.Regex(r"[45][0-9]{2}[ \-]")
    + pp.Opt(pp.Literal("<"))
    + _ADDR("recipient")
    + pp.Opt(pp.Literal(">"))
    + pp.Literal("...")
    + pp.Regex(r"[^\r\n]*")("diagnostic"),
)
SENDMAIL_RCPT_EXCHANGE = _done(
    "sendmail-rcpt-exchange",
    _LINE_START
    + pp.Regex(r"(?i:>>> RCPT TO): ?<?")
    + _ADDR("recipient")
    + pp.Regex(r">?[^\r\n]*")
    + _EOL
    + pp.Literal("<<< ")
    + pp.Regex(r"[45][0-9]{2}[^\r\n]*")("diagnostic"),
)

# Postfix without a DSN part ("This is the Postfix program at host ..." or "This is
# the mail system at host ..."): "<x@y>: explanation", continued on indented lines.
POSTFIX_RECIPIENT = _done(
    "postfix-recipient",
    _LINE_START
    + pp.Literal("<")
    + _ADDR("recipient")
    + pp.Literal(">")
    + pp.Opt(pp.Regex(r" \(expanded from <[^>\r\n]*>\)"))
    + pp.Literal(":")
    + pp.Regex(r"[^\r\n]*(?:\r?\n[ \t]+[^\r\n]*)*")("diagnostic"),
)

# DragonFly Mail Agent: "There was an error delivering your mail to <x@y>." and the
# explanation up to "Message headers follow."
DRAGONFLY = _done(
    "dragonfly-recipient",
    pp.Literal("There was an error delivering your mail to <")
    + _ADDR("recipient")
    + pp.Regex(r">\.?[^\n]*\n")
    + pp.Regex(r"(?s:.*?)(?=Message headers follow|$)")("diagnostic"),
)

# Lotus Domino: "was not delivered to:\n  x@y\nbecause:\n  reason"
DOMINO = _done(
    "domino-recipient",
    pp.Literal("was not delivered to:")
    + pp.Regex(r"\s+")
    + _ADDR("recipient")
    + pp.Regex(r"\s+because:\s+")
    + pp.Regex(r"[^\n]*")("diagnostic"),
)

# Lotus Notes: "------- Failure Reasons  --------\n<reason>\nx@y\n------- Returned Message"
# One regex: the reason lines are lazy up to the address, and pyparsing would not
# backtrack into a separate lazy element.
NOTES = _done(
    "notes-recipient",
    pp.Regex(
        r"-+ Failure Reasons\s*-+\n(?P<diagnostic>(?:(?!-{3})[^\n]*\n)*?)"
        r"(?P<recipient>[^\s<>'\"@,;:()\[\]]+@[A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9])"
        r"\s*\n-+ Returned Message"
    ),
)

# Mimecast: "...could not be delivered:\n-- x@y\nThe problem appears to be :\n-- reason"
MIMECAST = _done(
    "mimecast-recipient",
    pp.Regex(
        r"could not be delivered:\s*\n-- (?P<recipient>[^\s<>'\"@,;:()\[\]]+@[A-Za-z0-9.\-]+)"
        r"(?s:.*?)The problem appears to be\s*:\s*\n-- (?P<diagnostic>[^\n]*)"
    ),
)

# --- verification ------------------------------------------------------------------
# RFC 5322 needs no blank after the colon ("x-store-info:D6taf...").
_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9\-]*:", re.MULTILINE)
_MAIL_HEADERS = re.compile(
    r"^(?:From|To|Subject|Date|Received|Return-Path|Message-ID|MIME-Version|Content-Type)"
    r":",
    re.MULTILINE | re.IGNORECASE,
)


_PASTED_REPORT = re.compile(
    r"^\s*Your message did not reach some or all of the intended recipients"
    r"|^\s*Your message\s*\n(?:.*\n){0,6}\s*did not reach the following recipient"
    r"|^\s*Delivery has failed to these recipients",
)


def looks_like(sample: str) -> bool:
    """An RFC 5322 message (``.eml``, a saved or pasted NDR) or an mbox of them:
    it opens with header lines (or an mbox ``From `` line) and several of them are
    the headers every mail has."""
    start = sample.lstrip("\ufeff")
    if not start or start[0].isdigit():
        return False  # a log line's date, never a header or a report's first words
    # The whole header block counts: some mailers put kilobytes of trace headers first.
    head = start[:65536].replace("\r\n", "\n").replace("\r", "\n")
    if _PASTED_REPORT.match(head, 0, 2048):
        return True  # a report pasted from a mail client, without its headers
    if head.startswith("From ") and "\n" in head:
        head = head.split("\n", 1)[1]
    if not _HEADER.match(head):
        return False
    block = head.split("\n\n", 1)[0]
    return len({m.group(0).split(":")[0].lower() for m in _MAIL_HEADERS.finditer(block)}) >= 2


# Exchange 4.0/5.x: the returned message's X.400 id, which the tracking log names it
# by. It may wrap onto lines that start with ';' ("...;p=Org\n\t;l=SERVER-99...").
MTS_ID = pp.Regex(
    r"The MTS-ID of the original message is:[ \t]*(?P<mts_id>[^\n]*(?:\n[ \t]*;[^\n]*)*)"
)
# RFC 3464: the id the sender gave the message's envelope.
ENVELOPE_ID = pp.Regex(r"(?im)^Original-Envelope-Id:[ \t]*(?P<envelope_id>[^\n]*)")
