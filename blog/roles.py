"""Who may do what with posts: the rules of the four groups, said once for the admin and views.

Contributors write and edit their own drafts and submit them for review; Authors also publish
their own posts; Editors change every post and page; Moderators touch comments only. The groups
and their permissions are made by data migrations (blog 0002 and 0008, comments 0002 and 0003).
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from blog.models import Post

User = AbstractBaseUser | AnonymousUser


def is_editor(user: User) -> bool:
    """Editors (and superusers) change every post, whoever wrote it."""
    return user.is_superuser or user.has_perm("blog.change_any_post")


def can_publish(user: User) -> bool:
    """Publishing or scheduling a post needs `blog.publish_post` (Authors, Editors)."""
    return user.is_superuser or user.has_perm("blog.publish_post")


def can_manage_pages(user: User) -> bool:
    """Standalone pages (`Post.kind == "page"`) belong to Editors."""
    return user.is_superuser or user.has_perm("blog.manage_pages")


def is_author_of(user: User, post: Post) -> bool:
    return post.pk is not None and post.authors.filter(user=user.pk).exists()


def can_edit_post(user: User, post: Post) -> bool:
    """Whether `user` may change (or delete) this post, given `blog.change_post`.

    Pages need `manage_pages`; editors change everything else; others their own posts only,
    and one who may not publish keeps off a post once it is published."""
    if post.kind == Post.Kind.PAGE:
        return can_manage_pages(user)
    if is_editor(user):
        return True
    if post.status == Post.Status.PUBLISHED and not can_publish(user):
        return False
    return is_author_of(user, post)


def allowed_statuses(user: User) -> list[str]:
    """The statuses this user may give a post: without `publish_post`, draft or submitted."""
    if can_publish(user):
        return list(Post.Status.values)
    return [Post.Status.DRAFT, Post.Status.PENDING]
