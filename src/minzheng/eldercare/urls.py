from django.urls import include, path

from minzheng.eldercare import views, views_alarms, views_orders, views_providers

urlpatterns = [
    path("", include(views.urlpatterns)),
    path("", include(views_providers.urlpatterns)),
    path("", include(views_orders.urlpatterns)),
    path("", include(views_alarms.urlpatterns)),
]
