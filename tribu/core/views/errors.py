from django.shortcuts import render


def csrf_failure(request, reason=""):
    return render(request, "core/csrf_failure.html", status=403)
