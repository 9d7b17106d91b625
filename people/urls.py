# Names without a namespace: the pages kept the names they had before the apps were split.
from django.urls import path

from people.views import lockouts

urlpatterns = [
    path("accounts/lockouts/", lockouts.LockoutListView.as_view(), name="login_lockouts"),
    path("accounts/lockouts/unlock/", lockouts.lockout_unlock, name="login_unlock"),
]
