from django.urls import path

from minzheng.targeting import views

urlpatterns = [
    path("targeting/ranking/", views.ranking, name="targeting_ranking"),
    path(
        "targeting/households/<int:household_id>/",
        views.explanation,
        name="targeting_explanation",
    ),
]
