from django.urls import path

from timetracking import views

urlpatterns = [
    path("worklist/", views.worklist, name="time_worklist"),
    path("timer/", views.timer_panel, name="time_timer"),
    path("timers/<uuid:timer>/stop/", views.timer_stop, name="time_timer_stop"),
    path("timers/<uuid:timer>/discard/", views.timer_discard, name="time_timer_discard"),
    path("patients/<uuid:patient>/", views.patient_time, name="time_patient"),
    path("patients/<uuid:patient>/timer/", views.timer_start, name="time_timer_start"),
    path("patients/<uuid:patient>/entries/", views.time_entry_create, name="time_entry_create"),
    path("entries/<uuid:time_entry>/edit/", views.time_entry_edit, name="time_entry_edit"),
    path("entries/<uuid:time_entry>/void/", views.time_entry_void, name="time_entry_void"),
    path("settings/", views.time_settings, name="time_settings"),
    path("months/<str:month>/reopen/", views.month_reopen, name="time_month_reopen"),
]
