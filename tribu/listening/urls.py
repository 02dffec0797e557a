app_name = "listening"

urlpatterns = []
