"""CSV import: upload a file to a campaign, preview its problems, confirm, watch the import run."""

from pathlib import PurePath

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import DetailView, FormView

from common.spreadsheet import csv_response
from people.roles import MARKETING_SIDE, RoleRequiredMixin, role_required

from ..imports import (
    ERRORS_KEPT,
    MAX_BYTES,
    ImportRejected,
    bad_rows_table,
    import_confirm,
    import_create,
    import_parsed,
    imports_of_campaign,
)
from ..models import Campaign, ImportJob

RECENT_IMPORTS = 10


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"At most {MAX_BYTES // 2**20} MB. The first line names the columns: Email and Name (or First name and "
            "Last name) are required; Company, Phone, Job title and Company size are read too."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv,text/plain"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Refused before it is read into memory.
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB. "
                "Split it into smaller files."
            )
        return upload


class ImportUploadView(RoleRequiredMixin, FormView):
    """Upload a CSV to a campaign; the campaign's recent imports are listed under the form."""

    allowed_roles = MARKETING_SIDE
    form_class = ImportUploadForm
    template_name = "campaigns/imports/upload.html"

    def dispatch(self, request, *args, **kwargs):
        self.campaign = get_object_or_404(Campaign, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        recent = imports_of_campaign(self.campaign)[:RECENT_IMPORTS]
        return super().get_context_data(campaign=self.campaign, imports=recent, **kwargs)

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        try:
            job = import_create(
                campaign=self.campaign, filename=upload.name, content=upload.read(), actor=self.request.user
            )
        except ImportRejected as exc:
            form.add_error("file", str(exc))
            return self.form_invalid(form)
        return redirect(job)


class ImportDetailView(RoleRequiredMixin, DetailView):
    """The preview (counts and problems), then the import's progress and result."""

    allowed_roles = MARKETING_SIDE
    # The file itself can be 20 MB: this page never needs it.
    queryset = ImportJob.objects.defer("content").select_related("campaign", "created_by", "confirmed_by")
    context_object_name = "job"
    template_name = "campaigns/imports/detail.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(errors_kept=ERRORS_KEPT, **kwargs)

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        if self.object.is_in_progress:
            response["Refresh"] = "2"  # browsers reload the page until the import is done
        return response


@require_POST
@role_required(*MARKETING_SIDE)
def import_confirm_view(request, pk):
    job = get_object_or_404(ImportJob.objects.defer("content"), pk=pk)
    try:
        import_confirm(job=job, actor=request.user)
    except ImportRejected as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(request, f"Importing {job.valid_rows} rows into {job.campaign.name}.")
    return redirect(job)


@require_GET
@role_required(*MARKETING_SIDE)
def import_errors_view(request, pk):
    """The bad rows as CSV, with an 'error' column, to fix and upload again."""
    job = get_object_or_404(ImportJob, pk=pk)
    try:
        parsed = import_parsed(job)
    except ImportRejected as exc:  # only if the rules changed since the upload; the preview said otherwise
        messages.error(request, str(exc))
        return redirect(job)
    filename = f"{PurePath(job.filename).stem or 'import'}-errors.csv"
    return csv_response(bad_rows_table(parsed), filename=filename, delimiter=parsed.delimiter)
