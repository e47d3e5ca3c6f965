"""``{% per_language "name" %}…{% endper_language %}``: a piece of a page rendered once per language
and per process, then reused.

For the parts of every page that depend on nothing but the language and the code: the footer and
the navigation links, logged out and logged in (links and translated words; the unread badge and the
logout form's CSRF token sit between the logged-in pieces, outside them). Rendering them is a fifth of a public
page's template time (a dozen ``{% url %}`` reversals and translations per request, profiled in
``benchmarks/profiles``); their text changes only with a deploy, which starts new processes. What
is inside must not read the context (no user, no request, no CSRF token, no transaction): the tag
renders it with an empty context (``Context.new``) to make sure of that. With ``DEBUG`` on, templates are edited
while the server runs, so nothing is kept.
"""
from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()
_rendered: dict[tuple, str] = {}


class PerLanguageNode(template.Node):
    def __init__(self, name: str, nodelist):
        self.name, self.nodelist = name, nodelist

    def render(self, context):
        key = (self.name, get_language(), get_script_prefix(), get_urlconf())
        html = _rendered.get(key)
        if html is None:
            html = self.nodelist.render(context.new())
            if not settings.DEBUG:
                _rendered[key] = html
        return mark_safe(html)


@register.tag
def per_language(parser, token):
    bits = token.split_contents()
    if len(bits) != 2 or bits[1][0] not in "\"'" or bits[1][0] != bits[1][-1]:
        raise template.TemplateSyntaxError("{% per_language \"name\" %} takes one quoted name")
    nodelist = parser.parse(("endper_language",))
    parser.delete_first_token()
    return PerLanguageNode(bits[1][1:-1], nodelist)
