from isp_lifecycle.docdiff import MAX_CHANGES, diff, flatten


def test_leaves_are_named_by_the_paths_isp_check_uses():
    assert flatten({"partners": [{"contacts": [{"email": "a@b"}]}], "x": []}) == {
        "partners[0].contacts[0].email": "a@b", "x": []}


def test_added_removed_and_changed_values_are_each_reported_once():
    changes = diff({"a": 1, "b": [1, 2], "c": True}, {"a": 2, "b": [1], "d": "new", "c": True},
                   before_version=1, after_version=2).changes
    assert [(c.path, c.kind, c.before, c.after) for c in changes] == [
        ("a", "changed", "1", "2"), ("b[1]", "removed", "2", None), ("d", "added", None, "new")]


def test_no_earlier_version_means_nothing_to_compare_and_huge_diffs_are_cut():
    assert diff(None, {"a": 1}, after_version=1).before_version is None
    big = diff({}, {str(i): i for i in range(MAX_CHANGES + 5)}, before_version=1, after_version=2)
    assert len(big.changes) == MAX_CHANGES and big.more == 5
