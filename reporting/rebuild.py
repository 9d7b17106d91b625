"""Every read model recomputed from its source, in one place (`manage.py rebuild_counts`)."""

from leads.counts import counts_rebuild
from leads.tally import lead_tally_rebuild
from reporting.acceptance import acceptance_rebuild
from reporting.escalations import escalations_rebuild
from reporting.met_times import met_times_rebuild
from reporting.outcomes import outcomes_rebuild


def read_models_rebuild() -> dict[str, int]:
    """Recount the timeline's counts, the deadlines' outcomes, the hand-offs' acceptance, the escalations
    caused, the met deadlines' business times and the lead tallies (each installs its trigger again);
    returns the rows written per read model."""
    return {
        "counts": counts_rebuild(),
        "outcomes": outcomes_rebuild(),
        "acceptance": acceptance_rebuild(),
        "escalations": escalations_rebuild(),
        "met times": met_times_rebuild(),
        "tallies": lead_tally_rebuild(),
    }
