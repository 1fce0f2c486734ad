"""A design whose names hold everything a renderer must not pass through raw (issue 10).

Markup that would end or reopen a <script>, quotes, braces, backslashes (a trailing one),
newlines, ESC, NUL, DOT's port syntax, Mermaid directives and entity codes, bidi overrides.
The loaders refuse most of these names now; the model is built directly so that the
renderers are tested on them regardless (names can also reach them from a live engine).
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface, IPv4Network

from simulator.model import Attachment, Container, Design, Driver, Host, Listener, Network, PortMapping

HOSTILE = (
    "<!--<script>",
    "</script><script>alert(1)</script>",
    'q"uote\'s',
    "{braces}[and]|pipes|",
    "back\\",
    "new\nline",
    "esc\x1b[31mred\x1b[0m",
    "nul\x00byte",
    "a:b:c",
    "%%{init: {'theme':'dark'}}%%",
    "#quot;&amp;`md`",
    "rtl\u202eexe.txt",
    "sep\u2028para\u2029",
    "\\N\\G\\L]]>",  # no "-->": it would end the comment state "<!--" opens, hiding the old bug
)
HOST = "host\x1b]0;pwned\x07:<b>"
NETWORK = "net<b>&{x}:y"  # no quote or space: the engine writes bridge names into iptables rule text


def hostile_design() -> Design:
    """One host, one network (hostile names) and one container per hostile name, all listening,
    the first one publishing a port (so every table and the exposure have rows)."""
    host = Host(HOST, lan_address=IPv4Interface("192.168.1.10/24"))
    net = Network(name=NETWORK, driver=Driver.BRIDGE, subnet=IPv4Network("172.30.9.0/24"))
    containers = []
    for i, name in enumerate(HOSTILE):
        containers.append(Container(
            name=name, host=HOST, attachments=(Attachment(NETWORK, aliases=(f"alias{i}<i>\n",)),),
            listeners=(Listener(8000 + i),),
            ports=(PortMapping(8000, host_port=18000, host_ip=IPv4Address("0.0.0.0")),) if i == 0 else (),
        ))
    return Design(name="hostile<b>\x1b\\", hosts=(host,), networks=(net,), containers=tuple(containers))
