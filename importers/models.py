from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from blog.models import Post


class ImportedObject(models.Model):
    """Which object of this site an item of an imported site became: re-runs update it."""

    source = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)
    key = models.CharField(max_length=100)
    object_id = models.BigIntegerField()

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "key"], name="imported_object_unique"
            ),
        ]
        indexes = [models.Index(fields=["kind", "object_id"], name="imported_object_target_idx")]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.key} → {self.object_id}"


class Attachment(models.Model):
    """A file an imported site had uploaded: its record and address (the file stays there)."""

    post = models.ForeignKey(
        Post,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="imported_attachments",
        verbose_name=_("文章"),
    )
    title = models.CharField(_("名称"), max_length=200, blank=True, default="")
    url = models.CharField(_("地址"), max_length=500)
    path = models.CharField(_("路径"), max_length=500, blank=True, default="")
    mime_type = models.CharField(_("类型"), max_length=100, blank=True, default="")
    size = models.BigIntegerField(_("大小"), default=0)
    created_at = models.DateTimeField(_("上传时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("导入的附件")
        verbose_name_plural = _("导入的附件")

    def __str__(self) -> str:
        return self.title or self.url


class Redirect(models.Model):
    """An old address of this site's content (from before an import) and where it is now."""

    # The path as requested, decoded, optionally with "?query" (WordPress's `/?p=12`).
    old_path = models.CharField(_("旧地址"), max_length=500, unique=True)
    # Always a path on this site: a redirect never leaves it.
    new_path = models.CharField(_("新地址"), max_length=500)

    class Meta:
        ordering = ["old_path"]
        verbose_name = _("重定向")
        verbose_name_plural = _("重定向")
        constraints = [
            models.CheckConstraint(
                condition=Q(new_path__startswith="/")
                & ~Q(new_path__startswith="//")
                & ~Q(new_path__startswith="/\\"),
                name="redirect_stays_on_site",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.old_path} → {self.new_path}"
