"""Read a Typecho site's database (its tables as in Typecho's install/*.sql) as import items."""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator

import phpserialize

from importers.core import (
    AttachmentItem,
    BadItem,
    CommentItem,
    PostItem,
    SourceError,
    TermItem,
    UserItem,
)
from importers.databases import BadText, number, open_database, text
from importers.hashers import django_password

REQUIRED = ("contents", "comments", "metas", "relationships", "users")
OPTIONAL = ("fields", "options")
MARKDOWN_MARK = "<!--markdown-->"
# Typecho's groups. Its contributor writes but may not publish: our Contributors group (issue 13
# said Authors, written before issue 14 made Contributors; the two issues agree on this).
ROLES = {"administrator": "admin", "editor": "editor", "contributor": "contributor"}
COMMENT_STATUSES = {"approved": "approved", "waiting": "pending", "spam": "spam"}
PENDING_EDIT = "typecho_pending_edit"
MAIN_TYPES = frozenset({"post", "page"})
DRAFT_TYPES = frozenset({"post_draft", "page_draft"})


def moment(value: object) -> dt.datetime:
    """Typecho's times are Unix seconds (UTC)."""
    return dt.datetime.fromtimestamp(max(number(value), 0), tz=dt.UTC)


def decoded(row: dict[str, object]) -> dict[str, object]:
    """The row with its text decoded; raises BadText."""
    return {name: text(value) if isinstance(value, bytes) else value for name, value in row.items()}


class TypechoSource:
    """A Typecho database; all checks of its layout happen here, before anything is written."""

    name = "typecho"
    renumber = False  # ids are kept: /archives/<cid> must keep working

    def __init__(self, source: str, prefix: str = "typecho_") -> None:
        self.database = open_database(source)
        self.prefix = prefix
        try:
            self.columns = {table: self.database.columns(prefix + table) for table in REQUIRED}
            missing = [prefix + table for table, names in self.columns.items() if names is None]
            if missing:
                raise SourceError(
                    f"table {', '.join(missing)} is missing: is this a Typecho database, and is "
                    f"the table prefix {prefix!r} right (--prefix)?"
                )
            for table in OPTIONAL:
                self.columns[table] = self.database.columns(prefix + table)
            self.has_views = "views" in self.columns["contents"]
            self.contents = list(self.database.rows(prefix + "contents", "cid"))
            self.site_url = self._site_url()
        except BaseException:
            self.database.close()
            raise
        self.by_parent: dict[int, list[dict]] = defaultdict(list)
        for row in self.contents:
            self.by_parent[number(row.get("parent"))].append(row)
        published = {number(r["cid"]) for r in self.contents if text(r.get("type")) in MAIN_TYPES}
        # A draft with a parent is the pending edit of that post; without one (or when that post
        # is gone) it is a draft of its own.
        self.post_rows = [
            row
            for row in self.contents
            if text(row.get("type")) in MAIN_TYPES
            or (text(row.get("type")) in DRAFT_TYPES and number(row.get("parent")) not in published)
        ]
        self.ids = {number(row["cid"]) for row in self.post_rows}

    def close(self) -> None:
        self.database.close()

    def _rows(self, table: str, order_by: str) -> Iterator[dict[str, object]]:
        if self.columns.get(table) is None:
            return iter(())
        return self.database.rows(self.prefix + table, order_by)

    def _site_url(self) -> str:
        for row in self._rows("options", "name"):
            try:
                row = decoded(row)
            except BadText:
                continue
            if row["name"] == "siteUrl" and number(row.get("user")) == 0:
                return str(row["value"]).rstrip("/")
        return ""

    # --- Users and terms ------------------------------------------------------------------------

    def users(self) -> Iterator[UserItem | BadItem]:
        writers = {
            number(row.get("authorId"))
            for row in self.contents
            if text(row.get("type")) in MAIN_TYPES | DRAFT_TYPES
        }
        for raw in self._rows("users", "uid"):
            uid = number(raw.get("uid"))
            try:
                row = decoded(raw)
            except BadText as error:
                yield BadItem("user", str(uid), str(error))
                continue
            name = str(row.get("name") or "").strip()
            if not name:
                yield BadItem("user", str(uid), "no login name")
                continue
            logged = number(row.get("logged"))
            yield UserItem(
                key=str(uid),
                username=name[:150],
                email=str(row.get("mail") or "").strip(),
                display_name=str(row.get("screenName") or "").strip() or name,
                url=str(row.get("url") or ""),
                password=django_password(str(row.get("password") or "")),
                role=ROLES.get(str(row.get("group") or ""), ""),
                is_author=uid in writers,
                joined=moment(row.get("created")) if number(row.get("created")) else None,
                last_login=moment(logged) if logged else None,
                old_paths=[f"/author/{uid}/", f"/index.php/author/{uid}/"],
            )

    def terms(self) -> Iterator[TermItem | BadItem]:
        for raw in self._rows("metas", "mid"):
            mid = number(raw.get("mid"))
            try:
                row = decoded(raw)
            except BadText as error:
                yield BadItem("term", str(mid), str(error))
                continue
            kind = str(row.get("type") or "")
            if kind not in {"category", "tag"}:
                continue
            slug = str(row.get("slug") or "")
            parent = number(row.get("parent"))
            paths = [f"/index.php/{kind}/{slug}/", f"/{kind}/{slug}/"] if slug else []
            yield TermItem(
                key=str(mid),
                kind=kind,
                name=str(row.get("name") or ""),
                slug=slug,
                description=str(row.get("description") or ""),
                order=number(row.get("order")),
                parent=str(parent) if parent and kind == "category" else None,
                old_paths=paths,
            )

    # --- Posts ----------------------------------------------------------------------------------

    def post_count(self) -> int:
        return len(self.post_rows)

    def posts(self) -> Iterator[PostItem | BadItem]:
        terms = self._term_kinds()
        links: dict[int, list[int]] = defaultdict(list)
        for row in self._rows("relationships", "cid"):
            links[number(row.get("cid"))].append(number(row.get("mid")))
        fields = self._fields()
        comments: dict[int, list[CommentItem]] = defaultdict(list)
        for item in self._comments():
            if isinstance(item, BadItem):
                yield item
            else:
                comments[item[0]].append(item[1])
        for raw in self.post_rows:
            cid = number(raw.get("cid"))
            try:
                item = self._post(decoded(raw))
                edits = [
                    decoded(r)
                    for r in self.by_parent.get(cid, [])
                    if text(r.get("type")) in DRAFT_TYPES
                ]
            except BadText as error:
                yield BadItem("post", str(cid), str(error))
                continue
            for edit in edits:
                item.custom_fields[PENDING_EDIT] = {
                    "cid": number(edit["cid"]),
                    "title": str(edit.get("title") or ""),
                    "text": str(edit.get("text") or ""),
                    "modified": moment(edit.get("modified")).isoformat(),
                }
                item.notes.append(
                    f"has an unpublished edit (draft {edit['cid']}): kept in its custom fields "
                    f"as {PENDING_EDIT!r}"
                )
            mids = links.get(cid, [])
            item.categories = [str(m) for m in mids if terms.get(m) == "category"]
            item.tags = [str(m) for m in mids if terms.get(m) == "tag"]
            item.custom_fields.update(fields.get(cid, {}))
            item.comments = comments.get(cid, [])
            yield item

    def _post(self, row: dict) -> PostItem:
        cid = number(row["cid"])
        kind = "page" if str(row["type"]).startswith("page") else "post"
        body = str(row.get("text") or "")
        is_markdown = body.startswith(MARKDOWN_MARK)
        status, notes = "published", []
        typecho_status = str(row.get("status") or "")
        if str(row["type"]).endswith("_draft"):
            status = "draft"
        elif typecho_status != "publish":
            status = "draft"
            notes.append(f"status {typecho_status!r} → draft")
        elif row.get("password"):
            status = "draft"
            notes.append("password-protected: imported as a draft")
        slug = str(row.get("slug") or "")
        if kind == "page":
            paths = [f"/index.php/{slug}.html", f"/{slug}.html"] if slug else []
        else:
            paths = [f"/index.php/archives/{cid}/", f"/index.php/archives/{cid}"]
        template = str(row.get("template") or "")
        return PostItem(
            key=str(cid),
            id=cid,
            kind=kind,
            title=str(row.get("title") or ""),
            slug=slug,
            status=status,
            published_at=moment(row.get("created")),
            updated_at=moment(row.get("modified")) if number(row.get("modified")) else None,
            body=body[len(MARKDOWN_MARK) :].lstrip("\r\n") if is_markdown else body,
            format="markdown" if is_markdown else "html",
            comments_enabled=str(row.get("allowComment") or "") == "1",
            menu_order=number(row.get("order")) if kind == "page" else 0,
            custom_fields={"template": template} if template else {},
            views=number(row.get("views")) if self.has_views else None,
            authors=[str(number(row["authorId"]))] if number(row.get("authorId")) else [],
            old_paths=paths,
            notes=notes,
        )

    def _term_kinds(self) -> dict[int, str]:
        return {number(row.get("mid")): text(row.get("type")) for row in self._rows("metas", "mid")}

    def _fields(self) -> dict[int, dict[str, object]]:
        found: dict[int, dict[str, object]] = defaultdict(dict)
        for raw in self._rows("fields", "cid"):
            try:
                row = decoded(raw)
            except BadText:
                continue  # reported with the post? a field alone is not worth failing it
            kind = str(row.get("type") or "str")
            value = row.get(f"{kind}_value") if kind in {"str", "int", "float"} else None
            found[number(row["cid"])][str(row["name"])] = value
        return found

    def _comments(self) -> Iterator[tuple[int, CommentItem] | BadItem]:
        for raw in self._rows("comments", "coid"):
            coid = number(raw.get("coid"))
            try:
                row = decoded(raw)
            except BadText as error:
                yield BadItem("comment", str(coid), f"{error}: left out")
                continue
            if number(row.get("cid")) not in self.ids:
                continue
            parent = number(row.get("parent"))
            author = number(row.get("authorId"))
            status = str(row.get("status") or "")
            yield (
                number(row.get("cid")),
                CommentItem(
                    key=str(coid),
                    id=coid,
                    created=moment(row.get("created")),
                    body=str(row.get("text") or ""),
                    author_name=str(row.get("author") or ""),
                    parent=str(parent) if parent else None,
                    author_email=str(row.get("mail") or ""),
                    author_url=str(row.get("url") or ""),
                    ip=str(row.get("ip") or ""),
                    user_agent=str(row.get("agent") or ""),
                    status=COMMENT_STATUSES.get(status, status),
                    kind=str(row.get("type") or "comment"),
                    user=str(author) if author else None,
                ),
            )

    # --- Attachments and site-wide addresses ----------------------------------------------------

    def attachments(self) -> Iterator[AttachmentItem | BadItem]:
        for raw in self.contents:
            if text(raw.get("type")) != "attachment":
                continue
            cid = number(raw.get("cid"))
            try:
                row = decoded(raw)
                meta = phpserialize.loads(str(row.get("text") or "").encode(), decode_strings=True)
            except (BadText, ValueError) as error:
                yield BadItem("attachment", str(cid), f"unreadable: {error}")
                continue
            if not isinstance(meta, dict):
                yield BadItem("attachment", str(cid), "unreadable: not a PHP array")
                continue
            path = str(meta.get("path") or "")
            url = str(meta.get("url") or "") or (self.site_url + path if path else "")
            parent = number(row.get("parent"))
            yield AttachmentItem(
                key=str(cid),
                title=str(row.get("title") or meta.get("name") or ""),
                url=url,
                post=str(parent) if parent in self.ids else None,
                path=path,
                mime_type=str(meta.get("mime") or ""),
                size=number(meta.get("size")),
                created=moment(row.get("created")),
            )

    def site_redirects(self) -> list[tuple[str, str]]:
        return [
            ("/index.php", "/"),
            ("/index.php/", "/"),
            ("/index.php/feed/", "/feed"),
            ("/index.php/feed", "/feed"),
            ("/index.php/feed/atom/", "/feed/atom"),
            ("/feed/atom/", "/feed/atom"),
        ]
