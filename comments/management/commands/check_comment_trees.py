from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter

from django.core.management.base import BaseCommand, CommandError

from comments.models import Comment
from comments.services import tree_lock

FIELDS = ("pk", "parent_id", "post_id", "tree_id", "lft", "rght", "level")


def tree_errors() -> Iterator[str]:
    """Every inconsistency between the comments' parent links and their MPTT columns."""
    rows = Comment.objects.order_by("tree_id", "lft", "pk").values_list(*FIELDS)
    for tree_id, nodes in groupby(rows.iterator(chunk_size=2000), key=itemgetter(3)):
        yield from _check_tree(tree_id, list(nodes))


def _check_tree(tree_id: int, nodes: list[tuple]) -> Iterator[str]:
    roots = [node[0] for node in nodes if node[1] is None]
    if len(roots) != 1:
        yield f"tree {tree_id}: {len(roots)} root comments {roots[:10]}, expected one"
        return
    edges = sorted(value for node in nodes for value in node[4:6])
    if edges != list(range(1, 2 * len(nodes) + 1)):
        yield f"tree {tree_id}: lft/rght values are not 1..{2 * len(nodes)} without gaps"
        return
    stack: list[tuple] = []
    post_id = nodes[0][2]
    for pk, parent_id, node_post, _tree, lft, rght, level in nodes:
        while stack and stack[-1][5] < lft:
            stack.pop()
        expected = stack[-1] if stack else None
        if lft >= rght or (expected and rght > expected[5]):
            yield f"tree {tree_id}: comment {pk} has lft={lft}, rght={rght} out of its parent's"
        if parent_id != (expected[0] if expected else None):
            yield f"tree {tree_id}: comment {pk} has parent {parent_id}, its place says otherwise"
        if level != len(stack):
            yield f"tree {tree_id}: comment {pk} has level {level}, its place says {len(stack)}"
        if node_post != post_id:
            yield f"tree {tree_id}: comment {pk} is on post {node_post}, its thread on {post_id}"
        stack.append((pk, parent_id, node_post, _tree, lft, rght, level))


class Command(BaseCommand):
    help = "Verify every comment tree (one root per tree id, consistent lft/rght/level/parent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--rebuild", action="store_true", help="Rebuild the trees from the parent links first."
        )

    def handle(self, *args, rebuild: bool, **options) -> None:
        if rebuild:
            with tree_lock():
                Comment.objects.rebuild()
            self.stdout.write("Rebuilt the comment trees from their parent links.")
        errors = list(tree_errors())
        for error in errors[:100]:
            self.stderr.write(error)
        if errors:
            raise CommandError(
                f"{len(errors)} problem(s) in the comment trees; `--rebuild` repairs them."
            )
        trees = Comment.objects.filter(parent=None).count()
        self.stdout.write(self.style.SUCCESS(f"{trees} comment trees are consistent."))
