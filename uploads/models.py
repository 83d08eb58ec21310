from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UploadQuerySet(models.QuerySet):
    """Read vocabulary for the media library."""

    def images(self) -> "UploadQuerySet":
        return self.filter(kind=Upload.Kind.IMAGE)

    def for_library(self) -> "UploadQuerySet":
        """The editor's picker and the admin list: newest first, with the uploader's name."""
        return self.select_related("uploader").order_by("-created_at", "-id")


class Upload(models.Model):
    """A file in the media library: an image (with its resized copies) or an attachment."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("图片")
        FILE = "file", _("附件")

    file = models.FileField(_("文件"), max_length=255, unique=True)
    kind = models.CharField(_("类型"), max_length=5, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    alt_text = models.CharField(
        _("替代文字"),
        max_length=300,
        blank=True,
        default="",
        help_text=_("描述图片内容，供读屏软件与图片无法显示时使用；图片必填。"),
    )
    caption = models.CharField(
        _("图注"),
        max_length=500,
        blank=True,
        default="",
        help_text=_("显示在图片下方；留空则用替代文字。"),
    )
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True, default="")
    content_type = models.CharField(_("MIME 类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    width = models.PositiveIntegerField(_("宽度"), null=True, blank=True)
    height = models.PositiveIntegerField(_("高度"), null=True, blank=True)
    # Resized copies of an image: [{"width": 800, "height": 600, "name": "<storage name>"}, …]
    renditions = models.JSONField(_("缩放副本"), default=list, blank=True, editable=False)
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="uploads",
        verbose_name=_("上传者"),
    )
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    objects = UploadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("媒体文件")
        verbose_name_plural = _("媒体库")
        permissions = [("change_any_upload", _("Can change and delete anyone's uploads"))]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="upload_created_idx"),
            models.Index(fields=["kind", "-created_at"], name="upload_kind_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["image", "file"]), name="upload_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind="file") | (~Q(alt_text="") & Q(width__gt=0) & Q(height__gt=0)),
                name="upload_image_has_alt_and_size",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return self.file.url

    def get_admin_url(self) -> str:
        return reverse("admin:uploads_upload_change", args=[self.pk])

    @property
    def is_image(self) -> bool:
        return self.kind == self.Kind.IMAGE

    @property
    def markdown(self) -> str:
        """What the editor inserts: a figure for an image (captioned by its title), else a link."""
        url = self.file.url
        if not self.is_image:
            return f"[{_escape_brackets(self.title)}]({url})"
        caption = self.caption.replace('"', "“")
        title = f' "{caption}"' if caption else ""
        return f"![{_escape_brackets(self.alt_text)}]({url}{title})"

    @property
    def thumbnail_url(self) -> str:
        """The smallest copy, or the file itself when the image is small already."""
        if not self.is_image:
            return ""
        if self.renditions:
            return self.file.storage.url(self.renditions[0]["name"])
        return self.file.url

    def stored_names(self) -> list[str]:
        """Every file this upload keeps in storage: the original and its copies."""
        return [self.file.name, *(copy["name"] for copy in self.renditions)]


def _escape_brackets(text: str) -> str:
    return " ".join(text.replace("[", "\\[").replace("]", "\\]").split())
