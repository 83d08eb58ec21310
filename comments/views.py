from django.core.paginator import InvalidPage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.shortcuts import get_object_or_404, render
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from blog.models import Post
from blog.views.posts import PostDetailView
from comments import services
from comments.forms import CommentEditForm, CommentForm
from comments.models import Comment, editable_until, is_writer
from comments.moderation import Refused, make_token
from comments.notifications import comment_for_token
from comments.threads import author_user_ids, is_visible, page_number_of, page_url, thread_page
from comments.visitors import (
    Origin,
    client_ip,
    own_comment_ids,
    remember_comment,
    remember_commenter,
    viewer_id,
)


def comment_location(comment: Comment, own_ids: list[int]) -> str:
    """The comment's anchor on the page of threads that shows it."""
    number, num_pages = page_number_of(comment, own_ids)
    return f"{page_url(comment.post_id, number, num_pages)}#comment-{comment.pk}"


class CommentPageView(PostDetailView):
    """The article with an older (or newer) page of its comment threads."""

    template_name = "blog/post_detail.html"

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        post = self.object
        try:
            context["comment_threads"] = thread_page(
                post,
                self.kwargs["page"],
                own_comment_ids(self.request),
                author_user_ids(post),
                viewer_id(self.request),
            )
        except InvalidPage:
            raise Http404(_("没有这一页评论。")) from None
        return context


def comment_permalink(request: HttpRequest, pk: int) -> HttpResponse:
    """`/comments/<id>`: redirect to the page and anchor where the comment shows."""
    comment = get_object_or_404(Comment.objects.select_related("post"), pk=pk)
    own_ids = own_comment_ids(request)
    if not comment.post.is_public or not is_visible(comment, own_ids):
        raise Http404(_("这条评论不存在或尚未公开。"))
    return HttpResponseRedirect(comment_location(comment, own_ids))


@never_cache
@require_GET
def form_tokens(request: HttpRequest, pk: int) -> JsonResponse:
    """The comment form's tokens for this reader: the CSRF token (with its cookie) and the
    form's timestamped token. Cached pages carry neither, so that no reader pays for tokens
    they never use; the form's script asks here when the reader first uses the form."""
    post = get_object_or_404(Post.objects.published(), pk=pk)
    return JsonResponse({"csrf": get_token(request), "token": make_token(post.pk)})


def csrf_refused(request: HttpRequest) -> bool:
    """Whether Django's CSRF check refuses the request, as its middleware would."""
    return CsrfViewMiddleware(lambda request: None).process_view(request, None, (), {}) is not None


@csrf_exempt  # checked below, where a refusal can give the form back with the reader's text
@require_POST
def post_comment(request: HttpRequest, pk: int) -> HttpResponse:
    post = get_object_or_404(Post.objects.published(), pk=pk)
    form = CommentForm(request.POST, post=post)
    if not post.comments_enabled:
        return form_page(request, form, Refused(_("本文已关闭评论。"), status=403))
    if csrf_refused(request):
        # A browser without JavaScript gets its tokens and its CSRF cookie with this page; the
        # form's own token is renewed too, so an error about it would only confuse.
        form.is_valid()
        form.errors.pop("token", None)
        message = _("为了安全，评论需要再提交一次：请检查下面的内容，然后点击“提交评论”。")
        return form_page(request, form, Refused(message, status=403))
    if not form.is_valid():
        return form_page(request, form, Refused(_("评论未能提交，请修改下面标出的问题。")))
    comment = form.save(commit=False)
    comment.post = post
    comment.user = request.user if request.user.is_authenticated else None
    comment.ip_address = client_ip(request)
    comment.user_agent = request.headers.get("User-Agent", "")[:500]
    origin = Origin.of(request)
    try:
        comment = services.submit_comment(comment, form.cleaned_data["reply_to"], origin)
    except Refused as refused:
        return form_page(request, form, refused)
    remember_comment(request, comment)
    response = HttpResponseRedirect(comment_location(comment, own_comment_ids(request)))
    if comment.user is None:
        remember_commenter(response, comment)
    return response


def form_page(request: HttpRequest, form: CommentForm, refused: Refused) -> HttpResponse:
    """The comment form again, with the writer's text and what went wrong: nothing is lost."""
    form.renew_token()
    context = {"form": form, "post": form.post, "message": refused.message}
    context["closed"] = not form.post.comments_enabled
    # A TemplateResponse, whose context_data tests read (Jinja2 sends no template signal).
    response = TemplateResponse(
        request, "comments/comment_form.html", context, status=refused.status
    )
    if refused.retry_after:
        response["Retry-After"] = str(refused.retry_after)
    return response


def own_comment(request: HttpRequest, pk: int) -> Comment:
    """A comment this visitor wrote (in this browser, or as this user), else 404."""
    comment = get_object_or_404(Comment.objects.select_related("post"), pk=pk)
    if not is_writer(comment.pk, comment.user_id, own_comment_ids(request), viewer_id(request)):
        raise Http404(_("这条评论不存在，或不是您在这个浏览器里发表的。"))
    return comment


@require_http_methods(["GET", "POST"])
def edit_comment(request: HttpRequest, pk: int) -> HttpResponse:
    """The writer changes their comment's text, or deletes it, within the edit window."""
    comment = own_comment(request, pk)
    form = CommentEditForm(request.POST or None, initial={"body": comment.body})
    context = {"comment": comment, "post": comment.post, "form": form}
    context["until"] = editable_until(comment.created_at)
    try:
        services.check_editable(comment)
        if request.method == "POST" and form.is_valid():
            body = form.cleaned_data["body"]
            comment = services.edit_comment(comment, body, Origin.of(request))
            return HttpResponseRedirect(comment_location(comment, own_comment_ids(request)))
    except Refused as refused:
        context.update(form=None, message=refused.message)
        return render(request, "comments/comment_edit.html", context, status=refused.status)
    return render(
        request, "comments/comment_edit.html", context, status=400 if form.errors else 200
    )


@require_POST
def delete_comment(request: HttpRequest, pk: int) -> HttpResponse:
    comment = own_comment(request, pk)
    try:
        services.delete_own_comment(comment)
    except Refused as refused:
        context = {"comment": comment, "post": comment.post, "message": refused.message}
        return render(request, "comments/comment_edit.html", context, status=refused.status)
    return HttpResponseRedirect(f"{comment.post.get_absolute_url()}#comments")


@csrf_exempt  # mail clients' one-click unsubscribe (RFC 8058) posts without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners follow links and must not unsubscribe anyone); POST, the page's
    button or a mail client's one-click POST (`List-Unsubscribe=One-Click`), unsubscribes."""
    comment = comment_for_token(token)
    if comment is None:
        return render(request, "comments/unsubscribed.html", {"invalid": True}, status=400)
    if request.method == "POST":
        services.unsubscribe(comment)
    context = {"comment": comment, "done": request.method == "POST"}
    return render(request, "comments/unsubscribed.html", context)
