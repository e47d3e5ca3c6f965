"""intrasa.http.never_cache gives exactly Django's never_cache headers, and is the site's only one."""
import ast
from pathlib import Path

import pytest
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory
from django.utils.cache import add_never_cache_headers

from intrasa.http import add_never_cache, never_cache

ROOT = Path(__file__).resolve().parent.parent


def _responses():
    with_control = HttpResponse("x")
    with_control["Cache-Control"] = "public, max-age=60"
    with_expires = HttpResponse("x")
    with_expires["Expires"] = "Thu, 01 Jan 2099 00:00:00 GMT"
    return [HttpResponse("x"), JsonResponse({"a": 1}), with_control, with_expires]


@pytest.mark.parametrize("index", range(4))
def test_the_headers_are_djangos(index, monkeypatch):
    monkeypatch.setattr("time.time", lambda: 1_790_000_000.75)
    ours, djangos = _responses()[index], _responses()[index]
    add_never_cache(ours)
    add_never_cache_headers(djangos)
    assert {name: ours[name] for name in ("Cache-Control", "Expires")} == \
        {name: djangos[name] for name in ("Cache-Control", "Expires")}


def test_the_decorator_wraps_a_view_and_refuses_a_method_without_method_decorator():
    @never_cache
    def view(request):
        return HttpResponse("x")

    response = view(RequestFactory().get("/"))
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
    assert view.__name__ == "view"
    with pytest.raises(TypeError):
        view(object())


def test_no_module_uses_djangos_never_cache_directly():
    """One never_cache for the site: the same headers everywhere, at the cheaper cost."""
    offenders = []
    for path in ROOT.glob("*/**/*.py"):
        if any(part in {".venv", "tests", "node_modules"} for part in path.relative_to(ROOT).parts):
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "django.views.decorators.cache" \
                    and any(alias.name == "never_cache" for alias in node.names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
