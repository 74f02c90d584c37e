"""Care-plan pages: the plan of a patient, the draft editor, signing, review queue and diff,
patient copies, goal progress, complexity attestations and practice templates.

Thin: each view resolves ids with selectors (404 for another practice's), calls one service
on POST and turns domain errors into messages or form errors. Every page that shows a plan
writes a read-audit row.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careplans import content as plan_content
from careplans import selectors
from careplans.content import ContentError, GoalStatus, PlanContent
from careplans.forms import (
    ComplexityForm,
    CopyForm,
    DraftForm,
    GoalFormSet,
    GoalProgressForm,
    InterventionFormSet,
    SignForm,
    TemplateChoiceForm,
    TemplateForm,
    VoidForm,
    content_from_forms,
    goal_initial,
    intervention_initial,
)
from careplans.models import CarePlanVersion, DocumentStatus
from careplans.plan_templates import templates_matching
from careplans.presentation import content_sections, diff_sections
from careplans.services import complexity as complexity_services
from careplans.services import documents as document_services
from careplans.services import templates as template_services
from careplans.services import versions as version_services
from ccm import permissions
from ccm.audit import AuditEvent, audit_read
from ccm.decorators import member_required
from ccm.errors import InvalidState, NotFound
from ccm.errors import PermissionDenied as DomainPermissionDenied
from ccm.models import Membership, Practice
from patients.forms import apply_service_error
from patients.models import Condition, Patient
from patients.selectors.common import practice_today
from patients.selectors.patient import patient_get
from patients.selectors.records import condition_list


class PracticeRequest(HttpRequest):
    """A request the practice middleware resolved (``member_required`` guarantees both)."""

    practice: Practice
    membership: Membership


def _audit_plan_read(request: PracticeRequest, patient: Patient, obj: Any) -> None:
    audit_read(
        practice=request.practice,
        actor=request.membership,
        event=AuditEvent.CARE_PLAN_VIEWED,
        patient_public_ids=[patient.public_id],
        obj=obj,
    )


def _version(request: PracticeRequest, public_id: uuid.UUID) -> CarePlanVersion:
    return selectors.care_plan_version_get(
        practice=request.practice,
        public_id=public_id,
    )


def _plan_url(version: CarePlanVersion) -> str:
    return reverse("care_plan_detail", args=[version.care_plan.patient.public_id])


def _form_conditions(
    request: PracticeRequest, patient: Patient, content: PlanContent
) -> list[Condition]:
    """Conditions a draft may name: the active ones, and any already on its lists."""
    named = {problem.condition for problem in content.problems}
    named |= {goal.condition for goal in content.goals}
    named |= {item.condition for item in content.interventions}
    return [
        condition
        for condition in condition_list(practice=request.practice, patient=patient)
        if condition.is_active or str(condition.public_id) in named
    ]


def _refusal(request: PracticeRequest, exc: InvalidState | DomainPermissionDenied) -> None:
    message = exc.message if isinstance(exc, InvalidState) else str(exc)
    messages.error(request, message or "Your role does not allow this.")


# --- The plan of a patient -------------------------------------------------------------------


@require_GET
@member_required(permissions.can_view_patients)
def care_plan_detail(request: PracticeRequest, patient: uuid.UUID) -> HttpResponse:
    practice, membership = request.practice, request.membership
    person = patient_get(practice=practice, public_id=patient)
    plan = selectors.care_plan_for_patient(practice=practice, patient=person)
    context: dict[str, Any] = {
        "patient": person,
        "plan": plan,
        "today": practice_today(practice),
        "goal_statuses": GoalStatus.choices,
    }
    if plan is None:
        conditions = list(condition_list(practice=practice, patient=person, active_only=True))
        available = selectors.plan_templates_available(practice=practice)
        matching = templates_matching(available, [c.code for c in conditions])
        context |= {
            "conditions": conditions,
            "template_form": TemplateChoiceForm(
                templates=available, initial={"templates": [t.key for t in matching]}
            ),
            "may_start": membership.pk == person.billing_practitioner_id
            and permissions.can_draft_care_plan(membership),
        }
    else:
        versions = list(selectors.care_plan_version_list(practice=practice, care_plan=plan))
        current = next((v for v in versions if v.is_signed), None)
        draft = next((v for v in versions if v.is_draft), None)
        context |= {
            "versions": versions,
            "current": current,
            "draft": draft,
            "may_draft": permissions.can_draft_care_plan(membership),
            "may_sign": permissions.can_sign_care_plan(membership)
            and membership.pk == person.billing_practitioner_id,
        }
        if current is not None:
            latest = selectors.care_plan_goal_latest_progress(practice=practice, version=current)
            plan_view = content_sections(current.content)
            for row in plan_view["goals"]:
                row["progress"] = latest.get(row["goal"].key)
            context |= {
                "plan_view": plan_view,
                "missing": selectors.care_plan_version_missing_elements(current),
                "copies": selectors.care_plan_copy_list(practice=practice, version=current),
                "document": selectors.care_plan_document_for_version(
                    practice=practice, version=current
                ),
                "copy_form": CopyForm(initial={"given_on": practice_today(practice)}),
                "progress_form": GoalProgressForm(
                    initial={"recorded_on": practice_today(practice)}
                ),
                "may_copy": permissions.can_record_care_plan_copy(membership),
            }
        if draft is not None:
            context["draft_missing"] = selectors.care_plan_version_missing_elements(draft)
    _audit_plan_read(request, person, plan)
    return render(request, "careplans/plan_detail.html", context)


@require_POST
@member_required(permissions.can_draft_care_plan)
def care_plan_start(request: PracticeRequest, patient: uuid.UUID) -> HttpResponse:
    practice = request.practice
    person = patient_get(practice=practice, public_id=patient)
    form = TemplateChoiceForm(
        request.POST, templates=selectors.plan_templates_available(practice=practice)
    )
    keys = form.cleaned_data["templates"] if form.is_valid() else []
    try:
        version = version_services.care_plan_start(
            practice=practice,
            actor=request.membership,
            patient=person,
            template_keys=keys,
        )
    except (InvalidState, DomainPermissionDenied) as exc:
        _refusal(request, exc)
        return redirect("care_plan_detail", patient=person.public_id)
    messages.success(request, "Care plan started from the chosen templates. Complete the draft.")
    return redirect("care_plan_version_edit", care_plan_version=version.public_id)


@require_POST
@member_required(permissions.can_draft_care_plan)
def care_plan_revise(request: PracticeRequest, care_plan: uuid.UUID) -> HttpResponse:
    practice = request.practice
    plan = selectors.care_plan_get(practice=practice, public_id=care_plan)
    try:
        version = version_services.care_plan_revision_start(
            practice=practice,
            actor=request.membership,
            care_plan=plan,
        )
    except (InvalidState, DomainPermissionDenied) as exc:
        _refusal(request, exc)
        return redirect("care_plan_detail", patient=plan.patient.public_id)
    messages.success(request, f"Revision {version.number} started from the signed plan.")
    return redirect("care_plan_version_edit", care_plan_version=version.public_id)


@require_GET
@member_required(permissions.can_view_patients)
def care_plan_version_detail(
    request: PracticeRequest, care_plan_version: uuid.UUID
) -> HttpResponse:
    version = _version(request, care_plan_version)
    patient = version.care_plan.patient
    _audit_plan_read(request, patient, version)
    return render(
        request,
        "careplans/version_detail.html",
        {
            "version": version,
            "patient": patient,
            "plan_view": content_sections(version.content),
            "missing": selectors.care_plan_version_missing_elements(version),
        },
    )


# --- Drafting --------------------------------------------------------------------------------


def _draft_forms(
    request: PracticeRequest, version: CarePlanVersion, conditions: list[Condition]
) -> tuple[DraftForm, Any, Any]:
    data = request.POST if request.method == "POST" else None
    content = version.content
    form = DraftForm(data, conditions=conditions, initial=DraftForm.initial_for(content))
    goals = GoalFormSet(
        data,
        prefix="goals",
        initial=goal_initial(content),
        form_kwargs={"conditions": conditions},
    )
    interventions = InterventionFormSet(
        data,
        prefix="interventions",
        initial=intervention_initial(content),
        form_kwargs={"conditions": conditions},
    )
    return form, goals, interventions


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_draft_care_plan)
def care_plan_version_edit(request: PracticeRequest, care_plan_version: uuid.UUID) -> HttpResponse:
    practice = request.practice
    version = _version(request, care_plan_version)
    patient = version.care_plan.patient
    if version.is_signed:
        messages.error(request, f"Version {version.number} is signed and can no longer change.")
        return redirect("care_plan_version_detail", care_plan_version=version.public_id)
    conditions = _form_conditions(request, patient, version.content)
    form, goals, interventions = _draft_forms(request, version, conditions)
    if (
        request.method == "POST"
        and form.is_valid()
        and goals.is_valid()
        and interventions.is_valid()
    ):
        try:
            content = content_from_forms(
                form=form,
                goals=goals,
                interventions=interventions,
                previous=version.content,
                conditions=conditions,
            )
            version_services.care_plan_draft_update(
                practice=practice,
                actor=request.membership,
                version=version,
                content=content,
            )
            if "submit" in request.POST:
                version_services.care_plan_draft_submit(
                    practice=practice,
                    actor=request.membership,
                    version=version,
                )
        except ContentError as exc:
            form.add_error(None, exc.message)
        except InvalidState as exc:
            form.add_error(None, exc.message)
        except DomainPermissionDenied as exc:
            form.add_error(None, str(exc))
            return _render_edit(request, version, form, goals, interventions, status=403)
        else:
            if "submit" in request.POST:
                messages.success(request, "Draft saved and sent to the physician for signature.")
                return redirect("care_plan_detail", patient=patient.public_id)
            messages.success(request, "Draft saved.")
            return redirect("care_plan_version_edit", care_plan_version=version.public_id)
    if request.method == "GET":
        _audit_plan_read(request, patient, version)
    return _render_edit(request, version, form, goals, interventions)


def _render_edit(
    request: PracticeRequest,
    version: CarePlanVersion,
    form: DraftForm,
    goals: Any,
    interventions: Any,
    *,
    status: int = 200,
) -> HttpResponse:
    practice = request.practice
    patient = version.care_plan.patient
    available = selectors.plan_templates_available(practice=practice)
    codes = [c.code for c in condition_list(practice=practice, patient=patient, active_only=True)]
    return render(
        request,
        "careplans/version_edit.html",
        {
            "version": version,
            "patient": patient,
            "form": form,
            "goals": goals,
            "interventions": interventions,
            "missing": selectors.care_plan_version_missing_elements(version),
            "template_form": TemplateChoiceForm(templates=available),
            "matching_templates": {t.key for t in templates_matching(available, codes)},
            "may_edit": version.based_on_id is not None
            or request.membership.pk == patient.billing_practitioner_id,
        },
        status=status,
    )


@require_POST
@member_required(permissions.can_draft_care_plan)
def care_plan_version_apply_templates(
    request: PracticeRequest, care_plan_version: uuid.UUID
) -> HttpResponse:
    practice = request.practice
    version = _version(request, care_plan_version)
    form = TemplateChoiceForm(
        request.POST, templates=selectors.plan_templates_available(practice=practice)
    )
    keys = form.cleaned_data["templates"] if form.is_valid() else []
    try:
        version_services.care_plan_draft_apply_templates(
            practice=practice,
            actor=request.membership,
            version=version,
            template_keys=keys,
        )
    except (InvalidState, DomainPermissionDenied) as exc:
        _refusal(request, exc)
    else:
        messages.success(request, "Goals and interventions added from the templates.")
    return redirect("care_plan_version_edit", care_plan_version=version.public_id)


@require_POST
@member_required(permissions.can_draft_care_plan)
def care_plan_version_submit(
    request: PracticeRequest, care_plan_version: uuid.UUID
) -> HttpResponse:
    version = _version(request, care_plan_version)
    try:
        version_services.care_plan_draft_submit(
            practice=request.practice,
            actor=request.membership,
            version=version,
        )
    except (InvalidState, DomainPermissionDenied) as exc:
        _refusal(request, exc)
    else:
        messages.success(request, "Sent to the physician for signature.")
    return redirect(_plan_url(version))


# --- Review and signature --------------------------------------------------------------------


@require_GET
@member_required(permissions.can_draft_care_plan)
def care_plan_review_queue(request: PracticeRequest) -> HttpResponse:
    practice, membership = request.practice, request.membership
    physician = membership if permissions.can_sign_care_plan(membership) else None
    queue = list(selectors.care_plan_review_queue(practice=practice, physician=physician))
    in_progress = list(selectors.care_plan_drafts_in_progress(practice=practice))
    rows = [(version, selectors.care_plan_version_missing_elements(version)) for version in queue]
    shown = list(dict.fromkeys(v.care_plan.patient.public_id for v in [*queue, *in_progress]))
    if shown:  # an empty queue showed no patient data
        audit_read(
            practice=practice,
            actor=membership,
            event=AuditEvent.CARE_PLAN_REVIEW_QUEUE_VIEWED,
            patient_public_ids=shown,
        )
    return render(
        request,
        "careplans/review_queue.html",
        {"rows": rows, "in_progress": in_progress, "is_physician": physician is not None},
    )


def _diff_context(request: PracticeRequest, version: CarePlanVersion) -> dict[str, Any]:
    membership = request.membership
    base = selectors.care_plan_version_base(
        practice=request.practice,
        version=version,
    )
    before = base.content if base is not None else None
    after = version.content
    return {
        "version": version,
        "base": base,
        "patient": version.care_plan.patient,
        "changes": diff_sections(plan_content.diff(before, after), before=before, after=after),
        "missing": selectors.care_plan_version_missing_elements(version),
        "may_draft": permissions.can_draft_care_plan(membership),
        "may_sign": permissions.can_sign_care_plan(membership)
        and membership.pk == version.care_plan.patient.billing_practitioner_id,
    }


@require_GET
@member_required(permissions.can_view_patients)
def care_plan_version_diff(request: PracticeRequest, care_plan_version: uuid.UUID) -> HttpResponse:
    version = _version(request, care_plan_version)
    context = _diff_context(request, version)
    _audit_plan_read(request, context["patient"], version)
    return render(request, "careplans/version_diff.html", context)


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_sign_care_plan)
def care_plan_version_sign(request: PracticeRequest, care_plan_version: uuid.UUID) -> HttpResponse:
    version = _version(request, care_plan_version)
    if version.is_signed:
        messages.info(request, f"Version {version.number} is already signed.")
        return redirect(_plan_url(version))
    form = SignForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            version_services.care_plan_version_sign(
                practice=request.practice,
                actor=request.membership,
                version=version,
                substantial_revision=form.cleaned_data["substantial_revision"],
                password=form.cleaned_data["password"],
                totp_code=form.cleaned_data["totp_code"],
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        except DomainPermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        else:
            messages.success(
                request,
                f"Version {version.number} signed. The patient copy PDF is being prepared.",
            )
            return redirect(_plan_url(version))
    context = _diff_context(request, version) | {"form": form}
    if request.method == "GET":
        _audit_plan_read(request, context["patient"], version)
    return render(request, "careplans/version_sign.html", context, status=status)


# --- Goals, copies and the PDF ---------------------------------------------------------------


@require_POST
@member_required(permissions.can_draft_care_plan)
def care_plan_goal_progress(request: PracticeRequest, care_plan_version: uuid.UUID) -> HttpResponse:
    version = _version(request, care_plan_version)
    form = GoalProgressForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the goal's status and the date.")
        return redirect(_plan_url(version))
    try:
        version_services.care_plan_goal_progress_record(
            practice=request.practice,
            actor=request.membership,
            version=version,
            goal_key=form.cleaned_data["goal"],
            status=form.cleaned_data["status"],
            recorded_on=form.cleaned_data["recorded_on"],
            measured_value=form.cleaned_data["measured_value"],
            note=form.cleaned_data["note"],
        )
    except (InvalidState, DomainPermissionDenied) as exc:
        _refusal(request, exc)
    else:
        messages.success(request, "Goal progress recorded.")
    return redirect(_plan_url(version) + "#goals")


@require_POST
@member_required(permissions.can_record_care_plan_copy)
def care_plan_copy_record(request: PracticeRequest, care_plan_version: uuid.UUID) -> HttpResponse:
    version = _version(request, care_plan_version)
    form = CopyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the date the copy was given and how.")
        return redirect(_plan_url(version) + "#copies")
    try:
        document_services.care_plan_copy_record(
            practice=request.practice,
            actor=request.membership,
            version=version,
            **form.cleaned_data,
        )
    except (InvalidState, DomainPermissionDenied) as exc:
        _refusal(request, exc)
    else:
        messages.success(request, "Recorded that the patient copy was given.")
    return redirect(_plan_url(version) + "#copies")


@require_POST
@member_required(permissions.can_record_care_plan_copy)
def care_plan_document_request(
    request: PracticeRequest, care_plan_version: uuid.UUID
) -> HttpResponse:
    version = _version(request, care_plan_version)
    try:
        document_services.care_plan_document_request(
            practice=request.practice,
            actor=request.membership,
            version=version,
        )
    except (InvalidState, DomainPermissionDenied) as exc:
        _refusal(request, exc)
    else:
        messages.success(request, "The patient copy PDF is being prepared.")
    return redirect(_plan_url(version) + "#copies")


@require_GET
@member_required(permissions.can_view_patients)
def care_plan_document_download(
    request: PracticeRequest, care_plan_version: uuid.UUID
) -> HttpResponse:
    practice = request.practice
    version = _version(request, care_plan_version)
    document = selectors.care_plan_document_for_version(practice=practice, version=version)
    if document is None or document.status != DocumentStatus.READY:
        raise NotFound
    patient = version.care_plan.patient
    audit_read(
        practice=practice,
        actor=request.membership,
        event=AuditEvent.CARE_PLAN_PDF_DOWNLOADED,
        patient_public_ids=[patient.public_id],
        obj=document,
    )
    filename = f"care-plan-{patient.last_name.lower()}-v{version.number}.pdf"
    response = FileResponse(
        document.file.open("rb"),
        as_attachment="download" in request.GET,
        filename=filename,
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    # member_required's signature speaks of HttpResponse; a FileResponse streams the file.
    return cast(HttpResponse, response)


# --- Complexity ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_view_patients)
def complexity_attestations(request: PracticeRequest, patient: uuid.UUID) -> HttpResponse:
    practice, membership = request.practice, request.membership
    person = patient_get(practice=practice, public_id=patient)
    today = practice_today(practice)
    form = ComplexityForm(request.POST or None, initial={"service_month": today.replace(day=1)})
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            complexity_services.complexity_attest(
                practice=practice, actor=membership, patient=person, **form.cleaned_data
            )
        except InvalidState as exc:
            apply_service_error(form, exc)
        except DomainPermissionDenied as exc:
            form.add_error(None, str(exc))
            status = 403
        else:
            messages.success(request, "Complexity attested.")
            return redirect("complexity_attestations", patient=person.public_id)
    attestations = selectors.complexity_attestation_list(practice=practice, patient=person)
    plan = selectors.care_plan_for_patient(practice=practice, patient=person)
    revised_months = (
        set()
        if plan is None
        else {
            version.signed_on.replace(day=1)
            for version in selectors.care_plan_version_list(practice=practice, care_plan=plan)
            if version.signed_on is not None and version.substantial_revision
        }
    )
    if request.method == "GET":
        audit_read(
            practice=practice,
            actor=membership,
            event=AuditEvent.COMPLEXITY_VIEWED,
            patient_public_ids=[person.public_id],
        )
    return render(
        request,
        "careplans/complexity.html",
        {
            "patient": person,
            "form": form,
            "attestations": attestations,
            "revised_months": revised_months,
            "this_month": today.replace(day=1),
            "void_form": VoidForm(),
            "may_attest": permissions.can_attest_complexity(membership)
            and membership.pk == person.billing_practitioner_id,
        },
        status=status,
    )


@require_POST
@member_required(permissions.can_attest_complexity)
def complexity_attestation_void(
    request: PracticeRequest, complexity_attestation: uuid.UUID
) -> HttpResponse:
    practice = request.practice
    attestation = selectors.complexity_attestation_get(
        practice=practice, public_id=complexity_attestation
    )
    form = VoidForm(request.POST)
    try:
        complexity_services.complexity_attestation_void(
            practice=practice,
            actor=request.membership,
            attestation=attestation,
            reason=form.data.get("reason", ""),
        )
    except (InvalidState, DomainPermissionDenied) as exc:
        _refusal(request, exc)
    else:
        messages.success(request, "Attestation voided.")
    return redirect("complexity_attestations", patient=attestation.patient.public_id)


# --- Templates -------------------------------------------------------------------------------


@require_GET
@member_required(permissions.can_draft_care_plan)
def care_plan_template_list(request: PracticeRequest) -> HttpResponse:
    practice = request.practice
    return render(
        request,
        "careplans/template_list.html",
        {
            "builtin": [
                t for t in selectors.plan_templates_available(practice=practice) if t.is_builtin
            ],
            "own": selectors.care_plan_template_list(practice=practice),
        },
    )


@require_http_methods(["GET", "POST"])
@member_required(permissions.can_draft_care_plan)
def care_plan_template_edit(
    request: PracticeRequest, care_plan_template: uuid.UUID | None = None
) -> HttpResponse:
    practice = request.practice
    template = (
        None
        if care_plan_template is None
        else selectors.care_plan_template_get(practice=practice, public_id=care_plan_template)
    )
    initial = TemplateForm.initial_for(template) if template is not None else None
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if template is None:
                data.pop("is_active")
                template_services.care_plan_template_create(
                    practice=practice,
                    actor=request.membership,
                    **data,
                )
            else:
                template_services.care_plan_template_update(
                    practice=practice,
                    actor=request.membership,
                    template=template,
                    **data,
                )
        except InvalidState as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, "Template saved.")
            return redirect("care_plan_template_list")
    return render(request, "careplans/template_form.html", {"form": form, "template": template})
