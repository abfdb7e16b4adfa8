"""URLs as in Oscar's guide: Django's i18n views and the whole shop at the root (no admin)."""

from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
