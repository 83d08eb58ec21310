from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()

MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@register.filter
def month_abbr(value: datetime) -> str:
    """English three-letter month in the site's time zone, whatever the UI language."""
    if not value:
        return ""
    return MONTH_ABBR[timezone.localtime(value).month - 1]
