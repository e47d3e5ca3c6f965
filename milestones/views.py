from django.http import Http404


def plan_create(request):
    raise Http404


plan_detail = plan_act = plan_create
