"""The API's schema and docs page (Swagger UI from drf-spectacular-sidecar's files, no CDN)."""

from django.contrib.auth.mixins import LoginRequiredMixin
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema, for any signed-in user or token holder: JSON unless YAML is asked for
    (`Accept: application/vnd.oai.openapi` or `?format=yaml`), so its errors are JSON like the rest."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer, OpenApiYamlRenderer2]


class DocsView(LoginRequiredMixin, SpectacularSwaggerSplitView):
    """Swagger UI. Its start-up script is a separate request (`?script`), so the page runs under the
    site's Content-Security-Policy (no inline script); the template has no inline style either."""

    permission_classes = [IsAuthenticated]
    template_name = "api/docs.html"
    url_name = "api:schema"
