from django.urls import path

from minzheng.benefits import views

urlpatterns = [
    path("payrolls/", views.payroll_list, name="payroll_list"),
    path("payrolls/<int:run_id>/", views.payroll_detail, name="payroll_detail"),
    path("payrolls/<int:run_id>/approval/", views.payroll_approve, name="payroll_approve"),
    path("payrolls/<int:run_id>/recompute/", views.payroll_recompute, name="payroll_recompute"),
    path("payrolls/<int:run_id>/cancellation/", views.payroll_cancel, name="payroll_cancel"),
    path("payrolls/<int:run_id>/bank-file/", views.bank_file_download, name="bank_file_download"),
    path("payrolls/<int:run_id>/bank-file/export/", views.bank_file_export,
         name="bank_file_export"),
    path("payrolls/<int:run_id>/bank-return/", views.bank_return_import,
         name="bank_return_import"),
    path("payments/<int:payment_id>/reissue/", views.payment_reissue, name="payment_reissue"),
    path("entitlements/", views.entitlement_list, name="entitlement_list"),
    path("entitlements/<int:entitlement_id>/", views.entitlement_detail,
         name="entitlement_detail"),
    path("entitlements/<int:entitlement_id>/bank-account/", views.entitlement_account,
         name="entitlement_account"),
    path("entitlements/<int:entitlement_id>/status/", views.entitlement_status,
         name="entitlement_status"),
    path("entitlements/<int:entitlement_id>/amount/", views.entitlement_amount,
         name="entitlement_amount"),
    path("ledger/", views.ledger, name="ledger"),
    path("ledger/journal.csv", views.ledger_csv, name="ledger_csv"),
]  # fmt: skip
