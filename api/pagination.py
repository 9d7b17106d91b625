"""Cursor pages. Leads page the way marketing's lead list does (campaigns.lead_lists: a signed keyset
cursor, no COUNT); the other lists with DRF's cursor on their id."""

from rest_framework import pagination, serializers
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from campaigns import lead_lists

PAGE_SIZES = (50, 100, 250, 500)


class IdCursorPagination(pagination.CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class LeadPageQuery(serializers.Serializer):
    order = serializers.ChoiceField(choices=list(lead_lists.ORDERS), default=lead_lists.DEFAULT_ORDER)
    cursor = serializers.CharField(required=False, max_length=500)
    page_size = serializers.ChoiceField(choices=PAGE_SIZES, default=PAGE_SIZES[0])

    def validate_cursor(self, token):
        try:
            return lead_lists.Cursor.from_token(token)
        except lead_lists.BadCursor as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate(self, attrs):
        cursor = attrs.get("cursor")
        if cursor is not None and cursor.order != attrs["order"]:
            raise serializers.ValidationError({"cursor": ["This cursor belongs to another order."]})
        return attrs


class LeadKeysetPagination(pagination.BasePagination):
    """`lead_lists.keyset_page` behind DRF: `order` (newest, oldest, score), `page_size`, `cursor`."""

    def paginate_queryset(self, queryset, request, view=None):
        query = LeadPageQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        self.request = request
        self.page = lead_lists.keyset_page(
            queryset,
            order=query.validated_data["order"],
            cursor=query.validated_data.get("cursor"),
            size=int(query.validated_data["page_size"]),
        )
        return self.page.leads

    def _link(self, cursor) -> str | None:
        url = self.request.build_absolute_uri()
        return None if cursor is None else replace_query_param(url, "cursor", cursor.token())

    def get_paginated_response(self, data):
        return Response(
            {"next": self._link(self.page.next), "previous": self._link(self.page.previous), "results": data}
        )

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "order",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": list(lead_lists.ORDERS)},
                "description": "newest (default), oldest or score first.",
            },
            {
                "name": "page_size",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "enum": list(PAGE_SIZES)},
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "From a page's `next` or `previous` link.",
            },
        ]
