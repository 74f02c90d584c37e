from django.urls import path

from timetracking import api

urlpatterns = [
    path("time-entries/", api.TimeEntryListApi.as_view(), name="api_time_entries"),
    path(
        "time-entries/<uuid:time_entry>/",
        api.TimeEntryDetailApi.as_view(),
        name="api_time_entry",
    ),
    path(
        "time-entries/<uuid:time_entry>/void/",
        api.TimeEntryVoidApi.as_view(),
        name="api_time_entry_void",
    ),
    path("timer/", api.TimerApi.as_view(), name="api_timer"),
    path("timer/start/", api.TimerStartApi.as_view(), name="api_timer_start"),
    path("timer/stop/", api.TimerStopApi.as_view(), name="api_timer_stop"),
    path("timer/discard/", api.TimerDiscardApi.as_view(), name="api_timer_discard"),
]
