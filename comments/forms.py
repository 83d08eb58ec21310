import unicodedata

from django import forms
from django.forms.renderers import Jinja2
from django.utils.translation import gettext_lazy as _

from blog.models import Post
from comments.models import BODY_MAX_LENGTH, Comment, strip_controls
from comments.moderation import Refused, check_token, make_token

MAX_ID = 2**63 - 1


class CommentEditForm(forms.Form):
    """The writer's new text for their comment."""

    body = forms.CharField(
        label=_("评论内容"), max_length=BODY_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 8})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, label_suffix="", **kwargs)

    def clean_body(self) -> str:
        body = strip_controls(self.cleaned_data["body"]).strip()
        if not body:
            raise forms.ValidationError(_("评论内容不能为空。"))
        return body


class CommentForm(forms.ModelForm):
    """The reader's comment form; the reply target is checked by the service, under its lock."""

    author_url = forms.URLField(
        label=_("个人网站（选填）"), required=False, max_length=200, assume_scheme="https"
    )
    reply_to = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    token = forms.CharField(max_length=200, widget=forms.HiddenInput)
    # Honeypot: hidden from people by CSS, filled in by bots that fill in every field.
    subject = forms.CharField(
        label=_("请勿填写此项"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    # Django's own widget templates in their Jinja2 version: the same HTML in a third of the
    # function calls of the template engine's (docs/PERFORMANCE.md, "Rendered whole").
    default_renderer = Jinja2()

    class Meta:
        model = Comment
        fields = ["author_name", "author_email", "author_url", "body", "notify_replies"]
        labels = {
            "author_name": _("你的大名"),
            "author_email": _("电子邮箱"),
            "body": _("评论内容"),
            "notify_replies": _("有人回复时邮件通知我"),
        }
        help_texts = {"author_email": _("不会公开。")}
        widgets = {
            "author_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "author_email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "body": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args, post: Post, for_cache: bool = False, **kwargs) -> None:
        super().__init__(*args, label_suffix="", **kwargs)
        self.post = post
        # Cached pages leave it empty, for the form's script to fill in (views.form_tokens).
        self.fields["token"].initial = "" if for_cache else make_token(post.pk)
        self.fields["author_url"].widget.attrs["autocomplete"] = "url"

    def clean_author_name(self) -> str:
        name = self.cleaned_data["author_name"].strip()
        if any(unicodedata.category(ch) in {"Cc", "Zl", "Zp"} for ch in name):
            raise forms.ValidationError(_("名字里不能有控制字符。"))
        return name

    def clean_author_email(self) -> str:
        # Lower-cased so that the "known writer" check and unsubscribing match every spelling.
        return self.cleaned_data["author_email"].lower()

    def clean_body(self) -> str:
        body = strip_controls(self.cleaned_data["body"]).strip()
        if not body:
            raise forms.ValidationError(_("评论内容不能为空。"))
        return body

    def clean_subject(self) -> str:
        if self.cleaned_data["subject"]:
            raise forms.ValidationError(_("“请勿填写此项”一栏必须留空。"))
        return ""

    def clean_token(self) -> str:
        token = self.cleaned_data["token"]
        try:
            check_token(token, self.post)
        except Refused as refused:
            raise forms.ValidationError(refused.message) from None
        return token

    def renew_token(self) -> None:
        """Give a form shown again a fresh token, so that its next submission can pass."""
        self.data = self.data.copy()
        self.data["token"] = make_token(self.post.pk)


class AuthorReplyForm(forms.Form):
    body = forms.CharField(
        label=_("回复内容"),
        max_length=Comment._meta.get_field("body").max_length,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text=_("支持 Markdown 与 LaTeX。"),
    )
