from django.urls import path

from minzheng.applications import views

urlpatterns = [
    path("applications/", views.inbox, name="application_inbox"),
    path("applications/new/", views.apply, name="application_new"),
    path("applications/<int:application_id>/", views.detail, name="application_detail"),
    path("applications/<int:application_id>/act/", views.transition, name="application_act"),
    path("applications/<int:application_id>/documents/", views.upload, name="application_upload"),
    path("applications/<int:application_id>/documents/<int:document_id>/", views.document_view,
         name="application_document"),
    path("applications/<int:application_id>/documents/<int:document_id>/file", views.document_file,
         name="application_document_file"),
    path("applications/<int:application_id>/objections/<int:objection_id>/resolve/",
         views.resolve, name="application_resolve"),
    path("applications/<int:application_id>/receipt.pdf", views.receipt, name="application_receipt"),
    path("applications/<int:application_id>/decisions/<int:line_id>.pdf", views.decision,
         name="application_decision"),
    path("notices/<str:community_code>/", views.notice, name="notice"),
    path("notices/<str:community_code>/notice.pdf", views.notice_pdf, name="notice_pdf"),
]  # fmt: skip
