"""The MPTT columns of one post's comments, computed from their parent links in one pass.

An import writes a post's comments with one bulk insert; this gives them the tree columns that
`Comment.objects.rebuild()` would, without its update per row, so each post's transaction leaves
valid trees behind (`manage.py check_comment_trees`).
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    tree_id: int
    lft: int
    rght: int
    level: int


def break_cycles(parents: dict[int, int | None]) -> list[int]:
    """Make the first comment met on each loop of parent links (bad data) a top-level one."""
    broken: list[int] = []
    done: set[int] = set()
    for start in parents:
        path: dict[int, None] = {}
        node = start
        while node is not None and node not in done:
            if node in path:
                parents[node] = None
                broken.append(node)
                break
            path[node] = None
            node = parents.get(node)
        done.update(path)
    return broken


def places(
    parents: dict[int, int | None],
    order: dict[int, tuple],
    root_trees: dict[int, int],
    new_tree_id: Callable[[], int],
) -> dict[int, Place]:
    """Tree columns for every comment of a post.

    `parents` maps each comment to its parent (None: top-level; parents not in the mapping
    count as None), without loops; `order` gives the sort key of siblings (time, then id);
    `root_trees` the tree ids that top-level comments already have and keep; `new_tree_id` is
    called, in order, for each top-level comment without one."""
    children: dict[int | None, list[int]] = {}
    for pk, parent in parents.items():
        children.setdefault(parent if parent in parents else None, []).append(pk)
    for siblings in children.values():
        siblings.sort(key=order.__getitem__)
    result: dict[int, Place] = {}
    for root in children.get(None, []):
        tree_id = root_trees.get(root) or new_tree_id()
        edge = 1
        lft: dict[int, int] = {}
        # Depth first without recursion: threads can be deeper than Python's stack.
        stack: list[tuple[int, int, bool]] = [(root, 0, False)]
        while stack:
            pk, level, closing = stack.pop()
            if closing:
                result[pk] = Place(tree_id, lft[pk], edge, level)
                edge += 1
                continue
            lft[pk] = edge
            edge += 1
            stack.append((pk, level, True))
            stack.extend((child, level + 1, False) for child in reversed(children.get(pk, [])))
    return result
