class NumberConverter:
    """Digits in the URL, an int in the view; subclasses bound the digits so values stay sane."""

    regex = "[0-9]+"
    width = 0  # zero-padding when reversing

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return f"{int(value):0{self.width}d}"


class PostIdConverter(NumberConverter):
    """A post id: at most 18 digits, so the value always fits a 64-bit column (else 404)."""

    regex = "[0-9]{1,18}"


class PageNumberConverter(NumberConverter):
    """A listing page number from 1 up; `0` or an absurd number never reaches the paginator."""

    regex = "[1-9][0-9]{0,8}"


class YearConverter(NumberConverter):
    """A year of date archives, 1000–2999: date arithmetic near year 1 or 9999 would overflow."""

    regex = "[12][0-9]{3}"
    width = 4


class TwoDigitConverter(NumberConverter):
    """A month or day of date archives as two digits (`05`); impossible dates 404 in the view."""

    regex = "[0-9]{2}"
    width = 2
