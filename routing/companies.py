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
    """The rep who works `lead`'s company, and the lead of theirs that shows it; else None."""
    return company_owners([lead], now=now, days=days).get(lead.pk)


def company_owners(leads: list[Lead], *, now: datetime, days: int) -> dict[int, tuple[int, Lead]]:
    """For each of `leads` whose company has a rep: lead id → (that rep, the lead that shows it). The
    rep is the owner of another of the company's leads that sales works now, or whose deal was made in
    the last `days` days (the most recent first). Two plain reads for a set of any size (the company's
    owned leads by the domain index, then their recent deals) rather than one join: planning the join
    cost more than running it."""
    domains = {lead.pk: domain for lead in leads if (domain := company_domain(lead.email))}
    if not domains or days <= 0:
        return {}
    owned = list(
        Lead.objects.annotate(domain=email_domain_of())
        .filter(domain__in=set(domains.values()), owner__isnull=False)
        .exclude(pk__in=[lead.pk for lead in leads])
        .only("pk", "full_name", "owner_id", "status")
        .order_by("-status_changed_at", "-pk")[: COMPANY_LEADS * len(set(domains.values()))]
    )
    by_domain: dict[str, list[Lead]] = {}
    for other in owned:
        by_domain.setdefault(other.domain, []).append(other)
    working = {
        domain: next((other for other in others if other.status in Lead.WORKED_BY_SALES), None)
        for domain, others in by_domain.items()
    }
    if not all(working.values()):
        recent = set(
            Deal.objects.filter(
                lead__in=[other for domain, others in by_domain.items() if not working[domain] for other in others],
                created_at__gte=now - timedelta(days=days),
            ).values_list("lead_id", flat=True)
        )
        for domain, others in by_domain.items():
            working[domain] = working[domain] or next((other for other in others if other.pk in recent), None)
    return {lead_id: (found.owner_id, found) for lead_id, domain in domains.items() if (found := working.get(domain))}
