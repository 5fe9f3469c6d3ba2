"""Page routes of the committee: meetings, calendar subscriptions, a meeting's agenda review,
attendance, decisions, minutes and agenda pack."""

from __future__ import annotations

from django.urls import path

from committee import views

app_name = "committee"
urlpatterns = [
    path("meetings/", views.meetings, name="meetings"),
    path("meetings/calendar/", views.create_feed, name="feed-create"),
    path("meetings/calendar/<int:pk>/revoke/", views.revoke_feed, name="feed-revoke"),
    path("meetings/<int:pk>/", views.meeting, name="meeting"),
    path("meetings/<int:pk>/meeting.ics", views.meeting_ical, name="meeting-ical"),
    path("meetings/<int:pk>/agenda.pdf", views.meeting_pack, name="meeting-pack"),
    path("meetings/<int:pk>/assemble/", views.assemble, name="assemble"),
    path("meetings/<int:pk>/publish/", views.publish, name="publish"),
    path("meetings/<int:pk>/hold/", views.hold, name="hold"),
    path("meetings/<int:pk>/items/", views.add_item, name="item-add"),
    path("meetings/<int:pk>/items/<int:item_pk>/remove/", views.remove_item, name="item-remove"),
    path("meetings/<int:pk>/items/<int:item_pk>/move/", views.move_item, name="item-move"),
    path("meetings/<int:pk>/items/<int:item_pk>/decide/", views.decide, name="decide"),
    path("meetings/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("meetings/<int:pk>/quorum/", views.quorum, name="quorum"),
    path("meetings/<int:pk>/minutes/", views.minutes, name="minutes"),
    path("meetings/<int:pk>/minutes/draft/", views.draft_minutes, name="minutes-draft"),
    path("meetings/<int:pk>/minutes/approve/", views.approve_minutes, name="minutes-approve"),
    path("resolutions/", views.resolutions, name="resolutions"),
    path("resolutions/new/", views.resolution_new, name="resolution-new"),
    path("resolutions/<int:pk>/", views.resolution, name="resolution"),
    path("resolutions/<int:pk>/vote/", views.vote, name="resolution-vote"),
    path("waiting/count/", views.waiting_count, name="waiting-count"),
]
