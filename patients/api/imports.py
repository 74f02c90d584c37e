"""CSV imports as multipart uploads: ``preview`` (a dry run: every error, or what would be
created and updated; writes nothing) and ``commit`` (the same file again: all of it in one
transaction, or nothing and a 400 listing every error). Columns: see the Import page, or the
docstrings of ``patients.imports.panel`` and ``patients.imports.encounters``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from ccm.api import PracticeApiView
from ccm.audit import AuditEvent
from ccm.errors import InvalidState
from patients.api.common import audit_patients_shown
from patients.imports.encounters import (
    EncounterKind,
    encounter_import_commit,
    encounter_import_preview,
)
from patients.imports.panel import panel_import_commit, panel_import_preview
from patients.imports.table import MAX_BYTES, ImportPreview, ImportResult
from patients.selectors.patient import patients_by_mrn


class RowErrorSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField(help_text="Spreadsheet row (the header is 1); 0: the file.")
    column = serializers.CharField()
    message = serializers.CharField()


class RowPlanSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField()
    mrn = serializers.CharField()
    action = serializers.ChoiceField(choices=["create", "update", "skip"])
    summary = serializers.CharField()


class PreviewOutputSerializer(serializers.Serializer[ImportPreview]):
    valid = serializers.BooleanField(source="is_valid", help_text="No error: commit would pass.")
    would_create = serializers.SerializerMethodField()
    would_update = serializers.SerializerMethodField()
    would_skip = serializers.SerializerMethodField(help_text="Rows already on file.")
    rows = RowPlanSerializer(many=True)
    problems = RowErrorSerializer(many=True, source="errors")
    warnings = RowErrorSerializer(many=True)

    def get_would_create(self, preview: ImportPreview) -> int:
        return preview.count("create")

    def get_would_update(self, preview: ImportPreview) -> int:
        return preview.count("update")

    def get_would_skip(self, preview: ImportPreview) -> int:
        return preview.count("skip")


class ResultOutputSerializer(serializers.Serializer[ImportResult]):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    skipped = serializers.IntegerField()


class CommitRefusedSerializer(serializers.Serializer[Any]):
    file = serializers.ListField(child=serializers.CharField())
    problems = RowErrorSerializer(many=True)


class ImportFileSerializer(serializers.Serializer[Any]):
    file = serializers.FileField()

    def validate_file(self, value: Any) -> Any:
        if value.size > MAX_BYTES:
            raise serializers.ValidationError("The file is larger than 5 MB.")
        return value


class EncounterImportFileSerializer(ImportFileSerializer):
    kind = serializers.ChoiceField(choices=EncounterKind.choices)


class _ImportApi(PracticeApiView):
    parser_classes = (MultiPartParser, FormParser)

    def previewed(self, preview: ImportPreview) -> Response:
        """The dry run, audited with the patients already on file that the file names."""
        on_file = patients_by_mrn(
            practice=self.practice, mrns={row.mrn for row in preview.rows if row.mrn}
        )
        audit_patients_shown(self, on_file.values(), event=AuditEvent.IMPORT_PREVIEWED)
        return Response(PreviewOutputSerializer(preview).data)

    def refused(self, preview: ImportPreview, exc: InvalidState) -> Response:
        problems = RowErrorSerializer(preview.errors, many=True).data
        body = {"file": [exc.message], "problems": problems}
        return Response(body, status=status.HTTP_400_BAD_REQUEST)


class PanelImportPreviewApi(_ImportApi):
    """Check a patient panel CSV (care coordinators and managers)."""

    @extend_schema(
        request={"multipart/form-data": ImportFileSerializer}, responses=PreviewOutputSerializer
    )
    def post(self, request: Request) -> Response:
        data = ImportFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        file = data.validated_data["file"]
        return self.previewed(
            panel_import_preview(practice=self.practice, actor=self.membership, file=file)
        )


class PanelImportCommitApi(_ImportApi):
    """Import a patient panel CSV: every row, or nothing (400 with every error)."""

    @extend_schema(
        request={"multipart/form-data": ImportFileSerializer},
        responses={201: ResultOutputSerializer, 400: CommitRefusedSerializer},
    )
    def post(self, request: Request) -> Response:
        data = ImportFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        file = data.validated_data["file"]
        try:
            result = panel_import_commit(practice=self.practice, actor=self.membership, file=file)
        except InvalidState as exc:
            preview = panel_import_preview(practice=self.practice, actor=self.membership, file=file)
            return self.refused(preview, exc)
        return Response(ResultOutputSerializer(result).data, status=status.HTTP_201_CREATED)


class EncounterImportPreviewApi(_ImportApi):
    """Check a visits / other services / facility stays CSV (``kind``)."""

    @extend_schema(
        request={"multipart/form-data": EncounterImportFileSerializer},
        responses=PreviewOutputSerializer,
    )
    def post(self, request: Request) -> Response:
        data = EncounterImportFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self.previewed(
            encounter_import_preview(
                practice=self.practice, actor=self.membership, **data.validated_data
            )
        )


class EncounterImportCommitApi(_ImportApi):
    """Import a visits / other services / facility stays CSV; rows already on file are
    skipped; any error refuses the whole file (400 with every error)."""

    @extend_schema(
        request={"multipart/form-data": EncounterImportFileSerializer},
        responses={201: ResultOutputSerializer, 400: CommitRefusedSerializer},
    )
    def post(self, request: Request) -> Response:
        data = EncounterImportFileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        try:
            result = encounter_import_commit(
                practice=self.practice, actor=self.membership, **fields
            )
        except InvalidState as exc:
            preview = encounter_import_preview(
                practice=self.practice, actor=self.membership, **fields
            )
            return self.refused(preview, exc)
        return Response(ResultOutputSerializer(result).data, status=status.HTTP_201_CREATED)
