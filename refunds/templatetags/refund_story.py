"""One refund story everywhere: the policy page, the refund page and the refund receipt render the
same table of where the money goes for each method INTRASA offers (``refunds.policy.refund_routes_table``)."""
from django import template

from refunds import policy

register = template.Library()


@register.simple_tag
def refund_routes():
    """``{% refund_routes as routes %}``: (method, route, why, working-day window) per method."""
    return policy.refund_routes_table()
