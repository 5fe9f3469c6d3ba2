"""Page routes of quality control: projects, their reports, reviews and release gates, and the
thresholds that rate them."""

from __future__ import annotations

from django.urls import path

from quality import views

app_name = "quality"
urlpatterns = [
    path("projects/", views.project_list, name="projects"),
    path("projects/new/", views.register, name="register"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/advance/", views.advance, name="advance"),
    path("projects/<int:pk>/report/", views.report, name="report"),
    path(
        "projects/<int:pk>/reports/<str:period>/correct/",
        views.correct_report,
        name="correct_report",
    ),
    path("projects/<int:pk>/review/", views.review, name="review"),
    path("projects/<int:pk>/release/", views.release, name="release"),
    path("quality/thresholds/", views.thresholds, name="thresholds"),
]
