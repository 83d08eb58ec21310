"""The post editor's form: one publishing control, and refusal of a save made on stale text."""

from enum import StrEnum

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from blog.models import Post
from blog.revisions import text_diff


class Publication(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    PUBLISH = "publish"
    SCHEDULE = "schedule"


PUBLICATION_CHOICES = [
    (Publication.DRAFT, gettext_lazy("保存为草稿")),
    (Publication.PENDING, gettext_lazy("提交审核")),
    (Publication.PUBLISH, gettext_lazy("立即发布")),
    (Publication.SCHEDULE, gettext_lazy("定时发布（填写下面的发布时间）")),
]


def publication_state(post: Post) -> str:
    """The post's state in words: 草稿, 待审核, 定时发布于 …, 已发布于 …."""
    if post.pk is None:
        return _("新文章，尚未保存")
    if post.status == Post.Status.DRAFT:
        return _("草稿")
    if post.status == Post.Status.PENDING:
        return _("待审核")
    when = date_format(timezone.localtime(post.published_at), "Y-m-d H:i")
    zone = timezone.get_current_timezone_name()
    if post.is_public:
        return _("已发布（%(when)s，%(zone)s）") % {"when": when, "zone": zone}
    return _("定时发布于 %(when)s（%(zone)s）") % {"when": when, "zone": zone}


def current_publication(post: Post) -> str:
    if post.status == Post.Status.PUBLISHED:
        return Publication.PUBLISH if post.is_public else Publication.SCHEDULE
    return post.status


class PostAdminForm(forms.ModelForm):
    """The admin's post form; `can_publish` is set by the admin per user."""

    can_publish = False
    publication = forms.ChoiceField(
        label=gettext_lazy("发布方式"),
        choices=PUBLICATION_CHOICES,
        widget=forms.RadioSelect,
        required=False,
    )
    # The post's updated_at when the form was opened: a save on older text is refused.
    edit_base = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Post
        # The admin passes the fields of its fieldsets; these are the editor's own.
        fields = ["title", "body", "format", "excerpt", "status", "published_at"]
        widgets = {"status": forms.HiddenInput}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.conflict_diff = None
        if not self.can_publish:
            allowed = {Publication.DRAFT, Publication.PENDING}
            self.fields["publication"].choices = [c for c in PUBLICATION_CHOICES if c[0] in allowed]
        if "status" in self.fields:
            self.fields["status"].required = False
        if self.instance.pk:
            self.initial["edit_base"] = self.instance.updated_at.isoformat()
            self.initial["publication"] = current_publication(self.instance)
        else:
            self.initial["publication"] = Publication.DRAFT

    def clean(self) -> dict:
        data = super().clean()
        action = data.get("publication")
        # A client that changed the (hidden) status rather than the control means the status.
        status_changed = data.get("status") and data["status"] != self.instance.status
        if not action or (status_changed and action == self.initial.get("publication")):
            action = self._action_from_status(data)
        if action is None:
            self._check_conflict(data)
            return data
        if action in {Publication.PUBLISH, Publication.SCHEDULE} and not self.can_publish:
            raise forms.ValidationError(_("你没有发布文章的权限：请选择“提交审核”，由编辑发布。"))
        now = timezone.now()
        published_at = data.get("published_at")
        if action == Publication.SCHEDULE:
            if published_at is None or published_at <= now:
                self.add_error("published_at", _("定时发布的时间必须在将来。"))
                return data
            data["status"] = Post.Status.PUBLISHED
        elif action == Publication.PUBLISH:
            data["status"] = Post.Status.PUBLISHED
            # Publishing a draft or a scheduled post means now; a published post keeps its date.
            already_public = self.instance.pk is not None and self.instance.is_public
            if action == data.get("publication") and not already_public:
                data["published_at"] = now
        else:
            data["status"] = action
        self._check_conflict(data)
        return data

    def save(self, commit: bool = True) -> Post:
        # Also when the admin shows `status` read-only, the control decides it.
        for name in ["status", "published_at"]:
            if self.cleaned_data.get(name):
                setattr(self.instance, name, self.cleaned_data[name])
        return super().save(commit)

    def _action_from_status(self, data: dict) -> str | None:
        """For clients that post `status` (and a date) rather than the publishing control."""
        status, published_at = data.get("status"), data.get("published_at")
        if status != Post.Status.PUBLISHED:
            return status or None
        if published_at and published_at > timezone.now():
            return Publication.SCHEDULE
        return Publication.PUBLISH

    def _check_conflict(self, data: dict) -> None:
        base = data.get("edit_base")
        if not self.instance.pk or not base:
            return
        stored = Post.objects.select_for_update().filter(pk=self.instance.pk).first()
        if stored is None or stored.updated_at.isoformat() == base:
            return
        saver = stored.revisions.select_related("user").order_by("-created_at", "-id").first()
        name = saver.user.get_username() if saver and saver.user else _("另一位编辑")
        when = date_format(timezone.localtime(stored.updated_at), "Y-m-d H:i:s")
        self.conflict_diff = text_diff(
            stored.body,
            data.get("body", ""),
            _("%(name)s 于 %(when)s 保存的版本") % {"name": name, "when": when},
            _("你的版本"),
        )
        # The form comes back carrying the newer base: saving again, after reading, overwrites.
        self.data = self.data.copy()
        self.data["edit_base"] = stored.updated_at.isoformat()
        raise forms.ValidationError(
            _(
                "保存被拒绝：你打开这篇文章之后，%(name)s 于 %(when)s 保存了它。"
                "你的文字仍在编辑器中，下面列出两个版本的差异；看过之后再次保存，将以你的版本覆盖。"
            )
            % {"name": name, "when": when}
        )
