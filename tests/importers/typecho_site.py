"""Typecho databases for the importer's tests, laid out as Typecho's install/*.sql (1.2) make them.

`create_tables` builds the tables on SQLite, MySQL/MariaDB or PostgreSQL; `insert` fills them;
`sample_site` is a small site with every kind of row the importer knows.
"""

import hashlib
import os

ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

INT = {"sqlite": "int(10)", "mysql": "int(10) unsigned", "postgres": "INT"}
TABLES = {
    "comments": [
        ("coid", "key"),
        ("cid", "int"),
        ("created", "int"),
        ("author", "varchar(150)"),
        ("authorId", "int"),
        ("ownerId", "int"),
        ("mail", "varchar(150)"),
        ("url", "varchar(255)"),
        ("ip", "varchar(64)"),
        ("agent", "varchar(511)"),
        ("text", "text"),
        ("type", "varchar(16)"),
        ("status", "varchar(16)"),
        ("parent", "int"),
    ],
    "contents": [
        ("cid", "key"),
        ("title", "varchar(150)"),
        ("slug", "varchar(150)"),
        ("created", "int"),
        ("modified", "int"),
        ("text", "text"),
        ("order", "int"),
        ("authorId", "int"),
        ("template", "varchar(32)"),
        ("type", "varchar(16)"),
        ("status", "varchar(16)"),
        ("password", "varchar(32)"),
        ("commentsNum", "int"),
        ("allowComment", "char(1)"),
        ("allowPing", "char(1)"),
        ("allowFeed", "char(1)"),
        ("parent", "int"),
    ],
    "fields": [
        ("cid", "int"),
        ("name", "varchar(150)"),
        ("type", "varchar(8)"),
        ("str_value", "text"),
        ("int_value", "int"),
        ("float_value", "real"),
    ],
    "metas": [
        ("mid", "key"),
        ("name", "varchar(150)"),
        ("slug", "varchar(150)"),
        ("type", "varchar(32)"),
        ("description", "varchar(150)"),
        ("count", "int"),
        ("order", "int"),
        ("parent", "int"),
    ],
    "options": [("name", "varchar(32)"), ("user", "int"), ("value", "text")],
    "relationships": [("cid", "int"), ("mid", "int")],
    "users": [
        ("uid", "key"),
        ("name", "varchar(32)"),
        ("password", "varchar(64)"),
        ("mail", "varchar(150)"),
        ("url", "varchar(150)"),
        ("screenName", "varchar(32)"),
        ("created", "int"),
        ("activated", "int"),
        ("logged", "int"),
        ("group", "varchar(16)"),
        ("authCode", "varchar(64)"),
    ],
}


def quote(dialect: str, name: str) -> str:
    return f"`{name}`" if dialect == "mysql" else f'"{name}"'


def column_type(dialect: str, kind: str) -> str:
    if kind == "key":
        return {
            "sqlite": "INTEGER NOT NULL PRIMARY KEY",
            "mysql": "int(10) unsigned NOT NULL auto_increment PRIMARY KEY",
            "postgres": "SERIAL PRIMARY KEY",
        }[dialect]
    if kind == "int":
        return f"{INT[dialect]} default '0'"
    if kind == "real" and dialect == "mysql":
        return "float default '0'"
    return f"{kind} default NULL"


def create_tables(cursor, dialect: str, prefix: str = "typecho_", views: bool = False) -> None:
    charset = " DEFAULT CHARSET=utf8mb4" if dialect == "mysql" else ""
    for table, columns in TABLES.items():
        if table == "contents" and views:
            columns = [*columns, ("views", "int")]
        definition = ", ".join(f"{quote(dialect, n)} {column_type(dialect, t)}" for n, t in columns)
        cursor.execute(f"CREATE TABLE {quote(dialect, prefix + table)} ({definition}){charset}")


def insert(cursor, dialect: str, table: str, rows: list[dict], prefix: str = "typecho_") -> None:
    mark = "?" if dialect == "sqlite" else "%s"
    for row in rows:
        names = ", ".join(quote(dialect, name) for name in row)
        marks = ", ".join(mark for _ in row)
        cursor.execute(
            f"INSERT INTO {quote(dialect, prefix + table)} ({names}) VALUES ({marks})",
            list(row.values()),
        )


def phpass(password: str, salt: str = "abcdefgh", count_log2: int = 13) -> str:
    """Portable phpass as WordPress and Typecho make it, written from the algorithm."""
    digest = hashlib.md5((salt + password).encode()).digest()
    for _ in range(1 << count_log2):
        digest = hashlib.md5(digest + password.encode()).digest()
    encoded, i = "", 0
    while i < 16:  # phpass's base64: 3 bytes to 4 characters, little end first
        value = digest[i]
        i += 1
        encoded += ITOA64[value & 0x3F]
        if i < 16:
            value |= digest[i] << 8
        encoded += ITOA64[(value >> 6) & 0x3F]
        if i >= 16:
            break
        i += 1
        if i < 16:
            value |= digest[i] << 16
        encoded += ITOA64[(value >> 12) & 0x3F]
        if i >= 16:
            break
        i += 1
        encoded += ITOA64[(value >> 18) & 0x3F]
    return f"$P${ITOA64[count_log2]}{salt}{encoded}"


T0 = 1_673_827_200  # 2023-01-16 00:00 UTC


def serialized(values: dict) -> str:
    """A PHP serialize()d array of strings and integers, as Typecho stores an attachment."""
    parts = []
    for key, value in values.items():
        parts.append(f's:{len(key.encode())}:"{key}";')
        if isinstance(value, int):
            parts.append(f"i:{value};")
        else:
            parts.append(f's:{len(value.encode())}:"{value}";')
    return f"a:{len(values)}:{{{''.join(parts)}}}"


def post(cid: int, title: str, **extra) -> dict:
    row = {
        "cid": cid,
        "title": title,
        "slug": str(cid),
        "created": T0 + cid * 3600,
        "modified": T0 + cid * 3600 + 60,
        "text": f"<!--markdown-->正文 {cid}，含公式 $x^{cid}$。\n\n<!--more-->\n\n后半部分。",
        "order": 0,
        "authorId": 1,
        "type": "post",
        "status": "publish",
        "allowComment": "1",
        "allowPing": "1",
        "allowFeed": "1",
        "parent": 0,
    }
    row.update(extra)
    return row


def comment(coid: int, cid: int, parent: int = 0, **extra) -> dict:
    row = {
        "coid": coid,
        "cid": cid,
        "created": T0 + 100_000 + coid * 60,
        "author": f"读者{coid}",
        "authorId": 0,
        "ownerId": 1,
        "mail": f"reader{coid}@example.org",
        "url": "https://reader.example.org/",
        "ip": "203.0.113.7",
        "agent": "Mozilla/5.0 (test)",
        "text": f"第 {coid} 条评论",
        "type": "comment",
        "status": "approved",
        "parent": parent,
    }
    row.update(extra)
    return row


def sample_site(views: bool = True) -> dict[str, list[dict]]:
    """Every kind of row: statuses, hierarchy, threads three deep, Chinese names, drafts."""
    contents = [
        post(1, "你好，世界", slug="hello-world", text="<!--markdown-->## 开篇\n\n第一段。"),
        post(
            2,
            "HTML 正文",
            slug="html-post",
            text="<p>HTML <b>正文</b> $a+b$</p><!--more--><p>余下</p>",
        ),
        post(3, "私密文章", status="private"),
        post(4, "隐藏文章", status="hidden"),
        post(5, "待审文章", status="waiting"),
        post(6, "加密文章", password="secret"),
        post(7, "从未发布的草稿", type="post_draft"),
        post(8, "已发布文章的修改", type="post_draft", parent=1, text="<!--markdown-->改过的正文"),
        post(9, "关于", slug="about", type="page", order=2, template="page-about.php"),
        post(10, "留言板", slug="留言板", type="page", order=1),
        post(11, "页面草稿", slug="page-draft", type="page_draft"),
        post(12, "中文别名的文章", slug="中文-别名", allowComment="0"),
        {
            **post(13, "图片.png", slug="image-png", type="attachment", parent=1),
            "text": serialized(
                {
                    "name": "图片.png",
                    "path": "/usr/uploads/2023/01/1.png",
                    "size": 2048,
                    "type": "png",
                    "mime": "image/png",
                }
            ),
        },
    ]
    if views:
        for row in contents:
            row["views"] = row["cid"] * 10
    comments = [
        comment(1, 1),
        comment(2, 1, parent=1),
        comment(3, 1, parent=2, authorId=1, author="管理员", mail="admin@example.org"),
        comment(4, 1, status="waiting"),
        comment(5, 1, status="spam"),
        comment(6, 1, type="pingback", author="Other site", text="[...] 引用 [...]"),
        comment(7, 1, parent=99),  # its parent is missing
        comment(8, 10),
        comment(9, 10, parent=8),
        comment(10, 2, url="javascript:alert(1)", ip="not an ip"),
    ]
    metas = [
        {
            "mid": 1,
            "name": "数学",
            "slug": "math",
            "type": "category",
            "description": "数学研究",
            "order": 1,
            "parent": 0,
        },
        {
            "mid": 2,
            "name": "代数",
            "slug": "algebra",
            "type": "category",
            "description": "",
            "order": 2,
            "parent": 1,
        },
        {
            "mid": 3,
            "name": "群论",
            "slug": "群论",
            "type": "category",
            "description": "",
            "order": 3,
            "parent": 2,
        },
        {
            "mid": 4,
            "name": "机器学习",
            "slug": "机器学习",
            "type": "tag",
            "description": "",
            "order": 0,
            "parent": 0,
        },
        {
            "mid": 5,
            "name": "CNN/RNN",
            "slug": "cnn-rnn",
            "type": "tag",
            "description": "",
            "order": 0,
            "parent": 0,
        },
    ]
    relationships = [
        {"cid": 1, "mid": 3},
        {"cid": 1, "mid": 4},
        {"cid": 1, "mid": 5},
        {"cid": 2, "mid": 1},
        {"cid": 12, "mid": 4},
    ]
    users = [
        {
            "uid": 1,
            "name": "admin",
            "password": phpass("管理员的密码"),
            "mail": "admin@example.org",
            "url": "https://admin.example.org/",
            "screenName": "苏剑林",
            "created": T0,
            "logged": T0 + 5,
            "group": "administrator",
        },
        {
            "uid": 2,
            "name": "editor",
            "password": hashlib.md5(b"old-md5-password").hexdigest(),
            "mail": "editor@example.org",
            "screenName": "编辑",
            "created": T0,
            "group": "editor",
        },
        {
            "uid": 3,
            "name": "writer",
            "password": phpass("writer-pass", salt="12345678"),
            "mail": "writer@example.org",
            "screenName": "投稿者",
            "created": T0,
            "group": "contributor",
        },
        {
            "uid": 4,
            "name": "reader",
            "password": "$T$unknown-format",
            "mail": "reader@example.org",
            "screenName": "读者",
            "created": T0,
            "group": "subscriber",
        },
    ]
    fields = [
        {
            "cid": 1,
            "name": "thumb",
            "type": "str",
            "str_value": "/usr/uploads/thumb.png",
            "int_value": 0,
            "float_value": 0,
        },
        {
            "cid": 1,
            "name": "rating",
            "type": "int",
            "str_value": None,
            "int_value": 5,
            "float_value": 0,
        },
    ]
    options = [{"name": "siteUrl", "user": 0, "value": "https://old.example.org/"}]
    return {
        "contents": contents,
        "comments": comments,
        "metas": metas,
        "relationships": relationships,
        "users": users,
        "fields": fields,
        "options": options,
    }


def unique_name(label: str) -> str:
    return f"spaces_test_{label}_{os.getpid()}_{os.urandom(3).hex()}"
