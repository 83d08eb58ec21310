from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import pgettext

register = template.Library()

MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@register.filter
def month_abbr(value: datetime) -> str:
    """English three-letter month in the site's time zone, whatever the UI language."""
    if not value:
        return ""
    return MONTH_ABBR[timezone.localtime(value).month - 1]


@register.filter
def month_heading(month: int) -> str:
    """A month of the archive by itself, in the site's language: 5月, May."""
    return date_format(date(2000, month, 1), pgettext("archive month heading", "n月"))
