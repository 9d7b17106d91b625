"""Owner matching: one company, one rep. A company is the domain of its people's addresses, except
the domains anyone can have an address at (free mail) and those reserved for examples (RFC 2606)."""

from datetime import datetime, timedelta

from leads.models import Deal, Lead, email_domain_of

FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.de",
        "yahoo.co.uk",
        "ymail.com",
        "hotmail.com",
        "hotmail.de",
        "hotmail.co.uk",
        "outlook.com",
        "outlook.de",
        "live.com",
        "live.de",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "gmx.at",
        "gmx.ch",
        "gmx.com",
        "web.de",
        "t-online.de",
        "freenet.de",
        "posteo.de",
        "mailbox.org",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "mail.com",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "qq.com",
        "163.com",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "virgilio.it",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "onet.pl",
    }
)
RESERVED = frozenset({"example.com", "example.net", "example.org"})
# The latest leads of a company looked at: one with a rep now, or with a recent deal, is among them.
COMPANY_LEADS = 50
RESERVED_ENDINGS = (".example", ".test", ".invalid", ".localhost")


def company_domain(email: str) -> str | None:
    """The company an address belongs to, or None for a free-mail or example address."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain or domain in FREE_MAIL or domain in RESERVED or domain.endswith(RESERVED_ENDINGS):
        return None
    return domain


def company_owner(lead: Lead, *, now: datetime, days: int) -> tuple[int, Lead] | None:
    """The rep who works `lead`'s company: the owner of another of its leads that sales works now, or
    whose deal was made in the last `days` days (the most recent first), and that lead; else None.
    Two plain reads (the company's owned leads by the domain index, then their recent deals) rather
    than one join: planning the join cost more than running it."""
    domain = company_domain(lead.email)
    if domain is None or days <= 0:
        return None
    owned = list(
        Lead.objects.annotate(domain=email_domain_of())
        .filter(domain=domain, owner__isnull=False)
        .exclude(pk=lead.pk)
        .only("pk", "full_name", "owner_id", "status")
        .order_by("-status_changed_at", "-pk")[:COMPANY_LEADS]
    )
    working = next((other for other in owned if other.status in Lead.WORKED_BY_SALES), None)
    if working is None and owned:
        recent = set(
            Deal.objects.filter(lead__in=owned, created_at__gte=now - timedelta(days=days)).values_list(
                "lead_id", flat=True
            )
        )
        working = next((other for other in owned if other.pk in recent), None)
    return (working.owner_id, working) if working else None
