"""The audit: findings a reviewer would raise, without any intent written.

Rules are data (:mod:`.rules`, documented in docs/audit-rules.md); each rule's check is in
:mod:`.checks` (swarm services' in :mod:`.services`, IPv6's in :mod:`.ipv6`); :func:`run_audit` runs the
enabled ones.
"""

from .finding import Finding
from .rules import BY_ID, RULES, Rule
from .run import check_disabled, run_audit

__all__ = ["BY_ID", "RULES", "Finding", "Rule", "check_disabled", "run_audit"]
