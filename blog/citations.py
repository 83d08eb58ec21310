"""How to cite a post: the reference line, BibTeX, RIS, CSL-JSON, citation_* meta tags, JSON-LD."""

import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.encoding import iri_to_uri

from blog.models import Citation, Post
from blog.templatetags.blog_tags import MONTH_ABBR

BIBTEX_SPECIAL = re.compile(r"[\\{}%&#_$^~]")
BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "_": r"\_",
    "$": r"\$",
    "^": r"\^{}",
    "~": r"\~{}",
}
# Characters that end or break a BibTeX key.
KEY_UNSAFE = re.compile(r"[\s,{}()\"#%'=~\\]")
BIBTEX_INDENT = " " * 8


def bibtex_escape(text: str) -> str:
    """Text as BibTeX reads it literally: specials escaped, so braces always balance."""
    return BIBTEX_SPECIAL.sub(lambda match: BIBTEX_ESCAPES[match[0]], text)


def bibtex_name(name: str) -> str:
    """One author for BibTeX; names BibTeX would split (commas, " and ") stay whole in braces."""
    escaped = bibtex_escape(name)
    if "," in name or re.search(r"\sand\s", name, re.IGNORECASE):
        return "{" + escaped + "}"
    return escaped


def one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Reference:
    """What a citation of one post says, in every format readers and tools ask for."""

    key: str
    title: str
    authors: list[str]
    published: dt.datetime  # in the site's time zone
    modified: dt.datetime
    url: str
    site_name: str

    @classmethod
    def of(cls, post: Post, base_url: str) -> "Reference":
        """`post` needs its authors prefetched (`with_authors()`); `base_url` is the site's
        (blog.site.base_url)."""
        prefix = KEY_UNSAFE.sub("", settings.SPACES_CITATION_KEY) or "spaces"
        return cls(
            key=f"{prefix}-{post.pk}",
            title=one_line(post.title),
            authors=[one_line(a.display_name) for a in post.ordered_authors]
            or [settings.SPACES_SITE_NAME],
            published=timezone.localtime(post.published_at),
            modified=timezone.localtime(post.updated_at or post.published_at),
            url=iri_to_uri(base_url + post.get_absolute_url()),
            site_name=settings.SPACES_SITE_NAME,
        )

    @property
    def month(self) -> str:
        return MONTH_ABBR[self.published.month - 1]

    @cached_property
    def text(self) -> str:
        """The seed site's plain-text reference line."""
        return (
            f"{', '.join(self.authors)}. ({self.month}. {self.published:%d}, "
            f"{self.published.year}). 《{self.title} 》[Blog post]. Retrieved from {self.url}"
        )

    @cached_property
    def bibtex(self) -> str:
        """The seed site's BibTeX entry (no trailing newline)."""
        fields = [
            ("title", bibtex_escape(self.title)),
            ("author", " and ".join(bibtex_name(name) for name in self.authors)),
            ("year", str(self.published.year)),
            ("month", self.month),
            ("url", "\\url{" + self.url + "}"),
        ]
        lines = [f"@online{{{self.key},"]
        lines += [f"{BIBTEX_INDENT}{name}={{{value}}}," for name, value in fields]
        lines.append("}")
        return "\n".join(lines)

    @cached_property
    def ris(self) -> str:
        """A RIS record (CRLF line ends, as the format specifies)."""
        fields = [
            ("TY", "BLOG"),
            ("TI", self.title),
            *(("AU", name) for name in self.authors),
            ("PY", str(self.published.year)),
            ("DA", f"{self.published:%Y/%m/%d}/"),
            ("T2", self.site_name),
            ("UR", self.url),
            ("ID", self.key),
        ]
        lines = [f"{tag}  - {one_line(value)}" for tag, value in fields]
        return "\r\n".join([*lines, "ER  - ", ""])

    @cached_property
    def csl(self) -> list[dict]:
        """CSL-JSON: a list with one `post-weblog` item; names are kept whole (`literal`)."""
        published = self.published
        return [
            {
                "id": self.key,
                "type": "post-weblog",
                "title": self.title,
                "author": [{"literal": name} for name in self.authors],
                "issued": {"date-parts": [[published.year, published.month, published.day]]},
                "container-title": self.site_name,
                "URL": self.url,
            }
        ]

    @cached_property
    def meta_tags(self) -> list[tuple[str, str]]:
        """Highwire `citation_*` tags (Google Scholar, Zotero) and Zotero's item type hints."""
        return [
            ("citation_title", self.title),
            *(("citation_author", name) for name in self.authors),
            ("citation_publication_date", f"{self.published:%Y/%m/%d}"),
            ("citation_public_url", self.url),
            # Zotero's embedded-metadata reader: a blog post (not its default, a journal
            # article) whose blog title is the site's name.
            ("z:itemType", "blogPost"),
            ("prism.publicationName", self.site_name),
        ]

    def json_ld(self, author_urls: list[str]) -> dict:
        """schema.org BlogPosting; `author_urls` in byline order (may be empty)."""
        authors = [{"@type": "Person", "name": name} for name in self.authors]
        for author, url in zip(authors, author_urls, strict=False):
            author["url"] = url
        return {
            "@context": "https://schema.org",
            "@type": "BlogPosting",
            "headline": self.title,
            "author": authors,
            "datePublished": self.published.isoformat(),
            "dateModified": max(self.published, self.modified).isoformat(),
            "url": self.url,
            "mainEntityOfPage": self.url,
            "publisher": {"@type": "Organization", "name": self.site_name},
        }


def csl_json(reference: Reference) -> str:
    return json.dumps(reference.csl, ensure_ascii=False, indent=2) + "\n"


@dataclass(frozen=True)
class PostLinks:
    """Published posts that a post cites, and that cite it, newest first."""

    cites: list[Post]
    cited_by: list[Post]


def post_links(post: Post) -> PostLinks:
    """Both lists in one query; drafts and scheduled posts never appear on either side."""
    published = Post.objects.published().values("pk")
    links = (
        Citation.objects.filter(
            Q(source=post, target__in=published) | Q(target=post, source__in=published)
        )
        .select_related("source", "target")
        .only(
            "source__id",
            "source__title",
            "source__published_at",
            "target__id",
            "target__title",
            "target__published_at",
        )
    )
    cites: list[Post] = []
    cited_by: list[Post] = []
    for link in links:
        if link.source_id == post.pk:
            cites.append(link.target)
        else:
            cited_by.append(link.source)
    newest_first = {"key": lambda p: (p.published_at, p.pk), "reverse": True}
    return PostLinks(sorted(cites, **newest_first), sorted(cited_by, **newest_first))
