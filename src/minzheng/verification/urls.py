from django.urls import path

from minzheng.verification import views

urlpatterns = [
    path("verification/feeds/", views.feed_list, name="feed_list"),
    path("verification/links/", views.link_queue, name="link_queue"),
    path("verification/links/<int:link_id>/", views.link_decide, name="link_decide"),
    path("verification/reports/<int:report_id>/", views.report_detail, name="verification_report"),
    path("verification/reports/<int:report_id>/report.pdf", views.report_pdf, name="verification_report_pdf"),
    path("verification/reports/<int:report_id>/discrepancies/<int:discrepancy_id>/",
         views.discrepancy_resolve, name="discrepancy_resolve"),
    path("verification/duplicates/", views.duplicates, name="duplicates"),
    path("applications/<int:application_id>/verification/", views.verification_create,
         name="verification_create"),
]  # fmt: skip
