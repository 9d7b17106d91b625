"""The top bar's search: leads by name, email, company or phone, typo-tolerant, scoped to the role.

Three tiers in one statement, each later one only when the earlier found nothing:
- *starts with*: the name, company or email begins with what was typed (b-tree ranges of the
  `*_prefix_idx` indexes: fast however many leads share the words). A lead whose name merely
  contains the words ("Acme Orbital" for "Orbital") is then not listed: the price of answering the
  common search, the beginning of a name, company or address, in a few milliseconds;
- *contains*: the words appear as they are anywhere in the name, company or email, or the digits
  typed in the phone number (the trigram GIN indexes; `lead_phone_digits_trgm_idx` holds the phone's
  digits alone); the first `CANDIDATES` rows, ranked by similarity;
- *looks like* (the typo tolerance), only when nothing starts with or contains them: a word of the
  name, company or email is close to what was typed (`%>`: word similarity at least
  `LOOKALIKE_THRESHOLD`; "Orbitl" finds "Orbital Systems"), every one ranked.

A trigram index reads every lead holding a trigram of the words, so the last two cost more the more
leads share the words' trigrams (a million "scale-…@example.com" addresses); a search is stopped
after `SEARCH_TIMEOUT_MS` and the page asks for the words as written.
"""

from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from psycopg2.errors import QueryCanceled

from people.roles import MARKETING_SIDE, has_role

from .models import Lead

QUERY_MIN = 3  # trigrams need three characters; shorter would read the whole index
QUERY_MAX = 100
PHONE_DIGITS_MIN = 4
RESULTS = 25
CANDIDATES = 500
# Word similarity a lookalike needs (pg_trgm's default is 0.6): two swapped letters in "Orbtial Queue"
# score 0.56 against "Orbital Queue Ltd".
LOOKALIKE_THRESHOLD = 0.5
# A typo in words that thousands of leads share ("Scael Lead" among a million "Scale Lead"s) makes
# PostgreSQL check every one of them; past this the search gives up and asks for more of the words.
SEARCH_TIMEOUT_MS = 400

S = Lead.Status
# What a rep may find: the queue and every lead a rep holds or converted (their own to work, the
# others' to read, with the owner named), as the lead page shows them; not marketing's leads before
# the hand-off, nor those sent back.
SALES_SCOPE = """(l.status = 'handed_off' OR (l.owner_id IS NOT NULL AND l.status IN ({statuses})))""".format(
    statuses=", ".join(f"'{status}'" for status in (S.CLAIMED, S.CONTACTED, S.ON_HOLD, S.CONVERTED))
)
EVERY_LEAD = "l.merged_into_id IS NULL"

SEARCH_SQL = """
WITH starts AS MATERIALIZED (
  SELECT l.id FROM leads_lead l
   WHERE {scope}
     AND (upper(l.full_name) LIKE %(prefix)s OR upper(l.company) LIKE %(prefix)s OR l.email LIKE %(email_prefix)s)
   LIMIT %(limit)s
), contains AS MATERIALIZED (
  SELECT l.id FROM leads_lead l
   WHERE NOT EXISTS (SELECT FROM starts)
     AND {scope}
     AND (upper(l.full_name) LIKE %(pattern)s OR upper(l.company) LIKE %(pattern)s OR l.email LIKE %(email_pattern)s
          OR (%(digits)s <> '' AND regexp_replace(l.phone, '[^0-9]', '', 'g') LIKE %(digits_pattern)s))
   LIMIT %(candidates)s
), looks_like AS MATERIALIZED (
  SELECT l.id FROM leads_lead l
   WHERE NOT EXISTS (SELECT FROM starts) AND NOT EXISTS (SELECT FROM contains)
     AND {scope}
     AND (upper(l.full_name) %%> %(words)s OR upper(l.company) %%> %(words)s OR l.email %%> %(email_words)s)
)
SELECT l.id, EXISTS (SELECT FROM looks_like) FROM leads_lead l
 WHERE l.id IN (SELECT id FROM starts UNION SELECT id FROM contains UNION ALL SELECT id FROM looks_like)
 ORDER BY l.id IN (SELECT id FROM starts) DESC,
          greatest(similarity(upper(l.full_name), %(words)s), similarity(upper(l.company), %(words)s),
                   similarity(l.email, %(email_words)s)) DESC,
          greatest(word_similarity(%(words)s, upper(l.full_name)), word_similarity(%(words)s, upper(l.company)),
                   word_similarity(%(email_words)s, l.email)) DESC,
          l.id DESC
 LIMIT %(limit)s
"""


@dataclass(frozen=True)
class SearchResult:
    leads: list[Lead]
    more: bool = False  # there were more than the page: type more to narrow it
    lookalikes: bool = False  # nothing contains what was typed; these leads look like it
    too_broad: bool = False  # stopped after SEARCH_TIMEOUT_MS: too many leads look like it


def _like(text: str) -> str:
    """`text` anywhere, as a LIKE pattern that takes what was typed literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def sees_every_lead(user) -> bool:
    """Marketers and managers find every lead; a rep (sales alone) finds what `SALES_SCOPE` allows."""
    return has_role(user, *MARKETING_SIDE)


def lead_search(*, user, query: str, limit: int = RESULTS) -> SearchResult:
    """The leads `user` may see that best match `query` (already trimmed, QUERY_MIN to QUERY_MAX
    characters): those starting with it, else containing it, else looking like it, by similarity.
    The same statements whatever is found: a transaction with the settings and the ids ranked, then
    the leads with campaign and owner."""
    words = " ".join(query.split()).upper()
    email_words = query.strip().lower()
    # Leading zeros dropped: "030 …" (a national trunk 0) and "0049 30 …" find "+49 30 …".
    digits = "".join(ch for ch in query if ch.isascii() and ch.isdigit()).lstrip("0")
    if len(digits) < PHONE_DIGITS_MIN:
        digits = ""
    scope = " AND ".join((EVERY_LEAD, "TRUE" if sees_every_lead(user) else SALES_SCOPE))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # No JIT: the lookalike tier's estimate (a scan it mostly never runs) pushes the plan's
            # cost past jit_above_cost, and compiling it took ~40 ms of a 45 ms search at 1M leads.
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true),"
                " set_config('statement_timeout', %s, true), set_config('jit', 'off', true)",
                [str(LOOKALIKE_THRESHOLD), str(SEARCH_TIMEOUT_MS)],
            )
            cursor.execute(
                SEARCH_SQL.format(scope=scope),
                {
                    "prefix": _like(words)[1:],
                    "email_prefix": _like(email_words)[1:],
                    "pattern": _like(words),
                    "email_pattern": _like(email_words),
                    "digits": digits,
                    "digits_pattern": _like(digits),
                    "words": words,
                    "email_words": email_words,
                    "candidates": CANDIDATES,
                    "limit": limit + 1,
                },
            )
            rows = cursor.fetchall()
    except OperationalError as exc:  # the transaction is rolled back, the session as it was
        if not isinstance(exc.__cause__, QueryCanceled):
            raise
        return SearchResult(leads=[], too_broad=True)
    ids = [pk for pk, _ in rows[:limit]]
    found = Lead.objects.select_related("campaign", "owner").in_bulk(ids)
    return SearchResult(
        leads=[found[pk] for pk in ids if pk in found],
        more=len(rows) > limit,
        lookalikes=bool(rows) and rows[0][1],
    )
