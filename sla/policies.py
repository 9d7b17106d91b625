"""Publishing SLA policy versions: the one door for a manager's change to the agreement.

A policy is never edited. Each change publishes the next version, which new deadlines are set under;
deadlines already running keep the time they were given.
"""

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from sla.models import SlaPolicy

# pg_advisory_xact_lock key that serialises publishing (any fixed bigint unique to this purpose).
PUBLISH_LOCK = 5_142_001


def policy_publish(*, actor, **values) -> SlaPolicy:
    """Publish a new policy version with `values` (SlaPolicy fields), made by `actor`, and return it.

    The version is the highest so far plus one, taken under a transaction-level advisory lock: two
    managers publishing at the same moment get consecutive versions instead of one of them failing on
    the unique version. Raises ValidationError (nothing saved) for values the policy refuses.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PUBLISH_LOCK])
        latest = SlaPolicy.objects.aggregate(latest=Max("version"))["latest"] or 0
        # Stamped under the lock, so publication times follow the version order.
        policy = SlaPolicy(**values, version=latest + 1, created_by=actor, created_at=timezone.now())
        policy.full_clean()
        policy.save()
    return policy
