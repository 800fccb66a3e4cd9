"""How the logs of mail servers this version does not read yet are recognised.

Their lines are not parsed (the reader lists every one as unparsed, with the server
named): these patterns only recognise a file, so that what the analysis did not see
is said by name instead of "not a format this tool reads". Each is the start of the
server's own log line, from its documentation and from real samples (fail2ban's
test logs for Domino and Kerio).
"""

from __future__ import annotations

import re

__all__ = ["LINE_STARTS", "looks_like"]

# Format name -> the start of one of its lines.
LINE_STARTS: dict[str, re.Pattern[str]] = {
    # Domino's console/log text: "22-06-2014 09:56:12   SMTP Server: ..." or
    # "smtp: ...", after an optional "[pid:thread-id] ".
    # The date is in the server's locale (dd-mm-yyyy, yyyy-mm-dd); newer releases
    # put the thread after the task: "SMTP Server [0D14:0027-1334] ...".
    "domino": re.compile(
        r"^(?:\[[0-9A-Fa-f:-]+\] )?"
        r"(?:[0-9]{2}[-/.][0-9]{2}[-/.][0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2}) "
        r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?: [AP]M)? +"
        r"(?:SMTP Server|smtp|SMTPClient|Router)(?::| \[)"
    ),
    # Kerio Connect's mail, security and warning logs: "[17/Jun/2011 17:00:45] ...".
    "kerio": re.compile(r"^\[[0-9]{2}/[A-Z][a-z]{2}/[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\] "),
    # MDaemon: "Wed 2011-09-14 13:04:32.123: Session 00001; child 0001".
    "mdaemon": re.compile(
        r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [0-9]{4}-[0-9]{2}-[0-9]{2} "
        r"[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?: "
    ),
    # hMailServer: '"SMTPD"<TAB>4156<TAB>1<TAB>"2009-07-30 11:35:59.234"<TAB>"1.2.3.4"'.
    "hmailserver": re.compile(
        r'^"(?:SMTPD|SMTPC|POP3D|POP3C|IMAPD|APPLICATION|TCPIP|DEBUG|ERROR)"\t[0-9]+\t'
    ),
    # qmail under daemontools' multilog: "@400000005fa2c1d0123abc04 qmail-smtpd ...".
    "qmail": re.compile(r"^@4000[0-9a-f]{20} "),
    # Zimbra's mailbox.log: "2012-02-20 10:56:33,108 INFO  [btpool0-1] ...". Its MTA
    # is Postfix: zimbra.log is syslog, read as such.
    "zimbra": re.compile(
        r"^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} "
        r"(?:TRACE|DEBUG|INFO|WARN|ERROR|FATAL) +\["
    ),
}
_SNIFF_LINES = 20


def looks_like(name: str, sample: str) -> bool:
    """Most of the sample's first lines that are neither blank nor comments start
    the way ``name``'s log lines do, the first among them."""
    lines = [
        line
        for line in sample.splitlines()[: _SNIFF_LINES * 20]
        if line.strip() and not line.lstrip().startswith("#")
    ][:_SNIFF_LINES]
    pattern = LINE_STARTS[name]
    hits = [pattern.match(line) is not None for line in lines]
    return bool(hits) and hits[0] and sum(hits) * 2 > len(hits)
