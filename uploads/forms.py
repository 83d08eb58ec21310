from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from uploads.models import Upload
from uploads.services import check_upload
from uploads.validation import FILE_TYPES, IMAGE_EXTENSIONS, UploadRefused

ACCEPT = ",".join(f".{extension}" for extension in sorted(IMAGE_EXTENSIONS | set(FILE_TYPES)))

_CONTROLS = {chr(c) for c in range(32)} | {"\x7f"}


class _TextFieldsMixin:
    def _plain(self, field: str) -> str:
        value = self.cleaned_data.get(field, "")
        if any(ch in _CONTROLS for ch in value):
            raise forms.ValidationError(_("不能包含控制字符。"))
        return value

    def clean_title(self) -> str:
        return self._plain("title")

    def clean_alt_text(self) -> str:
        return self._plain("alt_text")

    def clean_caption(self) -> str:
        return self._plain("caption")


class UploadForm(_TextFieldsMixin, forms.ModelForm):
    """A new file with its words; valid only when the file passed every check."""

    upload = forms.FileField(label=_("文件"))

    class Meta:
        model = Upload
        fields = ["title", "alt_text", "caption"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["upload"].help_text = _(
            "JPEG、PNG、GIF、WebP 图片，或 PDF、ZIP、TXT、CSV、TeX、BibTeX 附件；最大 %(limit)s。"
            "不接受 SVG 与 HTML。"
        ) % {"limit": filesizeformat(settings.SPACES_UPLOAD_MAX_BYTES)}
        self.fields["upload"].widget.attrs["accept"] = ACCEPT
        self.fields["title"].required = False
        self.fields["title"].help_text = _("留空则用文件名。")
        self.found = None

    def clean(self) -> dict:
        cleaned = super().clean()
        file = cleaned.get("upload")
        if file is None or self.has_error("alt_text"):
            return cleaned
        try:
            self.found = check_upload(
                file, name=file.name, size=file.size, alt_text=cleaned.get("alt_text", "")
            )
        except UploadRefused as refusal:
            field = "alt_text" if refusal.field == "alt_text" else "upload"
            self.add_error(field, str(refusal))
            return cleaned
        self.instance.original_name = file.name
        self.instance.size = file.size
        return cleaned


class UploadChangeForm(_TextFieldsMixin, forms.ModelForm):
    """The words of a stored file; its content never changes (upload a new one instead)."""

    class Meta:
        model = Upload
        fields = ["title", "alt_text", "caption"]

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.instance.is_image and not cleaned.get("alt_text", "x").strip():
            self.add_error("alt_text", _("请为图片填写替代文字（描述图片内容）。"))
        return cleaned
